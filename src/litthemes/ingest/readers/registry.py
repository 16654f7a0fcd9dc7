"""The reader registry: format name -> reader, format detection, and :func:`read_file`.

A reader is a function ``(path, data) -> ReadResult`` (readers of tables also take
``column_map`` and ``fmt``) registered under one or more format names with
:func:`register`. Every module of this package is imported on first use, so adding a
reader is adding a module here; ``ingest.formats`` can then name it, and auto-detection
finds it when it registers a ``sniff`` function.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litthemes.ingest.readers.base import UTF16_BOMS, ReadResult, UnreadableFile

# The built-in formats, in the order `litthemes formats` lists them.
BUILT_IN = (
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


@dataclass(frozen=True)
class Reader:
    """A registered reader: its function, whether it takes the table options, and an
    optional ``sniff(path, head_text) -> bool`` for auto-detection."""

    name: str
    read: Callable[..., ReadResult]
    takes_table_options: bool
    sniff: Callable[[str, str], bool] | None = None


_READERS: dict[str, Reader] = {}
_LOADED = False


def register(
    *names: str, sniff: Callable[[str, str], bool] | None = None
) -> Callable[[Callable[..., ReadResult]], Callable[..., ReadResult]]:
    """Register a reader function under format ``names``."""

    def decorate(function: Callable[..., ReadResult]) -> Callable[..., ReadResult]:
        takes = {"column_map", "fmt"} <= set(inspect.signature(function).parameters)
        for name in names:
            if name in _READERS and _READERS[name].read is not function:
                raise ValueError(f"reader format {name!r} registered twice")
            _READERS[name] = Reader(name, function, takes, sniff)
        return function

    return decorate


def readers() -> dict[str, Reader]:
    """Every registered reader (importing this package's reader modules once)."""
    global _LOADED
    if not _LOADED:
        package = __name__.rsplit(".", 1)[0]
        for module in sorted(m.name for m in pkgutil.iter_modules(importlib.import_module(package).__path__)):
            importlib.import_module(f"{package}.{module}")
        _LOADED = True
    return _READERS


def formats() -> tuple[str, ...]:
    """The format names ``ingest.formats`` can give: the built-in ones first."""
    names = readers()
    return (*[n for n in BUILT_IN if n in names], *sorted(n for n in names if n not in BUILT_IN))


_WOS_HEADER = re.compile(r"^(FN|VR|PT) ", re.M)
_RIS_TAG = re.compile(r"^TY  - ", re.M)
# Where a BibTeX entry starts (the BibTeX reader splits entries at it).
BIB_ENTRY = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.M)


def detect_format(path: str | Path, head: bytes) -> str:
    """Guess a file's format from its content (and extension for binary formats)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pdf" or head.startswith(b"%PDF"):
        return "fulltext_pdf"
    if suffix in (".xls", ".xlsx") or head.startswith(b"PK\x03\x04") or head.startswith(b"\xd0\xcf\x11\xe0"):
        return "table"
    try:
        text = head.decode("utf-16" if head.startswith(UTF16_BOMS) else "utf-8-sig", errors="replace")
    except Exception:  # pragma: no cover - decode with errors=replace never fails
        text = ""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("[", "{")) and suffix in (".json", ".jsonl", ".ndjson", ""):
        return "openalex_json"
    if stripped.startswith("{") or (stripped.startswith("[") and '"id"' in stripped[:2000]):
        return "openalex_json"
    first_line = stripped.split("\n", 1)[0]
    if first_line.startswith(("FN ", "VR ", "PT ")) and _WOS_HEADER.search(text):
        return "wos_txt"
    if first_line.startswith("PT\t") or first_line.startswith("PT\tAU"):
        return "wos_tab"
    if _RIS_TAG.search(text[:20000]):
        return "ris"
    if BIB_ENTRY.search(text[:20000]):
        return "bibtex"
    if suffix in (".csv", ".tsv", ".tab"):
        if "EID" in first_line and ("Source title" in first_line or "Title" in first_line):
            return "scopus_csv"
        return "table"
    if suffix in (".txt", ".md", ".markdown", ".text"):
        return "fulltext_text"
    if "," in first_line or "\t" in first_line:
        return "table"
    for reader in readers().values():
        if reader.sniff is not None and reader.sniff(str(path), text):
            return reader.name
    raise UnreadableFile(f"{path}: cannot tell the format from its content; set ingest.formats")


def read_file(
    path: str | Path, fmt: str = "auto", column_map: dict[str, str] | None = None, data: bytes | None = None
) -> ReadResult:
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
    reader = readers().get(fmt)
    if reader is None:
        raise UnreadableFile(f"{path}: unknown format {fmt!r}; allowed: {', '.join(formats())}")
    options: dict[str, Any] = {"column_map": column_map, "fmt": fmt} if reader.takes_table_options else {}
    return reader.read(path, data, **options)
