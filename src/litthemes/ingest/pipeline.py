"""Reading export files into the canonical record table, with the per-file accounting."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from litthemes import __version__
from litthemes.cache import ingest_folder, mark_used
from litthemes.config import IngestSettings
from litthemes.ingest.clean import (
    merge_duplicates,
    normalize_record,
    normalize_year,
    record_id,
    screen,
)
from litthemes.ingest.readers import (
    Quarantined,
    RawRecord,
    ReadResult,
    UnreadableFile,
    read_file,
)
from litthemes.tables import RECORDS, atomic_path
from litthemes.versions import NORMALIZATION_VERSION

__all__ = ["UnreadableFile", "expand_inputs", "ingest", "ingest_files"]

log = logging.getLogger(__name__)

_EXPORT_SUFFIXES = {
    ".csv",
    ".tsv",
    ".tab",
    ".txt",
    ".ris",
    ".bib",
    ".json",
    ".jsonl",
    ".ndjson",
    ".xls",
    ".xlsx",
    ".pdf",
    ".md",
    ".markdown",
    ".nbib",
}


def expand_inputs(paths: list[str]) -> list[str]:
    """Files named, plus export files inside named folders (sorted, recursive)."""
    files: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in _EXPORT_SUFFIXES
                and not p.name.startswith(".")
                and not p.stem.upper().startswith("README")
            )
        else:
            files.append(str(path))
    return files


def _empty_flow_row(path: str, fmt: str) -> dict[str, Any]:
    return {
        "file": path,
        "format": fmt,
        "read": 0,
        "quarantined": 0,
        "duplicates": 0,
        "excluded": 0,
        "included": 0,
        "encoding": "",
        "error": "",
    }


def read_normalized(
    path: str, fmt: str, column_map: dict[str, str], cache_dir: str = ""
) -> tuple[ReadResult, list[dict[str, Any]]]:
    """What the reader makes of one file, and each record's normalised fields.

    With ``cache_dir`` both are kept there under a key made from the file's path and
    bytes, the reader settings and the package version, so a rerun after adding a file
    reads and normalises only that file.
    """
    entry = None
    data = None
    if cache_dir:
        try:
            data = Path(path).read_bytes()
        except OSError:
            data = None  # read_file names the problem
        if data is not None:
            digest = hashlib.sha1(data)
            digest.update(
                json.dumps([path, fmt, column_map, __version__, NORMALIZATION_VERSION], sort_keys=True).encode("utf-8")
            )
            # A folder per file path: its versions are alternatives (`litthemes cache prune`).
            entry = Path(cache_dir) / "ingest" / ingest_folder(path) / f"{digest.hexdigest()}.json"
            if entry.exists():
                stored = json.loads(entry.read_text(encoding="utf-8"))
                # The records' raw fields are not kept: their normalised rows stand for them.
                result = ReadResult(
                    path=path,
                    format=stored["format"],
                    encoding=stored["encoding"],
                    records=[RawRecord(location, {}) for location in stored["locations"]],
                    quarantined=[Quarantined(path, location, reason) for location, reason in stored["quarantined"]],
                    notes=stored["notes"],
                )
                mark_used(entry)
                log.info("%s: read before (ingest cache)", path)
                return result, stored["rows"]
    result = read_file(path, fmt, column_map, data)
    rows = [normalize_record(raw.fields) for raw in result.records]
    if entry is not None:
        stored = {
            "format": result.format,
            "encoding": result.encoding,
            "notes": result.notes,
            "locations": [raw.location for raw in result.records],
            "quarantined": [[q.location, q.reason] for q in result.quarantined],
            "rows": rows,
        }
        with atomic_path(entry) as tmp:
            tmp.write_text(json.dumps(stored), encoding="utf-8")
    return result, rows


def ingest_files(
    results: list[ReadResult],
    normalized: list[list[dict[str, Any]]],
    settings: IngestSettings,
    failed: list[dict[str, Any]],
    enrich_client: Any = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """De-duplicate and screen what the readers produced, given each result's records'
    normalised fields (:func:`read_normalized`); build the flow."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for result, result_rows in zip(results, normalized, strict=True):
        for raw, normal in zip(result.records, result_rows, strict=True):
            fields = dict(normal)
            fields["record_id"] = record_id(fields, Path(result.path).name, seen)
            fields.update(
                source_file=result.path,
                source_format=result.format,
                source_location=raw.location,
                status="included",
                duplicate_of="",
                merged_from="",
                excluded_by="",
            )
            rows.append(fields)
    enrichment: dict[str, int] = {}
    if enrich_client is not None:
        from litthemes.ingest.openalex import enrich

        enrichment = enrich(rows, enrich_client)
        for row in rows:
            row["year"] = normalize_year(row["year"])
    df = pd.DataFrame(rows, columns=RECORDS.names)
    df["year"] = df["year"].astype("Int64")
    df = merge_duplicates(df, settings.dedup)
    df = screen(df, settings.screening)
    df = df.sort_values(["source_file", "record_id"], kind="stable").reset_index(drop=True)

    flow_rows = []
    for result in results:
        row = _empty_flow_row(result.path, result.format)
        mine = df[df["source_file"] == result.path]
        counts = Counter(mine["status"])
        row.update(
            read=result.read,
            quarantined=len(result.quarantined),
            duplicates=counts.get("duplicate", 0),
            excluded=counts.get("excluded", 0),
            included=counts.get("included", 0),
            encoding=result.encoding,
        )
        flow_rows.append(row)
    flow_rows.extend(failed)
    totals = {k: sum(r[k] for r in flow_rows) for k in ("read", "quarantined", "duplicates", "excluded", "included")}
    excluded_by = Counter(r.split(":")[0] for r in df.loc[df["status"] == "excluded", "excluded_by"])
    flow = {
        "files": flow_rows,
        "totals": totals,
        "excluded_by_rule": dict(sorted(excluded_by.items())),
        "quarantine": [q.as_dict() for r in results for q in r.quarantined],
        "notes": [n for r in results for n in r.notes] + [f"unreadable: {f['error']}" for f in failed],
        "fields": field_availability(df[df["status"] == "included"]),
        "enrichment": enrichment,
    }
    return df, flow


