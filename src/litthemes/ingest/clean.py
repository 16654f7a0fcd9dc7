"""Normalisation of raw fields, de-duplication and screening."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import defaultdict
from typing import Any

import pandas as pd
from rapidfuzz import fuzz

from litthemes.config import DedupSettings, ScreeningSettings

_DOI = re.compile(r"10\.\d{4,9}/\S+", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_WS = re.compile(r"\s+")

# Markup that databases leave in titles and abstracts: Crossref, OpenAlex and PubMed carry
# HTML and JATS (<i>, <sup>, <scp>, <xref>, <h3>Methods</h3>, <jats:p>), Scopus <inf>,
# some MathML. Left in, it shows as raw tags in the brief and the QDA export and is read
# as words by the cues and the encoder (384 of the 12,000 archaeology records of the
# benchmark corpus carry some).
_BLOCK = r"p|br|div|h[1-6]|jats:(?:p|title|sec|list-item)"
_INLINE = r"i|b|u|em|strong|bold|italic|sup|sub|inf|scp|sc|small|span|xref|jats:[a-z-]+|mml:[a-z-]+"
_BLOCK_TAGS = re.compile(_BLOCK, re.I)
_MARKUP = re.compile(rf"<(/?)({_BLOCK}|{_INLINE})(?:\s[^<>]*)?/?>", re.I)


def _markup_gap(match: re.Match[str]) -> str:
    """What stands in for a tag: a space for a block, and for an opening tag that joins two
    words ("in<i>eEF2K</i>", where the database dropped the space); nothing otherwise
    ("rFVII</scp>a", "m<sup>2</sup>")."""
    closing, name = match.group(1), match.group(2).lower()
    if _BLOCK_TAGS.fullmatch(name):
        return " "
    text, start, end = match.string, match.start(), match.end()
    joins = start > 0 and end < len(text) and text[start - 1].isalnum() and text[end].isalnum()
    return " " if joins and not closing and name not in ("sup", "sub", "inf") else ""


LANGUAGES = {
    "english": "en",
    "eng": "en",
    "en": "en",
    "german": "de",
    "deutsch": "de",
    "ger": "de",
    "french": "fr",
    "fre": "fr",
    "fra": "fr",
    "spanish": "es",
    "spa": "es",
    "portuguese": "pt",
    "por": "pt",
    "chinese": "zh",
    "chi": "zh",
    "zho": "zh",
    "russian": "ru",
    "rus": "ru",
    "ukrainian": "uk",
    "ukr": "uk",
    "italian": "it",
    "ita": "it",
    "dutch": "nl",
    "japanese": "ja",
    "korean": "ko",
    "turkish": "tr",
    "arabic": "ar",
    "polish": "pl",
    "indonesian": "id",
}

DOC_TYPES = (
    ("review", ("review",)),
    ("conference", ("conference", "proceedings", "inproceedings", "conf", "cpaper", "meeting")),
    ("chapter", ("chapter", "chap", "inbook", "incollection", "book-chapter")),
    ("book", ("book",)),
    ("report", ("report", "rprt", "techreport", "grey", "gov")),
    ("thesis", ("thesis", "dissertation", "phdthesis", "mastersthesis")),
    ("erratum", ("erratum", "correction", "retract")),
    ("editorial", ("editorial", "letter", "note", "comment")),
    ("preprint", ("preprint", "posted-content")),
    ("article", ("article", "journal", "jour", "j", "research-article")),
)


def clean_text(value: Any) -> str:
    """Collapse whitespace, unescape HTML entities, drop inline markup and control characters."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = html.unescape(str(value))
    if "<" in text:
        text = _MARKUP.sub(_markup_gap, text)
    # isprintable() is False for every category-C character (and for some spaces), so
    # text that passes it has nothing to drop; the per-character pass is the slow part.
    if not text.isprintable():
        text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    return _WS.sub(" ", text).strip()


_NO_ABSTRACT = re.compile(r"^\[?\s*no abstract( available)?\s*\]?\.?$", re.I)


