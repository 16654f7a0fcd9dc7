"""Trends stage I/O: coding, records and topics -> one Parquet table per analysis."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.captions import CROSS_DIMENSIONS
from litthemes.codebook import load_codebook
from litthemes.config import TrendSettings
from litthemes.shards import read_gathered
from litthemes.tables import (
    CODES,
    CODING_TREND_TABLES,
    DOC_TOPICS,
    RECORDS,
    SEGMENT_CODES,
    SEGMENTS,
    TOPIC_TREND_TABLES,
    TOPICS,
    read_table,
    write_analysis_table,
)
from litthemes.topics.documents import topic_documents
from litthemes.trends import (
    cooccurrence,
    corpus_profile,
    covid_split,
    cross_matrix,
    opportunity_risk,
    prevalence,
    prevalence_by_year,
    terminology,
    theme_map,
    topic_map,
    topic_trends,
    topics_over,
    trend_tests,
)

log = logging.getLogger(__name__)

__all__ = ["compute", "run", "run_topic_trends"]


def compute(
    records: pd.DataFrame,
    codes: pd.DataFrame,
    dims: pd.DataFrame,
    segment_codes: pd.DataFrame,
    doc_topics: pd.DataFrame,
    codebook_path: str,
    settings: TrendSettings,
) -> dict[str, pd.DataFrame]:
    """The tables of :data:`CODING_TREND_TABLES`: those the coding decides."""
    book = load_codebook(codebook_path)
    included = records[records["status"] == "included"].reset_index(drop=True)
    challenge_ids = [t.id for t in book.themes if t.group == "challenges"]
    tables: dict[str, pd.DataFrame] = {}
    tables.update(corpus_profile(records, dims))
    tables["prevalence"] = prevalence(codes, book)
    tables["prevalence_by_year"] = prevalence_by_year(codes, included, book, settings)
    tables["trend_tests"] = trend_tests(codes, included, book, settings)
    tables["covid_split"] = covid_split(codes, included, book, settings)
    tables["terminology"] = terminology(dims, included, settings)
    tables["challenge_cooccurrence"] = cooccurrence(codes, challenge_ids, settings)
    tables["theme_cooccurrence"] = cooccurrence(codes, [t.id for t in book.themes], settings)
    for name, dimension in CROSS_DIMENSIONS.items():
        tables[name] = cross_matrix(codes, dims, dimension)
    tables["thematic_map_themes"] = theme_map(segment_codes, book)
    tables["opportunity_risk"] = opportunity_risk(codes, included, book, settings)
    tables.update(topics_over(doc_topics, included, dims))
    missing = set(CODING_TREND_TABLES) - set(tables)
    assert not missing, f"trend tables not computed: {missing}"
    return tables


def topic_trend_tables(
    included: pd.DataFrame,
    segments: pd.DataFrame,
    doc_topics: pd.DataFrame,
    topics: pd.DataFrame,
    settings: TrendSettings,
) -> dict[str, pd.DataFrame]:
    """The tables of :data:`TOPIC_TREND_TABLES`: they need the topics, not the coding."""
    return {
        "thematic_map_topics": topic_map(
            doc_topics, topics, topic_documents(segments, doc_topics["record_id"].tolist())
        ),
        "topic_trends": topic_trends(doc_topics, included, settings),
    }


def run_topic_trends(
    records_path: str,
    segments_path: str,
    doc_topics_path: str,
    topics_path: str,
    out_dir: str,
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Write the tables of :data:`TOPIC_TREND_TABLES` to ``out_dir``."""
    params = TrendSettings.model_validate(settings or {})
    records = read_table(records_path, RECORDS)
    tables = topic_trend_tables(
        records[records["status"] == "included"].reset_index(drop=True),
        read_table(segments_path, SEGMENTS),
        read_table(doc_topics_path, DOC_TOPICS),
        read_table(topics_path, TOPICS),
        params,
    )
    return [write_analysis_table(tables[name], Path(out_dir) / f"{name}.parquet") for name in TOPIC_TREND_TABLES]


def run(
    records_path: str,
    codes_path: str | list[str],
    dims_path: str | list[str],
    segment_codes_path: str | list[str],
    doc_topics_path: str,
    codebook_path: str,
    out_dir: str,
    settings: dict[str, Any] | None = None,
) -> list[str]:
    """Write the tables of :data:`CODING_TREND_TABLES` to ``out_dir``.

    The coding tables may each be given as the list of their shards' tables.
    """
    params = TrendSettings.model_validate(settings or {})
    tables = compute(
        read_table(records_path, RECORDS),
        read_gathered(codes_path, CODES),
        read_gathered(dims_path, CODES),
        read_gathered(segment_codes_path, SEGMENT_CODES),
        read_table(doc_topics_path, DOC_TOPICS),
        codebook_path,
        params,
    )
    return [write_analysis_table(tables[name], Path(out_dir) / f"{name}.parquet") for name in CODING_TREND_TABLES]
