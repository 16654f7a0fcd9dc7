"""Each reader on small inputs written here, including the quirks of real exports."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from litthemes.ingest import ingest
from litthemes.ingest.readers import RawRecord, UnreadableFile, detect_format, read_file
from litthemes.ingest.readers.openalex import rebuild_abstract

WOS = """\ufeffFN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Smith, J
   Doe, A
TI Digital badges and the
   labour market
SO JOURNAL OF THINGS
LA English
DT Article
DE micro-credentials; badges
AB First sentence of the abstract.
   Second line of the abstract.
PY 2021
DI 10.1000/ABC.123
UT WOS:000000000000001
ER

PT J
AU Roe, R
TI A second record
PY 2019
ER

EF
"""


def write(tmp_path: Path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def test_wos_plain_text_multiline_fields_and_bom(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "savedrecs.txt", WOS))
    assert result.format == "wos_txt"
    assert len(result.records) == 2 and not result.quarantined
    first = result.records[0].fields
    assert first["title"] == "Digital badges and the labour market"
    assert first["authors"] == "Smith, J; Doe, A"
    assert first["abstract"] == "First sentence of the abstract. Second line of the abstract."
    assert first["source_id"] == "WOS:000000000000001"


def test_early_access_date_gives_the_year_an_article_without_one_appeared(tmp_path: Path) -> None:
    # Web of Science gives an article online ahead of its issue no PY, only its early-access
    # date: "EA NOV 2021" in the tagged export, "Nov-21" in a CSV a spreadsheet has rewritten.
    tagged = WOS.replace("PY 2021\n", "EA NOV 2021\n").replace("PY 2019\n", "PY 2019\nEA MAR 2018\n")
    records, _ = ingest([write(tmp_path, "savedrecs.txt", tagged)])
    assert sorted(records["year"].tolist()) == [2019, 2021]  # PY wins where there is one
    csv_text = (
        "Article Title,Publication Year,Early Access Date\nOnline first,,Nov-21\nIn print,2020,Jan-19\nUndated,,\n"
    )
    records, _ = ingest([write(tmp_path, "wos.csv", csv_text)])
    years = dict(zip(records["title"], records["year"], strict=True))
    assert years["Online first"] == 2021 and years["In print"] == 2020 and pd.isna(years["Undated"])


def test_wos_truncated_record_is_quarantined(tmp_path: Path) -> None:
    truncated = WOS.split("PT J\nAU Roe")[0] + "PT J\nAU Roe, R\nTI Cut off here\n"
    result = read_file(write(tmp_path, "cut.txt", truncated))
    assert len(result.records) == 1
    assert len(result.quarantined) == 1
    assert "not terminated by ER" in result.quarantined[0].reason
    assert result.quarantined[0].file.endswith("cut.txt")


RIS = """TY  - JOUR
AU  - Anand, T.
TI  - Objectives and curriculum
PY  - 2022
T2  - Decision Sciences Journal
DO  - 10.1111/dsji.12272
N2  - An ERIC-style abstract under N2.
KW  - badges
KW  - assessment
ER  -

TY  - CONF
TI  - Conference paper without abstract
PY  - 2024
ER  -

XX  - not a record
ER  -
"""


def test_ris_reads_n2_as_abstract_and_quarantines_garbage(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "export.ris", RIS))
    assert result.format == "ris"
    assert [r.fields["title"] for r in result.records] == [
        "Objectives and curriculum",
        "Conference paper without abstract",
    ]
    assert result.records[0].fields["abstract"] == "An ERIC-style abstract under N2."
    assert result.records[0].fields["keywords"] == "badges; assessment"
    assert len(result.quarantined) == 1 and "TY" in result.quarantined[0].reason


BIB = """@ARTICLE{Key2019,
author={Beard, A. and Ellis, D.G.},
title={TQM, games design and {Industry} 4.0},
journal={Int. J. of Quality},
year={2019},
doi={10.1108/IJQSS-09-2018-0084},
funding_details={first},
funding_details={a longer second value},
Early Access Date = {JAN 2021},
abstract={An abstract.},
}

