"""Figures and tables stage I/O."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes.captions import FIGURE_CAPTIONS, FOOTER_TABLE, figure_tables, topic_figures
from litthemes.codebook import load_codebook
from litthemes.config import FigureSettings
from litthemes.figures.tables import write_tables
from litthemes.tables import TOPICS, read_table, read_trend_tables


def footer(study: str, tables: dict[str, pd.DataFrame], stamp: str) -> str:
    n = int(tables[FOOTER_TABLE]["records"].sum())
    return f"corpus: {study}, {n} records · codebook {stamp}"


def run_figures(
    trends_dir: str,
    topics_path: str | None,
    codebook_path: str,
    out_dir: str,
    study: str,
    settings: dict[str, Any] | None = None,
    workers: int = 1,
    only: list[str] | None = None,
) -> list[str]:
    """Every figure (or those named in ``only``), drawn by ``workers`` processes.

    Only the tables those figures are drawn from are read (see
    :data:`litthemes.captions.FIGURE_TABLES`); ``topics_path`` (the aligned topic table)
    is needed only for the topic figures.
    """
    from litthemes.figures.draw import render

    params = FigureSettings.model_validate(settings or {})
    names = list(only) if only else list(FIGURE_CAPTIONS)
    drawn_from_topics = topic_figures(names)
    if drawn_from_topics and not topics_path:
        raise ValueError(f"figures {drawn_from_topics} are drawn from the topic table: give its path (--topics)")
    book = load_codebook(codebook_path)
    tables = read_trend_tables(trends_dir, names=[name for name in figure_tables(names) if name != "topics"])
    if drawn_from_topics and topics_path:
        tables["topics"] = read_table(topics_path, TOPICS)
    return render(
        tables, book, out_dir, list(params.formats), params.dpi, footer(study, tables, book.stamp), workers, names
    )


def run_tables(
    trends_dir: str, topics_path: str, flow_path: str, codebook_path: str, out_dir: str, study: str
) -> list[str]:
    book = load_codebook(codebook_path)
    tables = read_trend_tables(trends_dir)
    topics = read_table(topics_path, TOPICS)
    tables["topics"] = topics
    tables["emergent_topics"] = topics[topics["emergent"]].reset_index(drop=True)
    flow = json.loads(Path(flow_path).read_text(encoding="utf-8"))
    flow_table = pd.DataFrame(flow["files"])[
        ["file", "format", "read", "quarantined", "duplicates", "excluded", "included"]
    ]
    tables["corpus_flow"] = flow_table
    return write_tables(tables, out_dir, footer(study, tables, book.stamp))
