"""Readers for literature exports, each yielding raw records and quarantine entries.

A reader never raises on a bad record: it quarantines it with the file, the
location (line, row or entry) and the reason. Only a file that cannot be read
at all raises :class:`UnreadableFile`, with the file name and the reason.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from charset_normalizer import from_bytes

csv.field_size_limit(1 << 30)

FORMATS = (
    "scopus_csv",
    "wos_txt",
    "wos_tab",
    "ris",
    "bibtex",
    "openalex_json",
    "table",
    "fulltext_text",
    "fulltext_pdf",
)


class UnreadableFile(ValueError):
    """The whole file cannot be read (empty, binary garbage, unknown format)."""


@dataclass
class RawRecord:
    """One record as read, with canonical field names, before normalisation."""

    location: str
    fields: dict[str, Any]


@dataclass
class Quarantined:
    """A record that could not be read, and why."""

    file: str
    location: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "location": self.location, "reason": self.reason}


@dataclass
class ReadResult:
    """What one reader produced from one file."""

    path: str
    format: str
    records: list[RawRecord] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    encoding: str = "utf-8"

    @property
    def read(self) -> int:
        return len(self.records) + len(self.quarantined)


# --------------------------------------------------------------------------- decoding


def decode(data: bytes, path: str) -> tuple[str, str]:
    """Decode bytes as UTF-8 (with or without BOM), else the detected 8-bit encoding."""
    if not data.strip():
        raise UnreadableFile(f"{path}: file is empty")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[: 1 << 20]).best()
    detected = best.encoding if best is not None else "cp1252"
    # Exports that are not UTF-8 are nearly always Windows-1252/Latin-1, or Mac Roman
    # when saved by Excel on a Mac; detection on short files often proposes exotic
    # code pages instead, so those candidates are compared by how plausible the text is.
    candidates = ["cp1252", "mac_roman"] + ([detected] if detected in ("utf_16", "utf_16_le", "utf_16_be") else [])
    scored = []
    for candidate in candidates:
        try:
            decoded = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        scored.append((_plausibility(decoded), -candidates.index(candidate), candidate, decoded))
    if scored:
        _, _, encoding, text = max(scored)
    else:
        text, encoding = data.decode("latin-1"), "latin-1"
    # Files merged from several exports mix UTF-8 lines with legacy ones: keep each
    # line that is valid UTF-8 as UTF-8.
    lines = data.splitlines(keepends=True)
    mixed = []
    utf8_lines = 0
    for line in lines:
        try:
            mixed.append(line.decode("utf-8"))
            utf8_lines += any(b > 127 for b in line)
        except UnicodeDecodeError:
            mixed.append(line.decode(encoding, errors="replace"))
    if utf8_lines:
        text, encoding = "".join(mixed), f"utf-8+{encoding}"
    if "\x00" in text:
        raise UnreadableFile(f"{path}: binary content (NUL bytes) in a text export")
    return text.lstrip("\ufeff"), encoding


_TYPOGRAPHIC = re.compile(r"[\u2018\u2019\u201c\u201d\u2013\u2014\u00e9\u00e8\u00e0\u00fc\u00f6\u00e4\u00f1\u00e7]")
_MOJIBAKE = re.compile(r"[A-Za-z][\u00d5\u00d2\u00d3\u00d4\u00d0\u00d1\u00c9\u00ca][A-Za-z\s]|\u00e2[\u0080-\u00bf\u20ac\u201a-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u0152\u0160\u0178\u017d\u02c6\u02dc\u2122\u0153\u0161\u017e]")


def _plausibility(text: str) -> int:
    """Typographic characters count for an encoding, letter-mojibake-letter against it."""
    return len(_TYPOGRAPHIC.findall(text)) - 3 * len(_MOJIBAKE.findall(text))


# --------------------------------------------------------------------------- detection

_WOS_TAG = re.compile(r"^(FN|VR|PT) ", re.M)
_RIS_TAG = re.compile(r"^TY  - ", re.M)
_BIB_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)


def detect_format(path: str | Path, head: bytes) -> str:
    """Guess a file's format from its content (and extension for binary formats)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf" or head.startswith(b"%PDF"):
        return "fulltext_pdf"
    if suffix in (".xls", ".xlsx") or head.startswith(b"PK\x03\x04") or head.startswith(
        b"\xd0\xcf\x11\xe0"
    ):
        return "table"
    try:
        text = head.decode("utf-8-sig", errors="replace")
    except Exception:  # pragma: no cover - decode with errors=replace never fails
        text = ""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")) and suffix in (".json", ".jsonl", ".ndjson", ""):
        return "openalex_json"
    if stripped.startswith("{") or (stripped.startswith("[") and '"id"' in stripped[:2000]):
        return "openalex_json"
    first_line = stripped.split("\n", 1)[0]
    if first_line.startswith(("FN ", "VR ", "PT ")) and _WOS_TAG.search(text):
        return "wos_txt"
    if first_line.startswith("PT\t") or first_line.startswith("PT\tAU"):
        return "wos_tab"
    if _RIS_TAG.search(text[:20000]):
        return "ris"
    if _BIB_ENTRY.search(text[:20000]):
        return "bibtex"
    if suffix in (".csv", ".tsv", ".tab"):
        if "EID" in first_line and ("Source title" in first_line or "Title" in first_line):
            return "scopus_csv"
        return "table"
    if suffix in (".txt", ".md", ".markdown", ".text"):
        return "fulltext_text"
    if "," in first_line or "\t" in first_line:
        return "table"
    raise UnreadableFile(f"{path}: cannot tell the format from its content; set ingest.formats")


