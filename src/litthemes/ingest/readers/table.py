"""Tables with a header row: CSV/TSV/XLS(X) from Scopus, IEEE, ACM, ASReview and others,
and Web of Science's tab-delimited export."""

from __future__ import annotations

import csv
import io

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, UnreadableFile, decode
from litthemes.ingest.readers.registry import register
from litthemes.ingest.readers.wos import WOS_TAGS

csv.field_size_limit(1 << 30)

# Canonical field -> column names seen in real exports (case-insensitive match).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("id", "record_id", "eid", "ut", "ut (unique wos id)", "key", "openalex_id", "accession number", "an"),
    "title": ("title", "document title", "article title", "item title", "ti", "primary title"),
    "abstract": ("abstract", "ab", "summary"),
    "year": ("year", "publication year", "py", "pubyear", "date", "publication_year"),
    "early_access": ("early access date", "ea"),
    "doi": ("doi", "item doi", "di"),
    "url": ("url", "urls", "link", "pdf link"),
    "authors": ("authors", "author", "au", "author full names", "af", "author names"),
    "venue": (
        "venue",
        "source title",
        "publication title",
        "journal",
        "so",
        "source",
        "proceedings title",
        "book title",
        "publication",
    ),
    "keywords": ("keywords", "author keywords", "de", "index keywords", "id", "ieee terms"),
    "language": ("language", "language of original document", "la"),
    "doc_type": ("document type", "doc_type", "dt", "item type", "content type", "type", "pt"),
    "label": ("label", "label_included", "included", "decision"),
}


def _resolve_columns(header: list[str], column_map: dict[str, str]) -> dict[str, str]:
    """Map canonical fields to actual header names (explicit mapping wins)."""
    lower = {h.strip().lower(): h for h in header}
    resolved: dict[str, str] = {}
    for canonical, column in column_map.items():
        if column not in header:
            raise UnreadableFile(
                f"column_map maps {canonical!r} to column {column!r}, which is not in the header "
                f"(columns: {header[:20]})"
            )
        resolved[canonical] = column
    for canonical, aliases in COLUMN_ALIASES.items():
        if canonical in resolved:
            continue
        for alias in aliases:
            if alias in lower and lower[alias] not in resolved.values():
                resolved[canonical] = lower[alias]
                break
    return resolved


def _rows_from_text(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    sample = text[:5000]
    first = sample.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for row in reader:
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in row]
            continue
        rows.append((reader.line_num, row))
    if header is None:
        raise UnreadableFile("no header row")
    return header, rows


def _rows_from_excel(path: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    import pandas as pd

    try:
        frame = pd.read_excel(path, dtype=str, header=None, keep_default_na=False)
    except Exception as exc:  # xlrd/openpyxl raise many types for corrupt files
        raise UnreadableFile(f"{path}: not a readable spreadsheet ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise UnreadableFile(f"{path}: spreadsheet is empty")
    values = frame.astype(str).values.tolist()
    header = [str(h).strip() for h in values[0]]
    return header, [(i + 2, [str(v) for v in row]) for i, row in enumerate(values[1:])]


@register("table", "scopus_csv", "wos_tab")
def read_table(path: str, data: bytes, column_map: dict[str, str] | None = None, fmt: str = "table") -> ReadResult:
    """CSV/TSV/XLS(X) with a header row: Scopus, IEEE, ACM, ASReview-style, WoS tab-delimited."""
    result = ReadResult(path=path, format=fmt)
    if path.lower().endswith((".xls", ".xlsx")) or data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        header, rows = _rows_from_excel(path)
        result.encoding = "binary"
    else:
        text, result.encoding = decode(data, path)
        try:
            header, rows = _rows_from_text(text)
        except csv.Error as exc:
            raise UnreadableFile(f"{path}: malformed CSV ({exc})") from None
        except UnreadableFile as exc:
            raise UnreadableFile(f"{path}: {exc}") from None
    if fmt == "wos_tab" or (header[:2] == ["PT", "AU"]):
        result.format = "wos_tab"
        mapping = {WOS_TAGS[h]: h for h in header if h in WOS_TAGS}
    else:
        try:
            mapping = _resolve_columns(header, column_map or {})
        except UnreadableFile as exc:
            raise UnreadableFile(f"{path}: {exc}") from None
    if "title" not in mapping and "abstract" not in mapping:
        raise UnreadableFile(
            f"{path}: no title or abstract column among {header[:15]}; "
            "give ingest.column_map (e.g. title: 'Article Title')"
        )
    width = len(header)
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue  # blank line: not a record
        if len(row) > width and any(cell.strip() for cell in row[width:]):
            result.quarantined.append(
                Quarantined(path, f"line {line}", f"row has {len(row)} fields but the header has {width}")
            )
            continue
        cells = dict(zip(header, row, strict=False))
        fields = {canonical: cells.get(column, "") for canonical, column in mapping.items()}
        if not str(fields.get("title", "")).strip() and not str(fields.get("abstract", "")).strip():
            result.quarantined.append(Quarantined(path, f"line {line}", "record has neither title nor abstract"))
            continue
        result.records.append(RawRecord(f"line {line}", fields))
    return result
