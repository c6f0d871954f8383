"""Files for one person in Teams: the file consent flow.

A bot cannot simply attach a file in Teams. It sends a *file consent card* in the person's 1:1
chat; when they choose *Allow*, Teams sends an ``invoke`` activity (``fileConsent/invoke``,
action ``accept``) with an upload URL in their OneDrive. The bot PUTs the bytes there and sends
a *file info card* that links to the file. On *Decline* nothing is uploaded.

Leerkring does not hold the file between the card and the answer: the card's context names the
file source, the person and the source's plain arguments (a harvest's period, channel and
language; never content), and on accept the file is made again from the database for the
person who accepted (``Router.file_source``). Nothing survives in memory, and a restart in
between does not matter.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import FileConsentCard, FileConsentCardResponse, FileInfoCard

from handlers.core.messaging import DeliveryFailed

log = logging.getLogger(__name__)

CONSENT_TYPE = "application/vnd.microsoft.teams.card.file.consent"
INFO_TYPE = "application/vnd.microsoft.teams.card.file.info"
UPLOAD_TIMEOUT = 60
# Marks a consent card's context as ours (version 1 of its shape).
CONTEXT_MARK = "leerkring-file-1"


@dataclass(frozen=True)
class ConsentContext:
    """What a consent card carries, and Teams gives back with the person's answer."""

    source: str  # the file source that makes the file again
    user_id: str  # whom it is for (Entra object id)
    filename: str
    title: str
    args: Mapping[str, str] = field(default_factory=dict)  # the file source's arguments

    def as_dict(self) -> dict[str, Any]:
        value: dict[str, Any] = {
            "kind": CONTEXT_MARK,
            "source": self.source,
            "user": self.user_id,
            "filename": self.filename,
            "title": self.title,
        }
        if self.args:
            value["args"] = dict(self.args)
        return value

    @classmethod
    def parse(cls, value: Any) -> ConsentContext | None:
        if not isinstance(value, dict) or value.get("kind") != CONTEXT_MARK:
            return None
        fields = [value.get(key) for key in ("source", "user", "filename", "title")]
        if not all(isinstance(field, str) and field for field in fields):
            return None
        source, user_id, filename, title = fields
        args = value.get("args", {})
        if not isinstance(args, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in args.items()
        ):
            return None
        return cls(str(source), str(user_id), str(filename), str(title), dict(args))


def consent_activity(context: ConsentContext, description: str, size: int) -> Activity:
    card = FileConsentCard(
        description=description,
        size_in_bytes=size,
        accept_context=context.as_dict(),
        decline_context=context.as_dict(),
    )
    return Activity(
        type=ActivityTypes.message,
        summary=description,
        attachments=[
            Attachment(content_type=CONSENT_TYPE, name=context.filename, content=card.serialize())
        ],
    )


def info_activity(answer: FileConsentCardResponse, filename: str) -> Activity:
    info = answer.upload_info
    card = FileInfoCard(unique_id=info.unique_id, file_type=info.file_type)
    return Activity(
        type=ActivityTypes.message,
        attachments=[
            Attachment(
                content_type=INFO_TYPE,
                name=info.name or filename,
                content_url=info.content_url,
                content=card.serialize(),
            )
        ],
    )


def _allowed_upload_url(url: str) -> bool:
    """HTTPS, as Teams' upload URLs are; plain HTTP only to a loopback address (the
    emulator and the tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return parts.hostname == "localhost"


async def upload(url: str | None, content: bytes) -> None:
    """PUT the whole file to the upload session Teams opened in the person's OneDrive.
    Raises DeliveryFailed; the content is never logged."""
    if not url or not _allowed_upload_url(url):
        log.warning("Teams file upload refused: no usable upload URL")
        raise DeliveryFailed("bad_upload_url")
    size = len(content)
    headers = {
        "Content-Length": str(size),
        "Content-Range": f"bytes 0-{size - 1}/{size}",
        "Content-Type": "application/octet-stream",
    }
    timeout = aiohttp.ClientTimeout(total=UPLOAD_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.put(url, data=content, headers=headers) as response,
        ):
            if response.status not in (200, 201):
                log.warning("Teams file upload failed: HTTP %s", response.status)
                raise DeliveryFailed(f"http_{response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Teams file upload failed: %s", type(exc).__name__)
        raise DeliveryFailed("unreachable") from None
    log.info("Teams file uploaded (%d bytes)", size)
