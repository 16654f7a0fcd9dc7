"""Code stage I/O: segments (+ embeddings) and the codebook -> codings and evidence."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from litthemes.cache import KEY, RecordCache, content_key
from litthemes.code import aggregate, code_segments, evidence
from litthemes.codebook import Codebook, load_codebook
from litthemes.config import CodeSettings, EmbedSettings, NlpSettings
from litthemes.embed import cache_shape, model_id
from litthemes.nlp import pipeline_id
from litthemes.shards import select_shard
from litthemes.tables import (
    CODES,
    EVIDENCE,
    RECORDS,
    SEGMENT_CODES,
    SEGMENTS,
    read_table,
    write_table,
)

log = logging.getLogger(__name__)


def cached_codes(segments: pd.DataFrame, vectors: np.ndarray, book: Codebook, settings: CodeSettings,
                 embed: EmbedSettings, nlp: NlpSettings) -> pd.DataFrame:
    """:func:`code_segments`, computing only records whose segments the cache has not seen
    with this codebook and these settings."""
    if not settings.cache_dir or segments.empty:
        return code_segments(segments, vectors, book, settings, embed, nlp.model)
    keys = {rid: content_key(rid, group[["segment_index", "text", "lemmas"]].values.tolist())
            for rid, group in segments.groupby("record_id", sort=False)}
    namespace = {
        "codebook": book.source_hash,
        "code": settings.model_dump(exclude={"cache_dir", "evidence_per_code"}),
        # The segment vectors follow from the texts, the model, the batch shape and arithmetic.
        "embed": [model_id(embed.model), cache_shape(embed)],
        "nlp": pipeline_id(nlp.model),
    }
    cache = RecordCache(settings.cache_dir, "segment_codes", SEGMENT_CODES, namespace)
    cached, found = cache.load(list(keys.values()))
    todo = segments["record_id"].map(lambda rid: keys[rid] not in found).to_numpy(bool)
    new = code_segments(segments[todo].reset_index(drop=True), vectors[todo], book, settings, embed, nlp.model)
    new_keys = sorted({keys[rid] for rid in segments.loc[todo, "record_id"]})
    cache.add(new.assign(**{KEY: new["record_id"].map(keys)}), new_keys)
    log.info("code: %d records from the cache, %d coded", len(keys) - len(new_keys), len(new_keys))
    frames = [f for f in (cached.drop(columns=KEY), new) if len(f)]
    merged = pd.concat(frames, ignore_index=True) if frames else new
    return merged.sort_values(["record_id", "segment_index", "code"], kind="stable").reset_index(drop=True)


def run(records_path: str, codebook_path: str, out: str, *, segments_path: str | None = None,
        vectors_path: str | None = None, segment_codes_out: str | None = None,
        dimensions_out: str | None = None, evidence_out: str | None = None,
        settings: dict[str, Any] | None = None, embed_settings: dict[str, Any] | None = None,
        nlp_settings: dict[str, Any] | None = None, shard: tuple[int, int] | None = None) -> dict[str, int]:
    """Code records (of one shard, if given) with the codebook.

    Without ``segments_path``/``vectors_path`` the records are segmented and
    embedded here (through the embedding cache), so the command also works alone.
    """
    book = load_codebook(codebook_path)
    code_settings = CodeSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    nlp = NlpSettings.model_validate(nlp_settings or {})
    records = select_shard(read_table(records_path, RECORDS), shard)
    included = records[records["status"] == "included"] if "status" in records else records
    if segments_path:
        segments = read_table(segments_path, SEGMENTS)
        if shard is not None:
            segments = segments[segments["record_id"].isin(set(included["record_id"]))].reset_index(drop=True)
    else:
        from litthemes.nlp import segment

        segments = segment(records, nlp)
    if vectors_path:
        from litthemes.embed import read_vectors

        keys, vectors = read_vectors(vectors_path)
        order = keys.reset_index().set_index(["record_id", "segment_index"])["index"]
        vectors = vectors[order.loc[list(zip(segments["record_id"], segments["segment_index"], strict=True))].to_numpy()]
    else:
        from litthemes.embed import embed_texts

        vectors = embed_texts(segments["text"].tolist(), embed) if len(segments) else np.zeros((0, 384), np.float32)
    seg_codes = cached_codes(segments, vectors, book, code_settings, embed, nlp)
    ids = included["record_id"].tolist()
    codes = aggregate(seg_codes, ids, book, "theme")
    write_table(codes, out, CODES, "codes")
    if segment_codes_out:
        write_table(seg_codes, segment_codes_out, SEGMENT_CODES, "segment_codes")
    if dimensions_out:
        dims = aggregate(seg_codes, ids, book, None)
        write_table(dims[dims["dimension"] != "theme"], dimensions_out, CODES, "dimensions")
    if evidence_out:
        write_table(evidence(seg_codes, segments, code_settings.evidence_per_code), evidence_out, EVIDENCE, "evidence")
    return {"records": len(ids), "segments": len(segments), "coded": int(codes["present"].sum())}

