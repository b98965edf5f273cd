"""The debrief after a role-play: the mentor's moves counted, their best and weakest line quoted with what each
did to the mentee, what to keep and what to change, and the guidance behind the advice, cited by number."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant.practice.data import MAX_TENSION, Persona, Scenario, band_for
from assistant.practice.moves import MOVES, MoveInfo, move_info
from assistant.practice.replies import FEEDBACK_KINDS
from assistant.practice.state import counted_moves
from assistant.practice.turn import PracticeTurn

Guidance = Callable[[str], list[tuple[str, str]]]
MAX_GUIDANCE = 5
GOOD_FEEDBACK = 75  # feedback-check score from which an SBI statement counts as specific

# How much each move helps a hard conversation, before its effect on the mentee is counted.
MOVE_VALUE = {
    "open_question": 2,
    "empathy": 2,
    "sbi": 2,
    "pause": 1,
    "next_steps": 1,
    "closed_question": 0,
    "advice": 0,
    "ending": 0,
    "blame": -3,
}
TRY_INSTEAD = {
    "blame": "describe what they did and what it led to, not who they are",
    "closed_question": "ask it openly, starting with what or how",
    "advice": "ask what they think would help before offering your own idea",
    "next_steps": "agree next steps once the tension is down",
    "ending": "check what they are taking away before you close",
    "pause": "follow a pause with an open question",
}


@dataclass(frozen=True)
class QuotedLine:
    text: str
    move: str
    tension_before: int
    tension_after: int
    revealed: bool
    score: int

    def describe(self, info: dict[str, MoveInfo]) -> str:
        label = info[self.move].label
        effect = (
            f"tension went from {self.tension_before} to {self.tension_after}"
            if self.tension_after < self.tension_before
            else f"tension rose from {self.tension_before} to {self.tension_after}"
            if self.tension_after > self.tension_before
            else f"tension stayed at {self.tension_after}"
        )
        shared = ", and they told you what was behind it" if self.revealed else ""
        return f"\u201c{_unquoted(self.text)}\u201d ({_article(label)} {label}: {effect}{shared})"


@dataclass
class Debrief:
    counts: dict[str, int]
    best: QuotedLine | None
    weakest: QuotedLine | None
    went_well: list[str]
    to_change: list[str]
    start_tension: int
    final_tension: int
    peak_tension: int
    revealed: int
    reveals: int
    feedback_scores: list[int]
    guidance: list[tuple[str, str]] = field(default_factory=list)
    info: dict[str, MoveInfo] = field(default_factory=move_info)

    @property
    def open_questions(self) -> int:
        return self.counts.get("open_question", 0)

    @property
    def closed_questions(self) -> int:
        return self.counts.get("closed_question", 0)

    @property
    def acknowledgements(self) -> int:
        return self.counts.get("empathy", 0)

    def moves_sentence(self) -> str:
        """'2 open questions, 1 closed question and 1 pause' (in the order of MOVES)."""
        parts = [self.info[m].count(self.counts[m]) for m in MOVES if self.counts.get(m)]
        if not parts:
            return "nothing yet"
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"

    def as_markdown(self) -> str:
        lines = [
            "## Practice debrief",
            "",
            f"**What you did:** {self.moves_sentence()}.",
            "",
            f"**Tension:** {self.start_tension}/{MAX_TENSION} at the start, {self.final_tension}/{MAX_TENSION} at "
            f"the end, {self.peak_tension}/{MAX_TENSION} at its highest. **What they shared:** {self.revealed} of "
            f"the {self.reveals} things behind it.",
        ]
        if self.best:
            lines += ["", "### Your best line", "", self.best.describe(self.info)]
        if self.weakest:
            hint = TRY_INSTEAD.get(self.weakest.move)
            lines += ["", "### Your weakest line", "", self.weakest.describe(self.info)]
            if hint:
                lines[-1] += f". Next time, {hint}."
        lines += ["", "### What went well"]
        lines += [f"- {item}" for item in self.went_well] or ["- Nothing stood out yet: try a few more turns."]
        lines += ["", "### What to change"]
        lines += [f"- {item}" for item in self.to_change] or ["- Nothing major: keep practising this pattern."]
        if self.guidance:
            lines += ["", "### Guidance to read"]
            lines += [f"- [{n}] {title} ({source})" for n, (title, source) in enumerate(self.guidance, 1)]
        return "\n".join(lines) + "\n"


def _article(label: str) -> str:
    return "an" if label[:1].lower() in "aeio" or label.startswith("SBI") else "a"


def _unquoted(text: str) -> str:
    return text.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()


@dataclass(frozen=True)
class _Line:
    text: str
    moves: list[str]
    move: str
    before: int
    after: int
    revealed: bool


def _mentor_lines(transcript: Sequence[PracticeTurn], start: int) -> list[_Line]:
    lines: list[_Line] = []
    before = start
    for i, turn in enumerate(transcript):
        if turn.role == "mentee":
            before = turn.tension
            continue
        reply = transcript[i + 1] if i + 1 < len(transcript) else None
        revealed = reply is not None and reply.revealed is not None
        lines.append(_Line(turn.text, turn.moves, turn.move or "pause", before, turn.tension, revealed))
    return lines


def _score(line: _Line) -> int:
    band = band_for(line.before)
    value = sum(MOVE_VALUE[m] for m in counted_moves(line.moves, line.move))
    if band == "high" and line.move in ("advice", "next_steps"):
        value -= 2  # solutions offered before the mentee is ready to hear them
    if band == "high" and "empathy" in line.moves:
        value += 1  # naming the feeling matters most when they are upset
    return value + 2 * (line.before - line.after) + (1 if line.revealed else 0)


def _quotes(lines: list[_Line]) -> tuple[QuotedLine | None, QuotedLine | None]:
    if not lines:
        return None, None
    # a closing line is neither the best nor the weakest part of a conversation that had anything else in it
    lines = [line for line in lines if line.move != "ending"] or lines
    scored = [QuotedLine(line.text, line.move, line.before, line.after, line.revealed, _score(line)) for line in lines]
    best = max(scored, key=lambda q: q.score)  # the earliest of equals
    weakest = min(reversed(scored), key=lambda q: q.score)  # the latest of equals
    return best, (weakest if weakest.score < best.score else None)


def build_debrief(
    transcript: Sequence[PracticeTurn], persona: Persona, scenario: Scenario, guidance: Guidance | None = None
) -> Debrief:
    from assistant.feedback import FeedbackChecker

    lines = _mentor_lines(transcript, persona.start_tension)
    counts = Counter(m for line in lines for m in line.moves)
    checker = FeedbackChecker()
    # the feedback check scores feedback; news plainly stated (a decision, a cancellation) is not feedback
    gives_feedback = scenario.kind in FEEDBACK_KINDS
    scores = [checker.check(line.text).score for line in lines if gives_feedback and "sbi" in line.moves]
    tensions = [persona.start_tension, *(t.tension for t in transcript)]
    best, weakest = _quotes(lines)
    revealed = sum(1 for t in transcript if t.role == "mentee" and t.revealed is not None)
    debrief = Debrief(
        counts=dict(counts),
        best=best,
        weakest=weakest,
        went_well=[],
        to_change=[],
        start_tension=persona.start_tension,
        final_tension=tensions[-1],
        peak_tension=max(tensions),
        revealed=revealed,
        reveals=len(scenario.reveals),
        feedback_scores=scores,
    )
    debrief.went_well = _went_well(debrief, lines)
    issues = _issues(debrief, lines, persona)
    debrief.to_change = [text for text, _ in issues]
    if guidance is not None:
        queries = [q for _, q in issues][:3] or [f"{scenario.title} {persona.label.lower()} mentee"]
        debrief.guidance, cited = _gather(guidance, queries)
        debrief.to_change = [text + "".join(f" [{n}]" for n in cited.get(query, [])) for text, query in issues]
    return debrief


def _went_well(d: Debrief, lines: list[_Line]) -> list[str]:
    good: list[str] = []
    info = d.info
    if d.open_questions:
        good.append(f"You asked {info['open_question'].count(d.open_questions)}, which gave them room to explain.")
    if d.acknowledgements:
        good.append(f"You made {info['empathy'].count(d.acknowledgements)}.")
    if d.feedback_scores and max(d.feedback_scores) >= GOOD_FEEDBACK:
        good.append(
            f"Your SBI feedback was specific: situation, behaviour and impact came through "
            f"({max(d.feedback_scores)}/100 on the feedback check)."
        )
    if len(lines) >= 2 and not d.counts.get("blame"):
        good.append("You described behaviour without labels or blame.")
    if d.final_tension < d.start_tension:
        good.append(f"Tension came down from {d.start_tension} to {d.final_tension} over the conversation.")
    if d.revealed:
        good.append(f"They told you {d.revealed} of the {d.reveals} things behind it.")
    if any("next_steps" in line.moves and band_for(line.before) != "high" for line in lines):
        good.append("You agreed a next step once they were ready for one.")
    return good


def _issues(d: Debrief, lines: list[_Line], persona: Persona) -> list[tuple[str, str]]:
    """(advice, guidance query) for each thing that needs work, most important first."""
    who = f"{persona.label.lower()} mentee"
    info = d.info
    if not lines:
        return [
            (
                "Say something to your mentee first: the debrief needs at least one line.",
                f"opening a difficult conversation with a {who}",
            )
        ]
    issues: list[tuple[str, str]] = []
    blamed = [line.text for line in lines if line.move == "blame"]
    if blamed:
        quoted = ", ".join(f"\u201c{_unquoted(t)}\u201d" for t in blamed[:3])
        issues.append(
            (
                f"You used {info['blame'].count(len(blamed))} ({quoted}); describe the specific behaviour "
                "and its effect instead.",
                "describing behavior not personality in feedback",
            )
        )
    if not d.open_questions:
        issues.append(
            (
                "You asked no open questions; try \u201cWhat got in the way?\u201d or \u201cHow did it look "
                "from your side?\u201d",
                f"asking open questions {who}",
            )
        )
    elif d.closed_questions > d.open_questions and d.closed_questions >= 2:
        issues.append(
            (
                f"Most of your questions were closed ({info['closed_question'].count(d.closed_questions)}, "
                f"{info['open_question'].count(d.open_questions)}); swap some for what or how questions.",
                f"asking open questions {who}",
            )
        )
    if not d.acknowledgements and d.peak_tension >= 3:
        issues.append(
            (
                "They were tense and you didn't name how they felt; try \u201cI can see this has been "
                "frustrating.\u201d",
                f"acknowledging emotions {who} active listening",
            )
        )
    early = [line for line in lines if line.move == "advice" and band_for(line.before) == "high"]
    if early:
        issues.append(
            (
                f"You gave advice while they were still tense ({len(early)} "
                f"{'time' if len(early) == 1 else 'times'}); listen first, and advice lands once the tension "
                "is down.",
                "coaching instead of advising asking rather than telling",
            )
        )
    if d.final_tension > d.start_tension:
        issues.append(
            (
                f"Tension rose from {d.start_tension} to {d.final_tension}; slow down and get curious before "
                "restating your point.",
                f"handling a {who} in a difficult conversation",
            )
        )
    if d.feedback_scores and max(d.feedback_scores) < GOOD_FEEDBACK:
        issues.append(
            (
                f"Your feedback wasn't specific enough (best {max(d.feedback_scores)}/100): name the "
                "situation, the behaviour and its impact.",
                "making feedback specific and actionable situation behavior impact",
            )
        )
    if len(lines) >= 3 and not d.revealed:
        issues.append(
            (
                "They never told you what was behind it; leave pauses and ask open questions until they do.",
                f"listening to understand a {who}",
            )
        )
    if len(lines) >= 3 and not d.counts.get("next_steps"):
        issues.append(
            (
                "You didn't agree a next step; close with something like \u201cWhat will you try before we "
                "next meet?\u201d",
                "closing a hard conversation with next steps",
            )
        )
    return issues


def _gather(guidance: Guidance, queries: list[str]) -> tuple[list[tuple[str, str]], dict[str, list[int]]]:
    """The guidance found for each query, numbered once across queries, and which numbers each query cites."""
    cited: list[tuple[str, str]] = []
    by_query: dict[str, list[int]] = {}
    for query in queries:
        for found in guidance(query):
            if found not in cited and len(cited) < MAX_GUIDANCE:
                cited.append(found)
            if found in cited:
                by_query.setdefault(query, [])
                n = cited.index(found) + 1
                if n not in by_query[query]:
                    by_query[query].append(n)
    return cited, by_query
