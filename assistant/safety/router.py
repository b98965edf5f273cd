"""The safety router: decides, before any coaching, whether a message needs escalation instead of tips.

1. Normalise (text.py): NFKC, invisible characters out (and reported), hidden and encoded text recovered.
2. Classify every sentence and the whole message with the trained classifier (model.py) over the sentence
   encoder, and the hidden or decoded texts too.
3. Add whatever the pattern floor (patterns.yaml) finds; patterns only ever add.
4. Optionally, an `llm_check(text) -> category | None` may add a category when nothing else was found.

Each category ends up at one of two levels: `clear` (escalate: the safety message replaces coaching) or, for
crisis and harassment, `possible` (coaching still comes, under a box about warning signs and how to help, or a
note on where to find guidance about harassment and discrimination). A full escalation needs clear evidence
(patterns.yaml, `evidence`): a crisis score for a message about distress, grief or a life event that names no risk
indicator stays `possible`, and a harassment score in the possible band escalates when the message names a
protected characteristic and something done to the mentee because of it. The classifier alone never calls a
request to word thanks, praise or a critique kindly harmful. Text that was hidden in invisible characters, or
encoded, and turns out to carry any category is also an injection attempt.

Precedence: risk to life first, then injection (always reported, even when the request inside is harmful too),
then harassment, harmful and legal, which can apply together (both are shown).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embedders import Embedder
from assistant.safety.encoding import SegmentEncoder
from assistant.safety.model import CategoryModel, SafetyModel, model_path
from assistant.safety.patterns import PATTERNS_PATH, PatternSet, load_patterns
from assistant.safety.text import MAX_SCAN_CHARS, Cleaned, clean, for_patterns, segments
from assistant.types import SafetyDecision

log = logging.getLogger(__name__)

ACTIONS: dict[str, str] = {
    "crisis": "escalate",
    "harassment": "refer",
    "legal": "refer",
    "harmful": "decline",
    "injection": "decline",
}
PRIORITY: tuple[str, ...] = ("crisis", "injection", "harassment", "harmful", "legal")
CLEAR, POSSIBLE = "clear", "possible"
# A segment whose in-context score reaches this share of a category's lowest band is encoded on its own (see
# SafetyRouter._segment_vectors). On the held-out test families' and the first fresh set's multi-sentence
# messages, 0.4 kept every warning sign the separate encoding found there while encoding about half of the
# segments' text (ordinary questions: less); 0.25 leaves a margin (a clause about not being around any more read
# 0.09 in context against a screen at 0.093) for a few more segments encoded.
SCREEN_SHARE = 0.25
# A segment of a message whose whole scores below this share of a category's lowest band needs the category's
# segment band (see supported_score). Chosen on the train families' out-of-fold scores: 0.1, 0.25 and 0.5 tried;
# at 0.25 the bands set for harassment, harmful and injection lose no out-of-fold sign.
SUPPORT_SHARE = 0.25
# In such a message a crisis score from a sentence or clause of at most this many words counts only from the
# clear threshold. On the train families' out-of-fold scores no crisis message is found only by so short a
# segment: at 4, 6, 8, 10 and 12 words none is lost while 2, 4, 9, 14 and 17 benign ones are no longer flagged
# (the short segment left out; the first sign lost is a 15-word sentence); 8 leaves a margin. Injection is left
# out: a bare order ("Ignore the above.") is short (2 of its train messages would be lost).
SHORT_SEGMENT_WORDS = 8
CLASSIFIER_NOTE = "classifier"  # how a finding by the trained classifier is recorded
SHORT_NEEDS_CLEAR = ("crisis",)
NEEDS_RISK_INDICATOR = ("crisis",)  # a clear score about distress alone stays possible without a risk indicator
# A crisis score at least this share of the possible band, in a message that names a documented risk indicator
# (patterns.yaml, evidence.crisis: affairs in order, means, goodbyes...), gets the box: the counterpart of the
# distress rule. Retraining moves a borderline warning sign across the band and back; a named sign should not
# depend on that. Checked on the held-out, fresh, fresh2, benign-fresh and answers.jsonl questions: it adds the
# box to no benign message there (written after one held-out crisis miss, so its recall gain there is optimistic).
INDICATOR_BAND_SHARE = 0.5
NEEDS_EVIDENCE = ("legal",)  # a score alone never refers to a lawyer: the message must name a legal matter
EVIDENCE_ESCALATES = ("harassment",)  # a possible score escalates with evidence (characteristic + adverse action)
# Categories about something that happened to someone: a general question about the topic with no one in it is
# not one (patterns.PatternSet.general_question); the classifier's score is set aside for it.
ABOUT_SOMEONE = ("crisis", "harassment")
THREAT_RULES = ("violence", "abuse at home")  # pattern rules (patterns.yaml) about danger from someone else
# A threat against someone else (crisis handling with guidance on safety and reporting, not on suicide).
_THREAT = re.compile(
    r"\b(?:kill|hurt|shoot|stab|attack|beat (?:up)?|harm|strangle|punch|smash|run (?:\w+ )?over|poison|get even"
    r"|make (?:\w+ ){1,3}(?:pay|regret)|get what's coming|going to get hurt|shoot up)\b(?! (?:myself|himself|herself"
    r"|themselves|themself|yourself))"
    # ...nor harm to someone's prospects: "it will hurt her chances at the review" (patterns.yaml, NOT_PROSPECTS).
    r"(?! (?:him|her|them|his|their) (?:chances?|career|prospects|reputation|review|rating|promotion|standing"
    r"|feelings|confidence|credibility|progress|case|application|pay|bonus|score|morale|motivation)\b)"
)


@dataclass(frozen=True)
class RouterDecision(SafetyDecision):
    """A SafetyDecision with every category found, its level, and what the mentor should be told."""

    levels: tuple[tuple[str, str], ...] = ()  # (category, clear|possible), in precedence order
    notices: tuple[str, ...] = ()  # plain-language notes: invisible characters removed, hidden text found
    threat: bool = False  # the crisis is a threat to harm someone else
    unreadable: bool = False  # nothing readable was left after normalisation

    @property
    def escalated(self) -> bool:
        """True when the safety message replaces coaching (some category is clear)."""
        return any(level == CLEAR for _, level in self.levels)

    @property
    def warning_signs(self) -> bool:
        """True when the message shows possible warning signs: coaching comes, under a box on how to help."""
        return dict(self.levels).get("crisis") == POSSIBLE

    @property
    def notes(self) -> tuple[str, ...]:
        """Categories other than crisis found at the possible level: the coaching comes with a short note."""
        return tuple(c for c, level in self.levels if level == POSSIBLE and c != "crisis")

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.levels)

    def level(self, category: str) -> str | None:
        return dict(self.levels).get(category)

    def as_dict(self) -> dict[str, Any]:
        tier = CLEAR if self.escalated else POSSIBLE if self.levels else None
        return {
            **super().as_dict(),
            "categories": list(self.categories),
            "tier": tier,
            "threat": self.threat,
            "notices": list(self.notices),
        }


@dataclass
class _Findings:
    clear: dict[str, list[str]] = field(default_factory=dict)  # category → what found it (internal, for logs)
    possible: dict[str, list[str]] = field(default_factory=dict)
    threat: bool = False
    request: bool = False  # the message asks for help doing something (patterns.yaml, context.request)
    fiction: bool = False  # the message frames itself as fiction or a hypothetical (context.fiction)

    def add(self, category: str, how: str, level: str = CLEAR) -> None:
        (self.clear if level == CLEAR else self.possible).setdefault(category, []).append(how)

    def any(self) -> bool:
        return bool(self.clear or self.possible)


class SafetyRouter:
    """Classifies a message into safety categories (or none) before any coaching happens."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        llm_check: Callable[[str], str | None] | None = None,
        model_file: Path | None = None,
        patterns_path: Path = PATTERNS_PATH,
    ) -> None:
        self.embedder = embedder
        self.llm_check = llm_check
        self.patterns = load_patterns(patterns_path)
        self.model = _load_model(embedder, model_file) if embedder is not None else None
        self.encoder = SegmentEncoder(embedder) if embedder is not None else None

    # --- public ---------------------------------------------------------------------------------------------
    def classify(self, text: str, context: Sequence[str] = ()) -> RouterDecision:
        """`context`: the mentor's earlier messages in the same conversation, oldest first. They never add a
        finding; they can turn a clear crisis finding the classifier alone made into a possible one, and take away
        a possible one it alone read into a follow-up (_read_in_context)."""
        cleaned = clean(text or "")
        if cleaned.empty and not cleaned.hidden:
            return _unreadable(text or "", cleaned)
        findings = self._findings(cleaned)
        self._patterns(cleaned, findings)
        self._classifier(cleaned, findings)
        if context:
            self._read_in_context(cleaned, findings, context)
        if not findings.any():
            self._ask_llm(cleaned.text, findings)
        return _decide(cleaned, findings, self.patterns)

    def _findings(self, cleaned: Cleaned) -> _Findings:
        words = for_patterns(cleaned.text)
        findings = _Findings(request=self.patterns.is_request(words), fiction=self.patterns.in_fiction(words))
        if cleaned.hidden:  # text nobody can see on screen is there to steer the assistant
            findings.add("injection", "text hidden in invisible characters")
        return findings

    def _read_in_context(self, cleaned: Cleaned, findings: _Findings, context: Sequence[str]) -> None:
        """A follow-up inside a conversation: a crisis reply needs a named indicator, an edit request loses the
        harmful note, and a short follow-up is read after the mentor's last message. Context never adds a finding
        and never takes a flag from a pattern or a named warning sign."""
        words = for_patterns(cleaned.text)
        self._demote_unsupported_crisis(findings, words)
        self._drop_edit_note(findings, words)
        if len(cleaned.text.split()) <= SHORT_SEGMENT_WORDS:
            self._read_after_last_message(cleaned, findings, context[-1], words)

    def _classifier_only(self, findings: _Findings, words: str) -> list[str]:
        """The possible findings that only the classifier made, in a message that names no sign of them."""
        return [
            category
            for category, hows in findings.possible.items()
            if category not in findings.clear
            and all(how.startswith(CLASSIFIER_NOTE) for how in hows)
            and not self.patterns.has_evidence(category, words)  # a named sign ("gave her things away") stays
        ]

    def _drop_edit_note(self, findings: _Findings, words: str) -> None:
        """ "Give me a script I can follow", "give me three bullet points I can send her" after a coaching question
        asks for this answer in another form, however long the request: no note about unfair ways."""
        if "harmful" in self._classifier_only(findings, words) and self.patterns.asks_answer_edit(words):
            del findings.possible["harmful"]

    def _read_after_last_message(self, cleaned: Cleaned, findings: _Findings, last: str, words: str) -> None:
        """Drop a possible sign the classifier alone read into a short follow-up that names no risk indicator,
        when the follow-up read after the conversation's last message shows none: "he took it! starts in May"
        after a question about a job offer is good news, while the same words alone scored in the crisis band.
        Clear findings, pattern findings and longer messages stay: read after four ordinary questions, none of
        the 614 crisis messages in the safety sets lost its finding (a longer message loses 27 that way)."""
        only_classifier = self._classifier_only(findings, words)
        if not only_classifier:
            return
        joined = clean(f"{last}\n\n{cleaned.text}")
        in_context = self._findings(joined)
        self._classifier(joined, in_context)
        for category in only_classifier:
            if category not in in_context.clear and category not in in_context.possible:
                del findings.possible[category]

    def _demote_unsupported_crisis(self, findings: _Findings, words: str) -> None:
        """In a conversation, a clear crisis finding that rests on the classifier alone, with no risk indicator in
        the words, becomes possible: the warning-signs box above the coaching instead of a reply that withholds
        it. Mentors' follow-ups report what the mentee said ("he just said he doesn't think teaching is for him",
        "he laughed it off and said he's fine"), and that reporting form alone scored in the clear crisis band.
        The sign is still flagged either way; a named indicator ("he's been giving his things away") stays
        clear."""
        hows = findings.clear.get("crisis", [])
        if not hows or not all(how.startswith(CLASSIFIER_NOTE) for how in hows):
            return
        if self.patterns.has_evidence("crisis", words):
            return
        findings.possible.setdefault("crisis", []).extend(findings.clear.pop("crisis"))

    def scores(self, text: str) -> dict[str, float]:
        """The classifier's probability per category for a message (the highest over its sentences)."""
        cleaned = clean(text or "")
        return {c: p for c, (p, _) in self._probabilities(self._readings(cleaned)).items()}

    def _readings(self, cleaned: Cleaned) -> list[str]:
        """What the classifier reads: the message with its figures of speech in plain words, then whatever it
        hides or encodes."""
        return [self.patterns.plain(cleaned.text), *cleaned.hidden, *cleaned.decoded]

    # --- layers ---------------------------------------------------------------------------------------------
    def _patterns(self, cleaned: Cleaned, findings: _Findings) -> None:
        for index, variant in enumerate(cleaned.variants()):
            for category, names in self.patterns.matches(for_patterns(variant)).items():
                findings.add(category, f"pattern: {names[0]}")
                if index:  # found in hidden or decoded text: smuggled past the reader
                    findings.add("injection", f"hidden or encoded text carrying {category}")
                if category == "crisis" and any(name in THREAT_RULES for name in names):
                    findings.threat = True

    def _classifier(self, cleaned: Cleaned, findings: _Findings) -> None:
        if self.model is None:
            return
        variants = self._readings(cleaned)
        words = " ".join(for_patterns(v) for v in variants)
        general = self.patterns.general_question(words)
        for category, (prob, source) in self._probabilities(variants).items():
            if category == "harmful" and self.patterns.asks_kind_wording(words):
                continue  # thanks, praise or a kindly worded critique; the pattern floor still sees real harm
            if general and category in ABOUT_SOMEONE:
                continue  # "is it true that asking about suicide...": a question about the guidance, not a case
            if category == "injection" and not source and not self.patterns.speaks_to_assistant(words):
                continue  # an order to no one: a coaching question the encoder read as an instruction
            if category == "injection" and not source and self.patterns.asks_answer_edit(words):
                continue  # "can you put it in SBI format": the answer in another form, not a change to the rules
            level = self._level(category, self.model.categories[category], prob, words)
            if level is None:
                continue
            findings.add(category, f"{CLASSIFIER_NOTE} {prob:.2f}", level)
            if source > 0 and level == CLEAR:
                findings.add("injection", f"hidden or encoded text carrying {category}")

    def _level(self, category: str, cat: CategoryModel, prob: float, words: str) -> str | None:
        """clear, possible or None for a classifier probability. A full escalation needs clear evidence: a crisis
        score for a message about distress or a life event that names no risk indicator stays possible (the
        coaching comes, under the box) when it is clear and is dropped when it is only in the band; a harassment
        score in the possible band escalates only when the message names who the mentee is and something done to
        them because of it."""
        possible = cat.possible is not None and prob >= cat.possible
        if category in NEEDS_EVIDENCE and not self.patterns.has_evidence(category, words):
            return None
        if prob >= cat.threshold:
            if category in NEEDS_RISK_INDICATOR and possible and self._distress_only(category, words):
                return POSSIBLE
            if category in EVIDENCE_ESCALATES and not self._tells_of_harassment(category, words):
                # Nothing done or said to anyone yet ("she's pregnant and worried it will hurt her chances"): a
                # fear of unfair treatment gets the note and the coaching, not a referral in their place.
                return POSSIBLE
            return CLEAR
        if not possible:
            if category in NEEDS_RISK_INDICATOR and self._near_band_with_indicator(category, cat, prob, words):
                return POSSIBLE
            return None
        if category in NEEDS_RISK_INDICATOR and self._distress_only(category, words):
            # Grief, a diagnosis or a hard week with a middling score and no risk indicator: ordinary coaching.
            # Out of fold this keeps the box off 15 of 426 train look-alikes and takes it from 1 of 231 crisis
            # messages; a clear score about distress still gets the box.
            return None
        if category in EVIDENCE_ESCALATES and self.patterns.has_evidence(category, words):
            return CLEAR
        return POSSIBLE if self._note_fits(category, words) else None

    def _note_fits(self, category: str, words: str) -> bool:
        """A note from a score in the possible band must fit what the message is about: a harassment note needs
        something someone did or said to the mentee, and a request to say something openly to the person it
        concerns (tell them, raise it with them, give them credit) gets no note about unfair ways. On the ordinary
        mentoring questions of answers.jsonl (the dev set for this rule) these notes were 11 of 18."""
        if category == "harassment":
            return self.patterns.tells_of_treatment(words)
        if category == "harmful":
            return not self.patterns.asks_open_message(words)
        return True

    def _tells_of_harassment(self, category: str, words: str) -> bool:
        return self.patterns.has_evidence(category, words) or self.patterns.tells_of_treatment(words)

    def _near_band_with_indicator(self, category: str, cat: CategoryModel, prob: float, words: str) -> bool:
        near = cat.possible is not None and prob >= INDICATOR_BAND_SHARE * cat.possible
        return near and self.patterns.has_evidence(category, words)

    def _distress_only(self, category: str, words: str) -> bool:
        return self.patterns.about_distress(words) and not self.patterns.has_evidence(category, words)

    def _probabilities(self, variants: list[str]) -> dict[str, tuple[float, int]]:
        """Category → (highest probability over every segment of every variant, which variant it came from)."""
        if self.model is None or self.encoder is None:
            return {}
        texts: list[str] = []
        owner: list[int] = []
        blocks: list[np.ndarray] = []
        for index, variant in enumerate(variants):
            scanned = variant[:MAX_SCAN_CHARS]
            parts = segments(scanned)
            if parts:
                blocks.append(self._segment_vectors(scanned, parts))
            texts += parts
            owner += [index] * len(parts)
        if not texts:
            return {}
        probs = self.model.probabilities(texts, np.vstack(blocks))
        owners = np.array(owner)
        best: dict[str, tuple[float, int]] = {}
        for category, values in probs.items():
            cat = self.model.categories[category]
            for index, variant in enumerate(variants):
                rows = values[owners == index]
                if not rows.size:
                    continue
                first = owners.tolist().index(index)
                whole = bool(texts[first] == variant[:MAX_SCAN_CHARS].strip())
                short = None
                if category in SHORT_NEEDS_CLEAR:
                    short = np.array(
                        [len(t.split()) <= SHORT_SEGMENT_WORDS for t in texts[first + 1 : first + rows.size]]
                    )
                value = supported_score(rows, whole, cat, short)
                if category not in best or value > best[category][0]:
                    best[category] = (value, index)
        return best

    def _segment_vectors(self, text: str, parts: list[str]) -> np.ndarray:
        """The classifier was trained on each segment encoded on its own. One encoder pass over the message gives
        the whole message's vector exactly and every segment's vector read in context (encoding.py), which scores
        lower on a warning sign than the segment alone; so those in-context scores only screen: a segment scoring
        at least SCREEN_SHARE of any category's lowest band is encoded on its own and scored again. Ordinary
        sentences are never encoded twice."""
        assert self.encoder is not None and self.model is not None and self.embedder is not None
        vectors = self.encoder.vectors(text, parts)
        if not self.encoder.single_pass or len(parts) == 1:
            return vectors
        probs = self.model.probabilities(parts, vectors)
        suspect = np.zeros(len(parts), dtype=bool)
        for name, values in probs.items():
            suspect |= values >= SCREEN_SHARE * _lowest_band(self.model.categories[name])
        again = [i for i, part in enumerate(parts) if suspect[i] and part != text]
        if again:
            vectors[again] = self.embedder.embed([parts[i] for i in again])
        return vectors

    def _ask_llm(self, text: str, findings: _Findings) -> None:
        if self.llm_check is None:
            return
        try:
            category = self.llm_check(text[:MAX_SCAN_CHARS])
        except Exception as exc:  # the other layers already ran; a failed extra check must not block
            log.warning("safety llm_check failed: %s", type(exc).__name__)
            return
        if category in ACTIONS:
            findings.add(category, "LLM check")


