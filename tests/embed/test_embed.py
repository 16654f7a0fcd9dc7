"""Embeddings: offline default model, normalisation, and a cache that skips seen texts."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

import litthemes.embed.texts as embed_module
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts, model_id, resolve_model
from litthemes.tables import read_vectors, write_vectors


def test_default_model_is_the_offline_package() -> None:
    assert Path(resolve_model("all-MiniLM-L6-v2")).is_dir()
    assert model_id("all-MiniLM-L6-v2").startswith("all-MiniLM-L6-v2@gt-")
    assert resolve_model("some/other-model") == "some/other-model"


def test_embeddings_are_normalised_and_semantic(embed_cache: str) -> None:
    settings = EmbedSettings(cache_dir=embed_cache)
    vectors = embed_texts(
        ["Employers value digital badges.", "Companies appreciate digital badges.", "The pandemic closed schools."],
        settings,
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_cache_embeds_only_new_texts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = EmbedSettings(cache_dir=str(tmp_path))
    first = embed_texts(["alpha text", "beta text"], settings)
    real = embed_module.encode_by_length
    calls: list[list[str]] = []

    def counting(texts: list[str], settings: EmbedSettings) -> np.ndarray:
        calls.append(list(texts))
        return real(texts, settings)

    monkeypatch.setattr(embed_module, "encode_by_length", counting)
    again = embed_texts(["beta text", "alpha text", "gamma text", "gamma text"], settings)
    assert calls == [["gamma text"]]  # only the unseen text, once
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])
    assert np.array_equal(again[2], again[3])
    embed_texts(["alpha text", "gamma text"], settings)
    assert len(calls) == 1  # nothing new the third time
    embed_texts(["alpha text"], settings.model_copy(update={"length_step": 4}))
    assert len(calls) == 2  # another batch shape is another cache
    # An empty cache folder means no cache: every text is encoded and nothing is written.
    monkeypatch.chdir(tmp_path / "..")
    before = sorted(Path.cwd().iterdir())
    embed_texts(["alpha text"], settings.model_copy(update={"cache_dir": ""}))
    embed_texts(["alpha text"], settings.model_copy(update={"cache_dir": ""}))
    assert len(calls) == 4 and sorted(Path.cwd().iterdir()) == before


def test_vector_tables_round_trip(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"record_id": ["a", "b"], "vector": [np.ones(4, np.float32), np.zeros(4, np.float32)]})
    write_vectors(frame, tmp_path / "v.parquet")
    keys, matrix = read_vectors(tmp_path / "v.parquet")
    assert keys["record_id"].tolist() == ["a", "b"] and matrix.shape == (2, 4) and matrix[0].sum() == 4


def test_the_vectors_of_some_records_are_read_from_the_row_groups_holding_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd
    import pyarrow.parquet as pq

    import litthemes.tables as tables_module

    monkeypatch.setattr(tables_module, "VECTOR_ROW_GROUP", 4)
    ids = [f"r{i // 2}" for i in range(14)]  # two segments a record, seven records, four row groups
    keys = pd.DataFrame({"record_id": ids, "segment_index": [i % 2 for i in range(14)]})
    matrix = np.arange(14 * 3, dtype=np.float32).reshape(14, 3)
    tables_module.write_matrix(keys, matrix, tmp_path / "v.parquet")
    assert pq.ParquetFile(tmp_path / "v.parquet").num_row_groups == 4
    read = []
    original = pq.ParquetFile.read_row_groups
    monkeypatch.setattr(
        pq.ParquetFile,
        "read_row_groups",
        lambda self, groups, *a, **k: read.append(list(groups)) or original(self, groups, *a, **k),
    )
    got_keys, got = read_vectors(tmp_path / "v.parquet", {"r1", "r6", "nowhere"})
    assert read == [[0, 3]]  # r1 is in the first group, r6 in the last
    assert got_keys["record_id"].tolist() == ["r1", "r1", "r6", "r6"]
    assert np.array_equal(got, matrix[[2, 3, 12, 13]])
    none_keys, none = read_vectors(tmp_path / "v.parquet", set())
    assert none_keys.empty and none.shape[0] == 0
    assert np.array_equal(read_vectors(tmp_path / "v.parquet")[1], matrix)


def test_document_vectors_sum_each_records_segments_in_table_order() -> None:
    """The same bits as adding the segments one by one in float64 (np.add.at), whatever
    the order of the rows; records without segments get a zero vector."""
    import pandas as pd

    from litthemes.embed.run import document_vectors

    rng = np.random.default_rng(3)
    owners = rng.choice([f"r{i}" for i in range(40)], size=500)
    segments = pd.DataFrame({"record_id": owners})
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    ids = [f"r{i}" for i in range(45)]  # r40-r44 have no segments; no segment's record is missing
    ids.remove("r7")  # ...and r7's segments belong to no listed record
    position = {rid: i for i, rid in enumerate(ids)}
    rows = segments["record_id"].map(position).to_numpy()
    keep = ~pd.isna(rows)
    sums = np.zeros((len(ids), 16), np.float64)
    np.add.at(sums, rows[keep].astype(int), vectors[keep])
    expected = (sums / np.where((n := np.linalg.norm(sums, axis=1, keepdims=True)) > 0, n, 1.0)).astype(np.float32)
    got = document_vectors(segments, vectors, ids)
    assert got.tobytes() == expected.tobytes()
    assert not got[ids.index("r42")].any() and got[ids.index("r3")].any()


def test_embedding_does_not_depend_on_batch_mates(tmp_path: Path) -> None:
    """A warm cache and a cold run must agree bit for bit (determinism of all tables)."""
    # The first three fall into one padded length, so together they share a batch.
    texts = [
        "Badges for teachers.",
        "Open badges for teachers.",
        "Stackable credentials.",
        "Micro-credentials in European higher education institutions today.",
        "A much longer sentence about the employability of graduates who earn badges.",
    ]
    model = embed_module.load_model("all-MiniLM-L6-v2", "cpu")
    lengths = model.token_counts(texts[:3])
    assert len(set(lengths)) > 1 and len({embed_module.padded_length(n, 8, 256) for n in lengths}) == 1
    together = embed_texts(texts, EmbedSettings(cache_dir=str(tmp_path / "a")))
    one_by_one = np.vstack([embed_texts([t], EmbedSettings(cache_dir=str(tmp_path / "b"))) for t in texts])
    assert np.array_equal(together, one_by_one)


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("encoder", ["auto", "sentence-transformers"])
def test_embedding_does_not_depend_on_the_number_of_threads(precision: str, encoder: str) -> None:
    """A sharded job (one thread) and an unsharded one (several) must give the same bits.

    On CPUs with AMX, a bfloat16 product of a 64-row pass differs in the last bits
    between 1, 2 and 8 threads; each pass on one thread, passes side by side, does not.
    """
    import torch

    # Enough passes of several lengths (sizes 4 to 64 rows) for the threads to share.
    texts = [f"Micro-credential number {i} recognises {'informal ' * (i % 7)}learning." for i in range(150)]
    settings = EmbedSettings(progress=False, precision=precision, encoder=encoder, cache_dir="")
    threads = torch.get_num_threads()
    vectors = {}
    try:
        for count in (1, 2, 8):
            torch.set_num_threads(count)
            vectors[count] = embed_module.encode_by_length(texts, settings)
            assert torch.get_num_threads() == count  # the caller's setting comes back
    finally:
        torch.set_num_threads(threads)
    assert np.array_equal(vectors[1], vectors[2]) and np.array_equal(vectors[1], vectors[8])


def test_padding_to_the_bucket_length_changes_little() -> None:
    """Padding with a mask gives the same vector up to rounding (a plain encode agrees)."""
    from sentence_transformers import SentenceTransformer

    settings = EmbedSettings(progress=False, precision="float32")
    texts = ["Digital badges recognise informal learning.", "Stackable micro-credentials."]
    plain = SentenceTransformer(resolve_model(settings.model), device="cpu").encode(texts, normalize_embeddings=True)
    for encoder in ("auto", "sentence-transformers"):
        ours = embed_module.encode_by_length(texts, settings.model_copy(update={"encoder": encoder}))
        assert np.allclose(ours, plain, atol=1e-5)


def test_bfloat16_stays_close_to_float32_and_has_its_own_cache(tmp_path: Path) -> None:
    texts = [
        "Digital badges recognise informal learning.",
        "Employers doubt the value of micro-credentials.",
        "Blockchain secures the verification of learners' achievements.",
    ]
    full = embed_texts(texts, EmbedSettings(cache_dir=str(tmp_path), precision="float32"))
    half = embed_texts(texts, EmbedSettings(cache_dir=str(tmp_path), precision="bfloat16"))
    cosines = (full * half).sum(axis=1)
    assert not np.array_equal(full, half)  # really computed in another arithmetic, not read from the cache
    assert cosines.min() > 0.999
    # Similarity order between texts survives the lower precision.
    assert np.array_equal(np.argsort(full @ full.T, axis=1), np.argsort(half @ half.T, axis=1))
    assert len(list(tmp_path.iterdir())) == 2


def test_auto_precision_is_float32_off_cpu_and_bfloat16_only_where_native(monkeypatch: pytest.MonkeyPatch) -> None:
    assert embed_module.resolve_precision(EmbedSettings(precision="float32")) == "float32"
    assert embed_module.resolve_precision(EmbedSettings(precision="auto", device="cuda")) == "float32"
    monkeypatch.setattr(embed_module, "_native_bfloat16", lambda: False)
    assert embed_module.resolve_precision(EmbedSettings(precision="auto")) == "float32"
    monkeypatch.setattr(embed_module, "_native_bfloat16", lambda: True)
    assert embed_module.resolve_precision(EmbedSettings(precision="auto")) == "bfloat16"
    assert "precision=bfloat16" in embed_module.cache_shape(EmbedSettings(precision="auto"))


def test_native_bfloat16_from_the_cpu_flags_agrees_with_torch() -> None:
    import torch

    expected = torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    assert embed_module._native_bfloat16() == expected


def test_embedding_cache_merges_its_parts_and_keeps_every_vector(tmp_path: Path) -> None:
    from litthemes.cache import MAX_PARTS
    from litthemes.embed import EmbeddingCache

    cache = EmbeddingCache(tmp_path, "some-model", "shape")
    rng = np.random.default_rng(0)
    stored: dict[str, np.ndarray] = {}
    for i in range(MAX_PARTS + 1):
        hashes = [f"h{i}-{j}" for j in range(3)] + (["again"] if i in (1, 4) else [])
        vectors = rng.normal(size=(len(hashes), 4)).astype(np.float32)
        if "again" in hashes:
            vectors[-1] = stored.get("again", vectors[-1])
        stored.update(zip(hashes, vectors, strict=True))
        cache.add(hashes, vectors)
    assert cache.dir is not None and len(list(cache.dir.glob("part-*.parquet"))) == MAX_PARTS // 2
    found = cache.load(set(stored) | {"missing"})
    assert set(found) == set(stored)
    assert all(np.array_equal(found[h], stored[h]) for h in stored)


LONG_TEXT = " ".join(["Micro-credentials certify short learning experiences and employers read them"] * 40)


def test_light_encoder_computes_what_sentence_transformers_computes() -> None:
    """The light BERT encoder against sentence-transformers on the same padded batches."""
    import torch
    from sentence_transformers import SentenceTransformer

    from litthemes.embed.encoder import MeanPoolingBert, SentenceTransformerEncoder

    light = embed_module.load_model("all-MiniLM-L6-v2", "cpu")
    assert isinstance(light, MeanPoolingBert)
    reference = SentenceTransformerEncoder(resolve_model("all-MiniLM-L6-v2"), "cpu")
    texts = [
        "Open Badges 2.0: verifiable, portable credentials!",
        "Stackable micro-credentials.",
        "Ünïcödé and accents: réussite éducative",
        "",
        LONG_TEXT,
    ]
    plain = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    expected_ids = plain.tokenizer(texts, truncation=True, max_length=256)["input_ids"]
    assert light.token_counts(texts) == [len(ids) for ids in expected_ids] == reference.token_counts(texts)
    assert light.token_counts([LONG_TEXT]) == [256]  # truncated as sentence-transformers truncates
    with torch.inference_mode():
        ours, theirs = light.encode(texts, 256), reference.encode(texts, 256)
        assert float((ours - theirs).abs().max()) < 1e-6
        with torch.autocast("cpu", dtype=torch.bfloat16):
            ours, theirs = light.encode(texts, 256), reference.encode(texts, 256)
        assert float((ours * theirs).sum(dim=1).min()) > 0.9999


def test_encoder_choice_and_its_cache_key(tmp_path: Path) -> None:
    """The light encoder only where it reproduces the model; each encoder has its own cache."""
    import json
    import shutil

    from litthemes.embed.encoder import MeanPoolingBert, light_bert_config

    source = Path(resolve_model("all-MiniLM-L6-v2"))
    assert light_bert_config(source) is not None
    auto = EmbedSettings(cache_dir=str(tmp_path))
    chosen = auto.model_copy(update={"encoder": "sentence-transformers"})
    assert embed_module.encoder_kind(auto.model) == "bert"
    assert embed_module.encoder_kind(chosen.model, chosen.encoder) == "sentence-transformers"
    assert embed_module.cache_shape(auto) != embed_module.cache_shape(chosen)
    texts = ["Digital badges recognise informal learning.", "Employers doubt micro-credentials."]
    light, other = embed_texts(texts, auto), embed_texts(texts, chosen)
    assert len(list(tmp_path.iterdir())) == 2 and (light * other).sum(axis=1).min() > 0.9999
    # CLS pooling is not what the light encoder computes: that folder goes to sentence-transformers.
    copy = tmp_path / "cls-model"
    shutil.copytree(source, copy, ignore=shutil.ignore_patterns("*.safetensors"))
    (copy / "model.safetensors").symlink_to(source / "model.safetensors")
    pooling = json.loads((copy / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (copy / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert light_bert_config(copy) is None
    assert embed_module.encoder_kind(str(copy)) == "sentence-transformers"
    with pytest.raises(ValueError, match="not a BERT model with mean pooling"):
        MeanPoolingBert(copy, "cpu")
    assert light_bert_config(tmp_path / "missing") is None


def test_a_preloaded_encoder_is_the_one_loaded_and_loads_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The embed stage starts loading the encoder in a thread; asking for it meanwhile
    waits for that load instead of loading a second copy."""
    monkeypatch.setattr(embed_module, "_MODELS", {})
    real = embed_module.MeanPoolingBert
    built: list[str] = []

    def slow_build(path: str, device: str) -> object:
        built.append(path)
        time.sleep(0.3)  # still loading when the main thread asks
        return real(path, device)

    monkeypatch.setattr(embed_module, "MeanPoolingBert", slow_build)
    settings = EmbedSettings()
    loading = embed_module.preload_model(settings)
    model = embed_module.load_model(settings.model, settings.device, settings.encoder)
    loading.join()
    assert len(built) == 1
    assert embed_module.load_model(settings.model, settings.device, settings.encoder) is model
    assert isinstance(model, real)


def test_a_failed_preload_fails_again_where_the_encoder_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed_module, "_MODELS", {})
    settings = EmbedSettings(model=str(Path("no-such-model-folder").resolve()), encoder="auto")
    monkeypatch.setattr(
        embed_module,
        "SentenceTransformerEncoder",
        lambda name, device: (_ for _ in ()).throw(OSError(f"{name}: not a model")),
    )
    embed_module.preload_model(settings).join()  # no exception escapes the thread
    with pytest.raises(OSError, match="not a model"):
        embed_module.load_model(settings.model, settings.device, settings.encoder)
