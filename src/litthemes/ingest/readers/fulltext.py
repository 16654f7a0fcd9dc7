"""Full texts: plain text or Markdown, and PDFs with a text layer (pypdf)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from litthemes.ingest.readers.base import Quarantined, RawRecord, ReadResult, UnreadableFile, decode
from litthemes.ingest.readers.registry import register


@register("fulltext_text")
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
        RawRecord(
            "document",
            {
                "source_id": Path(path).stem,
                "title": title[:500],
                "fulltext": body,
                "year": year_match.group(1) if year_match else "",
            },
        )
    )
    return result


@register("fulltext_pdf")
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
    result.records.append(RawRecord("document", {"source_id": Path(path).stem, "title": title[:500], "fulltext": body}))
    return result