def field_availability(df: pd.DataFrame) -> dict[str, int]:
    """How many records carry each textual field: what the coding could read."""
    has_abstract = df["abstract"].fillna("").str.len() > 0
    has_fulltext = df["fulltext"].fillna("").str.len() > 0
    return {
        "records": len(df),
        "title": int((df["title"].fillna("").str.len() > 0).sum()),
        "abstract": int(has_abstract.sum()),
        "fulltext": int(has_fulltext.sum()),
        "title_only": int((~has_abstract & ~has_fulltext).sum()),
        "keywords": int((df["keywords"].fillna("").str.len() > 0).sum()),
        "doi": int((df["doi"].fillna("").str.len() > 0).sum()),
        "year": int(df["year"].notna().sum()),
    }


def search_results_file(settings: IngestSettings) -> Path:
    """Where the OpenAlex search (``ingest.openalex.search``) writes the works it found."""
    return Path(settings.openalex.cache_dir) / "search-results.json"


def input_files(paths: list[str], settings: IngestSettings) -> list[str]:
    """The files a run reads: those of :func:`expand_inputs`, then the OpenAlex search's
    results where the search is on."""
    files = expand_inputs(paths)
    if settings.openalex.search:
        files.append(str(search_results_file(settings)))
    return files


def ingest(
    paths: list[str], settings: IngestSettings | None = None, openalex_client: Any = None, cache_dir: str = ""
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read every input file; unreadable files are reported in the flow, not raised.

    ``cache_dir`` (the stage passes ``ingest.cache_dir``): see :func:`read_normalized`.
    """
    settings = settings or IngestSettings()
    files = input_files(paths, settings)
    results: list[ReadResult] = []
    normalized: list[list[dict[str, Any]]] = []
    failed: list[dict[str, Any]] = []
    if settings.openalex.search:
        from litthemes.ingest.openalex import OpenAlexClient, search_to_file

        client = openalex_client or OpenAlexClient(settings.openalex.cache_dir, settings.openalex.email)
        n = search_to_file(
            client, settings.openalex.query, settings.openalex.max_records, search_results_file(settings)
        )
        log.info("OpenAlex search returned %d works", n)
    for path in files:
        fmt = settings.formats.get(path, "auto")
        try:
            result, rows = read_normalized(path, fmt, settings.column_map, cache_dir)
        except UnreadableFile as exc:
            log.error("%s", exc)
            row = _empty_flow_row(path, fmt)
            row["error"] = str(exc)
            failed.append(row)
            continue
        log.info(
            "%s: %s, %d records, %d quarantined", path, result.format, len(result.records), len(result.quarantined)
        )
        for note in result.notes:
            log.info("%s", note)
        results.append(result)
        normalized.append(rows)
    enrich_client = None
    if settings.openalex.enrich_dois:
        from litthemes.ingest.openalex import OpenAlexClient

        enrich_client = openalex_client or OpenAlexClient(settings.openalex.cache_dir, settings.openalex.email)
    return ingest_files(results, normalized, settings, failed, enrich_client)
