"""BibTeX, parsed entry by entry with bibtexparser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from litthemes.ingest.readers.base import (
    Quarantined,
    RawRecord,
    ReadResult,
    UnreadableFile,
    decode,
)
from litthemes.ingest.readers.registry import BIB_ENTRY, register

_BIB_FIELD = re.compile(r"^(\s*)([A-Za-z][\w\-]*(?:[ \xa0]+[\w\-]+)*)\s*=", re.M)
_BIB_NON_ENTRY = ("@comment", "@string", "@preamble")


@register("bibtex")
def read_bibtex(path: str, data: bytes) -> ReadResult:
    """BibTeX from Zotero, JabRef, Scopus, WoS.

    Entries are parsed one by one so a bad entry is quarantined instead of silently
    dropped. bibtexparser rejects an entry that repeats a field (Scopus repeats
    ``funding_details``), so repeated fields are renamed before parsing and resolved
    afterwards to their longest value, and the repetition is logged.
    """
    from bibtexparser.bparser import BibTexParser

    text, encoding = decode(data, path)
    result = ReadResult(path=path, format="bibtex", encoding=encoding)
    starts = [m.start() for m in BIB_ENTRY.finditer(text)]
    if not starts:
        raise UnreadableFile(f"{path}: no BibTeX entries found")
    line_of = _line_index(text)
    for i, begin in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[begin:end]
        location = f"line {line_of(begin)}"
        if chunk.lstrip().lower().startswith(_BIB_NON_ENTRY):
            continue
        chunk, repeated = _rename_repeated_fields(chunk)
        parser = BibTexParser(common_strings=True, interpolate_strings=False)
        parser.ignore_nonstandard_types = False
        parser.homogenize_fields = False
        try:
            entries = parser.parse(chunk).entries
        except Exception as exc:  # pyparsing errors carry no common base we can name
            result.quarantined.append(Quarantined(path, location, f"malformed BibTeX entry ({type(exc).__name__})"))
            continue
        if len(entries) != 1:
            result.quarantined.append(
                Quarantined(path, location, "malformed BibTeX entry (unbalanced braces, bad field name or missing key)")
            )
            continue
        entry = {k.lower(): _bib_value(v) for k, v in entries[0].items()}
        for name in repeated:
            copies = sorted(k for k in entry if k == name or k.startswith(name + "__repeat"))
            values = [entry.pop(k) for k in copies]
            if not values:
                continue  # the parser dropped the field altogether (a malformed name)
            entry[name] = max(values, key=len)
            result.notes.append(
                f"{path} {location} entry {entry.get('id', '?')}: field {name!r} appears {len(values)} times; "
                "kept the longest value"
            )
        title = _bib_clean(entry.get("title", ""))
        abstract = _bib_clean(entry.get("abstract", ""))
        if not title and not abstract:
            result.quarantined.append(Quarantined(path, location, "entry has neither title nor abstract"))
            continue
        authors = [a.strip() for a in _bib_clean(entry.get("author", "")).split(" and ") if a.strip()]
        fields = {
            "source_id": entry.get("id", ""),
            "title": title,
            "abstract": abstract,
            "year": _bib_clean(entry.get("year", "")),
            "early_access": _bib_clean(entry.get("early_access_date", "")),
            "doi": _bib_clean(entry.get("doi", "")),
            "url": _bib_clean(entry.get("url", "")),
            "authors": "; ".join(authors),
            "venue": _bib_clean(entry.get("journal") or entry.get("booktitle") or entry.get("publisher") or ""),
            "keywords": _bib_clean(entry.get("author_keywords") or entry.get("keywords") or ""),
            "language": _bib_clean(entry.get("language", "")),
            "doc_type": entry.get("document_type") or entry.get("type") or entry.get("entrytype", ""),
        }
        result.records.append(RawRecord(location, fields))
    return result


def _bib_value(value: Any) -> str:
    """Values joined with '#' or written as @string macros come back as expression
    objects: resolve them to their text; an undefined macro stands for its own name."""
    if isinstance(value, str):
        return value
    from bibtexparser.bibdatabase import UndefinedString, as_text

    try:
        return str(as_text(value))
    except UndefinedString:
        parts = getattr(value, "expr", [value])
        return "".join(p if isinstance(p, str) else str(getattr(p, "name", p)) for p in parts)


def _rename_repeated_fields(chunk: str) -> tuple[str, list[str]]:
    """Give every repeat of a field name a unique suffix; also turn names with spaces
    ('Early Access Date', 'funding_text<nbsp>1'), which bibtexparser rejects, into
    snake_case. Only names at brace depth 1 (between values) are touched."""
    seen: dict[str, int] = {}
    out: list[str] = []
    depth = 0
    for line in chunk.splitlines(keepends=True):
        if depth == 1:
            match = _BIB_FIELD.match(line)
            if match:
                name = re.sub(r"[ \xa0]+", "_", match.group(2).lower())
                seen[name] = seen.get(name, 0) + 1
                new_name = name if seen[name] == 1 else f"{name}__repeat{seen[name]}"
                line = match.group(1) + new_name + " =" + line[match.end() :]
        out.append(line)
        depth += line.count("{") - line.count("}")
    return "".join(out), sorted(k for k, v in seen.items() if v > 1)


# What LaTeX leaves in the text of Scopus, WoS and reference-manager exports (counted in
# the shared .bib files: escaped &, %, $ and TeX quotes; no accent commands).
_LATEX_TEXT = {"\\&": "&", "\\%": "%", "\\_": "_", "\\$": "$", "``": "\u201c", "''": "\u201d"}


def _bib_clean(value: str) -> str:
    value = re.sub(r"[{}]", "", value or "")
    for latex, text in _LATEX_TEXT.items():
        value = value.replace(latex, text)
    return re.sub(r"\s+", " ", value).strip()


def _line_index(text: str) -> Callable[[int], int]:
    import bisect

    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    return lambda offset: bisect.bisect_left(newlines, offset) + 1
