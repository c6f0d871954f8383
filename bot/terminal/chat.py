"""``leerkring chat``: a local channel in the terminal, for trying Leerkring without Slack.

It sends the same events through the same handlers into the same database. Forms are asked
one question at a time; buttons become commands (``/reageer 3``, ``/afronden 3``).
"""

from __future__ import annotations

import re
import shlex
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

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
from prompts import Texts
from storage.models import CasusStatus
from storage.repositories import ChannelRepository, PostedMessageRepository

PLATFORM = "terminal"
CANCEL = {"/annuleer", "/cancel"}
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)

# How the buttons of a card are pressed in the terminal.
BUTTON_COMMANDS = {
    "casus_denk_mee": "/reageer {value}",
    "casus_afronden": "/afronden {value}",
    "reflectie_antwoord": "/antwoord {value}",
}


class _Cancelled(Exception):
    pass


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
    ) -> None:
        self.runtime = runtime
        self.texts = texts
        self.user = user
        self.place = Place(PLATFORM, channel, None, channel)
        self.stdin = stdin
        self.stdout = stdout
        self.color = color
        # Called after every command: lets the scheduler deliver what is due (reflection).
        self.after_command: Callable[[], None] | None = None
        # Where files the bot hands out (the harvest report) are saved.
        self.files_dir = Path("oogst")

    # --- I/O helpers ---

    def say(self, line: str = "") -> None:
        self.stdout.write(line + "\n")
        self.stdout.flush()

    def _read(self, prompt: str = "> ") -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if line == "":
            return None
        return line.rstrip("\n")

    def _bold(self, text: str) -> str:
        return _BOLD.sub(r"\033[1m\1\033[0m" if self.color else r"\1", text)

    def _text(self, rich: Rich) -> str:
        return rich.render(escape=_strip_escapes, mention=lambda uid: f"@{uid}", markup=self._bold)

    @property
    def actor(self) -> Actor:
        return Actor(PLATFORM, self.user, self.user)

    # --- main loop ---

    def run(self) -> int:
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
            if self.after_command is not None:
                self.after_command()
        self.say(self.texts.get("casus.terminal.bye"))
        return 0

    def _command(self, line: str) -> bool:
        if line.startswith("#"):
            number, _, text = line[1:].partition(" ")
            self._reply_to(number, text)
            return True
        if not line.startswith("/"):
            self.say(self.texts.get("casus.terminal.commands"))
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in {"/stop", "/quit", "/exit"}:
            return False
        if word in {"/help", "/hulp"}:
            self.say(self._text(self.texts.rich("general.help")))
            self.say(self.texts.get("casus.terminal.commands"))
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
            parts = shlex.split(rest)
            if len(parts) == 2:
                self._press(parts[0], parts[1])
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
            self.say("(alleen voor jou)")
            self.say(self._card_text(reply.card))
        else:
            self.say(f"(alleen voor jou) {self._text(reply.text)}")

    def send_direct(self, reply: DirectMessage, event: Event) -> None:
        self.say(f"(privébericht aan @{reply.user_id})")
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
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(reply.filename).name
        path.write_bytes(reply.content)
        who = f"@{reply.user_id}" if reply.user_id else f"#{reply.place.channel_id}"  # type: ignore[union-attr]
        self.say(f"(bestand voor {who}) {_strip_escapes(reply.title)}: {path}")

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
                    how = BUTTON_COMMANDS.get(
                        button.action_id, f"/knop {button.action_id} {button.value}"
                    ).format(value=button.value)
                    buttons.append(f"[{button.label}: {how}]")
                lines.append("  " + "  ".join(buttons))
        return "\n".join(lines)

    # --- forms ---

    def _fill(self, form: Form, event: Event) -> None:
        self.say(self._bold(f"**{form.title}**") + "  (/annuleer)")
        if form.intro is not None:
            self.say(self._text(form.intro))
        values: dict[str, FormValue] = {}
        todo = list(form.fields)
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
            todo = [f for f in form.fields if f.field_id in errors.errors] or list(form.fields)

    def _ask(self, item: TextInput | MultiSelect | Select) -> FormValue:
        texts = self.texts
        need = texts.get(
            "casus.terminal.ask_required" if item.required else "casus.terminal.ask_optional"
        )
        self.say(self._bold(f"**{item.label}** {need}"))
        if item.hint:
            self.say(f"  {item.hint}")
        if isinstance(item, MultiSelect):
            for index, option in enumerate(item.options, start=1):
                self.say(f"  {index:2}. {option.label}")
            self.say(f"  {texts.get('casus.terminal.ask_choices')}")
            answer = self._line()
            chosen: list[str] = []
            for part in re.split(r"[,\s]+", answer):
                number = _int(part)
                if number is not None and 1 <= number <= len(item.options):
                    chosen.append(item.options[number - 1].value)
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
            self.say(f"  [{item.initial}] (Enter om te houden)")
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
                        count=repo.bijdrage_count(casus),
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
