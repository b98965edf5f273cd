"""The user's own details (who, when, what happened), read from the English parse so answers can reuse them.

All the reading happens in assistant.understanding (spaCy's parse); this module keeps the shape the coach, the
offline composer and the evals use. Every field may be None: callers then quote the mentor or ask.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.understanding import MessageParse, parse
from assistant.understanding.parser import parse_fresh


@dataclass(frozen=True)
class Details:
    name: str | None = None
    when: str | None = None
    situation: str | None = None
    behavior: str | None = None  # the mentor's words, without the subject: "kept cutting off the junior engineers"
    impact: str | None = None
    topic: str | None = None
    request: str | None = None
    is_news: bool = False
    people: tuple[str, ...] = ()
    is_praise: bool | None = None
    praise_balance: int = 0  # words of praise minus words of trouble in the message
    on_receiving_end: bool = False  # someone else acted on the mentee ("a surgeon shouted at her")
    acted_on_others: bool = False  # the mentee acted on other people ("keeps cutting people off")
    # The same, said to the mentee; None where the parse is unsure.
    situation_you: str | None = None
    behavior_you: str | None = None  # with its subject: "you kept cutting off the junior engineers"
    impact_you: str | None = None
    request_you: str | None = None
    topic_you: str | None = None

    @property
    def who(self) -> str:
        return self.name or "your mentee"


def extract(text: str, *, fresh: bool = False) -> Details:
    """The details of one message (parsed once per process; `fresh` parses again, for timing)."""
    record = parse_fresh(text) if fresh else parse(text)
    return details_of(record)


def details_of(p: MessageParse) -> Details:
    """The details in one parse record."""
    return Details(
        name=p.mentee,
        when=p.when,
        situation=p.situation,
        behavior=p.behavior,
        impact=p.impact,
        topic=p.topic,
        request=p.request,
        is_news=p.is_news,
        people=p.people,
        is_praise=p.is_praise,
        praise_balance=p.praise_balance,
        on_receiving_end=p.on_receiving_end,
        acted_on_others=p.acted_on_others,
        situation_you=p.situation_you,
        behavior_you=p.behavior_you,
        impact_you=p.impact_you,
        request_you=p.request_you,
        topic_you=p.topic_you,
    )


def feedback_parts(d: Details) -> dict[str, str | None]:
    """Situation, behaviour, impact and request for a feedback draft addressed to the mentee.

    The situation, behaviour and request are only ever the parse's second-person rewrite (a draft that says "he"
    to the mentee would read as someone else); the impact falls back to the mentor's own words, which are about
    what others did and never put their actions in the mentee's mouth."""
    return {
        "situation": d.situation_you,
        "behavior": d.behavior_you,
        "impact": d.impact_you or d.impact,
        "request": d.request_you,
    }