# A publisher's notice closing an abstract ("© 2020 Elsevier Ltd. All rights reserved.",
# "(C) 2015 ...", a licence statement): it starts a sentence and runs to the end. Left
# in, it becomes a segment that is embedded and coded (a notice naming "the UNESCO
# Institute for Lifelong Learning" was coded as lifelong learning), and its words
# (Elsevier, rights reserved) become topic terms.
_NOTICE = re.compile(
    r"(?:^|(?<=[.!?)\]])\s+)"
    r"(?=(?:©|\(c\)\s*(?:\d{4}|the authors?)|copyright\b|crown copyright|all rights reserved"
    r"|this is an open access article|this article is protected by copyright))"
    r".{0,400}$",
    re.I | re.S,
)
_NOTICE_HINTS = ("©", "(c)", "copyright", "rights reserved", "open access article")


def strip_publisher_notice(text: str) -> str:
    """``text`` without a closing publisher's notice (see _NOTICE)."""
    lowered = text.lower()
    if not any(hint in lowered for hint in _NOTICE_HINTS):
        return text
    match = _NOTICE.search(text)
    return text[: match.start()].rstrip() if match else text


def normalize_abstract(value: Any) -> str:
    """Abstract text, with databases' placeholders ('[No abstract available]') as empty
    and a closing publisher's notice (copyright, licence) removed."""
    text = clean_text(value)
    return "" if _NO_ABSTRACT.match(text) else strip_publisher_notice(text)


def normalize_doi(value: Any) -> str:
    """Lower-case bare DOI ('10.x/y'), or '' when the value holds none."""
    match = _DOI.search(clean_text(value))
    if not match:
        return ""
    doi = match.group(0).rstrip(".,;)]}").lower()
    return doi


def normalize_year(value: Any) -> int | None:
    """Four-digit publication year from a year, a date or free text."""
    if isinstance(value, int) and 1800 <= value <= 2100:
        return value
    match = _YEAR.search(clean_text(value))
    return int(match.group(1)) if match else None


_MONTH_AND_SHORT_YEAR = re.compile(r"^[A-Za-z]{3,9}[- ](\d{2})$")


def early_access_year(value: Any) -> int | None:
    """The year of a Web of Science early-access date ("NOV 2021", or "Nov-21" once a
    spreadsheet has rewritten it): an article online ahead of its issue has no
    publication year yet, and this is when it appeared."""
    year = normalize_year(value)
    if year is None and (match := _MONTH_AND_SHORT_YEAR.match(clean_text(value))):
        year = 2000 + int(match.group(1))  # early access began in the 2010s
    return year


def normalize_language(value: Any) -> str:
    text = clean_text(value).lower().split(";")[0].strip()
    return LANGUAGES.get(text, text[:2] if len(text) == 2 else (text and "other"))


def normalize_doc_type(value: Any) -> str:
    text = clean_text(value).lower()
    if not text:
        return ""
    for name, cues in DOC_TYPES:
        if any(cue == text or cue in text.split() or (len(cue) > 4 and cue in text) for cue in cues):
            return name
    return "other"


def normalize_authors(value: Any) -> str:
    """'; '-separated author list; accepts ';', ' and ' or Scopus-style separators."""
    text = clean_text(value)
    if not text:
        return ""
    parts = re.split(r";\s*|\s+and\s+|\s*&\s*", text)
    return "; ".join(p.strip(" ,") for p in parts if p.strip(" ,"))


def normalize_title(value: Any) -> str:
    text = clean_text(value)
    return text.rstrip(" .")


