"""RIS (EndNote, Zotero, Mendeley, Scopus and others), parsed entry by entry with rispy."""

from __future__ import annotations

import re
from typing import Any

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, decode
from litthemes.ingest.readers.registry import register

_RIS_ENTRY_END = re.compile(r"^ER\s{2}-", re.M)


@register("ris")
def read_ris(path: str, data: bytes) -> ReadResult:
    """RIS from any database, parsed entry by entry with rispy (N2 counts as abstract)."""
    import rispy

    text, encoding = decode(data, path)
    result = ReadResult(path=path, format="ris", encoding=encoding)
    lines = text.splitlines()
    chunk: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if not chunk and not line.strip():
            continue
        if not chunk:
            start = number
        chunk.append(line)
        if _RIS_ENTRY_END.match(line):
            _ris_entry(result, path, chunk, start, rispy)
            chunk = []
    if any(line.strip() for line in chunk):
        result.quarantined.append(
            Quarantined(path, f"line {start}", "entry not terminated by 'ER  -' (file truncated?)")
        )
    return result


def _ris_entry(result: ReadResult, path: str, chunk: list[str], start: int, rispy: Any) -> None:
    location = f"line {start}"
    if not chunk[0].startswith("TY  -"):
        result.quarantined.append(
            Quarantined(path, location, f"entry does not start with 'TY  -' (starts {chunk[0][:30]!r})")
        )
        return
    try:
        entries = rispy.loads("\n".join(chunk), skip_unknown_tags=True)
    except Exception as exc:  # rispy raises plain IOError/ValueError on malformed tags
        result.quarantined.append(Quarantined(path, location, f"malformed RIS entry ({exc})"))
        return
    if len(entries) != 1:
        result.quarantined.append(Quarantined(path, location, f"RIS entry parsed as {len(entries)} records"))
        return
    entry = entries[0]
    title = entry.get("title") or entry.get("primary_title") or entry.get("translated_title") or ""
    abstract = entry.get("abstract") or entry.get("notes_abstract") or ""
    if not title and not abstract:
        result.quarantined.append(Quarantined(path, location, "record has neither title (TI/T1) nor abstract (AB/N2)"))
        return
    authors = entry.get("authors") or entry.get("first_authors") or []
    year = entry.get("year") or entry.get("publication_year") or entry.get("date") or ""
    fields = {
        "source_id": entry.get("id") or entry.get("accession_number") or "",
        "title": title,
        "abstract": abstract,
        "year": year,
        "doi": entry.get("doi") or "",
        "url": "; ".join(entry.get("urls") or []),
        "authors": "; ".join(authors),
        "venue": entry.get("secondary_title") or entry.get("journal_name") or entry.get("alternate_title1") or "",
        "keywords": "; ".join(entry.get("keywords") or []),
        "language": entry.get("language") or "",
        "doc_type": entry.get("type_of_reference") or "",
    }
    result.records.append(RawRecord(location, fields))
