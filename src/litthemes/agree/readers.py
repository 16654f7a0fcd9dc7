"""Readers of human (and machine) codings: tables, REFI-QDA projects, annotated folders.

Every reader returns the same long table of coded units, UNITS: one row per unit and
code (``code`` is '' for a unit coded with nothing), with the unit's text, the
document it belongs to and its position there where the format carries them.

These files come from other people's tools and may be broken or hostile, so every
reader checks before it trusts: a table must be text (no NUL bytes) of bounded size;
a .qdpx must be a zip archive, whose members are read into memory only (never
extracted to disk), up to a size cap whatever their headers claim; XML is parsed
with entity expansion, DTD loading and network access off, and a document that
declares entities is refused. Any problem is a :class:`CodingError` that names the
file and the reason.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

UNIT_COLUMNS = ("unit", "unit_id", "segment", "record_id", "id")
CODE_COLUMNS = ("code", "codes", "theme", "label")
TEXT_COLUMNS = ("text", "quote", "passage", "sentence")
DOCUMENT_COLUMNS = ("document", "doc", "source", "record_id")
POSITION_COLUMNS = ("position", "segment_index", "sentence_index", "index")
UNITS = ["unit", "document", "position", "text", "code"]

# Caps on what a reader takes in (far above any real coding file).
MAX_TABLE_BYTES = 200_000_000
MAX_ARCHIVE_MEMBERS = 100_000
MAX_MEMBER_BYTES = 100_000_000
MAX_ARCHIVE_BYTES = 500_000_000
MAX_TEXT_FILE_BYTES = 20_000_000
# A code is a name; a longer cell is text in the wrong column (and a figure's axis would
# try to lay it out).
MAX_CODE_CHARS = 200

PROJECT_NS = "urn:QDA-XML:project:1.0"
_ANNOTATION = re.compile(r"^\{\{(.*)\}\}\s*$")
# A source named by a litthemes unit id ('<record id>#<segment index>', as the passages that
# `litthemes agree --suggest` writes are): read back, its passages keep their record (for the
# folds) and their place in it (for the sequence of codes) instead of being a document each.
_UNIT_ID_NAME = re.compile(r"(r[0-9a-f]{12}(?:-\d{1,9})?)#(\d{1,9})")
# Several codes in one table cell: 'a; b' (the suggestion CSV's form) or 'a|b'.
_CODE_SEPARATORS = re.compile(r"\s*[;|]\s*")


class CodingError(ValueError):
    """A coding file cannot be read; the message names the file and the reason."""


def _reason(exc: BaseException) -> str:
    """An exception's message on one line (a parser's may end in a newline or span several)."""
    return " ".join(str(exc).split())


def normalise_text(text: str) -> str:
    """A passage's words only: lower case, any run of other characters one space."""
    return re.sub(r"\W+", " ", text.lower()).strip()


def read_units(path: str | Path) -> pd.DataFrame:
    """Read a coding from any supported format into UNITS (see module doc)."""
    path = Path(path)
    if not path.exists():
        raise CodingError(f"{path}: no such file or folder")
    try:
        if path.is_dir():
            units = _read_annotated_folder(path)
        elif path.suffix.lower() == ".qdpx":
            units = _read_qdpx(path)
        else:
            units = _read_table(path)
    except CodingError:
        raise
    except Exception as exc:  # a reader met something it did not expect: say so, in one line
        raise CodingError(f"{path}: cannot read ({type(exc).__name__}: {_reason(exc)})") from None
    too_long = units[units["code"].str.len() > MAX_CODE_CHARS]
    if len(too_long):
        unit, code = str(too_long["unit"].iloc[0]), str(too_long["code"].iloc[0])
        raise CodingError(
            f"{path}: unit {unit[:40]!r} has a code of {len(code)} characters ({code[:30]!r}...); "
            f"a code is a name of at most {MAX_CODE_CHARS}"
        )
    return units[UNITS].reset_index(drop=True)


def read_coding(path: str | Path) -> pd.DataFrame:
    """A coding as (unit, code) pairs, for agreement."""
    return read_units(path)[["unit", "code"]]


# ------------------------------------------------------------------ annotated folders


