"""Declared schemas of the Parquet tables passed between stages, and atomic I/O.

Every stage reads and writes through :func:`write_table` / :func:`read_table`, so a
table on disk always has its declared columns and types, and a killed job never
leaves a half-written file behind (write to a temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# The canonical record table: the one contract every reader produces.
RECORDS = pa.schema(
    [
        ("record_id", pa.string()),
        ("source_id", pa.string()),
        ("source_file", pa.string()),
        ("source_format", pa.string()),
        ("source_location", pa.string()),
        ("title", pa.string()),
        ("abstract", pa.string()),
        ("fulltext", pa.string()),
        ("year", pa.int64()),
        ("doi", pa.string()),
        ("url", pa.string()),
        ("authors", pa.string()),
        ("venue", pa.string()),
        ("keywords", pa.string()),
        ("language", pa.string()),
        ("doc_type", pa.string()),
        ("status", pa.string()),
        ("duplicate_of", pa.string()),
        ("merged_from", pa.string()),
        ("excluded_by", pa.string()),
    ]
)

SEGMENTS = pa.schema(
    [
        ("record_id", pa.string()),
        ("segment_index", pa.int64()),
        ("field", pa.string()),
        ("start_char", pa.int64()),
        ("end_char", pa.int64()),
        ("text", pa.string()),
        ("lemmas", pa.string()),
    ]
)

SEGMENT_CODES = pa.schema(
    [
        ("record_id", pa.string()),
        ("segment_index", pa.int64()),
        ("code", pa.string()),
        ("dimension", pa.string()),
        ("lexical", pa.float64()),
        ("semantic", pa.float64()),
        ("score", pa.float64()),
        ("evidence", pa.float64()),
        ("share", pa.float64()),
        # The segment is as close to the code's own texts (its dimension's closest definition
        # or example) as the literature they describe: code.semantic_only_min_similarity.
        ("near", pa.bool_()),
        ("present", pa.bool_()),
        ("cue", pa.string()),
    ]
)

CODES = pa.schema(
    [
        ("record_id", pa.string()),
        ("theme", pa.string()),
        ("group", pa.string()),
        ("dimension", pa.string()),
        ("score", pa.float64()),
        ("salience", pa.float64()),
        ("rank", pa.int64()),
        ("present", pa.bool_()),
        ("n_segments", pa.int64()),
        ("best_segment", pa.int64()),
        ("codebook_version", pa.string()),
        ("codebook_hash", pa.string()),
    ]
)

EVIDENCE = pa.schema(
    [
        ("record_id", pa.string()),
        ("theme", pa.string()),
        ("rank", pa.int64()),
        ("segment_index", pa.int64()),
        ("field", pa.string()),
        ("start_char", pa.int64()),
        ("end_char", pa.int64()),
        ("score", pa.float64()),
        ("cue", pa.string()),
        ("quote", pa.string()),
    ]
)

DOC_TOPICS = pa.schema(
    [
        ("record_id", pa.string()),
        ("topic", pa.int64()),
        ("probability", pa.float64()),
    ]
)

# One stability refit's assignments (record x topic).
TOPIC_RUN = pa.schema(
    [
        ("record_id", pa.string()),
        ("topic", pa.int64()),
    ]
)

TOPICS = pa.schema(
    [
        ("topic", pa.int64()),
        ("size", pa.int64()),
        ("label", pa.string()),
        ("top_terms", pa.string()),
        ("aligned_theme", pa.string()),
        ("alignment", pa.float64()),
        ("domain_share", pa.float64()),
        ("emergent", pa.bool_()),
        ("stability", pa.float64()),
        ("stable", pa.bool_()),
        ("representative_records", pa.string()),
    ]
)


class SchemaError(ValueError):
    """A table does not carry the columns its schema declares."""


# Every table the trends stage writes, as <name>.parquet in its output folder.
TREND_TABLES = (
    "corpus_by_year",
    "corpus_by_credential_type",
    "field_availability",
    "prevalence",
    "prevalence_by_year",
    "trend_tests",
    "covid_split",
    "terminology",
    "challenge_cooccurrence",
    "theme_cooccurrence",
    "theme_by_stakeholder",
    "theme_by_credential_type",
    "theme_by_setting",
    "thematic_map_themes",
    "thematic_map_topics",
    "opportunity_risk",
    "topics_by_year",
    "topics_by_credential_type",
    "topic_trends",
    "claims",
)


# The trend tables the figures read: all but the claims ledger (the claims stage writes it).
TRENDS_JOB_TABLES = tuple(name for name in TREND_TABLES if name != "claims")
# Of those, the tables that follow from the topics and not from the coding: the workflow
# writes them in a job of their own, so that a codebook edit does not recompute them.
TOPIC_TREND_TABLES = ("thematic_map_topics", "topic_trends")
CODING_TREND_TABLES = tuple(name for name in TRENDS_JOB_TABLES if name not in TOPIC_TREND_TABLES)


def read_trend_tables(trends_dir: str | os.PathLike[str], names: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """Every table of :data:`TREND_TABLES` (or those in ``names``) from the trends stage's folder."""
    return {
        name: pd.read_parquet(Path(trends_dir) / f"{name}.parquet")
        for name in (TREND_TABLES if names is None else names)
    }


