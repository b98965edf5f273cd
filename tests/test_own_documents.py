"""`mentor knowledge list|remove`: the documents a user added, listed and removed (passages and uploaded copy), on a
writable copy of the real index."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import make_settings

from assistant.cli import main
from assistant.runtime import Runtime
from assistant.settings import get_settings


@pytest.fixture
def own_rt(built_dir: Path, tmp_path: Path) -> Runtime:
    data = tmp_path / "data"
    shutil.copytree(built_dir, data)
    return Runtime(make_settings(data))


def _zebra(folder: Path, name: str = "zebra-reviews.md") -> Path:
    path = folder / name
    path.write_text(
        "# Quarterly zebra reviews\n\nEvery quarter we hold a zebra review with each mentee to look back "
        "at goals and agree the next three.\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cli_on(own_rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runtime]:
    monkeypatch.setenv("MENTOR_DATA_DIR", str(own_rt.settings.data_dir))
    monkeypatch.setenv("MENTOR_LLM_BACKEND", "offline")
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MENTOR_CHROMA_HOST", "MENTOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield own_rt
    get_settings.cache_clear()


def test_mentor_knowledge_lists_and_removes_a_document(
    cli_on: Runtime, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _zebra(tmp_path)
    assert main(["ingest", str(doc)]) == 0
    capsys.readouterr()
    assert main(["knowledge", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["title"], d["chunks"]) for d in listed] == [("Quarterly zebra reviews", 1)]
    before = cli_on.store.count()

    assert main(["knowledge", "remove", "zebra-reviews"]) == 0
    out = capsys.readouterr().out
    assert "removed Quarterly zebra reviews" in out and "1 passage" in out
    assert Runtime(cli_on.settings).store.count() == before - 1
    assert doc.exists()  # a file outside the uploads folder is the user's own and stays
    assert main(["ingest"]) == 0  # and it does not come back at the next ingest
    capsys.readouterr()
    assert main(["knowledge", "list"]) == 0
    assert "No documents of your own yet" in capsys.readouterr().out


def test_mentor_knowledge_remove_explains_what_it_cannot_do(
    cli_on: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["knowledge", "remove", "delivering-bad-news"]) == 2
    assert "part of the curated guidance" in capsys.readouterr().err
    assert main(["knowledge", "remove", "no such document"]) == 2
    assert "None of your documents is called" in capsys.readouterr().err
