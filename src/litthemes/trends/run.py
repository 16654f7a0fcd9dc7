"""Trends stage I/O: coding, records and topics -> one Parquet table per analysis."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import NlpSettings, TrendSettings
from litthemes.shards import read_gathered
from litthemes.tables import (
    CLAIM_SPANS,
    CODES,
    DOC_TOPICS,
    RECORDS,
    SEGMENT_CODES,
    SEGMENTS,
    TOPIC_TREND_TABLES,
    TOPICS,
    TREND_TABLES,
    read_table,
    write_analysis_table,
)
from litthemes.topics.run import topic_documents
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

__all__ = ["TREND_TABLES", "compute", "run", "run_claims"]


def compute(records: pd.DataFrame, codes: pd.DataFrame, dims: pd.DataFrame, segment_codes: pd.DataFrame,
            segments: pd.DataFrame | None, doc_topics: pd.DataFrame, topics: pd.DataFrame | None, codebook_path: str,
            settings: TrendSettings, nlp_model: str = "auto", claims: bool = True,
            topic_tables: bool = True) -> dict[str, pd.DataFrame]:
    """Every trend table; the claims ledger only with ``claims`` (see :func:`run_claims`),
    the tables of :data:`TOPIC_TREND_TABLES` only with ``topic_tables`` (see :func:`run_topic_trends`).

    ``segments`` are read by those two only, ``topics`` by the topic tables only.
    """
    if (claims or topic_tables) and segments is None:
        raise ValueError("the claims ledger and the topic tables need the segments")
    if topic_tables and topics is None:
        raise ValueError("the topic tables need the topics")
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
    for dimension, name in (("stakeholder", "theme_by_stakeholder"), ("credential_type", "theme_by_credential_type"),
                            ("setting", "theme_by_setting")):
        tables[name] = cross_matrix(codes, dims, dimension)
    tables["thematic_map_themes"] = theme_map(segment_codes, book)
    tables["opportunity_risk"] = opportunity_risk(codes, included, book, settings)
    tables.update(topics_over(doc_topics, included, dims))
    if topic_tables:
        assert segments is not None and topics is not None
        tables.update(topic_trend_tables(included, segments, doc_topics, topics, settings))
    if claims:
        from litthemes.trends.claims import find_claims  # spaCy: only when the ledger is wanted

        assert segments is not None
        tables["claims"] = find_claims(segments, included, nlp_model)
    left_out = ({"claims"} if not claims else set()) | (set(TOPIC_TREND_TABLES) if not topic_tables else set())
    missing = set(TREND_TABLES) - set(tables) - left_out
    assert not missing, f"trend tables not computed: {missing}"
    return tables


def topic_trend_tables(included: pd.DataFrame, segments: pd.DataFrame, doc_topics: pd.DataFrame,
                       topics: pd.DataFrame, settings: TrendSettings) -> dict[str, pd.DataFrame]:
    """The tables of :data:`TOPIC_TREND_TABLES`: they need the topics, not the coding."""
    return {
        "thematic_map_topics": topic_map(doc_topics, topics, topic_documents(segments, doc_topics["record_id"].tolist())),
        "topic_trends": topic_trends(doc_topics, included, settings),
    }


def run_topic_trends(records_path: str, segments_path: str, doc_topics_path: str, topics_path: str, out_dir: str,
                     settings: dict[str, Any] | None = None) -> list[str]:
    """Write the tables of :data:`TOPIC_TREND_TABLES` to ``out_dir``."""
    params = TrendSettings.model_validate(settings or {})
    records = read_table(records_path, RECORDS)
    tables = topic_trend_tables(records[records["status"] == "included"].reset_index(drop=True),
                                read_table(segments_path, SEGMENTS), read_table(doc_topics_path, DOC_TOPICS),
                                read_table(topics_path, TOPICS), params)
    return [write_analysis_table(tables[name], Path(out_dir) / f"{name}.parquet") for name in TOPIC_TREND_TABLES]


def run(records_path: str, codes_path: str | list[str], dims_path: str | list[str],
        segment_codes_path: str | list[str], segments_path: str | None, doc_topics_path: str,
        topics_path: str | None, codebook_path: str, out_dir: str, settings: dict[str, Any] | None = None,
        nlp_settings: dict[str, Any] | None = None, claims: bool = True, topic_tables: bool = True) -> list[str]:
    """Write the trend tables to ``out_dir``; without ``claims``, all but the claims ledger;
    without ``topic_tables``, all but :data:`TOPIC_TREND_TABLES`. Without both, the
    segments and topics are not read (None will do).

    The coding tables may each be given as the list of their shards' tables.
    """
    params = TrendSettings.model_validate(settings or {})
    nlp = NlpSettings.model_validate(nlp_settings or {})
    segments = read_table(segments_path, SEGMENTS) if segments_path and (claims or topic_tables) else None
    topics = read_table(topics_path, TOPICS) if topics_path and topic_tables else None
    tables = compute(read_table(records_path, RECORDS), read_gathered(codes_path, CODES),
                     read_gathered(dims_path, CODES), read_gathered(segment_codes_path, SEGMENT_CODES), segments,
                     read_table(doc_topics_path, DOC_TOPICS), topics, codebook_path, params, nlp.model, claims,
                     topic_tables)
    return [write_analysis_table(tables[name], Path(out_dir) / f"{name}.parquet") for name in TREND_TABLES if name in tables]


def run_claims(records_path: str, segments_path: str, out: str, nlp_settings: dict[str, Any] | None = None,
               spans_path: str | None = None) -> int:
    """The claims ledger alone. It depends on the texts, not on the coding, so the
    workflow computes it beside the other stages and a codebook edit leaves it be.

    With ``spans_path`` (the segment stage's claim spans) the ledger is a join and spaCy
    is not loaded; without, the claims are found here.
    """
    from litthemes.trends.claims import find_claims, ledger

    records = read_table(records_path, RECORDS)
    included = records[records["status"] == "included"]
    segments = read_table(segments_path, SEGMENTS)
    if spans_path:
        claims = ledger(read_table(spans_path, CLAIM_SPANS), segments, included)
    else:
        nlp = NlpSettings.model_validate(nlp_settings or {})
        claims = find_claims(segments, included, nlp.model, nlp.cache_dir)
    write_analysis_table(claims, Path(out))
    return len(claims)
