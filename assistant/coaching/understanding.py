"""Reads a mentor's message once, against the conversation so far: which situation, which need, who.

A follow-up stays with the conversation's situation unless the new message clearly names another one; a
follow-up about a moment inside that situation ("what if she cries?") is answered from that moment's playbook,
framed as part of the same conversation; "make it shorter" acts on the previous answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.coaching.matcher import SURE, Matches, SituationMatcher
from assistant.coaching.needs import NeedClassifier
from assistant.coaching.playbooks import Playbook
from assistant.details import Details, extract
from assistant.sessions import TurnRecord

_SHORTER = re.compile(
    r"\b(shorter|shorten|too long|briefer|in brief|tl;?dr|summari[sz]e|just the (?:key|main))\b", re.I
)
# A new message this long that clearly matches another situation starts a new thread.
NEW_THREAD_WORDS = 12
# Fused-score head start, for a follow-up, of the conversation's playbook and its related ones (a top fused
# score is about 0.15).
FOLLOW_UP_BOOST = 0.02  # tuned on the dev conversations: follow-up top-1 0.43 -> 0.54 with CONTEXT_TURNS
CONTEXT_TURNS = 2
NEED_BY_MODE = {"feedback": "feedback", "prepare": "conversation"}
MODE_BY_NEED = {"conversation": "prepare", "feedback": "feedback", "praise": "feedback", "practice": "practice"}


@dataclass(frozen=True)
class ConversationState:
    """What a conversation is about so far, rebuilt from its stored turns."""

    playbook_ids: tuple[str, ...] = ()
    mentee_name: str | None = None
    need: str | None = None
    user_turns: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.playbook_ids)


@dataclass(frozen=True)
class Reading:
    """The coach's understanding of one message."""

    playbooks: list[Playbook]
    need: str
    details: Details
    mentee_name: str | None
    matches: Matches
    follow_up_of: str | None = None
    shorter: bool = False
    alternatives: list[Playbook] = field(default_factory=list)

    @property
    def understood(self) -> bool:
        return bool(self.playbooks)

    @property
    def mode(self) -> str:
        return MODE_BY_NEED.get(self.need, "chat")


class Understanding:
    def __init__(self, playbooks: dict[str, Playbook], matcher: SituationMatcher, needs: NeedClassifier) -> None:
        self.playbooks = playbooks
        self.matcher = matcher
        self.needs = needs
        self._by_source = {b.source: b for b in playbooks.values()}

    def state_from(self, turns: Sequence[TurnRecord]) -> ConversationState:
        """What the conversation is about, from its stored turns: the playbooks the last answer drew on, the
        mentee named, the kind of help asked for. Derived from the database, so it survives a restart."""
        ids: tuple[str, ...] = ()
        need = None
        user_turns: list[str] = []
        for turn in turns:
            if not turn.complete:
                continue
            if turn.role == "user":
                user_turns.append(turn.content)
                continue
            sources = [str(s.get("source")) for s in turn.sources]
            cited = [self._by_source[s].id for s in sources if s in self._by_source]
            if cited:
                ids = tuple(dict.fromkeys(cited))
                need = NEED_BY_MODE.get(turn.mode, "advice")
        name = None
        for text in reversed(user_turns):
            name = extract(text).name
            if name:
                break
        return ConversationState(ids, name, need, tuple(user_turns))

    def read(
        self, message: str, state: ConversationState, chunk_hits: Sequence[object] = (), mode: str = "auto"
    ) -> Reading:
        details = extract(message)
        name = details.name or state.mentee_name
        alone = self.matcher.match(message, chunk_hits)  # type: ignore[arg-type]
        previous = [self.playbooks[i] for i in state.playbook_ids if i in self.playbooks]
        if not previous:
            chosen = [m.playbook for m in alone.chosen()]
            return self._reading(message, chosen, details, name, alone, mode)
        if _SHORTER.search(message) and len(message.split()) <= NEW_THREAD_WORDS:
            return self._reading(message, previous, details, name, alone, mode, shorter=True, need=state.need)
        top = alone.top
        long_and_new = len(message.split()) >= NEW_THREAD_WORDS and not _refers_back(message)
        if top and alone.confidence == "sure" and long_and_new and top.playbook not in previous:
            # A long message that clearly names another situation starts a new thread.
            return self._reading(message, [m.playbook for m in alone.chosen()], details, name, alone, mode)
        if not long_and_new and CONTEXT_TURNS:
            # A short follow-up means little alone ("how do I wrap it up?"); read it with what came before.
            context = " ".join([*state.user_turns[-CONTEXT_TURNS:], message])
            alone = self.matcher.match(context, chunk_hits)  # type: ignore[arg-type]
        if alone.confidence != "unsure":
            # A follow-up may move to a moment inside the situation ("what if she cries?"); the conversation's own
            # playbook and the ones it names as related get a head start over the rest.
            near = {previous[0].id, *previous[0].related}
            best = max(alone.ranked, key=lambda m: m.score + (FOLLOW_UP_BOOST if m.playbook.id in near else 0.0))
            if best.playbook not in previous:
                return self._reading(
                    message, [best.playbook], details, name, alone, mode, follow_up_of=previous[0].title
                )
        return self._reading(message, previous, details, name, alone, mode, follow_up_of=previous[0].title)

    def _reading(
        self,
        message: str,
        chosen: list[Playbook],
        details: Details,
        name: str | None,
        matches: Matches,
        mode: str,
        follow_up_of: str | None = None,
        shorter: bool = False,
        need: str | None = None,
    ) -> Reading:
        if mode in NEED_BY_MODE:
            need = NEED_BY_MODE[mode]
        elif need is None:
            need = self._need(message, chosen, details, explicit_chat=mode == "chat")
        alternatives = [m.playbook for m in matches.ranked[:3] if m.similarity >= SURE * 0.6]
        return Reading(chosen, need, details, name, matches, follow_up_of, shorter, alternatives)

    def _need(self, message: str, chosen: list[Playbook], details: Details, explicit_chat: bool) -> str:
        """The playbook's own need, unless the message asks for words of praise or feedback about something
        that happened. In chat mode a message never becomes a conversation plan."""
        default = chosen[0].need if chosen else "advice"
        guess = self.needs.classify(message, default).need
        if guess == "praise" or (guess == "feedback" and (details.behavior or default == "feedback")):
            need = guess
        elif guess == "conversation" and default in ("advice", "conversation"):
            need = "conversation"
        else:
            need = default
        return "advice" if explicit_chat and need == "conversation" else need


def _refers_back(message: str) -> bool:
    """'she', 'him', 'that', 'it' early in a message point at what was said before."""
    first_words = message.lower().split()[:6]
    return any(
        w.strip("?,.!") in {"she", "he", "her", "him", "they", "them", "that", "it", "this"} for w in first_words
    )
