"""Agreement statistics and REFI-QDA exchange."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lxml import etree

from litthemes.agree import CodingError, agreement, confusion, read_coding
from litthemes.agree.refi import (
    codebook_xml,
    project_xml,
    read_qdpx,
    validate_project,
    write_project,
)
from litthemes.codebook import load_codebook

ROOT = Path(__file__).resolve().parents[2]
BOOK = load_codebook(ROOT / "config" / "codebook.yaml")


def long(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["unit", "code"])


def test_kappa_precision_recall_on_a_hand_computed_case() -> None:
    # 10 units; A codes x on 0-4, B codes x on 0-3 and 5. Agreement on 8 units.
    a = long([(f"u{i}", "x") for i in range(5)] + [(f"u{i}", "") for i in range(5, 10)])
    b = long([(f"u{i}", "x") for i in (0, 1, 2, 3, 5)] + [(f"u{i}", "") for i in (4, 6, 7, 8, 9)])
    table, summary = agreement(a, b)
    row = table.set_index("code").loc["x"]
    # po = 0.8, pe = 0.5*0.5 + 0.5*0.5 = 0.5, kappa = 0.6
    assert abs(row["kappa"] - 0.6) < 1e-9
    assert row["precision"] == 0.8 and row["recall"] == 0.8
    assert summary["units"] == 10 and 0.55 < summary["krippendorff_alpha"] < 0.65


def test_units_not_shared_are_counted_and_no_overlap_is_an_error() -> None:
    a = long([("u1", "x"), ("u2", "y")])
    b = long([("u1", "x"), ("u3", "y")])
    _, summary = agreement(a, b)
    assert summary["units_only_in_a"] == 1 and summary["units_only_in_b"] == 1
    with pytest.raises(CodingError, match="share no units"):
        agreement(long([("a", "x")]), long([("b", "x")]))


def test_confusion_counts_code_pairs() -> None:
    a = long([("u1", "x"), ("u2", "y"), ("u3", "x")])
    b = long([("u1", "x"), ("u2", "x"), ("u3", "")])
    table = confusion(a, b)
    assert table.loc["x", "x"] == 1 and table.loc["y", "x"] == 1 and table.loc["x", "(none)"] == 1


def test_csv_reader_with_present_column(tmp_path: Path) -> None:
    path = tmp_path / "human.csv"
    path.write_text("record_id,theme,present\nr1,covid19_acceleration,true\nr2,covid19_acceleration,false\n")
    coding = read_coding(path)
    assert set(coding["unit"]) == {"r1", "r2"}
    assert coding[coding["unit"] == "r2"]["code"].tolist() == [""]
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n")
    with pytest.raises(CodingError, match="unit column"):
        read_coding(bad)


@pytest.mark.corpora
def test_qabstracts_two_coders(corpora: Path) -> None:
    folder = corpora / "labelled" / "qabstracts" / "abstracts"
    a, b = read_coding(folder / "abstracts.A"), read_coding(folder / "abstracts.B")
    table, summary = agreement(a, b)
    print(summary)
    assert summary["units"] > 6000 and summary["units_only_in_a"] < 100
    codes = table.set_index("code")
    for code in ("background", "objective", "method", "result", "conclusion", "gap"):
        assert 0.9 < codes.loc[code, "kappa"] <= 1.0
        assert codes.loc[code, "a"] > 100
    assert 0.9 < summary["krippendorff_alpha"] <= 1.0


def coded_corpus() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    records = pd.DataFrame(
        [
            {
                "record_id": "r1",
                "title": "Badges & <trust>",
                "abstract": "Employers doubt badges.",
                "fulltext": "",
                "authors": "Doe, J.",
                "year": 2020,
                "doi": "",
            }
        ]
    )
    segments = pd.DataFrame(
        [
            {
                "record_id": "r1",
                "segment_index": 0,
                "field": "title",
                "start_char": 0,
                "end_char": 16,
                "text": "Badges & <trust>",
            },
            {
                "record_id": "r1",
                "segment_index": 1,
                "field": "abstract",
                "start_char": 0,
                "end_char": 23,
                "text": "Employers doubt badges.",
            },
        ]
    )
    segment_codes = pd.DataFrame(
        [
            {"record_id": "r1", "segment_index": 1, "code": "employer_acceptance_trust", "present": True},
            {"record_id": "r1", "segment_index": 1, "code": "digital_badge", "present": True},
            {"record_id": "r1", "segment_index": 0, "code": "digital_badge", "present": False},
        ]
    )
    return records, segments, segment_codes


def test_refi_project_is_valid_and_positions_point_at_the_coded_text(tmp_path: Path) -> None:
    records, segments, segment_codes = coded_corpus()
    xml, texts = project_xml(BOOK, records, segments, segment_codes, "test")
    assert validate_project(xml) == []
    root = etree.fromstring(xml)
    ns = {"q": "urn:QDA-XML:project:1.0"}
    selection = root.find(".//q:PlainTextSelection", ns)
    text = next(iter(texts.values()))
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    assert text[start:end] == "Employers doubt badges."
    assert len(selection.findall("q:Coding", ns)) == 2
    codes = root.findall(".//q:CodeBook//q:Code", ns)
    assert sum(c.get("isCodable") == "true" for c in codes) == len(BOOK.codes)
    assert all(c.get("color", "#000000").startswith("#") for c in codes)
    out = tmp_path / "p.qdpx"
    write_project(BOOK, records, segments, segment_codes, out)
    with zipfile.ZipFile(out) as archive:
        assert "project.qde" in archive.namelist() and any(n.startswith("sources/") for n in archive.namelist())
    first = out.read_bytes()
    write_project(BOOK, records, segments, segment_codes, out)
    assert out.read_bytes() == first  # deterministic archive
    back = read_qdpx(out)
    assert sorted(back["code"]) == ["digital_badge", "employer_acceptance_trust"]


def test_broken_project_fails_validation() -> None:
    records, segments, segment_codes = coded_corpus()
    xml, _ = project_xml(BOOK, records, segments, segment_codes, "test")
    broken = xml.replace(b'isCodable="true"', b'isCodable="maybe"', 1)
    assert validate_project(broken)


def test_codebook_qdc_lists_every_code_with_its_definition() -> None:
    root = etree.fromstring(codebook_xml(BOOK))
    ns = {"c": "urn:QDA-XML:codebook:1.0"}
    codable = [c for c in root.iterfind(".//c:Code", ns) if c.get("isCodable") == "true"]
    assert len(codable) == len(BOOK.codes)
    descriptions = [c.findtext("c:Description", namespaces=ns) for c in codable]
    assert all(d.startswith("[") for d in descriptions)
    assert np.all([len(d) > 20 for d in descriptions])


def test_coded_suggestions_read_back_keep_their_record_and_place(tmp_path: Path) -> None:
    """The passages `agree --suggest` writes as a .qdpx, coded in a QDA program and read
    back, belong to their records at their places; a user's own source names do not."""
    from litthemes.agree.readers import read_units
    from litthemes.agree.suggest import SUGGESTION_COLUMNS, write_suggestion_project

    passages = pd.DataFrame(
        [
            ["r0123456789ab#4", "r0123456789ab", 4, "Employers doubt badges.", "", "", 0.9, ""],
            ["r0123456789ab#9", "r0123456789ab", 9, "Badges stack into degrees.", "", "", 0.8, ""],
            ["rfedcba987654-2#0", "rfedcba987654-2", 0, "Learners want short courses.", "", "", 0.7, ""],
            ["Interview #3", "Interview #3", 0, "We never hire on badges.", "", "", 0.6, ""],
        ],
        columns=SUGGESTION_COLUMNS,
    )
    out = tmp_path / "suggestions.qdpx"
    write_suggestion_project(BOOK, passages, out)
    # A person codes every passage whole with one code, as a QDA program would export it.
    ns = {"q": "urn:QDA-XML:project:1.0"}
    with zipfile.ZipFile(out) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    root = etree.fromstring(members["project.qde"])
    code = next(c for c in root.iterfind(".//q:CodeBook//q:Code", ns) if c.get("isCodable") == "true")
    code_guid = code.get("guid")
    for k, source in enumerate(root.iterfind(".//q:TextSource", ns)):
        length = len(members["sources/" + source.get("plainTextPath").removeprefix("internal://")].decode())
        selection = etree.SubElement(
            source, f"{{{ns['q']}}}PlainTextSelection", guid=f"s{k}", startPosition="0", endPosition=str(length)
        )
        coding = etree.SubElement(selection, f"{{{ns['q']}}}Coding", guid=f"c{k}")
        etree.SubElement(coding, f"{{{ns['q']}}}CodeRef", targetGUID=code_guid)
    members["project.qde"] = etree.tostring(root)
    coded = tmp_path / "coded.qdpx"
    with zipfile.ZipFile(coded, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    units = read_units(coded).set_index("text")
    assert units.loc["Employers doubt badges.", ["document", "position"]].tolist() == ["r0123456789ab", 4]
    assert units.loc["Badges stack into degrees.", ["document", "position"]].tolist() == ["r0123456789ab", 9]
    assert units.loc["Learners want short courses.", "document"] == "rfedcba987654-2"
    assert units.loc["We never hire on badges.", ["document", "position"]].tolist() == ["Interview #3", 0]
    assert units["code"].nunique() == 1 and units["code"].iloc[0] in {c.id for c in BOOK.codes}
