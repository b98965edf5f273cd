"""Rules kept as regular expressions in YAML files: the safety floor (safety/patterns.yaml) and the poisoned-line
guard (ingestion/poison_rules.yaml) read their files and hold their rules the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Rule:
    """One regular expression with what it stands for. `also` must match somewhere in the text too; `unless`
    cancels the rule (advice that names a thing in order to warn against it)."""

    category: str
    name: str  # the safety floor's rule name; for the poison guard, the reason shown to the uploader
    regex: re.Pattern[str]
    mention: bool = False  # safety floor: skipped inside a hypothetical or knowledge-seeking clause
    also: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        if not self.regex.search(text):
            return False
        if self.also is not None and not self.also.search(text):
            return False
        return not (self.unless is not None and self.unless.search(text))


def read_rules(path: Path) -> dict[str, Any]:
    """A rule file's YAML document, read with the safe loader (plain data, no tags)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a rule file: its top level is not a mapping")
    return data