@ARTICLE{Broken2020,
author={Nobody},
title={Unbalanced {braces,
year={2020}
"""


def test_bibtex_repeated_field_kept_and_logged_bad_entry_quarantined(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "scopus.bib", BIB))
    assert result.format == "bibtex"
    assert len(result.records) == 1
    fields = result.records[0].fields
    assert fields["title"] == "TQM, games design and Industry 4.0"
    assert fields["authors"] == "Beard, A.; Ellis, D.G."
    assert any("funding_details" in note and "2 times" in note for note in result.notes)
    assert len(result.quarantined) == 1 and result.quarantined[0].location.startswith("line ")


def test_bibtex_latex_quotes_and_escapes_become_text(tmp_path: Path) -> None:
    # As the Web of Science BibTeX of the dropout corpus writes them.
    text = (
        "@article{k, title = {``Everybody Grieves, but Still Nobody Sees'': Toward a Praxis},\n"
        "  abstract = {Households living on US\\$1 a day: 40\\% of {HIV} cases \\& R\\_D.}, year = 2012}\n"
    )
    fields = read_file(write(tmp_path, "wos.bib", text)).records[0].fields
    assert fields["title"] == "\u201cEverybody Grieves, but Still Nobody Sees\u201d: Toward a Praxis"
    assert fields["abstract"] == "Households living on US$1 a day: 40% of HIV cases & R_D."


def test_bibtex_string_expressions_are_resolved(tmp_path: Path) -> None:
    # Found by benchmarks/fuzz_readers.py: '#' concatenation and month macros.
    text = '@article{k, title = "Badges in " # jan # {2020}, author = "Doe, J.", year = 2020}\n'
    result = read_file(write(tmp_path, "macros.bib", text))
    assert result.records[0].fields["title"] == "Badges in January2020"
    assert not result.quarantined
    undefined = read_file(write(tmp_path, "undef.bib", '@article{k, title = "Badges " # qb, year = 2020}\n'))
    assert undefined.records[0].fields["title"] == "Badges qb"


def test_openalex_list_jsonl_and_result_page(tmp_path: Path) -> None:
    work = {
        "id": "https://openalex.org/W1",
        "title": "Badges",
        "publication_year": 2020,
        "doi": "https://doi.org/10.1/x",
        "abstract_inverted_index": {"Open": [0], "badges": [1, 3], "are": [2]},
        "authorships": [{"author": {"display_name": "A. Author"}}],
        "primary_location": {"source": {"display_name": "Venue"}},
    }
    as_list = read_file(write(tmp_path, "works.json", json.dumps([work, "not a work"])))
    assert as_list.records[0].fields["abstract"] == "Open badges are badges"
    assert as_list.records[0].fields["venue"] == "Venue"
    assert len(as_list.quarantined) == 1
    page = read_file(write(tmp_path, "page.json", json.dumps({"meta": {}, "results": [work]})))
    assert len(page.records) == 1
    jsonl = read_file(write(tmp_path, "works.jsonl", json.dumps(work) + "\n{broken\n" + json.dumps(work) + "\n"))
    assert len(jsonl.records) == 2 and jsonl.quarantined[0].location == "line 2"


def test_rebuild_abstract_orders_positions() -> None:
    assert rebuild_abstract({"b": [1], "a": [0], "c": [2, 4], "d": [3]}) == "a b c d c"
    assert rebuild_abstract(None) == ""


def test_generic_csv_keeps_id_as_source_id_and_maps_columns(tmp_path: Path) -> None:
    csv_text = "id,title,abstract,label\n17,Badges at work,Some text,1\n18,,,0\n"
    result = read_file(write(tmp_path, "asreview.csv", csv_text))
    assert result.records[0].fields["source_id"] == "17"
    assert result.records[0].fields["label"] == "1"
    assert len(result.quarantined) == 1 and result.quarantined[0].location == "line 3"


def test_column_map_overrides_and_names_missing_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "odd.csv", "Heading,Body\nA title,Text\n")
    result = read_file(path, column_map={"title": "Heading", "abstract": "Body"})
    assert result.records[0].fields["title"] == "A title"
    with pytest.raises(UnreadableFile, match="not in the header") as raised:
        read_file(path, column_map={"title": "Missing"})
    # The error names the file, as every reader's does.
    assert str(raised.value).startswith(f"{path}: ")


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    data = "Title,Year\nCompétences numériques et badges,2020\n".encode("latin-1")
    result = read_file(write(tmp_path, "latin.csv", data))
    assert result.encoding != "utf-8"
    assert result.records[0].fields["title"] == "Compétences numériques et badges"


def test_empty_and_unknown_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        read_file(write(tmp_path, "empty.csv", ""))
    with pytest.raises(UnreadableFile, match="cannot tell the format"):
        read_file(write(tmp_path, "mystery.dat", "just words without structure"))


def test_fulltext_markdown_is_one_record(tmp_path: Path) -> None:
    result = read_file(write(tmp_path, "paper.md", "# Badges in 2021\n\nFirst paragraph.\n\nSecond paragraph."))
    assert result.format == "fulltext_text"
    assert result.records[0].fields["title"] == "Badges in 2021"
    assert "Second paragraph." in result.records[0].fields["fulltext"]


def test_detection_by_content_not_extension(tmp_path: Path) -> None:
    assert detect_format("x.txt", b"TY  - JOUR\nTI  - a\nER  -\n") == "ris"
    assert detect_format("x.txt", b"@article{a, title={b}}") == "bibtex"
    assert detect_format("x.csv", b'"Authors","Title","EID","Source title"\n') == "scopus_csv"


def test_pdf_text_layer_is_read_and_segmented(tmp_path: Path) -> None:
    from weasyprint import HTML

    from litthemes.segment import segment

    html = (
        "<h1>Open Badges in vocational training</h1><p>Employers in the region were asked about badges.</p>"
        "<p>Second paragraph. It reports that 40% of them knew the standard.</p>"
    )
    pdf = tmp_path / "paper.pdf"
    HTML(string=html).write_pdf(str(pdf))
    result = read_file(pdf)
    assert result.format == "fulltext_pdf" and len(result.records) == 1
    text = result.records[0].fields["fulltext"]
    assert "Employers in the region" in text and "40% of them" in text
    import pandas as pd

    from litthemes.ingest.clean import normalize_record

    fields = normalize_record(result.records[0].fields)
    segments = segment(pd.DataFrame([{**fields, "record_id": "p", "status": "included"}]))
    assert (segments["field"] == "fulltext").sum() >= 2


def test_pdf_without_text_layer_is_quarantined(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    path = tmp_path / "scan.pdf"
    with open(path, "wb") as fh:
        writer.write(fh)
    result = read_file(path)
    assert not result.records and "no text layer" in result.quarantined[0].reason


def test_wos_tab_delimited(tmp_path: Path) -> None:
    tab = "PT\tAU\tTI\tAB\tPY\tDI\tUT\nJ\tDoe, J\tBadges at work\tAn abstract.\t2020\t10.1000/x\tWOS:1\n"
    result = read_file(write(tmp_path, "savedrecs.txt", tab))
    assert result.format == "wos_tab"
    assert result.records[0].fields["title"] == "Badges at work" and result.records[0].fields["source_id"] == "WOS:1"


def test_utf16_export_with_its_byte_order_mark_is_read_like_utf8(tmp_path: Path) -> None:
    """Windows tools save "Unicode text" as UTF-16 with a byte-order mark (WoS's older
    tab-delimited Windows export, Excel): its NUL bytes are not binary content."""
    tab = "PT\tAU\tTI\tAB\tPY\tDI\tUT\nJ\tDoe, J\tCompétences et badges\tAn abstract.\t2020\t10.1000/x\tWOS:1\n"
    result = read_file(write(tmp_path, "savedrecs.txt", tab.encode("utf-16")))
    assert result.format == "wos_tab" and result.encoding == "utf-16"
    assert result.records[0].fields["title"] == "Compétences et badges"
    with pytest.raises(UnreadableFile, match="broken UTF-16"):
        read_file(write(tmp_path, "broken.txt", b"\xff\xfeP\x00T\x00\x00\xd8"))


def test_a_registered_reader_is_a_format_and_is_detected_by_its_sniff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litthemes.ingest.readers import registry

    monkeypatch.setattr(registry, "_READERS", dict(registry.readers()))

    @registry.register("pubmed_nbib", sniff=lambda path, text: text.startswith("PMID- "))
    def read_nbib(path: str, data: bytes) -> registry.ReadResult:
        result = registry.ReadResult(path=path, format="pubmed_nbib")
        result.records.append(RawRecord("entry 1", {"title": data.decode().split("TI  - ")[1].strip()}))
        return result

    export = tmp_path / "pubmed.nbib"
    export.write_text("PMID- 1\nTI  - Badges in nursing education\n", encoding="utf-8")
    assert "pubmed_nbib" in registry.formats() and registry.formats()[0] == "scopus_csv"
    result = read_file(export)
    assert result.format == "pubmed_nbib" and result.records[0].fields["title"] == "Badges in nursing education"
    with pytest.raises(ValueError, match="registered twice"):
        registry.register("ris")(read_nbib)