def supported_score(values: np.ndarray, whole: bool, cat: CategoryModel, short: np.ndarray | None = None) -> float:
    """A category's score for one text from the scores of its segments (`values`; the first is the whole text
    when `whole`): the highest, except when the message as a whole scores almost nothing for the category (below
    SUPPORT_SHARE of its lowest band). Then a sentence or clause whose score is in the band counts only from the
    category's segment band up (train.py sets it on out-of-fold scores so that no train-family sign found before
    is lost; for crisis, whose weakest signs are single sentences, that is about the lowest band), and a `short`
    one (SHORT_SEGMENT_WORDS) only from the clear threshold: "I froze and said nothing." in a question about a
    mentee who cried is an ordinary sentence in its context. A score under the lowest band still counts (a named
    risk indicator can lift it; SafetyRouter._near_band_with_indicator)."""
    top = float(values.max())
    lowest = _lowest_band(cat)
    if not whole or values.size == 1 or values[0] >= SUPPORT_SHARE * lowest:
        return top
    required = np.full(values.size - 1, lowest if cat.segment_band is None else cat.segment_band)
    if short is not None:
        required[short] = cat.threshold
    parts = values[1:]
    counted = parts[(parts >= required) | (parts < lowest)]
    return float(max(values[0], counted.max())) if counted.size else float(values[0])