def _read_annotated_folder(folder: Path) -> pd.DataFrame:
    """Folder of text files where each sentence is followed by a ``{{code,code:suffix}}`` line.

    Suffixes after ':' (subjective ratings in qabstracts) and minor codes starting with
    '-' are dropped. Lines before the first blank line are the document's title and
    not a unit. A unit is the file plus the sentence text, so two coders' files align
    even when one joined sentences the other kept apart (those units then count as
    unmatched); an empty ``{{}}`` is a unit coded with nothing.
    """
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise CodingError(f"{folder}: no .txt files with {{{{code}}}} annotations")
    rows: list[dict[str, Any]] = []
    for path in files:
        if path.stat().st_size > MAX_TEXT_FILE_BYTES:
            raise CodingError(f"{path}: larger than {MAX_TEXT_FILE_BYTES} bytes; not an annotated text")
        raw = path.read_bytes()
        if b"\x00" in raw:
            raise CodingError(f"{path}: a binary file, not an annotated text")
        lines = raw.decode("utf-8", errors="replace").split("\n---")[0].splitlines()
        if "" in lines and not any(_ANNOTATION.match(line.strip()) for line in lines[: lines.index("")]):
            lines = lines[lines.index("") + 1 :]
        buffer: list[str] = []
        seen: dict[str, int] = {}
        position = 0
        for line in lines:
            match = _ANNOTATION.match(line.strip())
            if not match:
                if line.strip():
                    buffer.append(line.strip())
                continue
            text = " ".join(buffer)
            buffer = []
            key = normalise_text(text)
            if not key:
                continue
            n = seen.get(key, 0)
            seen[key] = n + 1
            unit = f"{path.stem}:{key[:120]}" + (f"#{n}" if n else "")
            codes = [c.split(":")[0].strip() for c in match.group(1).split(",")]
            codes = [c for c in codes if c and not c.startswith("-")]
            for code in codes or [""]:
                rows.append({"unit": unit, "document": path.stem, "position": position, "text": text, "code": code})
            position += 1
    return pd.DataFrame(rows, columns=UNITS)


# ------------------------------------------------------------------ tables


