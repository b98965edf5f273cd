"""Ingestion against a real embedded Chroma: chunking, metadata, incremental updates, user documents, bad input.

Every test builds its own small knowledge folder and data directory. The only wrapper is around the embedder
(the boundary to the model), to count which texts were embedded; the ingestor, store and Chroma are real.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import docx
import numpy as np
import pytest
from conftest import REPO, make_settings

from assistant.embedders import Embedder
from assistant.ingestion.ingestor import Ingestor, IngestReport
from assistant.retrieval import HybridRetriever
from assistant.runtime import Runtime
from assistant.settings import Settings, get_settings
from assistant.stores import EmbedderMismatch
from assistant.tokens import count_tokens
from assistant.types import Chunk

CHUNK_TOKENS = 60

OPENING = [f"Opening point {i}: greet the zebra mentee warmly and agree how often you will meet." for i in range(12)]
ALPHA = (
    "---\ntitle: Alpha title\ntopic: trust\ntags: [rapport, first-meeting]\nsummary: How to open a mentoring"
    " relationship.\nstep: 4\n---\n"
    "# Alpha title\n\nAlpha starts with a short introduction about rapport.\n\n"
    "## Opening\n\n" + "\n\n".join(OPENING) + "\n\n"
    "## Later\n\nLater on, check how the relationship feels for both of you.\n\n"
    "### Detail\n\nThe quokka detail: each of you writes down one commitment.\n"
)
BETA = (
    "---\ntitle: Beta feedback\ntopic: feedback\ntags: [sbi]\nsummary: Feedback that names the situation.\n---\n"
    "# Beta feedback\n\n## Situation\n\nName the walrus situation: when and where it happened.\n\n"
    "## Impact\n\nSay what the behaviour changed for the team.\n"
)
GAMMA = (
    "---\ntitle: Gamma networking\ntopic: networking\ntags: [network, introductions]\nsummary: Introductions that"
    " help.\nstep: 8\n---\n"
    "# Gamma networking\n\n## Introductions\n\nIntroduce your mentee to one pelican colleague each month.\n"
)


class CountingEmbedder:
    """The real embedder, recording every text it was asked to embed (optionally under another name)."""

    def __init__(self, inner: Embedder, name: str | None = None) -> None:
        self.inner = inner
        self.name = name or inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    @property
    def texts(self) -> list[str]:
        return [t for call in self.calls for t in call]

    def embedded(self, chunks: list[Chunk]) -> set[str]:
        """Ids of the chunks whose text went through the embedder."""
        return {c.id for c in chunks if any(c.text in t for t in self.texts)}


class Kb:
    """A small knowledge folder, its settings and helpers to run ingestion the way the product does."""

    def __init__(self, root: Path, **overrides: object) -> None:
        self.root = root
        self.knowledge = root / "knowledge"
        self.knowledge.mkdir(parents=True, exist_ok=True)
        for name, text in (("alpha.md", ALPHA), ("beta.md", BETA), ("gamma.md", GAMMA)):
            (self.knowledge / name).write_text(text, encoding="utf-8")
        self.settings: Settings = make_settings(
            root / "data", knowledge_dir=self.knowledge, chunk_tokens=CHUNK_TOKENS, **overrides
        )
        self.rt = Runtime(self.settings)

    def run(self, user_paths: tuple[Path, ...] = (), rebuild: bool = False) -> tuple[IngestReport, CountingEmbedder]:
        counting = CountingEmbedder(self.rt.embedder)
        report = Ingestor(self.settings, self.rt.store, counting).run(user_paths, rebuild=rebuild)
        return report, counting

    def chunks(self) -> list[Chunk]:
        return self.rt.store.all_records()[0]

    def of(self, name: str) -> list[Chunk]:
        return [c for c in self.chunks() if Path(c.source).name == name]


@pytest.fixture
def kb(tmp_path: Path) -> Kb:
    return Kb(tmp_path)


def _found_by_query(kb: Kb, chunk: Chunk) -> bool:
    """The chunk is its own nearest neighbour when the index is queried with its stored vector."""
    chunks, _, vectors = kb.rt.store.all_records(with_vectors=True)
    assert vectors is not None
    row = [c.id for c in chunks].index(chunk.id)
    return chunk.id in [c.id for c, _ in kb.rt.store.query(vectors[row], 3)]


# --- chunking ------------------------------------------------------------------------------------------------
def test_chunks_follow_the_heading_path(kb: Kb) -> None:
    kb.run()
    by_heading: dict[str, list[str]] = {}
    for c in kb.of("alpha.md"):
        by_heading.setdefault(c.heading, []).append(c.text)
    assert set(by_heading) == {
        "Alpha title",
        "Alpha title > Opening",
        "Alpha title > Later",
        "Alpha title > Later > Detail",
    }
    assert all("zebra" in t for t in by_heading["Alpha title > Opening"])
    assert [t for h, texts in by_heading.items() if h != "Alpha title > Opening" for t in texts if "zebra" in t] == []
    assert any("quokka" in t for t in by_heading["Alpha title > Later > Detail"])
    assert [c.heading for c in kb.of("beta.md")] == ["Beta feedback > Situation", "Beta feedback > Impact"]


def test_chunks_respect_the_token_budget_and_lose_no_text(kb: Kb) -> None:
    kb.run()
    chunks = kb.chunks()
    too_big = {c.id: count_tokens(c.text) for c in chunks if count_tokens(c.text) > CHUNK_TOKENS}
    assert too_big == {}
    opening = [c.text for c in kb.of("alpha.md") if c.heading.endswith("Opening")]
    assert len(opening) >= 3, "a section over the budget is split into several chunks"
    missing = [s for s in OPENING if not any(s in text for text in opening)]
    assert missing == [], "every sentence of the section is in some chunk"
    assert all(not c.text.startswith("#") for c in chunks), "headings live in the heading path, not the text"


def test_chunk_ids_are_unique_and_stable(kb: Kb, tmp_path: Path) -> None:
    kb.run()
    ids = sorted(c.id for c in kb.chunks())
    assert len(ids) == len(set(ids))
    kb.run(rebuild=True)
    assert sorted(c.id for c in kb.chunks()) == ids, "same sources, same ids after a rebuild"
    # A second data directory over the same sources gives the same ids: they depend on content, not on the run.
    other = make_settings(tmp_path / "other", knowledge_dir=kb.knowledge, chunk_tokens=CHUNK_TOKENS)
    Runtime(other).ingestor.run()
    assert sorted(c.id for c in Runtime(other).store.all_records()[0]) == ids


# --- metadata ------------------------------------------------------------------------------------------------
def test_chunk_metadata(kb: Kb) -> None:
    kb.run()
    alpha, beta, gamma = kb.of("alpha.md"), kb.of("beta.md"), kb.of("gamma.md")
    assert alpha and beta and gamma
    assert {(c.title, c.topic, c.tags, c.step, c.user_source) for c in alpha} == {
        ("Alpha title", "trust", ("rapport", "first-meeting"), 4, False)
    }
    assert {(c.title, c.topic, c.tags, c.step) for c in beta} == {("Beta feedback", "feedback", ("sbi",), None)}
    assert {(c.topic, c.step) for c in gamma} == {("networking", 8)}
    assert {c.source for c in alpha} == {(kb.knowledge / "alpha.md").resolve().as_posix()}


def test_curated_sources_are_relative_to_the_repository(rt: Runtime) -> None:
    chunks = rt.store.all_records()[0]
    sources = {c.source for c in chunks}
    assert sources and all(s.startswith("knowledge/") and (REPO / s).is_file() for s in sources)
    assert {(REPO / s).name for s in sources} == {p.name for p in (REPO / "knowledge").glob("*.md")}
    assert all(c.title and c.topic and c.heading.startswith(c.title) for c in chunks)


def test_uploads_are_named_relative_to_the_data_directory(kb: Kb) -> None:
    upload = kb.settings.uploads_dir / "team" / "handbook.md"
    upload.parent.mkdir(parents=True)
    upload.write_text("# Team handbook\n\nWe meet every second Tuesday with an agenda.\n", encoding="utf-8")
    kb.run((upload,))
    assert {c.source for c in kb.of("handbook.md")} == {"uploads/team/handbook.md"}


# --- incremental updates ----------------------------------------------------------------------------------------
def test_second_run_changes_nothing_and_says_so(kb: Kb) -> None:
    first, _ = kb.run()
    assert first.changed and first.added == len(kb.chunks()) and first.files == 3
    before = kb.chunks()
    second, counting = kb.run()
    assert not second.changed
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert "nothing changed" in second.summary()
    assert counting.embedded(before) == set(), "no chunk was embedded again"
    assert sorted(c.id for c in kb.chunks()) == sorted(c.id for c in before)


def test_editing_one_file_reembeds_only_that_file(kb: Kb) -> None:
    kb.run()
    alpha_before = {c.id for c in kb.of("alpha.md")}
    old_beta = kb.of("beta.md")
    (kb.knowledge / "beta.md").write_text(BETA.replace("walrus", "narwhal"), encoding="utf-8")
    report, counting = kb.run()
    new_beta = kb.of("beta.md")
    assert counting.embedded(kb.chunks()) == {c.id for c in new_beta}
    assert (report.unchanged, report.updated, report.added) == (2, len(new_beta), 0)
    assert {c.id for c in kb.of("alpha.md")} == alpha_before
    texts = " ".join(c.text for c in new_beta)
    assert "narwhal" in texts and "walrus" not in texts
    assert not {c.id for c in old_beta} & {c.id for c in kb.chunks()}, "old chunks of the edited file are gone"
    hits = kb.rt.retriever.search("narwhal situation", k=1, mode="bm25")
    assert hits and hits[0].chunk.source.endswith("beta.md")


def test_deleting_a_file_removes_its_chunks(kb: Kb) -> None:
    first, _ = kb.run()
    gamma = kb.of("gamma.md")
    (kb.knowledge / "gamma.md").unlink()
    report, counting = kb.run()
    assert report.removed == len(gamma) and report.changed
    assert kb.of("gamma.md") == [] and kb.rt.store.count() == first.chunks - len(gamma)
    assert counting.embedded(kb.chunks()) == set()
    assert kb.rt.retriever.search("pelican colleague", k=3, mode="bm25") == []


def test_rebuild_starts_over(kb: Kb) -> None:
    kb.run()
    before = {c.id: c for c in kb.chunks()}
    report, counting = kb.run(rebuild=True)
    assert report.added == len(before) and report.unchanged == 0
    assert {c.id: c for c in kb.chunks()} == before
    assert counting.embedded(list(before.values())) == set(before)


# --- user documents -------------------------------------------------------------------------------------------
def test_user_files_and_folders_are_marked_and_kept(kb: Kb, tmp_path: Path) -> None:
    folder = tmp_path / "handbook"
    (folder / "nested").mkdir(parents=True)
    (folder / "onboarding.md").write_text("# Onboarding buddies\n\nEvery newcomer gets an axolotl buddy.\n")
    (folder / "nested" / "rituals.txt").write_text("Our team rituals: a retro with ibis cards every Friday.\n")
    (folder / "nested" / "ignored.csv").write_text("a,b\n1,2\n")
    single = tmp_path / "escalation.md"
    single.write_text("---\ntitle: Our escalation path\n---\nTalk to the people team via the okapi form.\n")
    kb.run((folder, single))
    user = [c for c in kb.chunks() if c.user_source]
    assert {Path(c.source).name for c in user} == {"onboarding.md", "rituals.txt", "escalation.md"}
    assert {c.topic for c in user} == {"your-handbook"}
    titles = {Path(c.source).name: c.title for c in user}
    assert titles["onboarding.md"] == "Onboarding buddies" and titles["escalation.md"] == "Our escalation path"
    assert all(not c.user_source for c in kb.of("alpha.md"))
    # A later plain run (no paths) keeps them; deleting the file removes them.
    report, _ = kb.run()
    assert not report.changed
    assert {Path(c.source).name for c in kb.chunks() if c.user_source} == set(titles)
    single.unlink()
    report, _ = kb.run()
    assert report.removed == 1
    assert {Path(c.source).name for c in kb.chunks() if c.user_source} == {"onboarding.md", "rituals.txt"}
    hits = kb.rt.retriever.search("axolotl buddy", k=1)
    assert hits and hits[0].chunk.source.endswith("onboarding.md")


@pytest.fixture
def repo_folder() -> Iterator[Path]:
    """A folder inside the repository tree (git-ignored), where a team might keep its own handbook."""
    folder = REPO / "test-artifacts" / f"ingest-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_user_document_inside_the_repository_is_kept(kb: Kb, repo_folder: Path) -> None:
    doc = repo_folder / "handbook.md"
    doc.write_text("# Team handbook\n\nWe pair every newcomer with a capybara buddy.\n", encoding="utf-8")
    kb.run((doc,))
    assert [c.source for c in kb.chunks() if c.user_source] == [doc.relative_to(REPO).as_posix()]
    report, _ = kb.run()
    assert [c.source for c in kb.chunks() if c.user_source] == [doc.relative_to(REPO).as_posix()]
    assert report.removed == 0


# --- bad input ------------------------------------------------------------------------------------------------
def _bad_inputs(folder: Path) -> dict[str, tuple[Path, str]]:
    """name → (path, a word the skip reason must contain)."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, tuple[bytes, str]] = {
        "empty.md": (b"", "empty"),
        "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
        "latin1.txt": ("Caf\u00e9 cr\u00e8me, na\u00efve r\u00e9sum\u00e9.".encode("latin-1"), "UTF-8"),
        "huge.txt": (b"word " * 5000, "limit"),
        "tool.exe": (b"MZ\x90\x00", "unsupported"),
        "badyaml.md": (b"---\ntitle: [never closed\ntags: x\n---\nSome body text.\n", "YAML"),
        "listyaml.md": (b"---\n- just\n- a list\n---\nSome body text.\n", "mapping"),
        "frontonly.md": (b"---\ntitle: Nothing below\n---\n", "no text"),
        "broken.pdf": (b"%PDF-1.4\nthis is not really a pdf\n", "PDF"),
        "broken.docx": (b"PK\x03\x04 not a real zip archive", "Word"),
    }
    out: dict[str, tuple[Path, str]] = {}
    for name, (data, word) in files.items():
        (folder / name).write_bytes(data)
        out[name] = (folder / name, word)
    out["missing.md"] = (folder / "missing.md", "does not exist")
    return out