def title_key(title: str) -> str:
    """Accent-, case- and punctuation-free title for matching."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9 ]+", " ", text.lower())
    return _WS.sub(" ", text).strip()


def normalize_record(fields: dict[str, Any]) -> dict[str, Any]:
    """Canonical, cleaned fields of one raw record."""
    keywords = clean_text(fields.get("keywords"))
    keywords = "; ".join(k.strip() for k in re.split(r";|,(?=\s)", keywords) if k.strip()) if keywords else ""
    url = clean_text(fields.get("url")).split(" ")[0].split(";")[0]
    doi = normalize_doi(fields.get("doi")) or (normalize_doi(url) if "doi.org" in url else "")
    return {
        "source_id": clean_text(fields.get("source_id")),
        "title": normalize_title(fields.get("title")),
        "abstract": normalize_abstract(fields.get("abstract")),
        "fulltext": str(fields.get("fulltext") or ""),
        "year": normalize_year(fields.get("year")) or early_access_year(fields.get("early_access")),
        "doi": doi,
        "url": url,
        "authors": normalize_authors(fields.get("authors")),
        "venue": clean_text(fields.get("venue")),
        "keywords": keywords,
        "language": normalize_language(fields.get("language")),
        "doc_type": normalize_doc_type(fields.get("doc_type")),
    }


def record_id(fields: dict[str, Any], source_file: str, seen: set[str]) -> str:
    """Stable id from content (DOI, else title, year, first author) and source file name,
    so adding records to an export does not renumber the others."""
    basis = fields["doi"] or f"{title_key(fields['title'])}|{fields['year']}|{fields['authors'][:40]}"
    digest = hashlib.sha1(f"{source_file}|{basis}".encode()).hexdigest()[:12]
    rid = f"r{digest}"
    n = 1
    while rid in seen:
        n += 1
        rid = f"r{digest}-{n}"
    seen.add(rid)
    return rid


# --------------------------------------------------------------------------- dedup

_RICHNESS_FIELDS = (
    "title",
    "abstract",
    "fulltext",
    "year",
    "doi",
    "url",
    "authors",
    "venue",
    "keywords",
    "language",
    "doc_type",
)


def _filled(value: Any) -> bool:
    return not pd.isna(value) and bool(value) if not isinstance(value, str) else bool(value)


def _richness(row: pd.Series) -> tuple[int, int, int]:
    filled = sum(_filled(row[f]) for f in _RICHNESS_FIELDS)
    return (len(row["fulltext"] or "") > 0, filled, len(row["abstract"] or ""))


def find_duplicates(df: pd.DataFrame, settings: DedupSettings) -> list[list[int]]:
    """Clusters (positions in ``df``) of records that are the same work.

    First exact DOI, then fuzzy titles (rapidfuzz ratio on normalised titles) with a
    year tolerance. Titles are compared within blocks sharing their first or last
    twelve characters, which keeps the work linear in corpus size. A cluster never
    holds two different DOIs or years further apart than the tolerance, so a record
    without a DOI cannot chain two different works together.
    """
    n = len(df)
    parent = list(range(n))
    dois = df["doi"].tolist()
    years = [None if y is None or pd.isna(y) else int(y) for y in df["year"].tolist()]
    doi_sets: list[set[str]] = [{d} if d else set() for d in dois]
    spans: list[tuple[int, int] | None] = [(y, y) if y is not None else None for y in years]

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int, same_doi: bool = False) -> None:
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        merged_dois = doi_sets[ra] | doi_sets[rb]
        if len(merged_dois) > 1:
            return
        sa, sb = spans[ra], spans[rb]
        span = sa or sb
        if sa and sb:
            span = (min(sa[0], sb[0]), max(sa[1], sb[1]))
            if not same_doi and span[1] - span[0] > settings.year_tolerance:
                return
        root, child = min(ra, rb), max(ra, rb)
        parent[child] = root
        doi_sets[root], spans[root] = merged_dois, span

    by_doi: dict[str, int] = {}
    for pos, doi in enumerate(dois):
        if doi:
            if doi in by_doi:
                union(by_doi[doi], pos, same_doi=True)
            else:
                by_doi[doi] = pos

    keys = [title_key(t) for t in df["title"].tolist()]
    blocks: dict[str, list[int]] = defaultdict(list)
    for pos, key in enumerate(keys):
        compact = key.replace(" ", "")
        if len(compact) < 12:
            continue  # too short to match fuzzily without false merges
        blocks["p" + compact[:12]].append(pos)
        blocks["s" + compact[-12:]].append(pos)
    for members in blocks.values():
        if len(members) < 2:
            continue
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if find(a) == find(b):
                    continue
                if dois[a] and dois[b] and dois[a] != dois[b]:
                    continue  # two different DOIs are two works, however alike the titles
                ya, yb = years[a], years[b]
                if ya is not None and yb is not None and abs(ya - yb) > settings.year_tolerance:
                    continue
                if _same_title(keys[a], keys[b], ya, yb, settings.title_threshold):
                    union(a, b)
    clusters: dict[int, list[int]] = defaultdict(list)
    for pos in range(n):
        clusters[find(pos)].append(pos)
    return [members for members in clusters.values() if len(members) > 1]


_NUMBER = re.compile(r"\d+")


def _same_title(a: str, b: str, year_a: Any, year_b: Any, threshold: float) -> bool:
    """Near-identical titles, or one title plus a subtitle or translation of the other
    (exports disagree on subtitles; bilingual journals append the translated title).
    The second rule needs the same year and at least five words in the shorter title."""
    if _NUMBER.findall(a) != _NUMBER.findall(b):
        return False  # "part 3" vs "part 4", "Top 10 of 2007" vs "of 2008": a series, not a copy
    if fuzz.ratio(a, b) >= threshold:
        return True
    shorter, longer = sorted((a, b), key=len)
    same_year = (
        year_a is not None
        and year_b is not None
        and not pd.isna(year_a)
        and not pd.isna(year_b)
        and int(year_a) == int(year_b)
    )
    return same_year and len(shorter.split()) >= 5 and longer.startswith(shorter)


def merge_duplicates(df: pd.DataFrame, settings: DedupSettings) -> pd.DataFrame:
    """Mark duplicates; the richest record of a cluster survives, filled from the others."""
    df = df.copy()
    for members in find_duplicates(df, settings):
        ranked = sorted(members, key=lambda p: (tuple(-x for x in _richness(df.iloc[p])), p))
        keep = ranked[0]
        keep_label = df.index[keep]
        for field in _RICHNESS_FIELDS:
            if field == "year":
                if pd.isna(df.at[keep_label, "year"]):
                    for other in ranked[1:]:
                        value = df.iloc[other]["year"]
                        if not pd.isna(value):
                            df.at[keep_label, "year"] = value
                            break
                continue
            values = [df.iloc[p][field] for p in ranked]
            best = max(values, key=lambda v: len(v or ""))
            if best and (field in ("abstract", "keywords", "fulltext") or not df.at[keep_label, field]):
                df.at[keep_label, field] = best
        others = [df.index[p] for p in ranked[1:]]
        df.at[keep_label, "merged_from"] = "; ".join(sorted(df.loc[others, "record_id"]))
        for label in others:
            df.at[label, "status"] = "duplicate"
            df.at[label, "duplicate_of"] = df.at[keep_label, "record_id"]
    return df


# --------------------------------------------------------------------------- screening


def _mentions(text: str, terms: list[str]) -> str | None:
    lowered = text.lower()
    for term in terms:
        if re.search(r"\b" + re.escape(term.lower()), lowered):
            return term
    return None


def screen(df: pd.DataFrame, settings: ScreeningSettings) -> pd.DataFrame:
    """Mark included records that fail a screening rule as excluded, naming the rule."""
    df = df.copy()
    excluded: dict[Any, str] = {}
    columns = ["year", "title", "abstract", "keywords", "doc_type", "language", "fulltext"]
    included = df.loc[df["status"] == "included", columns]
    # Plain dicts: a pandas row per record cost half a second at 12,000 records.
    for label, row in zip(included.index, included.to_dict("records"), strict=True):
        reason = None
        year = row["year"]
        has_year = year is not None and not pd.isna(year)
        text = " ".join([row["title"] or "", row["abstract"] or "", row["keywords"] or ""])
        if settings.year_min is not None and has_year and int(year) < settings.year_min:
            reason = f"year_min: {int(year)} < {settings.year_min}"
        elif settings.year_max is not None and has_year and int(year) > settings.year_max:
            reason = f"year_max: {int(year)} > {settings.year_max}"
        elif row["doc_type"] and row["doc_type"] in settings.exclude_doc_types:
            reason = f"exclude_doc_types: {row['doc_type']}"
        elif settings.languages and row["language"] and row["language"] not in settings.languages:
            reason = f"languages: {row['language']} not in {settings.languages}"
        elif settings.include_terms and not _mentions(text, settings.include_terms):
            reason = "include_terms: mentions none of them"
        elif settings.exclude_terms and (term := _mentions(text, settings.exclude_terms)):
            reason = f"exclude_terms: mentions {term!r}"
        elif settings.require_abstract and not (row["abstract"] or row["fulltext"]):
            reason = "require_abstract: no abstract or full text"
        if reason:
            excluded[label] = reason
    if excluded:
        # One assignment for all: pandas sets cells one by one slowly.
        labels = list(excluded)
        df.loc[labels, "status"] = "excluded"
        df.loc[labels, "excluded_by"] = list(excluded.values())
    return df
