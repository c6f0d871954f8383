"""A PostgreSQL cluster that belongs to one test: created with ``initdb`` in a temporary
directory, on a free port, so the test may stop and start it without disturbing anyone else
who uses the shared cluster. As root, the server runs as the ``postgres`` user (initdb refuses
root). Every command is bounded; ``close`` stops the cluster immediately and removes it."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.faults.processes import free_port


def postgres_bin() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def why_not_available() -> str | None:
    if postgres_bin() is None:
        return "no PostgreSQL server binaries (initdb) on this machine"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as another user"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL"
    return None


@dataclass
class OwnPostgres:
    directory: Path
    port: int
    bin: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    @classmethod
    def create(cls) -> OwnPostgres:
        binaries = postgres_bin()
        assert binaries is not None
        # Not under pytest's tmp_path: as root that is private to root, and the postgres
        # user must be able to reach its data directory.
        directory = Path(tempfile.mkdtemp(prefix="leerkring-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        instance = cls(directory, free_port(), binaries)
        done = instance._run(
            "initdb", "-D", str(instance.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        if done.returncode != 0:
            instance.close()
            raise RuntimeError(f"initdb failed: {done.stderr[-2000:]}")
        instance.start()
        return instance

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"),
            "-w", "-t", "30", "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr[-2000:]}{self.log()}")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended and the server shuts down cleanly; ``immediate``: as
        if the machine lost power."""
        done = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")
        if done.returncode != 0 and "is the server running" not in done.stderr:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr[-2000:]}")

    def log(self) -> str:
        path = self.directory / "log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
