"""Embed stage: sentence embeddings with a cache keyed by text hash and model id.

Embeddings are computed once here and shared by semantic coding (segments and
codebook prototypes) and topic modelling (documents). A rerun, or a run with
added records, embeds only texts the cache has not seen.
"""

from __future__ import annotations

from litthemes.embed.texts import (
    DEFAULT_MODEL,
    EmbeddingCache,
    batch_rows,
    cache_shape,
    document_text,
    embed_texts,
    encode_by_length,
    encoder_kind,
    load_model,
    model_id,
    padded_length,
    preload_model,
    resolve_device,
    resolve_model,
    resolve_precision,
    row_dot,
    text_hash,
)

__all__ = [
    "DEFAULT_MODEL",
    "EmbeddingCache",
    "batch_rows",
    "cache_shape",
    "document_text",
    "embed_texts",
    "encode_by_length",
    "encoder_kind",
    "load_model",
    "model_id",
    "padded_length",
    "preload_model",
    "resolve_device",
    "resolve_model",
    "resolve_precision",
    "row_dot",
    "text_hash",
]
