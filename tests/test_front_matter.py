"""Front matter is read safely: a size cap, no YAML aliases or anchors, flat values of bounded size.

The alias bomb of issue 20 (a few hundred bytes naming 387 million strings) is run through the real CLI in a
child process with a 3 GB address-space cap, and through a real ingest of the uploads folder: it must be
reported by name with its reason, cost no memory to speak of, and be gone from uploads/ so a rebuild cannot
read it again.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TypedDict

import pytest
from conftest import REPO, make_settings

from assistant.ingestion.front_matter import (
    MAX_DEPTH,
    MAX_FRONT_MATTER_BYTES,
    MAX_VALUE_CHARS,
    FrontMatterError,
    load_front_matter,
)
from assistant.ingestion.ingestor import DocumentError, parse_front_matter
from assistant.runtime import Runtime

GOOD = "---\ntitle: Buddy notes\ntags: [buddy, onboarding]\n---\n# Buddy notes\n\nBring a flask of tea for the heron.\n"


def alias_bomb(levels: int = 9) -> str:
    """Each level is a list of nine references to the level before: 9**levels strings once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghijkl"
    for prev, name in itertools.pairwise(names[:levels]):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append(f"title: *{names[levels - 1]}")
    return "---\n" + "\n".join(lines) + "\n---\n# Notes\n\nA short note.\n"


# --- the loader -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("yaml_text", "reason"),
    [
        ("a: &x hello\nb: *x", "anchor"),
        ("a: [1, 2]\nb: *a", "alias"),
        ("base: &base {x: 1}\nchild:\n  <<: *base", "anchor"),
        ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested"),
        ("a: " + "[" * 5000 + "]" * 5000, "nested"),
        ("title: {nested: mapping}", "not a mapping"),
        ("tags: [[a, b], [c]]", "flat list"),
        ("- just\n- a list", "YAML mapping"),
        ("title: [unclosed", "not valid YAML"),
        ("title: !!python/object:os.system echo", "not valid YAML"),
        ("blob: !!binary aGVsbG8=", "binary"),
        ("summary: " + "x" * (MAX_VALUE_CHARS + 1), "limit"),
        ("tags: [" + ", ".join(["t"] * 65) + "]", "items"),
        ("n: " + "9" * 5000, "not valid YAML"),
    ],
)
def test_refused_front_matter_says_why(yaml_text: str, reason: str) -> None:
    with pytest.raises(FrontMatterError, match=reason):
        load_front_matter(yaml_text)


def test_size_cap_is_checked_before_parsing() -> None:
    big = "summary: " + "y" * MAX_FRONT_MATTER_BYTES
    with pytest.raises(FrontMatterError, match=f"limit is {MAX_FRONT_MATTER_BYTES:,}"):
        load_front_matter(big)


def test_values_become_bounded_strings_and_small_integers_stay() -> None:
    meta = load_front_matter(
        "title: 2024\nstep: 4\ndraft: true\ndate: 2024-05-01\nscore: 1.5\ntags: [one, 2, 3.5, false]\nempty:\n"
        "huge: 123456789012345678901234567890"
    )
    assert meta == {
        "title": 2024,
        "step": 4,
        "draft": "true",
        "date": "2024-05-01",
        "score": "1.5",
        "tags": ["one", "2", "3.5", "false"],
        "huge": "123456789012345678901234567890",
    }


def test_every_curated_file_still_reads() -> None:
    files = sorted((REPO / "knowledge").glob("*.md")) + sorted((REPO / "prompts").glob("*.md"))
    assert len(files) > 50
    for path in files:
        meta, body = parse_front_matter(path.read_text(encoding="utf-8"))
        assert meta and body.strip(), path.name


def test_the_bomb_is_a_document_error_before_it_expands() -> None:
    with pytest.raises(DocumentError, match="anchor"):
        parse_front_matter(alias_bomb())


# --- the CLI, as a user runs it ------------------------------------------------------------------------------
MEASURE = """
import resource, subprocess, sys
cap = int(sys.argv[1])
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, preexec_fn=limit, timeout=900)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": done.returncode, "out": done.stdout, "err": done.stderr, "peak": peak}))
"""


class Measured(TypedDict):
    """What MEASURE prints about the child: its exit code, output and peak resident memory (bytes)."""

    code: int
    out: str
    err: str
    peak: int