def conform(df: pd.DataFrame, schema: pa.Schema, name: str = "table") -> pa.Table:
    """Return ``df`` as an Arrow table with exactly ``schema``'s columns, in order."""
    missing = [f.name for f in schema if f.name not in df.columns]
    if missing:
        raise SchemaError(f"{name}: missing columns {missing}; declared: {schema.names}")
    subset = df[schema.names]
    return pa.Table.from_pandas(subset, schema=schema, preserve_index=False)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` and rename it over ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], schema: pa.Schema, name: str | None = None) -> None:
    """Write ``df`` atomically as Parquet with the declared ``schema``."""
    table = conform(df, schema, name or Path(path).name)
    # Drop pandas metadata so the file depends only on the data, not on the index type.
    table = table.replace_schema_metadata(None)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def write_analysis_table(table: pd.DataFrame, path: str | os.PathLike[str]) -> str:
    """Write an analysis table (the trends stage's) atomically as Parquet, floats rounded
    to 10 decimals so the bytes do not depend on platforms' last-bit differences."""
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(10)
    with atomic_path(path) as tmp:
        out.reset_index(drop=True).to_parquet(tmp, index=False, compression="zstd")
    return str(path)


def read_table(path: str | os.PathLike[str], schema: pa.Schema | None = None) -> pd.DataFrame:
    """Read a Parquet table; when ``schema`` is given, check its columns."""
    table = pq.read_table(path)
    if schema is not None:
        missing = [n for n in schema.names if n not in table.column_names]
        if missing:
            raise SchemaError(f"{path}: missing columns {missing}")
    return table.to_pandas()


def write_json(obj: Any, path: str | os.PathLike[str]) -> None:
    """Write JSON atomically, sorted and indented so it diffs well and is byte-stable."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_text(text: str, path: str | os.PathLike[str]) -> None:
    """Write text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------ vector files
# Embeddings between stages: key columns (record_id, and segment_index for segments)
# and a fixed-size float32 list column ``vector``.


def write_vectors(frame: pd.DataFrame, path: str | Path) -> None:
    """Write a key + vector table atomically (vectors as fixed-size float32 lists)."""
    matrix = np.vstack(frame["vector"].tolist()) if len(frame) else np.zeros((0, 0), np.float32)
    write_matrix(frame.drop(columns="vector"), matrix, path)


# Rows per row group of a vector file: a job that needs the vectors of a few records
# (coding the records just added) decodes only the groups that hold them.
VECTOR_ROW_GROUP = 4096


def write_matrix(keys: pd.DataFrame, matrix: np.ndarray, path: str | Path) -> None:
    """:func:`write_vectors` for keys and an (n, dim) matrix with one row per key."""
    if len(keys) != len(matrix):
        raise ValueError(f"{len(keys)} keys for {len(matrix)} vectors")
    dim = matrix.shape[1] if len(matrix) else 0
    columns = {c: pa.array(keys[c].tolist()) for c in keys.columns}
    flat = np.ascontiguousarray(matrix, dtype=np.float32).ravel()
    columns["vector"] = (
        pa.FixedSizeListArray.from_arrays(pa.array(flat), dim) if dim else pa.array([], pa.list_(pa.float32()))
    )
    with atomic_path(path) as tmp:
        # The keys compressed; float vectors gain 7% from zstd and cost a third more to write and read.
        compression = {name: "zstd" for name in keys.columns} | {"vector.list.element": "none"}
        pq.write_table(pa.table(columns), tmp, compression=compression, row_group_size=VECTOR_ROW_GROUP)


def read_vectors(path: str | Path, record_ids: Collection[str] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """Keys and an (n, dim) float32 matrix from :func:`write_vectors` output; with
    ``record_ids``, only those records' rows, read from the row groups that hold them."""
    if record_ids is None:
        table = pq.read_table(path)
    else:
        wanted = pa.array(sorted(set(record_ids)), pa.string())
        file = pq.ParquetFile(path)
        groups = [
            i
            for i in range(file.num_row_groups)
            if pc.any(
                pc.is_in(file.read_row_group(i, columns=["record_id"]).column("record_id"), value_set=wanted)
            ).as_py()
        ]
        table = file.read_row_groups(groups) if groups else file.schema_arrow.empty_table()
        table = table.filter(pc.is_in(table.column("record_id"), value_set=wanted))
    keys = table.drop(["vector"]).to_pandas()
    column = table.column("vector").combine_chunks()
    if len(column) == 0:
        return keys, np.zeros((0, 0), dtype=np.float32)
    flat = column.flatten().to_numpy(zero_copy_only=False)
    return keys, flat.reshape(len(column), -1).astype(np.float32)
