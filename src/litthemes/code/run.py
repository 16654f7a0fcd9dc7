"""Code stage I/O: segments (+ embeddings) and the codebook -> codings and evidence."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from litthemes.code import aggregate, code_segments, evidence
from litthemes.codebook import load_codebook
from litthemes.config import CodeSettings, EmbedSettings, NlpSettings
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


def run(records_path: str, codebook_path: str, out: str, *, segments_path: str | None = None,
        vectors_path: str | None = None, segment_codes_out: str | None = None,
        dimensions_out: str | None = None, evidence_out: str | None = None,
        settings: dict[str, Any] | None = None, embed_settings: dict[str, Any] | None = None,
        nlp_settings: dict[str, Any] | None = None) -> dict[str, int]:
    """Code records with the codebook.

    Without ``segments_path``/``vectors_path`` the records are segmented and
    embedded here (through the embedding cache), so the command also works alone.
    """
    book = load_codebook(codebook_path)
    code_settings = CodeSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    nlp = NlpSettings.model_validate(nlp_settings or {})
    records = read_table(records_path, RECORDS)
    included = records[records["status"] == "included"] if "status" in records else records
    if segments_path:
        segments = read_table(segments_path, SEGMENTS)
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
    seg_codes = code_segments(segments, vectors, book, code_settings, embed, nlp.model)
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

