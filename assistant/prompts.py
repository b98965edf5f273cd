"""Prompt files under prompts/: YAML front matter (name, version) plus a LangChain template body."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langchain_core.prompts import PromptTemplate

from assistant.errors import SetupError
from assistant.ingestion.ingestor import parse_front_matter
from assistant.settings import get_settings


@dataclass(frozen=True)
class PromptFile:
    name: str
    version: str
    body: str

    @property
    def template(self) -> PromptTemplate:
        return PromptTemplate.from_template(self.body)

    def format(self, **values: object) -> str:
        return self.template.format(**values) if self.template.input_variables else self.body

    @property
    def tag(self) -> str:
        """`name@version+hash`: recorded with every answer and eval report."""
        digest = hashlib.sha256(self.body.encode()).hexdigest()[:8]
        return f"{self.name}@{self.version}+{digest}"


@lru_cache(maxsize=64)
def _load(path: Path) -> PromptFile:
    meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
    return PromptFile(str(meta.get("name", path.stem)), str(meta.get("version", "1")), body.strip() + "\n")


def load_prompt(name: str, prompts_dir: Path | None = None) -> PromptFile:
    folder = prompts_dir or get_settings().prompts_dir
    path = folder / f"{name}.md"
    if not path.exists():
        raise SetupError(f"The prompt file {path} is missing; point MENTOR_PROMPTS_DIR at a folder that has it.")
    return _load(path)


def prompt_versions(prompts_dir: Path | None = None) -> dict[str, str]:
    folder = prompts_dir or get_settings().prompts_dir
    return {p.stem: _load(p).tag for p in sorted(folder.glob("*.md"))}
