"""Normalisation, de-duplication, screening and the flow invariant."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from litthemes.config import IngestSettings, ScreeningSettings
from litthemes.ingest import ingest
from litthemes.ingest.clean import (
    clean_text,
    normalize_abstract,
    normalize_doc_type,
    normalize_doi,
    normalize_year,
    title_key,
)


def test_normalizers() -> None:
    assert normalize_doi("https://doi.org/10.1000/ABC.1.") == "10.1000/abc.1"
    assert normalize_doi("doi: 10.5171/2025.4621925") == "10.5171/2025.4621925"
    assert normalize_doi("not a doi") == ""
    assert normalize_year("Published 12 March 2021") == 2021
    assert normalize_year("") is None
    assert normalize_doc_type("Conference Paper") == "conference"
    assert normalize_doc_type("JOUR") == "article"
    assert title_key("Micro-Credentials: A Review!") == "micro credentials a review"


@pytest.mark.parametrize(
    "notice",
    [
        "© 2020, Emerald Publishing Limited.",
        "(C) 2015 Elsevier Ltd. All rights reserved.",
        "Copyright © 2019 by the authors.",
        "© 2018, Springer Science+Business Media B.V., part of Springer Nature, and UNESCO Institute for "
        "Lifelong Learning.",
        "© 2017 Looyestyn et al. This is an open access article distributed under the terms of the Creative "
        "Commons Attribution License, which permits unrestricted use.",
        "This article is protected by copyright. All rights reserved.",
    ],
)
def test_a_closing_publisher_notice_is_not_part_of_the_abstract(notice: str) -> None:
    body = "Badges motivated learners to complete the course. Completion rose by a third."
    assert normalize_abstract(f"{body} {notice}") == body
    assert normalize_abstract(notice) == ""


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        # Shapes found in the shared corpora (Web of Science and OpenAlex titles).
        ("Towards an archaeology <i>in</i> and <i>of</i> the present", "Towards an archaeology in and of the present"),
        ("Fallow deer (<i>Dama dama dama</i>) management", "Fallow deer (Dama dama dama) management"),
        # The database dropped the space before the tag: the words stay apart.
        ("Safety analysis of<scp>rFVII</scp>a with emicizumab", "Safety analysis of rFVIIa with emicizumab"),
        ("an area of 5 m<sup>2</sup> and H<sub>2</sub>O", "an area of 5 m2 and H2O"),
        (
            "<jats:title>Abstract</jats:title><jats:p>Badges are &lt;i&gt;new&lt;/i&gt;.</jats:p>",
            "Abstract Badges are new.",
        ),
        ("<mml:math><mml:mi>x</mml:mi></mml:math> rises", "x rises"),
        # PubMed's section heads and cross-references (OpenAlex), Scopus subscripts.
        ("<h3>Background</h3> Fears fade. <h3>Methods</h3> Rats", "Background Fears fade. Methods Rats"),
        ('a task (<xref ref-type="bibr" rid="bib26">Yoo and Lee, 2017</xref>).', "a task (Yoo and Lee, 2017)."),
        ("CO<inf>2</inf> <SUP>14</SUP>C", "CO2 14C"),
        # Comparisons are not tags.
        ("p<0.05 and a < b > c", "p<0.05 and a < b > c"),
    ],
)
def test_inline_markup_is_dropped(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_copyright_words_inside_the_text_are_kept() -> None:
    kept = [
        "The platform WOO3© links online engineering courses. It was used by 400 students.",
        "Open licences reduce copyright barriers to reusing course materials in micro-credentials.",
        # A sentence that only begins like a notice, followed by more than a notice's length of text.
        ("Copyright rules differ between countries. " + "Learners in many countries earned badges. " * 12).strip(),
    ]
    for text in kept:
        assert normalize_abstract(text) == text


def test_dedup_by_doi_then_fuzzy_title_with_year_tolerance(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    a.write_text(
        "title,year,doi,abstract\n"
        "Digital badges in higher education: a review,2019,10.1000/abc,\n"
        "Micro-credentials and employability of graduates,2021,,Long abstract here.\n"
        "Micro-credentials and employability of graduates,2015,,\n",
        encoding="utf-8",
    )
    b = tmp_path / "b.tsv"
    b.write_text(
        "title\tyear\tdoi\n"
        "A different title entirely about badges\t2019\t10.1000/ABC\n"
        "Micro credentials and the employability of graduates\t2022\t\n",
        encoding="utf-8",
    )
    records, flow = ingest([str(a), str(b)])
    status = dict(zip(records["title"], records["status"], strict=True))
    # Same DOI (case differs) merges despite different titles.
    assert (
        status["A different title entirely about badges"] == "duplicate"
        or status["Digital badges in higher education: a review"] == "duplicate"
    )
    # Fuzzy title within a year merges; the 2015 record is six years away and stays.
    merged = records[records["merged_from"] != ""]
    assert len(merged) == 2
    employ = records[records["title"].str.startswith("Micro")]
    assert sorted(employ["status"]) == ["duplicate", "included", "included"]
    kept = employ[(employ["status"] == "included") & (employ["year"] != 2015)].iloc[0]
    assert kept["abstract"] == "Long abstract here."  # richest record survives
    for row in flow["files"]:
        assert row["read"] == row["included"] + row["duplicates"] + row["excluded"] + row["quarantined"]


def test_screening_marks_excluded_with_rule(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(
        "title,year,language\nOld badge study,2005,English\nNew badge study,2021,German\n"
        "Badges and gamification,2020,English\n",
        encoding="utf-8",
    )
    settings = IngestSettings(
        screening=ScreeningSettings(year_min=2010, languages=["en"], exclude_terms=["gamification"])
    )
    records, flow = ingest([str(path)], settings)
    reasons = dict(zip(records["title"], records["excluded_by"], strict=True))
    assert reasons["Old badge study"].startswith("year_min")
    assert reasons["New badge study"].startswith("languages")
    assert reasons["Badges and gamification"].startswith("exclude_terms")
    assert flow["totals"]["excluded"] == 3 and flow["totals"]["included"] == 0
    assert flow["excluded_by_rule"] == {"exclude_terms": 1, "languages": 1, "year_min": 1}


def test_unreadable_file_is_reported_not_raised(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_text("", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("title\nA badge paper\n", encoding="utf-8")
    records, flow = ingest([str(empty), str(good)])
    assert len(records) == 1
    failed = [f for f in flow["files"] if f["error"]]
    assert len(failed) == 1 and "empty" in failed[0]["error"] and failed[0]["file"].endswith("empty.ris")
    # The reader's error names the file; the flow's note says so once.
    (note,) = [n for n in flow["notes"] if n.startswith("unreadable")]
    assert note.count("empty.ris") == 1


def test_record_ids_are_stable_and_unique(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("title,year\nSame title,2020\nSame title,2020\nOther,2021\n", encoding="utf-8")
    first, _ = ingest([str(path)])
    second, _ = ingest([str(path)])
    assert first["record_id"].is_unique
    assert first["record_id"].tolist() == second["record_id"].tolist()


def test_numbered_series_and_doi_chains_are_not_merged(tmp_path: Path) -> None:
    path = tmp_path / "series.csv"
    path.write_text(
        "title,year,doi\n"
        "The funding of archaeology in Britain part 3,2000,\n"
        "The funding of archaeology in Britain part 4,2000,\n"
        "Caught in the Net: electronic opportunities in archaeology,1996,10.1086/a1\n"
        "Caught in the Net - electronic opportunities in archaeology,1997,\n"
        "Caught in the Net: electronic opportunities in archaeology,1998,10.1086/a2\n",
        encoding="utf-8",
    )
    records, _ = ingest([str(path)])
    status = records.set_index("title")["status"]
    assert (records[records["title"].str.contains("part")]["status"] == "included").all()
    net = records[records["title"].str.startswith("Caught")]
    # The DOI-less 1997 record may join one of the two, but never both into one cluster.
    assert (net["status"] == "included").sum() >= 2
    assert len(status) == 5


def test_ingest_cache_reads_only_new_or_changed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import litthemes.ingest.pipeline as ingest_module

    wos = tmp_path / "savedrecs.txt"
    wos.write_text(
        "FN Clarivate\nVR 1.0\nPT J\nAU Doe, J\nTI Digital badges at work\nAB Badges, 40% of learners.\n"
        "PY 2021\nER\nPT J\nAU Roe, K\nPY 2020\nER\nEF\n",
        encoding="utf-8",
    )  # the second: no TI, no AB
    csv = tmp_path / "more.csv"
    csv.write_text("title,year,language\nMicro-credentials in Europe,2022,English\n", encoding="utf-8")
    cache = str(tmp_path / "cache")
    read: list[str] = []
    original = ingest_module.read_file

    def counting(path: str, *args: object) -> object:
        read.append(Path(path).name)
        return original(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ingest_module, "read_file", counting)
    paths = [str(wos), str(csv)]
    uncached = ingest(paths)
    first = ingest(paths, cache_dir=cache)
    second = ingest(paths, cache_dir=cache)
    assert read == ["savedrecs.txt", "more.csv"] * 2  # uncached, then the first cached run; not the second
    for records, flow in (first, second):
        pd.testing.assert_frame_equal(records, uncached[0])
        assert flow == uncached[1]
    assert second[1]["quarantine"][0]["reason"] == "record has neither TI nor AB"
    csv.write_text(
        "title,year,language\nMicro-credentials in Europe,2022,English\nOpen Badges,2019,English\n", encoding="utf-8"
    )
    read.clear()
    third, _ = ingest(paths, cache_dir=cache)
    assert read == ["more.csv"] and len(third) == 3
