"""What every reader shares: the records and quarantine entries it yields, and decoding.

A reader never raises on a bad record: it quarantines it with the file, the location
(line, row or entry) and the reason. Only a file that cannot be read at all raises
:class:`UnreadableFile`, with the file name and the reason.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes


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


# Files that begin with one of these are UTF-16 (Excel's "Unicode text", older Windows
# exports): their NUL bytes are half of every ASCII character, not binary content.
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def decode(data: bytes, path: str) -> tuple[str, str]:
    """Decode bytes as UTF-16 after its byte-order mark, UTF-8 (with or without BOM), else
    the detected 8-bit encoding."""
    if not data.strip():
        raise UnreadableFile(f"{path}: file is empty")
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise UnreadableFile(f"{path}: broken UTF-16 text (byte {exc.start})") from None
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
_MOJIBAKE = re.compile(
    r"[A-Za-z][\u00d5\u00d2\u00d3\u00d4\u00d0\u00d1\u00c9\u00ca][A-Za-z\s]|\u00e2[\u0080-\u00bf\u20ac\u201a-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u0152\u0160\u0178\u017d\u02c6\u02dc\u2122\u0153\u0161\u017e]"
)


def _plausibility(text: str) -> int:
    """Typographic characters count for an encoding, letter-mojibake-letter against it."""
    return len(_TYPOGRAPHIC.findall(text)) - 3 * len(_MOJIBAKE.findall(text))
