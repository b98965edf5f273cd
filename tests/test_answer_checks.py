"""The answers suite's check for badly assembled lines: real joins are caught, ordinary English is not."""

from __future__ import annotations

import pytest

from assistant.evals.answers import broken_lines


@pytest.mark.parametrize(
    "line",
    [
        "It sounds like and when you do give advice, she listens.",
        "Talk to your before it becomes a formal issue.",
        'She said "I will try harder.',
        "Ask what what they need.",
    ],
)
def test_badly_joined_lines_are_found(line: str) -> None:
    assert broken_lines(line) == [line]


@pytest.mark.parametrize(
    "line",
    [
        "\"My time is tighter than I'd like and I don't want to keep cancelling on you.\"",
        "It went better than I would like but worse than I hoped.",
        "I had had enough of the delays.",
        "Decline anything valuable, cash-like or offered near a decision you influence.",
    ],
)
def test_ordinary_english_is_not_flagged(line: str) -> None:
    assert broken_lines(line) == []
