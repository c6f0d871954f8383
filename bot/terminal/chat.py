"""``leerkring chat``: a local channel in the terminal, for trying Leerkring without Slack.

It sends the same events through the same handlers into the same database. Forms are asked
one question at a time; buttons become commands (``/reageer 3``, ``/afronden 3``, ``/knop ...``),
each typeable exactly as it is shown.

At a real terminal the prompt is prompt_toolkit's, inside ``patch_stdout``: what the scheduler
sends meanwhile (a reflection question, a DM) is printed above the line being typed, as it
arrives. Fed from a pipe (tests, scripts) it reads plain lines and lets the scheduler run after
every command instead.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.delivery import SyncReplies
from bot.runtime import Runtime
from handlers.casus.queries import BijdrageRepository, CasusRepository
from handlers.core.events import (
    Actor,
    ButtonPressed,
    CommandInvoked,
    Event,
    FormSubmitted,
    FormValue,
    MessageRef,
    Place,
    ThreadMessage,
)
from handlers.core.replies import (
    Actions,
    Card,
    Context,
    DirectMessage,
    Divider,
    Ephemeral,
    Form,
    FormErrors,
    Header,
    MultiSelect,
    OpenForm,
    PostMessage,
    Rich,
    Section,
    Select,
    TextInput,
    UpdateMessage,
    UploadFile,
)
from handlers.privacy.flow import PRIVACY_FIELD
from prompts import Texts
from storage.models import CasusStatus
from storage.repositories import ChannelRepository, PostedMessageRepository

PLATFORM = "terminal"
CANCEL = {"/annuleer", "/cancel"}
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])_(\S(?:.*?\S)?)_(?![\w*])", re.DOTALL)

# How the buttons of a card are pressed in the terminal.
BUTTON_COMMANDS = {
    "casus_denk_mee": "/reageer {value}",
    "casus_afronden": "/afronden {value}",
    "reflectie_antwoord": "/antwoord {value}",
}


class _Cancelled(Exception):
    pass


def private_files_dir() -> Path:
    """Where files for one person are saved: the user's own data folder, readable by them only
    (``$XDG_DATA_HOME/leerkring/bestanden``, by default ``~/.local/share/leerkring/bestanden``).
    A personal export never lands in the working folder, where git or a colleague could see it."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "leerkring" / "bestanden"