# --------------------------------------------------------------------------- tabular

# Canonical field -> column names seen in real exports (case-insensitive match).
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("id", "record_id", "eid", "ut", "ut (unique wos id)", "key", "openalex_id",
                  "accession number", "an"),
    "title": ("title", "document title", "article title", "item title", "ti", "primary title"),
    "abstract": ("abstract", "ab", "summary"),
    "year": ("year", "publication year", "py", "pubyear", "date", "publication_year"),
    "doi": ("doi", "item doi", "di"),
    "url": ("url", "urls", "link", "pdf link"),
    "authors": ("authors", "author", "au", "author full names", "af", "author names"),
    "venue": ("venue", "source title", "publication title", "journal", "so", "source",
              "proceedings title", "book title", "publication"),
    "keywords": ("keywords", "author keywords", "de", "index keywords", "id", "ieee terms"),
    "language": ("language", "language of original document", "la"),
    "doc_type": ("document type", "doc_type", "dt", "item type", "content type", "type", "pt"),
    "label": ("label", "label_included", "included", "decision"),
}

# Web of Science two-letter tags -> canonical field.
WOS_TAGS: dict[str, str] = {
    "UT": "source_id", "TI": "title", "AB": "abstract", "PY": "year", "DI": "doi",
    "AU": "authors", "AF": "authors_full", "SO": "venue", "DE": "keywords", "ID": "keywords_plus",
    "LA": "language", "DT": "doc_type", "PT": "pub_type",
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


def read_table(path: str, data: bytes, column_map: dict[str, str] | None = None,
               fmt: str = "table") -> ReadResult:
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
        mapping = _resolve_columns(header, column_map or {})
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


# --------------------------------------------------------------------------- Web of Science


_WOS_TAG = re.compile(r"[A-Z][A-Z0-9](?: |$)")


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
                    result.quarantined.append(
                        Quarantined(path, f"line {start_line}", "record has neither TI nor AB")
                    )
            current = None
            continue
        if head == "EF":
            continue
        if _WOS_TAG.match(line):
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


# --------------------------------------------------------------------------- RIS

_RIS_ENTRY_END = re.compile(r"^ER\s{2}-", re.M)


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
        result.quarantined.append(Quarantined(path, f"line {start}", "entry not terminated by 'ER  -' (file truncated?)"))
    return result


def _ris_entry(result: ReadResult, path: str, chunk: list[str], start: int, rispy: Any) -> None:
    location = f"line {start}"
    if not chunk[0].startswith("TY  -"):
        result.quarantined.append(Quarantined(path, location, f"entry does not start with 'TY  -' (starts {chunk[0][:30]!r})"))
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


# --------------------------------------------------------------------------- BibTeX

_BIB_FIELD = re.compile(r"^(\s*)([A-Za-z][\w\-]*(?:[ \xa0]+[\w\-]+)*)\s*=", re.M)
_BIB_NON_ENTRY = ("@comment", "@string", "@preamble")


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
    starts = [m.start() for m in _BIB_ENTRY.finditer(text)]
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
                line = match.group(1) + new_name + " =" + line[match.end():]
        out.append(line)
        depth += line.count("{") - line.count("}")
    return "".join(out), sorted(k for k, v in seen.items() if v > 1)


def _bib_clean(value: str) -> str:
    value = re.sub(r"[{}]", "", value or "")
    value = value.replace("\\&", "&").replace("\\%", "%").replace("\\_", "_")
    return re.sub(r"\s+", " ", value).strip()


def _line_index(text: str) -> Callable[[int], int]:
    import bisect

    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    return lambda offset: bisect.bisect_left(newlines, offset) + 1


# --------------------------------------------------------------------------- OpenAlex


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


# --------------------------------------------------------------------------- full texts


def read_fulltext_text(path: str, data: bytes) -> ReadResult:
    """A plain-text or Markdown document: one record, title from its first heading or line."""
    text, encoding = decode(data, path)
    result = ReadResult(path=path, format="fulltext_text", encoding=encoding)
    body = text.replace("\r\n", "\n").strip()
    title = ""
    for line in body.splitlines():
        if line.strip():
            title = line.strip().lstrip("#").strip()
            break
    year_match = re.search(r"\b(19[5-9]\d|20[0-4]\d)\b", body[:2000])
    result.records.append(
        RawRecord("document", {"source_id": Path(path).stem, "title": title[:500], "fulltext": body,
                               "year": year_match.group(1) if year_match else ""})
    )
    return result


def read_fulltext_pdf(path: str, data: bytes) -> ReadResult:
    """A PDF with a text layer: one record; pages without text are noted."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    result = ReadResult(path=path, format="fulltext_pdf", encoding="binary")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableFile(f"{path}: not a readable PDF ({type(exc).__name__}: {exc})") from None
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    if not body:
        result.quarantined.append(Quarantined(path, "document", "PDF has no text layer (scanned?); run OCR first"))
        return result
    meta_title = ""
    try:
        meta_title = (reader.metadata.title or "") if reader.metadata else ""
    except Exception:  # broken metadata dictionaries are common and harmless
        meta_title = ""
    title = meta_title.strip() or body.split("\n", 1)[0].strip()
    result.records.append(
        RawRecord("document", {"source_id": Path(path).stem, "title": title[:500], "fulltext": body})
    )
    return result


# --------------------------------------------------------------------------- dispatch


def read_file(path: str | Path, fmt: str = "auto", column_map: dict[str, str] | None = None,
              data: bytes | None = None) -> ReadResult:
    """Read one export file with the reader for ``fmt`` (``auto`` detects it); ``data``:
    its bytes, when the caller has read them already."""
    path = str(path)
    if data is None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise UnreadableFile(f"{path}: cannot open ({exc.strerror})") from None
    if not data.strip():
        raise UnreadableFile(f"{path}: file is empty")
    if fmt == "auto":
        fmt = detect_format(path, data[:65536])
    if fmt not in FORMATS:
        raise UnreadableFile(f"{path}: unknown format {fmt!r}; allowed: {', '.join(FORMATS)}")
    if fmt in ("table", "scopus_csv", "wos_tab"):
        result = read_table(path, data, column_map, fmt)
    elif fmt == "wos_txt":
        result = read_wos_txt(path, data)
    elif fmt == "ris":
        result = read_ris(path, data)
    elif fmt == "bibtex":
        result = read_bibtex(path, data)
    elif fmt == "openalex_json":
        result = read_openalex(path, data)
    elif fmt == "fulltext_pdf":
        result = read_fulltext_pdf(path, data)
    else:
        result = read_fulltext_text(path, data)
    return result