def test_bad_input_is_skipped_with_a_reason_and_the_rest_is_ingested(tmp_path: Path) -> None:
    kb = Kb(tmp_path, max_upload_mb=0.02)
    bad = _bad_inputs(tmp_path / "bad")
    good = tmp_path / "good.md"
    good.write_text("# Good notes\n\nA perfectly fine note about a heron.\n", encoding="utf-8")
    # A curated document with front matter outside the taxonomy is skipped too, not indexed half-valid.
    (kb.knowledge / "offtopic.md").write_text(BETA.replace("topic: feedback", "topic: gardening"), encoding="utf-8")
    report, _ = kb.run((*[p for p, _ in bad.values()], good))
    reasons = {Path(path).name: reason for path, reason in report.skipped}
    for name, (_, word) in bad.items():
        assert name in reasons, f"{name} was not reported as skipped"
        assert word.lower() in reasons[name].lower(), f"{name}: unclear reason {reasons[name]!r}"
    assert "taxonomy" in reasons["offtopic.md"]
    assert report.files == 4  # alpha, beta, gamma, good
    assert {Path(c.source).name for c in kb.chunks()} == {"alpha.md", "beta.md", "gamma.md", "good.md"}
    assert kb.rt.store.count() == report.chunks == len(kb.chunks())


