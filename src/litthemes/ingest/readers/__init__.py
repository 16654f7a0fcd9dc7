"""Readers of literature exports, one module per format behind a registry
(:mod:`litthemes.ingest.readers.registry`)."""

from __future__ import annotations

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, UnreadableFile, decode
from litthemes.ingest.readers.registry import detect_format, formats, read_file, readers, register

__all__ = [
    "Quarantined",
    "RawRecord",
    "ReadResult",
    "UnreadableFile",
    "decode",
    "detect_format",
    "formats",
    "read_file",
    "readers",
    "register",
]
