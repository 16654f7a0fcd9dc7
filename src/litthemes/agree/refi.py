"""REFI-QDA exchange: codebook (.qdc) and coded project (.qdpx) export, and import.

The REFI-QDA standard (Rotterdam Exchange Format Initiative) is what NVivo,
ATLAS.ti, MAXQDA and QualCoder read. A project archive holds ``project.qde`` (XML
in the ``urn:QDA-XML:project:1.0`` namespace) and the sources as plain text under
``sources/``; codings are character ranges of those texts. GUIDs are derived from
names and ids (uuid5), and archive entries carry a fixed timestamp, so the same
coding always gives the same files.
"""

from __future__ import annotations

import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from lxml import etree

from litthemes.codebook import Codebook
from litthemes.tables import atomic_path

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
_GUID_ROOT = uuid.UUID("6f1c1e0a-5d4b-4c59-9a31-6c6974746865")
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)
SCHEMA = Path(__file__).parent / "resources" / "refi-qda-project-subset.xsd"


def guid(*parts: str) -> str:
    return str(uuid.uuid5(_GUID_ROOT, "|".join(parts)))


def _codes_element(tag_ns: str, book: Codebook) -> etree._Element:
    codes = etree.Element(f"{{{tag_ns}}}Codes")
    # Dimensions become parent codes (not codable) so a QDA tool shows the structure.
    for dimension, label in book.dimensions.items():
        parent = etree.SubElement(
            codes, f"{{{tag_ns}}}Code", guid=guid("dimension", dimension), name=label, isCodable="false"
        )
        etree.SubElement(parent, f"{{{tag_ns}}}Description").text = f"{book.name} v{book.version}: {dimension}"
        for code in book.by_dimension(dimension):
            element = etree.SubElement(
                parent,
                f"{{{tag_ns}}}Code",
                guid=guid("code", code.id),
                name=code.label,
                isCodable="true",
                color=code.colour.upper(),
            )
            description = f"[{code.id}] {code.definition}"
            if code.group:
                description += f" (group: {book.groups.get(code.group, code.group)})"
            etree.SubElement(element, f"{{{tag_ns}}}Description").text = description
    return codes


def codebook_xml(book: Codebook) -> bytes:
    """The codebook as a REFI-QDA codebook document (.qdc)."""
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS}, origin="litthemes")
    root.append(_codes_element(CODEBOOK_NS, book))
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)


def write_codebook(book: Codebook, out: str | Path) -> None:
    with atomic_path(out) as tmp:
        tmp.write_bytes(codebook_xml(book))


def source_text(record: Mapping[str, Any]) -> tuple[str, dict[str, int]]:
    """The text a source carries in the project, and where each field starts in it."""
    parts: list[str] = []
    offsets: dict[str, int] = {}
    position = 0
    for field in ("title", "abstract", "fulltext"):
        value = record.get(field) or ""
        if not value:
            continue
        if parts:
            parts.append("\n\n")
            position += 2
        offsets[field] = position
        parts.append(value)
        position += len(value)
    return "".join(parts), offsets