def test_bad_files_inside_a_folder_do_not_stop_the_good_ones(tmp_path: Path) -> None:
    kb = Kb(tmp_path, max_upload_mb=0.02)
    folder = tmp_path / "mixed"
    bad = _bad_inputs(folder)
    (folder / "fine.md").write_text("# Fine\n\nA note about the lemur rota.\n", encoding="utf-8")
    report, _ = kb.run((folder,))
    skipped = {Path(p).name for p, _ in report.skipped}
    # Inside a folder, unsupported types are left alone silently; every supported bad file is reported.
    assert skipped == {n for n in bad if n not in ("tool.exe", "missing.md")}
    assert [Path(c.source).name for c in kb.chunks() if c.user_source] == ["fine.md"]


def test_user_front_matter_with_odd_types_does_not_abort_the_run(kb: Kb, tmp_path: Path) -> None:
    odd = tmp_path / "odd.md"
    odd.write_text("---\ntags: 5\nreferences: 7\n---\nA note with odd front matter.\n", encoding="utf-8")
    report, _ = kb.run((odd,))
    assert report.files == 3 or report.files == 4
    assert kb.of("alpha.md"), "the rest was ingested"
    assert kb.of("odd.md") or any(Path(p).name == "odd.md" for p, _ in report.skipped)