def run_cli_measured(args: list[str], env: dict[str, str], cap_bytes: int) -> Measured:
    """`mentor <args>` in a child with an address-space cap; its exit code, output and peak resident memory."""
    mentor = str(Path(sys.executable).with_name("mentor"))
    done = subprocess.run(
        [sys.executable, "-c", "import json\n" + MEASURE, str(cap_bytes), mentor, *args],
        capture_output=True, text=True, env=env, timeout=960, check=True,
    )  # fmt: skip
    measured: Measured = json.loads(done.stdout)
    return measured


def test_cli_ingest_of_an_alias_bomb_is_one_clear_line_and_costs_no_memory(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "buddy.md").write_text(
        "---\ntitle: Buddy guide\ntopic: trust\ntags: [buddy]\nsummary: Buddies.\n---\n# Buddy guide\n\nTea.\n",
        encoding="utf-8",
    )
    bomb = tmp_path / "bomb.md"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    assert bomb.stat().st_size < 400
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MENTOR_", "OPENAI_"))}
    env |= {"MENTOR_DATA_DIR": str(tmp_path / "data"), "MENTOR_KNOWLEDGE_DIR": str(knowledge),
            "MENTOR_LLM_BACKEND": "offline", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    result = run_cli_measured(["ingest", str(bomb)], env, cap_bytes=3 * 1024**3)
    err = str(result["err"])
    assert result["code"] == 0, err[-2000:]
    assert "Traceback" not in err
    assert f"skipped {bomb}: front matter uses a YAML anchor" in err, err
    assert "1 files" in str(result["out"]) and "1 skipped" in str(result["out"]), result["out"]
    # The same run without the bomb peaks at about 0.5 GB (the embedder); expanding it took 1.6 GB and a
    # MemoryError under this cap, 5.7 GB without one.
    assert int(result["peak"]) < 1_200 * 1024**2, f"peak resident memory {int(result['peak']) / 1024**2:.0f} MB"


# --- uploads ------------------------------------------------------------------------------------------------
def test_a_refused_upload_is_reported_by_name_and_removed_so_a_rebuild_skips_it(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "guide.md").write_text(
        "---\ntitle: Guide\ntopic: trust\ntags: [trust]\nsummary: Trust.\n---\n# Guide\n\nKeep promises.\n",
        encoding="utf-8",
    )
    settings = make_settings(tmp_path / "data", knowledge_dir=knowledge)
    rt = Runtime(settings)
    uploads = settings.uploads_dir
    uploads.mkdir(parents=True)
    (uploads / "bomb.md").write_text(alias_bomb(), encoding="utf-8")
    (uploads / "deep.md").write_text("---\ntags: " + "[" * 50 + "]" * 50 + "\n---\nDeep.\n", encoding="utf-8")
    (uploads / "buddy.md").write_text(GOOD, encoding="utf-8")
    report = rt.ingestor.run(sorted(uploads.iterdir()))
    reasons = {Path(p).name: why for p, why in report.skipped}
    assert set(reasons) == {"bomb.md", "deep.md"}
    assert "anchor" in reasons["bomb.md"] and "removed from uploads" in reasons["bomb.md"]
    assert "nested" in reasons["deep.md"]
    assert sorted(p.name for p in uploads.iterdir()) == ["buddy.md"]
    sources = {Path(c.source).name for c in rt.store.all_records()[0]}
    assert sources == {"guide.md", "buddy.md"}
    # "Rebuild index" in the web app names every file in uploads/ again.
    rebuilt = rt.ingestor.run(sorted(uploads.iterdir()), rebuild=True)
    assert not {"bomb.md", "deep.md"} & {Path(p).name for p, _ in rebuilt.skipped}, rebuilt.skipped
    assert {Path(c.source).name for c in rt.store.all_records()[0]} == {"guide.md", "buddy.md"}


def test_a_bad_file_outside_uploads_is_reported_but_never_deleted(tmp_path: Path) -> None:
    rt = Runtime(make_settings(tmp_path / "data", knowledge_dir=tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    mine = tmp_path / "my-notes" / "bomb.md"
    mine.parent.mkdir()
    mine.write_text(alias_bomb(), encoding="utf-8")
    report = rt.ingestor.run([mine])
    assert [(Path(p).name, "anchor" in why) for p, why in report.skipped] == [("bomb.md", True)]
    assert mine.exists(), "a user's own file outside the uploads folder is theirs to fix"