def _table_text(path: Path) -> str:
    """A table file's text: UTF-16 with its byte-order mark (Excel's "Unicode text"), UTF-8,
    or the 8-bit encoding an export from Excel on Windows or a Mac has, as ingestion reads it."""
    from litthemes.ingest.readers.base import UTF16_BOMS, UnreadableFile, decode

    raw = path.read_bytes()
    if b"\x00" in raw[:65536] and not raw.startswith(UTF16_BOMS):
        raise CodingError(f"{path}: a binary file, not a CSV or TSV table")
    try:
        text = decode(raw, str(path))[0]
    except UnreadableFile as exc:
        raise CodingError(_reason(exc)) from None
    # Bytes without a NUL still decode in an 8-bit encoding; a table's text has no control
    # characters but white space (Word's manual line break is a vertical tab), random bytes
    # one in nine.
    sample = text[:65536]
    controls = sum(1 for char in sample if char < " " and char not in "\t\n\r\x0b\x0c")
    if controls > max(2, len(sample) // 100):
        raise CodingError(f"{path}: a binary file, not a CSV or TSV table ({controls} control characters)")
    return text


def read_table_file(path: Path) -> pd.DataFrame:
    """A CSV, TSV or Parquet table of strings (booleans kept), checked as every coding file
    is: bounded size, text not binary, any encoding a spreadsheet saves; comma- or
    tab-separated by its name or its header line."""
    size = path.stat().st_size
    if size > MAX_TABLE_BYTES:
        raise CodingError(f"{path}: larger than {MAX_TABLE_BYTES} bytes")
    if path.suffix.lower() == ".parquet":
        frame = pd.read_parquet(path)
        return frame.astype({c: str for c in frame.columns if frame[c].dtype != bool})
    content = _table_text(path)
    first_line = content.split("\n", 1)[0]
    # Excel's "Unicode text" is tab-separated whatever the file is called.
    tabbed = path.suffix.lower() in (".tsv", ".tab") or first_line.count("\t") > first_line.count(",")
    sep = "\t" if tabbed else ","
    try:
        return pd.read_csv(io.StringIO(content), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CodingError(f"{path}: not a readable {'TSV' if tabbed else 'CSV'} table ({_reason(exc)})") from None


def _column_list(columns: pd.Index, most: int = 8, width: int = 40) -> str:
    """Column names for an error line: the first ``most``, each cut at ``width`` characters."""
    names = [repr(name if len(str(name)) <= width else f"{str(name)[:width]}...") for name in columns[:most]]
    more = f" and {len(columns) - most} more" if len(columns) > most else ""
    return f"[{', '.join(names)}]{more}"


def _read_table(path: Path) -> pd.DataFrame:
    """CSV/TSV/Parquet with a unit column and a code column (text, document, position optional).

    With a ``present`` column, rows where it is false only say the unit was coded; a
    code cell may hold several codes separated by ';'.
    """
    frame = read_table_file(path)
    columns = {c.strip().lower(): c for c in frame.columns}
    unit = next((columns[c] for c in UNIT_COLUMNS if c in columns), None)
    code = next((columns[c] for c in CODE_COLUMNS if c in columns), None)
    if unit is None or code is None:
        raise CodingError(
            f"{path}: needs a unit column ({', '.join(UNIT_COLUMNS)}) and a code column "
            f"({', '.join(CODE_COLUMNS)}); found {_column_list(frame.columns)}"
        )
    text_column = next((columns[c] for c in TEXT_COLUMNS if c in columns), None)
    document = next((columns[c] for c in DOCUMENT_COLUMNS if c in columns and columns[c] != unit), None)
    position = next((columns[c] for c in POSITION_COLUMNS if c in columns), None)
    out = pd.DataFrame(
        {
            "unit": frame[unit].astype(str),
            "document": frame[document].astype(str) if document else frame[unit].astype(str),
            "position": pd.to_numeric(frame[position], errors="coerce").fillna(0).astype(int) if position else 0,
            "text": frame[text_column].astype(str) if text_column else "",
            "code": frame[code].astype(str).str.strip(),
        }
    )
    if "present" in columns:
        present = frame[columns["present"]].astype(str).str.lower().isin(["true", "1", "yes"])
        out.loc[~present.to_numpy(), "code"] = ""
    out["code"] = out["code"].map(lambda cell: [c for c in _CODE_SEPARATORS.split(cell) if c] or [""])
    out = out.explode("code", ignore_index=True)
    # A unit with codes and empty rows: the empty rows only said it was coded.
    coded = set(out.loc[out["code"] != "", "unit"])
    out = out[(out["code"] != "") | ~out["unit"].isin(coded)].drop_duplicates(["unit", "code"])
    return out


# ------------------------------------------------------------------ REFI-QDA


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, budget: list[int]) -> bytes:
    """A member's bytes, read in memory and capped whatever its header claims."""
    if info.file_size > MAX_MEMBER_BYTES:
        raise CodingError(f"{path}: archive member {info.filename!r} is larger than {MAX_MEMBER_BYTES} bytes")
    chunks, total = [], 0
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            total += len(chunk)
            budget[0] -= len(chunk)
            if total > MAX_MEMBER_BYTES or budget[0] < 0:
                raise CodingError(
                    f"{path}: archive member {info.filename!r} unpacks to more than its cap (a zip bomb?)"
                )
            chunks.append(chunk)
    return b"".join(chunks)


def parse_xml(data: bytes, path: Path, what: str) -> etree._Element:
    """XML parsed without entity expansion, DTDs or network; entity declarations are refused."""
    if b"<!ENTITY" in data:
        raise CodingError(f"{path}: {what} declares XML entities, which are not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise CodingError(f"{path}: {what} is not well-formed XML ({_reason(exc)})") from None


def _read_qdpx(path: Path) -> pd.DataFrame:
    """Codings of a .qdpx project: one unit per coded text selection.

    A unit is '<source name>:<start>-<end>'; its text is that range of the source's
    plain text when the archive carries it; the code is the litthemes id when the
    code's description carries one ('[id] ...'), else the code's name.
    """
    if not zipfile.is_zipfile(path):
        raise CodingError(f"{path}: not a zip archive (a .qdpx project is one)")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise CodingError(f"{path}: a broken zip archive ({_reason(exc)})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise CodingError(f"{path}: more than {MAX_ARCHIVE_MEMBERS} archive members")
        budget = [MAX_ARCHIVE_BYTES]
        project = [i for i in infos if i.filename.lower().endswith(".qde")]
        if not project:
            raise CodingError(f"{path}: no project.qde inside the archive")
        root = parse_xml(_read_member(archive, project[0], path, budget), path, project[0].filename)
        by_name = {i.filename: i for i in infos}
        ns = {"q": PROJECT_NS}
        code_names: dict[str, str] = {}
        for code in root.iterfind(".//q:CodeBook//q:Code", ns):
            description = code.findtext("q:Description", default="", namespaces=ns) or ""
            code_id = (
                description[1 : description.index("]")] if description.startswith("[") and "]" in description else None
            )
            code_names[code.get("guid", "")] = code_id or code.get("name", "")
        rows: list[dict[str, Any]] = []
        for source in root.iterfind(".//q:Sources/q:TextSource", ns):
            name = source.get("name") or source.get("guid", "")
            text = _source_text(archive, by_name, source, path, budget)
            selections = sorted(
                source.iterfind("q:PlainTextSelection", ns),
                key=lambda s: (_int(s.get("startPosition")), _int(s.get("endPosition"))),
            )
            unit_id = _UNIT_ID_NAME.fullmatch(name)
            document = unit_id[1] if unit_id else name
            for index, selection in enumerate(selections):
                start, end = _int(selection.get("startPosition")), _int(selection.get("endPosition"))
                unit = f"{name}:{start}-{end}"
                position = int(unit_id[2]) if unit_id else index
                passage = text[start:end] if text is not None else ""
                refs = [
                    code_names.get(ref.get("targetGUID", ""), "")
                    for ref in selection.iterfind("q:Coding/q:CodeRef", ns)
                ]
                for code in [r for r in refs if r] or [""]:
                    rows.append(
                        {"unit": unit, "document": document, "position": position, "text": passage, "code": code}
                    )
    if not rows:
        raise CodingError(
            f"{path}: {project[0].filename} holds no text selections (no TextSource with a coded passage)"
        )
    return pd.DataFrame(rows, columns=UNITS)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _source_text(
    archive: zipfile.ZipFile, by_name: dict[str, zipfile.ZipInfo], source: etree._Element, path: Path, budget: list[int]
) -> str | None:
    """A TextSource's plain text from the archive (``internal://`` paths live under sources/)."""
    reference = source.get("plainTextPath") or ""
    if not reference.startswith("internal://"):
        return None
    info = by_name.get("sources/" + reference[len("internal://") :])
    if info is None:
        return None
    return _read_member(archive, info, path, budget).decode("utf-8", errors="replace")