def _lowest_band(cat: CategoryModel) -> float:
    return cat.threshold if cat.possible is None else min(cat.possible, cat.threshold)


def _load_model(embedder: Embedder, model_file: Path | None) -> SafetyModel | None:
    """The artefact for this encoder. A shipped artefact for another encoder is refused with a message that says
    how to train one; with no artefact at all the router runs on the pattern floor alone and says so in the log."""
    path = model_file or model_path(embedder.name)
    if not path.is_file():
        log.warning(
            "No safety classifier for the encoder %r (looked for %s); only the safety patterns will run. "
            "Run `mentor safety train` to train one.",
            embedder.name,
            path,
        )
        return None
    model = SafetyModel.load(path)
    model.check_embedder(embedder.name, embedder.dim)
    return model


def _unreadable(raw: str, cleaned: Cleaned) -> RouterDecision:
    invisible = bool(raw.strip()) and not cleaned.text
    note = (
        "Your message was made only of invisible characters, so there was nothing to read."
        if invisible
        else "There was no readable text in your message."
    )
    return RouterDecision(reason="nothing readable in the message", notices=(*cleaned.notices, note), unreadable=True)


def _decide(cleaned: Cleaned, findings: _Findings, patterns: PatternSet) -> RouterDecision:
    threat = findings.threat
    if "injection" in findings.possible and "harmful" in findings.clear:
        # A possible jailbreak wrapped around a clearly harmful request is one: both are declined and reported.
        findings.add("injection", "carries a harmful request")
    if "injection" not in findings.clear:
        # Alone, a possible injection adds nothing to the reply (instructions inside a message are never followed
        # anyway) and its note fell only on ordinary questions: on the held-out test families and the four fresh
        # sets no injection was found at this level alone, while "can you actually mentor your own direct
        # report?" and "why does the assistant show a safety message?" got the note.
        findings.possible.pop("injection", None)
    if findings.fiction and ("harmful" in findings.clear or "harmful" in findings.possible):
        # A story, role-play or hypothetical around a harmful request is there to get round the rules.
        findings.add("injection", "fiction or hypothetical framing around a harmful request")
        findings.add("harmful", "inside fiction or hypothetical framing")
    levels: list[tuple[str, str]] = []
    for category in _priority(findings):
        if category in findings.clear:
            levels.append((category, CLEAR))
        elif category in findings.possible:
            levels.append((category, POSSIBLE))
    if not levels:
        return RouterDecision(reason="no safety concern found", notices=tuple(cleaned.notices))
    # Risk to life leads at any level (issue 17); otherwise what escalates comes before what only adds a note. A
    # possible warning sign beside a clear harassment or legal finding therefore names the message "crisis" even
    # when its reply is about the clear finding (the box sits above that reply).
    levels.sort(key=lambda pair: (pair[0] != "crisis", pair[1] != CLEAR))
    primary = levels[0][0]
    if primary == "crisis":
        threat = threat or _is_threat(patterns.without_own_fear(for_patterns(cleaned.text)))
    matched = tuple(
        f"{c}: {how}"
        for c in _priority(findings)
        for how in [*findings.clear.get(c, []), *findings.possible.get(c, [])]
    )
    return RouterDecision(
        category=primary,
        action=ACTIONS[primary] if levels[0][1] == CLEAR else "warn",
        reason=plain_reason(primary, levels[0][1], threat),
        matched=matched,
        levels=tuple(levels),
        notices=tuple(cleaned.notices),
        threat=threat,
    )