def _private_folder(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


class TerminalChat(SyncReplies[Event]):
    platform = "the terminal"

    def __init__(
        self,
        runtime: Runtime,
        texts: Texts,
        *,
        user: str,
        channel: str = "leerkring",
        stdin: TextIO,
        stdout: TextIO,
        color: bool = False,
        interactive: bool | None = None,
    ) -> None:
        self.runtime = runtime
        self.texts = texts
        self.user = user
        self.place = Place(PLATFORM, channel, None, channel)
        self.stdin = stdin
        self.stdout = stdout
        self.color = color
        # Lets the scheduler deliver what is due (reflection): after every command, and at a
        # real terminal also every ``tick_seconds`` while the prompt waits.
        self.after_command: Callable[[], None] | None = None
        self.tick_seconds = 5.0
        # Where files the bot hands out (a personal export, the harvest report) are saved.
        self.files_dir = private_files_dir()
        if interactive is None:
            interactive = _is_tty(stdin) and _is_tty(stdout)
        self.interactive = interactive
        self._session: Any = None  # prompt_toolkit's PromptSession at a real terminal
        self._tick_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()

    # --- I/O helpers ---

    def say(self, line: str = "") -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def _read(self, prompt: str = "> ") -> str | None:
        if self._session is not None:
            try:
                return str(self._session.prompt(prompt))
            except EOFError:
                return None
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if line == "":
            return None
        return line.rstrip("\n")

    def _bold(self, text: str) -> str:
        """Only for our own labels around text that may be someone's (a title, a label)."""
        return _BOLD.sub(r"\033[1m\1\033[0m" if self.color else r"\1", text)

    def _markup(self, template: str) -> str:
        """Our markup in a template (**bold**, _italic_); parameters never pass through here."""
        bold = self._bold(template)
        return _ITALIC.sub(r"\033[3m\1\033[0m" if self.color else r"\1", bold)

    def _text(self, rich: Rich) -> str:
        return rich.render(
            escape=_strip_escapes, mention=lambda uid: f"@{uid}", markup=self._markup
        )

    @property
    def actor(self) -> Actor:
        return Actor(PLATFORM, self.user, self.user)

    # --- main loop ---

    def run(self) -> int:
        """The chat until /stop, end of input or Ctrl-C (which leaves quietly, also from a
        form: nothing half-typed is stored)."""
        if not self.interactive:
            return self._run()
        from prompt_toolkit import PromptSession
        from prompt_toolkit.patch_stdout import patch_stdout

        with patch_stdout(raw=True):
            self.stdout = sys.stdout  # the proxy that prints above the prompt
            self._session = PromptSession()
            ticker = threading.Thread(target=self._ticker, name="chat-scheduler", daemon=True)
            ticker.start()
            try:
                return self._run()
            finally:
                self._stopping.set()
                self._wake.set()
                ticker.join(timeout=30)

    def _ticker(self) -> None:
        """At a real terminal: the scheduler's tick while the prompt waits."""
        while not self._stopping.is_set():
            self._wake.wait(self.tick_seconds)
            self._wake.clear()
            if self._stopping.is_set():
                return
            self._tick()

    def _tick(self) -> None:
        if self.after_command is None:
            return
        with self._tick_lock:
            self.after_command()

    def _after_command(self) -> None:
        if self.interactive:
            self._wake.set()  # the ticker thread runs it, so the prompt is back at once
        else:
            self._tick()

    def _run(self) -> int:
        try:
            self._loop()
        except KeyboardInterrupt:
            self.say()
            self.say(self.texts.get("casus.terminal.cancelled"))
        self.say(self.texts.get("casus.terminal.bye"))
        return 0

    def _loop(self) -> None:
        self.say(
            self._text(
                self.texts.rich(
                    "casus.terminal.welcome", user=self.user, channel=self.place.channel_id
                )
            )
        )
        while True:
            line = self._read(f"{self.user}> ")
            if line is None:
                self.say()
                break
            line = line.strip()
            if not line:
                continue
            try:
                if not self._command(line):
                    break
            except _Cancelled:
                self.say(self.texts.get("casus.terminal.cancelled"))
            self._after_command()

    def _command(self, line: str) -> bool:
        if line.startswith("#"):
            number, _, text = line[1:].partition(" ")
            self._reply_to(number, text)
            return True
        if not line.startswith("/"):
            self.say(self._text(self.texts.rich("casus.terminal.not_a_command")))
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in {"/stop", "/quit", "/exit"}:
            return False
        if word in {"/help", "/hulp"}:
            self._dispatch(CommandInvoked(self.actor, self.place, "help", ""))
        elif word == "/als":
            name = rest.strip()
            if name:
                self.user = name.lstrip("@")
                self.say(
                    self._text(
                        self.texts.rich(
                            "casus.terminal.welcome", user=self.user, channel=self.place.channel_id
                        )
                    )
                )
        elif word == "/lijst":
            self._list()
        elif word == "/toon":
            self._show(rest.strip())
        elif word == "/reageer":
            number, _, text = rest.strip().partition(" ")
            self._reply_to(number, text)
        elif word == "/afronden":
            self._press("casus_afronden", rest.strip())
        elif word == "/antwoord":
            self._press("reflectie_antwoord", rest.strip())
        elif word == "/knop":
            # As the button is shown: /knop <action> [<value>] (a button may carry no value).
            try:
                parts = shlex.split(rest)
            except ValueError:
                parts = []
            if len(parts) in (1, 2):
                self._press(parts[0], parts[1] if len(parts) == 2 else "")
            else:
                self.say(self._text(self.texts.rich("casus.terminal.knop_usage")))
        else:
            self._dispatch(CommandInvoked(self.actor, self.place, word.lstrip("/"), rest.strip()))
        return True

    # --- events ---

    def _dispatch(self, event: Event) -> None:
        outcome = self.runtime.handle_sync(event)
        self.deliver(outcome.replies, event)

    def _press(self, action_id: str, value: str) -> None:
        self._dispatch(ButtonPressed(self.actor, self.place, action_id, value))

    def _reply_to(self, number: str, text: str) -> None:
        casus_id = _int(number)
        message_id = self._casus_message(casus_id) if casus_id is not None else None
        if message_id is None:
            self.say(self.texts.rich("casus.terminal.unknown_casus", number=number).plain())
            return
        if not text.strip():
            # No text given: open the same reply form as the "Ik denk mee" button.
            self._press("casus_denk_mee", str(casus_id))
            return
        event = ThreadMessage(
            self.actor,
            self.place,
            thread_id=message_id,
            message_id=_new_id(),
            text=text,
            event_id=str(uuid.uuid4()),
        )
        outcome = self.runtime.handle_sync(event)
        self.say(f"  ↳ [{self.user}] {text.strip()}")
        if outcome.failure is None:
            self.say(self.texts.rich("casus.terminal.contribution_stored", number=number).plain())
        self.deliver(outcome.replies, event)

    def _casus_message(self, casus_id: int) -> str | None:
        with self.runtime.database.session() as session:
            posted = PostedMessageRepository(session).find_object(PLATFORM, "casus", casus_id)
            return posted.message_id if posted else None

    # --- replies ---

    # The reply methods of the adapter contract (bot/delivery.py).

    def send_notice(self, reply: Ephemeral, event: Event) -> None:
        if reply.card is not None:
            self.say(self.texts.get("casus.terminal.only_you"))
            self.say(self._card_text(reply.card))
        else:
            self.say(f"{self.texts.get('casus.terminal.only_you')} {self._text(reply.text)}")

    def send_direct(self, reply: DirectMessage, event: Event) -> None:
        self.say(self.direct_line(reply.user_id))
        self.say(self._card_text(reply.content))

    def send_post(self, reply: PostMessage, event: Event) -> None:
        self._post(reply, event)

    def send_update(self, reply: UpdateMessage, event: Event) -> None:
        self.say("✎ " + self._card_text(reply.content).splitlines()[0])

    def send_form(self, reply: OpenForm, event: Event) -> None:
        self._fill(reply.form, event)

    def send_form_errors(self, reply: FormErrors, event: Event) -> None:
        for message in reply.errors.values():
            self.say(f"! {message}")

    def send_file(self, reply: UploadFile, event: Event) -> None:
        self._save_file(reply)

    def _save_file(self, reply: UploadFile) -> None:
        folder = _private_folder(self.files_dir)
        path = folder / Path(reply.filename).name
        # Readable by this user only, from the first byte on.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(reply.content)
        path.chmod(0o600)
        who = f"@{reply.user_id}" if reply.user_id else f"#{reply.place.channel_id}"  # type: ignore[union-attr]
        self.say(
            self.texts.rich(
                "casus.terminal.file_saved",
                who=who,
                title=_strip_escapes(reply.title),
                path=str(path),
            ).plain()
        )

    def _post(self, reply: PostMessage, event: Event) -> None:
        message_id = _new_id()
        text = self._card_text(reply.content)
        if reply.thread_id:
            text = "\n".join("  ↳ " + line for line in text.splitlines())
        self.say(text)
        if reply.record_as is not None:
            follow = self.runtime.posted_sync(
                reply.record_as, MessageRef(PLATFORM, reply.place.channel_id, message_id)
            )
            self.deliver(follow, event)

    def direct_line(self, user_id: str) -> str:
        return self.texts.rich("casus.terminal.direct_to", user=_strip_escapes(user_id)).plain()

    def card_text(self, card: Card) -> str:
        return self._card_text(card)

    def _card_text(self, card: Card) -> str:
        lines: list[str] = []
        for block in card.blocks:
            if isinstance(block, Header):
                lines.append(self._bold(f"**━━ {_strip_escapes(block.text)} ━━**"))
            elif isinstance(block, Section):
                lines.append(self._text(block.text))
                lines.extend(self._text(f) for f in block.fields)
            elif isinstance(block, Context):
                lines.append(f"  {self._text(block.text)}")
            elif isinstance(block, Divider):
                lines.append("─" * 40)
            elif isinstance(block, Actions):
                buttons = []
                for button in block.buttons:
                    how = button_command(button.action_id, button.value)
                    buttons.append(f"[{button.label}: {how}]")
                lines.append("  " + "  ".join(buttons))
        return "\n".join(lines)

    # --- forms ---

    def _fill(self, form: Form, event: Event) -> None:
        self.say(self._bold(f"**{form.title}**") + "  (/annuleer)")
        if form.intro is not None:
            self.say(self._text(form.intro))
        values: dict[str, FormValue] = {}
        # The question what to do with names and places is only asked once the guard found
        # one (its error is on that field); until then its default goes along.
        todo = [f for f in form.fields if not _asked_on_finding(f)]
        for item in form.fields:
            if _asked_on_finding(item):
                values[item.field_id] = item.initial or ""
        while True:
            for item in todo:
                values[item.field_id] = self._ask(item)
            outcome = self.runtime.handle_sync(
                FormSubmitted(self.actor, self.place, form.form_id, values, form.metadata)
            )
            errors = next((r for r in outcome.replies if isinstance(r, FormErrors)), None)
            if errors is None:
                self.deliver(outcome.replies, event)
                return
            for field_id, message in errors.errors.items():
                label = next((f.label for f in form.fields if f.field_id == field_id), field_id)
                self.say(f"! {label}: {message}")
            # Asked again with what was typed as the default: Enter keeps it (a submission
            # refused while the guard was loading loses nothing).
            todo = [
                _with_default(f, values.get(f.field_id))
                for f in form.fields
                if f.field_id in errors.errors
            ] or [_with_default(f, values.get(f.field_id)) for f in form.fields]

    def _ask(self, item: TextInput | MultiSelect | Select) -> FormValue:
        """One field; a required one left empty is asked again at once."""
        while True:
            answer = self._ask_once(item)
            if answer or not item.required:
                return answer
            self.say(f"! {self.texts.get('general.field_required')}")

    def _ask_once(self, item: TextInput | MultiSelect | Select) -> FormValue:
        texts = self.texts
        need = texts.get(
            "casus.terminal.ask_required" if item.required else "casus.terminal.ask_optional"
        )
        self.say(self._bold(f"**{item.label}** {need}"))
        if item.hint:
            self.say(f"  {item.hint}")
        if isinstance(item, MultiSelect):
            for index, option in enumerate(item.options, start=1):
                marker = "*" if option.value in item.initial else " "
                self.say(f" {marker}{index:2}. {option.label}")
            self.say(f"  {texts.get('casus.terminal.ask_choices')}")
            answer = self._line()
            chosen: list[str] = []
            for part in re.split(r"[,\s]+", answer):
                number = _int(part)
                if number is not None and 1 <= number <= len(item.options):
                    chosen.append(item.options[number - 1].value)
            if not chosen and not answer.strip() and isinstance(item.initial, tuple):
                return item.initial
            return tuple(dict.fromkeys(chosen))
        if isinstance(item, Select):
            for index, option in enumerate(item.options, start=1):
                marker = "*" if option.value == item.initial else " "
                self.say(f" {marker}{index:2}. {option.label}")
            answer = self._line().strip()
            number = _int(answer) if answer else None
            if number is not None and 1 <= number <= len(item.options):
                return item.options[number - 1].value
            return item.initial or ""
        if item.initial:
            shown = _strip_escapes(item.initial)
            self.say(self.texts.rich("casus.terminal.keep_default", value=shown).plain())
        if item.multiline:
            self.say(f"  {texts.get('casus.terminal.ask_multiline')}")
            lines: list[str] = []
            while True:
                line = self._line()
                if not line:
                    break
                lines.append(line)
            answer = "\n".join(lines)
        else:
            answer = self._line()
        return answer or (item.initial or "")

    def _line(self) -> str:
        line = self._read("  · ")
        if line is None or line.strip().lower() in CANCEL:
            raise _Cancelled
        return line

    # --- read-only views ---

    def _list(self) -> None:
        with self.runtime.database.session() as session:
            channel = ChannelRepository(session).ensure(PLATFORM, self.place.channel_id)
            repo = CasusRepository(session)
            open_cases = repo.in_channel(channel, (CasusStatus.OPEN,))
            if not open_cases:
                self.say(self.texts.get("casus.terminal.no_open"))
            for casus in open_cases:
                self.say(
                    self.texts.rich(
                        "casus.terminal.open_item",
                        number=casus.id,
                        title=casus.title,
                        inbrenger=casus.inbrenger.display_name or casus.inbrenger.platform_user_id,
                        contributions=self.texts.count("bijdrage", repo.bijdrage_count(casus)),
                    ).plain()
                )

    def _show(self, number: str) -> None:
        from handlers.casus.chat import casus_card

        casus_id = _int(number)
        with self.runtime.database.session() as session:
            casus = CasusRepository(session).get(casus_id) if casus_id is not None else None
            if casus is None or casus.channel.platform != PLATFORM:
                self.say(self.texts.rich("casus.terminal.unknown_casus", number=number).plain())
                return
            self.say(
                self._card_text(casus_card(casus, self.texts, casus.inbrenger.platform_user_id))
            )
            for bijdrage in BijdrageRepository(session).for_casus(casus):
                self.say(f"  ↳ [{bijdrage.author.platform_user_id}] {bijdrage.text}")


def button_command(action_id: str, value: str) -> str:
    """How a button is typed in the terminal; what is shown works when typed as shown."""
    if action_id in BUTTON_COMMANDS:
        return BUTTON_COMMANDS[action_id].format(value=value)
    parts = [action_id, value] if value else [action_id]
    return "/knop " + " ".join(shlex.quote(part) for part in parts)


def _asked_on_finding(item: TextInput | MultiSelect | Select) -> bool:
    return isinstance(item, Select) and item.field_id == PRIVACY_FIELD and bool(item.initial)


def _with_default(
    item: TextInput | MultiSelect | Select, value: FormValue | None
) -> TextInput | MultiSelect | Select:
    if not value:
        return item
    return dataclasses.replace(item, initial=value)  # type: ignore[arg-type]


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _strip_escapes(text: str) -> str:
    """Terminal escape sequences typed by someone must not repaint another person's screen."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]", "", text)


def _int(value: str) -> int | None:
    try:
        return int(value.strip().lstrip("#"))
    except ValueError:
        return None


def _new_id() -> str:
    return f"t{time.time_ns()}"


ReadLine = Callable[[], str]