def test_a_heading_only_document_is_indexed_or_reported(kb: Kb, tmp_path: Path) -> None:
    lonely = tmp_path / "lonely.md"
    lonely.write_text("# Just a heading about meerkats\n", encoding="utf-8")
    report, _ = kb.run((lonely,))
    assert kb.of("lonely.md") or any(Path(p).name == "lonely.md" for p, _ in report.skipped)


# --- PDF and DOCX ---------------------------------------------------------------------------------------------
def _pdf(lines_per_page: list[list[str]]) -> bytes:
    """A minimal valid PDF (Helvetica text, one content stream per page), written by hand."""
    objects: list[bytes] = []
    n_pages = len(lines_per_page)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    font_ref = 3 + 2 * n_pages
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    for i, lines in enumerate(lines_per_page):
        ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
        ops += [f"({line.replace('(', '[').replace(')', ']')}) Tj T*" for line in lines]
        stream = zlib.compress(("\n".join([*ops, "ET"])).encode("latin-1"))
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_and_docx_text_is_retrievable(kb: Kb, tmp_path: Path) -> None:
    pdf = tmp_path / "policy.pdf"
    pdf.write_bytes(
        _pdf(
            [
                [
                    "Mentoring policy of the harbour team.",
                    "Mentors meet mentees every fortnight in the lighthouse room.",
                ],
                ["Second page: escalate welfare worries to the people team within a day."],
            ]
        )
    )
    word = tmp_path / "guide.docx"
    document = docx.Document()
    document.add_heading("Buddy guide", level=1)
    document.add_paragraph("Buddies answer the practical questions a newcomer is shy to ask.")
    document.add_paragraph("Every buddy brings a marmalade sandwich to the first lunch.")
    document.save(str(word))
    report, _ = kb.run((pdf, word))
    assert report.skipped == [] and report.files == 5
    pdf_text = " ".join(c.text for c in kb.of("policy.pdf"))
    assert "lighthouse room" in pdf_text and "welfare worries" in pdf_text, "both pages were read"
    docx_text = " ".join(c.text for c in kb.of("guide.docx"))
    assert "marmalade sandwich" in docx_text
    for query, name in (("lighthouse room fortnight", "policy.pdf"), ("marmalade sandwich lunch", "guide.docx")):
        for mode in ("bm25", "hybrid"):
            hits = kb.rt.retriever.search(query, k=3, mode=mode)
            assert hits and Path(hits[0].chunk.source).name == name, (query, mode)
    assert all(c.user_source for c in kb.of("policy.pdf") + kb.of("guide.docx"))


