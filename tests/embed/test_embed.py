"""Embeddings: offline default model, normalisation, and a cache that skips seen texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import litthemes.embed as embed_module
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts, model_id, read_vectors, resolve_model, write_vectors


def test_default_model_is_the_offline_package() -> None:
    assert Path(resolve_model("all-MiniLM-L6-v2")).is_dir()
    assert model_id("all-MiniLM-L6-v2").startswith("all-MiniLM-L6-v2@gt-")
    assert resolve_model("some/other-model") == "some/other-model"


def test_embeddings_are_normalised_and_semantic(embed_cache: str) -> None:
    settings = EmbedSettings(cache_dir=embed_cache)
    vectors = embed_texts(["Employers value digital badges.", "Companies appreciate digital badges.",
                           "The pandemic closed schools."], settings)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_cache_embeds_only_new_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = EmbedSettings(cache_dir=str(tmp_path))
    first = embed_texts(["alpha text", "beta text"], settings)
    real = embed_module.load_model(settings.model, settings.device)
    calls: list[list[str]] = []

    class Counting:
        def encode(self, texts: list[str], **kwargs: object) -> np.ndarray:
            calls.append(list(texts))
            return real.encode(texts, **kwargs)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    monkeypatch.setattr(embed_module, "load_model", lambda *a: Counting())
    again = embed_texts(["beta text", "alpha text", "gamma text", "gamma text"], settings)
    assert len(calls) == 1 and set(calls[0]) == {"gamma text"}  # only the unseen text (batch filled with repeats)
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    embed_texts(["alpha text", "gamma text"], settings)
    assert len(calls) == 1  # nothing new the third time


def test_vector_tables_round_trip(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"record_id": ["a", "b"], "vector": [np.ones(4, np.float32), np.zeros(4, np.float32)]})
    write_vectors(frame, tmp_path / "v.parquet")
    keys, matrix = read_vectors(tmp_path / "v.parquet")
    assert keys["record_id"].tolist() == ["a", "b"] and matrix.shape == (2, 4) and matrix[0].sum() == 4


def test_embedding_does_not_depend_on_batch_mates(tmp_path: Path) -> None:
    """A warm cache and a cold run must agree bit for bit (determinism of all tables)."""
    texts = ["Badges for teachers.", "Micro-credentials in European higher education institutions today.",
             "Stackable credentials.", "A much longer sentence about the employability of graduates who earn badges."]
    together = embed_texts(texts, EmbedSettings(cache_dir=str(tmp_path / "a")))
    one_by_one = np.vstack([embed_texts([t], EmbedSettings(cache_dir=str(tmp_path / "b"))) for t in texts])
    assert np.array_equal(together, one_by_one)
