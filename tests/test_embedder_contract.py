"""The Embedder contract, one set of tests for every offline embedder: hashed (the fast tier's), minilm and
wordllama (real models). The openai embedder needs a server that computes embeddings, which the fake does not."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, make_settings

from assistant.embedders import EMBEDDERS, Embedder

TEXTS = [
    "How do I tell my mentee their presentation ran far too long?",
    "My mentee keeps missing the deadlines we agree on.",
    "Quarterly tax filing for a small bakery.",
    "",
]
EMBEDDER_NAMES = [
    "hashed",
    pytest.param("minilm", marks=pytest.mark.real_backend),
    pytest.param("wordllama", marks=pytest.mark.real_backend),
]


@pytest.fixture(scope="module", params=EMBEDDER_NAMES)
def registered_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def embedder(registered_name: str, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    settings = make_settings(tmp_path_factory.mktemp("data"), embedder=registered_name)
    return EMBEDDERS.create(registered_name, settings)


def test_it_is_registered_and_named(embedder: Embedder) -> None:
    assert isinstance(embedder, Embedder)
    assert isinstance(embedder.name, str) and embedder.name, "the name is stored with the index"
    assert isinstance(embedder.dim, int) and embedder.dim > 0


def test_rows_are_unit_length_float32_of_the_declared_width(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), embedder.dim)
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms[:3], 1.0, atol=1e-4)
    # A text with nothing to embed: a unit vector (minilm, hashed) or zeros (wordllama), never NaN.
    assert np.isfinite(vectors[3]).all() and (norms[3] == pytest.approx(1.0, abs=1e-4) or norms[3] == 0.0)


def test_no_texts_is_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, embedder.dim)


def test_a_text_has_one_vector_whatever_the_batch(embedder: Embedder) -> None:
    together = embedder.embed(TEXTS)
    alone = np.vstack([embedder.embed([t]) for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-4)
    assert np.allclose(embedder.embed(TEXTS[:1] * 3), together[:1], atol=1e-4)


def test_sharing_words_is_closer_than_sharing_none(embedder: Embedder) -> None:
    """The least any embedder must do for search: two mentoring questions are closer to each other than
    either is to a question about tax."""
    a, b, tax = embedder.embed(TEXTS[:3])
    assert a @ b > a @ tax and a @ b > b @ tax


def test_another_process_gives_the_same_vectors(registered_name: str, embedder: Embedder, tmp_path: Path) -> None:
    """An index built by one process is searched by another: vectors must not depend on the process (Python's
    salted `hash`, a random initialisation)."""
    name = registered_name
    script = (
        "import json, sys; sys.path.insert(0, 'tests')\n"
        "from conftest import make_settings\n"
        "from assistant.embedders import EMBEDDERS\n"
        f"e = EMBEDDERS.create({name!r}, make_settings({str(tmp_path)!r}, embedder={name!r}))\n"
        f"print(json.dumps(e.embed({TEXTS[:2]!r}).tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    assert np.allclose(np.array(json.loads(out.stdout), dtype=np.float32), embedder.embed(TEXTS[:2]), atol=1e-5)
