"""OpenAlex works saved as JSON (a list, an API page, or JSON lines)."""

from __future__ import annotations

import json
from typing import Any

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, UnreadableFile, decode
from litthemes.ingest.readers.registry import register


def rebuild_abstract(inverted: dict[str, list[int]] | None) -> str:
    """Rebuild an abstract from OpenAlex's ``abstract_inverted_index``."""
    if not inverted:
        return ""
    positions: dict[int, str] = {}
    for word, places in inverted.items():
        for place in places or []:
            if isinstance(place, int):
                positions[place] = word
    return " ".join(positions[i] for i in sorted(positions))


def openalex_fields(work: dict[str, Any]) -> dict[str, Any]:
    """Canonical fields of one OpenAlex work object."""
    location = work.get("primary_location") or {}
    source = (location.get("source") or {}) if isinstance(location, dict) else {}
    venue = source.get("display_name") or (work.get("host_venue") or {}).get("display_name") or ""
    authors = []
    for authorship in work.get("authorships") or []:
        name = ((authorship or {}).get("author") or {}).get("display_name")
        if name:
            authors.append(name)
    keywords = [k.get("display_name", "") for k in work.get("keywords") or [] if isinstance(k, dict)]
    if not keywords:
        keywords = [c.get("display_name", "") for c in (work.get("concepts") or [])[:8] if isinstance(c, dict)]
    return {
        "source_id": work.get("id") or "",
        "title": work.get("title") or work.get("display_name") or "",
        "abstract": rebuild_abstract(work.get("abstract_inverted_index")),
        "year": work.get("publication_year") or "",
        "doi": work.get("doi") or "",
        "url": (location.get("landing_page_url") if isinstance(location, dict) else "") or "",
        "authors": "; ".join(authors),
        "venue": venue,
        "keywords": "; ".join(k for k in keywords if k),
        "language": work.get("language") or "",
        "doc_type": work.get("type") or "",
    }


@register("openalex_json")
def read_openalex(path: str, data: bytes) -> ReadResult:
    """OpenAlex works: a JSON list, JSON Lines, or API result pages (``{"results": [...]}``)."""
    text, encoding = decode(data, path)
    result = ReadResult(path=path, format="openalex_json", encoding=encoding)
    items: list[tuple[str, Any]] = []
    try:
        parsed = json.loads(text)
        if isinstance(parsed, dict) and "results" in parsed:
            items = [(f"results[{i}]", w) for i, w in enumerate(parsed["results"] or [])]
        elif isinstance(parsed, dict):
            items = [("object", parsed)]
        elif isinstance(parsed, list):
            items = [(f"item {i}", w) for i, w in enumerate(parsed)]
        else:
            raise UnreadableFile(f"{path}: JSON is neither a work, a list of works nor a result page")
    except json.JSONDecodeError as exc:
        lines = [ln for ln in text.splitlines()]
        if len([ln for ln in lines if ln.strip()]) <= 1:
            raise UnreadableFile(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                items.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as line_exc:
                result.quarantined.append(Quarantined(path, f"line {number}", f"invalid JSON ({line_exc.msg})"))
    for location, work in items:
        if not isinstance(work, dict):
            result.quarantined.append(Quarantined(path, location, f"not a work object ({type(work).__name__})"))
            continue
        try:
            fields = openalex_fields(work)
        except (AttributeError, TypeError) as exc:
            result.quarantined.append(Quarantined(path, location, f"malformed work object ({exc})"))
            continue
        if not fields["title"] and not fields["abstract"]:
            result.quarantined.append(Quarantined(path, location, "work has neither title nor abstract"))
            continue
        result.records.append(RawRecord(location, fields))
    return result