def project_xml(
    book: Codebook, records: pd.DataFrame, segments: pd.DataFrame, segment_codes: pd.DataFrame, name: str
) -> tuple[bytes, dict[str, str]]:
    """project.qde content and the source texts (path inside the archive -> text)."""
    user = guid("user", "litthemes")
    root = etree.Element(
        f"{{{PROJECT_NS}}}Project", nsmap={None: PROJECT_NS}, name=name, origin="litthemes", creatingUserGUID=user
    )
    users = etree.SubElement(root, f"{{{PROJECT_NS}}}Users")
    etree.SubElement(users, f"{{{PROJECT_NS}}}User", guid=user, name="litthemes (automatic coding)")
    codebook = etree.SubElement(root, f"{{{PROJECT_NS}}}CodeBook")
    codebook.append(_codes_element(PROJECT_NS, book))
    sources = etree.SubElement(root, f"{{{PROJECT_NS}}}Sources")
    present = segment_codes[segment_codes["present"]].sort_values(["record_id", "segment_index", "code"])
    spans = dict(
        zip(
            zip(segments["record_id"], segments["segment_index"], strict=True),
            zip(segments["field"], segments["start_char"], segments["end_char"], strict=True),
            strict=True,
        )
    )
    # record -> segment -> its codes, in order: one pass here instead of a filter per record.
    coded: dict[str, dict[int, list[str]]] = {}
    for rid, segment_index, code_id in zip(
        present["record_id"], present["segment_index"], present["code"], strict=True
    ):
        coded.setdefault(rid, {}).setdefault(int(segment_index), []).append(code_id)
    texts: dict[str, str] = {}
    for record in records.sort_values("record_id").itertuples(index=False):
        # A plain dict: building a pandas Series per record took most of the export's time.
        row = record._asdict()
        text, offsets = source_text(row)
        if not text:
            continue
        source_guid = guid("source", row["record_id"])
        path = f"{source_guid}.txt"
        texts[path] = text
        source = etree.SubElement(
            sources,
            f"{{{PROJECT_NS}}}TextSource",
            guid=source_guid,
            name=_source_name(row),
            plainTextPath=f"internal://{path}",
            creatingUser=user,
        )
        citation = " ".join(str(row.get(k) or "") for k in ("authors", "year", "doi")).strip()
        if citation:
            etree.SubElement(source, f"{{{PROJECT_NS}}}Description").text = citation
        for segment_index, code_ids in coded.get(row["record_id"], {}).items():
            field, start, end = spans[(row["record_id"], segment_index)]
            base = offsets.get(field)
            if base is None:
                continue
            selection = etree.SubElement(
                source,
                f"{{{PROJECT_NS}}}PlainTextSelection",
                guid=guid("selection", row["record_id"], str(segment_index)),
                startPosition=str(base + int(start)),
                endPosition=str(base + int(end)),
                creatingUser=user,
            )
            for code_id in code_ids:
                coding = etree.SubElement(
                    selection,
                    f"{{{PROJECT_NS}}}Coding",
                    guid=guid("coding", row["record_id"], str(segment_index), code_id),
                    creatingUser=user,
                )
                etree.SubElement(coding, f"{{{PROJECT_NS}}}CodeRef", targetGUID=guid("code", code_id))
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return xml, texts


def _source_name(row: Mapping[str, Any]) -> str:
    year = row.get("year")
    year_text = "" if year is None or pd.isna(year) else f" ({int(year)})"
    return f"{row['record_id']}{year_text} {str(row.get('title') or '')[:80]}".strip()


def write_project(
    book: Codebook,
    records: pd.DataFrame,
    segments: pd.DataFrame,
    segment_codes: pd.DataFrame,
    out: str | Path,
    name: str = "litthemes coding",
) -> None:
    """A .qdpx archive with the coded corpus."""
    xml, texts = project_xml(book, records, segments, segment_codes, name)
    write_archive(xml, texts, out)


def write_archive(xml: bytes, texts: dict[str, str], out: str | Path) -> None:
    """A .qdpx archive: project.qde and the source texts, with fixed timestamps."""
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in [
            ("project.qde", xml),
            *((f"sources/{p}", t.encode("utf-8")) for p, t in sorted(texts.items())),
        ]:
            info = zipfile.ZipInfo(entry, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)


def validate_project(xml: bytes, schema_path: str | Path = SCHEMA) -> list[str]:
    """Schema errors of a project.qde document (empty when valid)."""
    schema = etree.XMLSchema(etree.parse(str(schema_path)))
    document = etree.fromstring(xml)
    return [] if schema.validate(document) else [str(e) for e in schema.error_log]


def read_qdpx(path: str | Path) -> pd.DataFrame:
    """Codings of a .qdpx project as (unit, code) pairs (:func:`litthemes.agree.readers.read_units`)."""
    from litthemes.agree.readers import read_coding

    return read_coding(path)