# --- embedder identity ----------------------------------------------------------------------------------------
def test_embedder_mismatch_is_refused_by_readers_and_rebuilt_by_ingest(kb: Kb) -> None:
    foreign = CountingEmbedder(kb.rt.embedder, name="some-other-embedder-v2")
    Ingestor(kb.settings, kb.rt.store, foreign).run()
    chunks, metas, vectors = kb.rt.store.all_records(with_vectors=True)
    (kb.knowledge / "beta.md").write_text(BETA.replace("walrus", "narwhal"), encoding="utf-8")
    fresh = Runtime(kb.settings)  # what the next `mentor ingest` or `mentor serve` would open
    with pytest.raises(EmbedderMismatch) as info:
        _ = fresh.retriever
    message = str(info.value)
    assert "some-other-embedder-v2" in message and kb.rt.embedder.name in message
    assert "mentor ingest --rebuild" in message
    after_chunks, after_metas, after_vectors = fresh.store.all_records(with_vectors=True)
    assert after_chunks == chunks and after_metas == metas, "refusing to read changed nothing"
    assert after_vectors is not None and vectors is not None and np.array_equal(after_vectors, vectors)
    # Ingest rebuilds from scratch with the configured embedder and says why; no old vector survives.
    report = fresh.ingestor.run()
    assert report.rebuilt and "some-other-embedder-v2" in report.rebuilt_because
    assert report.rebuilt_because in report.summary()
    assert report.added == fresh.store.count() > 0 and report.unchanged == 0
    assert fresh.store.built_with() == kb.rt.embedder.name
    rebuilt = Runtime(kb.settings)
    hits = rebuilt.retriever.search("narwhal situation", k=1)
    assert hits and hits[0].chunk.source.endswith("beta.md")


