"""/mijn-gegevens: the person's own data as JSON (AVG art. 15) and, after a confirmation, its
erasure (art. 17). Facilitators have the same from the command line: ``leerkring privacy``."""

from __future__ import annotations

import json
from collections.abc import Mapping

from handlers.core.context import HandlerContext
from handlers.core.events import Actor, ButtonPressed, CommandInvoked
from handlers.core.replies import (
    Actions,
    Button,
    Card,
    Ephemeral,
    Reply,
    Section,
    UploadFile,
)
from handlers.core.router import Router
from handlers.privacy.anonymity import ANONYMOUS_USER_ID, inbrenger_hash
from handlers.privacy.rights_queries import Erasure, erase_member, export_member

COMMAND = "mijn-gegevens"
ACTION_ERASE_ASK = "privacy_verwijder_vraag"
ACTION_ERASE_CONFIRM = "privacy_verwijder_ja"
ACTION_ERASE_CANCEL = "privacy_verwijder_nee"
ERASE_WORDS = frozenset({"verwijder", "verwijderen", "wis", "delete", "erase"})
EXPORT_FILENAME = "leerkring-mijn-gegevens.json"
EXPORT_SOURCE = "mijn-gegevens"


def anonymous_hashes(secret: bytes | None, platform: str, user_id: str) -> list[str]:
    return [inbrenger_hash(secret, platform, user_id)] if secret is not None else []


def export_json(ctx: HandlerContext, platform: str, user_id: str) -> bytes:
    data = export_member(
        ctx.session,
        ctx.registry.personal_data,
        platform,
        user_id,
        anonymous_hashes(ctx.hmac_secret, platform, user_id),
    )
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def export_file(ctx: HandlerContext, platform: str, user_id: str, args: Mapping[str, str]) -> bytes:
    """The export as a file source: always the data of the person who accepted it."""
    return export_json(ctx, platform, user_id)


def erase(ctx: HandlerContext, platform: str, user_id: str) -> Erasure:
    anonymous = ctx.repos.members.ensure(
        platform, ANONYMOUS_USER_ID, display_name=ctx.texts.get("privacy.anonymous.name")
    )
    return erase_member(
        ctx.session,
        ctx.registry.personal_data,
        platform,
        user_id,
        anonymous,
        anonymous_hashes(ctx.hmac_secret, platform, user_id),
    )


def _ask_to_erase(ctx: HandlerContext) -> Ephemeral:
    texts = ctx.texts
    text = texts.rich("privacy.rights.confirm")
    card = Card(
        (
            Section(text),
            Actions(
                (
                    Button(
                        ACTION_ERASE_CONFIRM, texts.get("privacy.rights.confirm_yes"), "", "danger"
                    ),
                    Button(ACTION_ERASE_CANCEL, texts.get("privacy.rights.confirm_no"), ""),
                )
            ),
        ),
        fallback=text,
    )
    return Ephemeral(text, card)


def my_data(event: CommandInvoked, ctx: HandlerContext) -> list[Reply]:
    if event.text.strip().lower() in ERASE_WORDS:
        return [_ask_to_erase(ctx)]
    return _export_replies(event.actor, ctx)


def _export_replies(actor: Actor, ctx: HandlerContext) -> list[Reply]:
    texts = ctx.texts.on(actor.platform)
    content = export_json(ctx, actor.platform, actor.user_id)
    text = texts.rich("privacy.rights.exported")
    card = Card(
        (
            Section(text),
            Actions(
                (Button(ACTION_ERASE_ASK, texts.get("privacy.rights.erase_button"), "", "danger"),)
            ),
        ),
        fallback=text,
    )
    return [
        UploadFile(
            EXPORT_FILENAME,
            content,
            texts.get("privacy.rights.file_title"),
            user_id=actor.user_id,
            source=EXPORT_SOURCE,
        ),
        Ephemeral(text, card),
    ]


def ask_to_erase(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    return [_ask_to_erase(ctx)]


def confirm_erase(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    # Always the person who pressed: nobody can erase someone else's data from chat.
    result = erase(ctx, event.actor.platform, event.actor.user_id)
    return [
        Ephemeral(
            ctx.texts.rich(
                "privacy.rights.erased",
                casussen=result.casussen_anonymised,
                bijdragen=ctx.texts.count("bijdrage", result.bijdragen),
                answers=ctx.texts.count("antwoord", result.answers + result.takeaways),
            )
        )
    ]


def cancel_erase(event: ButtonPressed, ctx: HandlerContext) -> list[Reply]:
    return [Ephemeral(ctx.texts.rich("privacy.rights.kept"))]


def register(router: Router) -> None:
    router.command(COMMAND, my_data)
    # Teams asks the person before a file is sent; on "accept" the export is made again from
    # the database for whoever accepted, so it is never held between the two.
    router.file_source(EXPORT_SOURCE, export_file)
    router.action(ACTION_ERASE_ASK, ask_to_erase)
    router.action(ACTION_ERASE_CONFIRM, confirm_erase)
    router.action(ACTION_ERASE_CANCEL, cancel_erase)
