"""The README stays true to the code: every setting is in its configuration table, once."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.settings import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def _configuration_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| `")]


def test_every_setting_has_one_intact_row_in_the_readme() -> None:
    rows = _configuration_rows()
    documented = [name for row in rows for name in re.findall(r"`((?:MENTOR|OPENAI)_[A-Z_]+)`", row.split(" | ")[0])]
    expected = {f.upper() if f.startswith("openai_") else f"MENTOR_{f.upper()}" for f in Settings.model_fields}
    assert sorted(documented) == sorted(set(documented)), "a setting is documented twice"
    assert set(documented) == expected
    broken = [row for row in rows if not re.fullmatch(r"\| .+ \| .+ \| .+ \|", row)]
    assert broken == [], "a table row was cut or has something pasted into it"