# --- the CLI --------------------------------------------------------------------------------------------------
@pytest.fixture
def kb_cli_env(kb: Kb, monkeypatch: pytest.MonkeyPatch) -> Iterator[Kb]:
    """`mentor` reads its settings from the environment, as a user's shell would provide them."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "MENTOR_CHROMA_HOST", "MENTOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MENTOR_DATA_DIR", str(kb.settings.data_dir))
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(kb.knowledge))
    monkeypatch.setenv("MENTOR_CHUNK_TOKENS", str(CHUNK_TOKENS))
    monkeypatch.setenv("MENTOR_LLM_BACKEND", "offline")
    get_settings.cache_clear()
    yield kb
    get_settings.cache_clear()


def _mentor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from assistant.cli import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_ingest_summary_and_exit_codes(kb_cli_env: Kb, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = _mentor(capsys, "ingest")
    count = kb_cli_env.rt.store.count()
    assert code == 0 and err == ""
    assert re.search(rf"^3 files, {count} chunks: {count} added, 0 updated, 0 removed", out, re.MULTILINE), out
    assert re.search(r"in \d+\.\d\ds", out)
    code, out, _ = _mentor(capsys, "ingest")
    assert code == 0 and "nothing changed" in out
    code, out, _ = _mentor(capsys, "ingest", "--json")
    data = json.loads(out)
    assert code == 0 and data["chunks"] == count and data["unchanged"] == 3 and "nothing changed" in data["summary"]
    missing = tmp_path / "nowhere" / "notes.md"
    code, out, err = _mentor(capsys, "ingest", str(missing))
    assert code == 0 and f"skipped {missing}: path does not exist" in err
    code, out, _ = _mentor(capsys, "ingest", "--rebuild")
    assert code == 0 and f"{count} added" in out


def test_cli_embedder_mismatch_is_one_clear_line(kb_cli_env: Kb, capsys: pytest.CaptureFixture[str]) -> None:
    legacy = CountingEmbedder(kb_cli_env.rt.embedder, name="legacy-embedder")
    Ingestor(kb_cli_env.settings, kb_cli_env.rt.store, legacy).run()
    code, out, err = _mentor(capsys, "retrieve", "walrus situation")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "legacy-embedder" in err and "mentor ingest --rebuild" in err
    assert "Traceback" not in err and err.count("\n") == 1
    code, out, err = _mentor(capsys, "ingest")  # ingest rebuilds on its own and says why
    assert code == 0 and out.startswith(
        "Rebuilding the knowledge index: it was built with the embedder 'legacy-embedder'"
    )
    assert "3 files" in out


def test_a_repeated_search_is_answered_from_memory_until_the_index_changes(kb: Kb) -> None:
    kb.run()
    log = CountingEmbedder(kb.rt.embedder.inner)  # type: ignore[attr-defined]  # the embedder without its cache
    retriever = HybridRetriever(kb.rt.store, log)
    first = retriever.search("pelican colleague introductions", k=2)
    assert first and first[0].chunk.source.endswith("gamma.md")
    calls = len(log.calls)
    assert retriever.search("pelican colleague introductions", k=2) == first
    assert len(log.calls) == calls, "the same search again is not embedded or searched again"
    assert [h.chunk.id for h in retriever.search("pelican colleague introductions", k=2, fresh=True)] == [
        h.chunk.id for h in first
    ]
    (kb.knowledge / "gamma.md").unlink()
    Ingestor(kb.settings, kb.rt.store, kb.rt.embedder).run()
    after = retriever.search("pelican colleague introductions", k=2)
    assert not any(h.chunk.source.endswith("gamma.md") for h in after), "a changed index is searched afresh"