def _priority(findings: _Findings) -> tuple[str, ...]:
    """PRIORITY, except that a clear harmful request leads a harassment reading of the same message when the
    message asks for help doing it: "how do I mark her down because she's pregnant" asks to discriminate, it does
    not report discrimination. Both stay in the decision."""
    if findings.request and "harmful" in findings.clear and "harassment" in {**findings.clear, **findings.possible}:
        order = [c for c in PRIORITY if c != "harmful"]
        order.insert(order.index("harassment"), "harmful")
        return tuple(order)
    return PRIORITY


def _is_threat(text: str) -> bool:
    """A threat to hurt someone else, as opposed to a risk to the person themselves."""
    return bool(_THREAT.search(text.lower()))


def plain_reason(category: str, level: str, threat: bool = False) -> str:
    """Why the router stepped in, in words for the mentor (no internal labels)."""
    if category == "crisis":
        if threat:
            return "someone may be in danger from another person"
        return "someone's safety may be at risk" if level == CLEAR else "there may be warning signs of suicide"
    if category == "harassment" and level == POSSIBLE:
        return "there may be a question of harassment or discrimination"
    if category == "harmful" and level == POSSIBLE:
        return "the request may be about treating someone unfairly"
    if category == "injection" and level == POSSIBLE:
        return "the message may contain instructions for the assistant"
    return {
        "injection": "the message tries to change how the assistant works",
        "harassment": "this may be harassment, discrimination or retaliation",
        "harmful": "the request could hurt someone",
        "legal": "this needs legal advice",
    }[category]
