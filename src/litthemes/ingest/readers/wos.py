"""Web of Science plain-text ("tagged") export."""

from __future__ import annotations

import re
from typing import Any

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, decode
from litthemes.ingest.readers.registry import register

# Web of Science two-letter tags -> canonical field.
WOS_TAGS: dict[str, str] = {
    "UT": "source_id",
    "TI": "title",
    "AB": "abstract",
    "PY": "year",
    "EA": "early_access",
    "DI": "doi",
    "AU": "authors",
    "AF": "authors_full",
    "SO": "venue",
    "DE": "keywords",
    "ID": "keywords_plus",
    "LA": "language",
    "DT": "doc_type",
    "PT": "pub_type",
}

_TAGGED_LINE = re.compile(r"[A-Z][A-Z0-9](?: |$)")


@register("wos_txt")
def read_wos_txt(path: str, data: bytes) -> ReadResult:
    """Web of Science plain-text ('tagged') export; continuation lines start with spaces."""
    text, encoding = decode(data, path)
    result = ReadResult(path=path, format="wos_txt", encoding=encoding)
    current: dict[str, list[str]] | None = None
    start_line = 0
    tag = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head = line[:2]
        if line.startswith("   ") and current is not None:
            current.setdefault(tag, []).append(line.strip())
            continue
        if head in ("FN", "VR", "EF") and current is None:
            continue
        if head == "ER":
            if current is not None:
                result.records.append(_wos_record(current, f"line {start_line}"))
                if not current.get("TI") and not current.get("AB"):
                    result.records.pop()
                    result.quarantined.append(Quarantined(path, f"line {start_line}", "record has neither TI nor AB"))
            current = None
            continue
        if head == "EF":
            continue
        if _TAGGED_LINE.match(line):
            tag = head
            if current is None:
                if tag != "PT":
                    result.quarantined.append(
                        Quarantined(path, f"line {number}", f"tag {tag} outside a record (no PT line before it)")
                    )
                    tag = ""
                    continue
                current = {}
                start_line = number
            current.setdefault(tag, []).append(line[3:].strip())
        elif current is not None:
            current.setdefault(tag or "XX", []).append(line.strip())
    if current is not None:
        result.quarantined.append(
            Quarantined(path, f"line {start_line}", "record not terminated by ER (file truncated?)")
        )
    return result


_WOS_LIST_TAGS = {"AU", "AF"}


def _wos_record(tags: dict[str, list[str]], location: str) -> RawRecord:
    fields: dict[str, Any] = {}
    for tag, lines in tags.items():
        name = WOS_TAGS.get(tag)
        if not name:
            continue
        if tag in _WOS_LIST_TAGS:
            fields[name] = "; ".join(lines)
        elif tag in ("DE", "ID"):
            fields[name] = " ".join(lines)
        else:
            fields[name] = " ".join(lines)
    if fields.get("keywords_plus") and not fields.get("keywords"):
        fields["keywords"] = fields["keywords_plus"]
    fields.pop("keywords_plus", None)
    if not fields.get("doc_type") and fields.get("pub_type"):
        fields["doc_type"] = {"J": "article", "C": "conference", "B": "book"}.get(fields["pub_type"], "")
    fields.pop("pub_type", None)
    return RawRecord(location, fields)
