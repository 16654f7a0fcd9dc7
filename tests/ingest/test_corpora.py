"""Readers on real exports from other people's reviews (../shared/corpora)."""

from __future__ import annotations

from pathlib import Path

import pytest

from litthemes.ingest import ingest
from litthemes.ingest.clean import normalize_abstract
from litthemes.ingest.readers import read_file

pytestmark = pytest.mark.corpora

# file -> (records read, records with an abstract, format)
EXPECTED = {
    "education-exports/dse-citan/scopus.csv": (318, 306, "scopus_csv"),
    "education-exports/dse-citan/wos.txt": (146, 137, "wos_txt"),
    "education-exports/moocs-certification/Scopus.csv": (194, None, "scopus_csv"),
    "education-exports/moocs-certification/WebOfScience.xls": (244, None, "table"),
    "education-exports/moocs-certification/IEEE.csv": (44, None, "table"),
    "education-exports/moocs-certification/ACM.xlsx": (51, None, "table"),
    "education-exports/moocs-certification/Springer.csv": (74, 0, "table"),
    "education-exports/gamification-reviews/scopus.bib": (94, None, "bibtex"),
    "education-exports/dropout-bibliometrics/scopus.bib": (221, 214, "bibtex"),
    "education-exports/dropout-bibliometrics/savedrecs.bib": (122, None, "bibtex"),
    # The issue counts 105; the file holds 106 `TY  -` entries (the first sits behind a
    # UTF-8 byte-order mark, so `grep -c '^TY'` misses it). 106 is what is there.
    "education-exports/business-analytics-education/scopus.ris": (106, 0, "ris"),
    "education-exports/business-analytics-education/scopus.csv": (103, None, "scopus_csv"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_and_abstracts(corpora: Path, name: str) -> None:
    records, abstracts, fmt = EXPECTED[name]
    result = read_file(corpora / name)
    assert result.format == fmt
    assert len(result.records) == records, result.quarantined[:3]
    assert not result.quarantined
    if abstracts is not None:
        assert sum(bool(normalize_abstract(r.fields.get("abstract"))) for r in result.records) == abstracts


def test_repeated_bibtex_fields_are_logged(corpora: Path) -> None:
    gamification = read_file(corpora / "education-exports/gamification-reviews/scopus.bib")
    dropout = read_file(corpora / "education-exports/dropout-bibliometrics/scopus.bib")
    assert sum("funding_details" in n for n in gamification.notes) == 10
    assert len({n.split(" entry ")[0] for n in dropout.notes}) == 41


def test_openalex_synergy_abstracts_rebuilt(corpora: Path) -> None:
    files = sorted((corpora / "openalex-synergy").glob("*/works_*.json"))
    results = [read_file(f) for f in files]
    works = [r for res in results for r in res.records]
    assert len(works) == 529
    with_abstract = [w for w in works if w.fields["abstract"]]
    assert len(with_abstract) > 500
    # Rebuilt abstracts are running text, not a bag of words.
    assert sum(len(w.fields["abstract"].split()) > 20 for w in with_abstract) > 0.9 * len(with_abstract)


def test_flow_invariant_on_every_real_export(corpora: Path) -> None:
    paths = [str(corpora / name) for name in EXPECTED]
    records, flow = ingest(paths)
    for row in flow["files"]:
        assert row["read"] == row["included"] + row["duplicates"] + row["excluded"] + row["quarantined"], row
    assert flow["totals"]["read"] == sum(v[0] for v in EXPECTED.values())
    assert len(records) == flow["totals"]["read"] - flow["totals"]["quarantined"]


def test_moocs_combined_dedup_against_the_reviewers(corpora: Path) -> None:
    """The review de-duplicated combined.csv (606) by hand to 396; docs/dedup-moocs.md
    explains each of the differences that this test checks."""
    from litthemes.ingest.clean import title_key

    folder = corpora / "education-exports/moocs-certification"
    records, flow = ingest([str(folder / "combined.csv")])
    assert flow["totals"]["read"] == 606
    assert flow["totals"]["included"] == 407
    included = records[records["status"] == "included"]
    keys = included["title"].map(title_key)
    theirs = [title_key(r.fields["title"]) for r in read_file(folder / "dublicated_removed.csv").records]
    assert len(theirs) == 396
    # (3) their list keeps one duplicate that we merge
    trenches = "teaching signal processing online a report from the trenches"
    assert theirs.count(trenches) == 2 and (keys == trenches).sum() == 1
    # (2) one pair two years apart stays two records under the default tolerance
    pair = included[keys.str.startswith("a study on the mediation effects of intention to enroll")]
    assert sorted(pair["year"].tolist()) == [2015, 2017]
    # (1) eleven records the reviewers dropped without any near-duplicate in the file
    dropped = [
        "5th european moocs stakeholders summit emoocs 2017",
        "editorial business education in profound disruption",
        "training future anesthesiologists in obstetric care",
    ]
    assert all(k in set(keys) and k not in set(theirs) for k in dropped)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_flow_invariant_on_corrupted_real_exports(corpora: Path, tmp_path: Path, name: str) -> None:
    """Truncated, garbled and doubled variants of each real export still add up."""
    import random

    data = (corpora / name).read_bytes()
    rng = random.Random(name)
    suffix = Path(name).suffix
    variants = {
        "truncated": data[: len(data) // 2],
        "garbled": b"".join(
            line + (b"\x00\xff garbage {{ \n" if rng.random() < 0.05 else b"")
            for line in data.splitlines(keepends=True)
        ),
        "doubled": data + b"\n" + data,
    }
    paths = []
    for label, content in variants.items():
        path = tmp_path / f"{label}{suffix}"
        path.write_bytes(content)
        paths.append(str(path))
    _records, flow = ingest(paths)
    for row in flow["files"]:
        assert row["read"] == row["included"] + row["duplicates"] + row["excluded"] + row["quarantined"], row
        if not row["error"]:
            assert row["read"] > 0
    doubled = next(r for r in flow["files"] if r["file"].endswith(f"doubled{suffix}"))
    if not doubled["error"] and suffix not in (".xls", ".xlsx"):
        # Every record appears twice: at least half of what was read is merged as duplicates.
        assert doubled["duplicates"] >= (doubled["read"] - doubled["quarantined"]) // 2 - 5


def test_benchmark_corpus_counts(corpora: Path) -> None:
    from litthemes.ingest.readers import read_file as read

    results = [read(p) for p in sorted((corpora / "benchmark-wos-archaeology").glob("*.txt"))]
    assert len(results) == 24
    assert sum(len(r.records) for r in results) == 12000
    assert sum(bool(normalize_abstract(x.fields.get("abstract"))) for r in results for x in r.records) == 6715
    assert not any(r.quarantined for r in results)


def test_markup_in_real_titles_and_abstracts_is_dropped(corpora: Path) -> None:
    # One Web of Science export of the archaeology corpus: 98 inline tags (<i>, <sup>) in it.
    path = corpora / "benchmark-wos-archaeology" / "savedrecs21.txt"
    assert "<i>" in path.read_text(encoding="utf-8-sig")
    records, _ = ingest([str(path)])
    text = records["title"] + " " + records["abstract"]
    assert not text.str.contains(r"</?(?:i|sup|sub|scp)>", regex=True).any()
    assert records["title"].str.startswith("The UNESCO Convention on the Protection of the Underwater").any()


def test_early_access_articles_keep_their_year(corpora: Path) -> None:
    # The comp-data-sci review's Web of Science CSV: three early-access articles have no
    # publication year, only an "Early Access Date" (Nov-21, Dec-21, Jan-22).
    path = corpora / "labelled" / "comp-data-sci" / "01-database-extraction" / "web-of-science.csv"
    records, _ = ingest([str(path)])
    assert records["year"].notna().all()
    year = dict(zip(records["doi"], records["year"], strict=True))
    assert [year[f"10.3934/fods.20210{n}"] for n in (31, 32, 35)] == [2021, 2021, 2022]
    # Web of Science's BibTeX writes the same field as "Early Access Date = {{AUG 2020}}".
    records, _ = ingest([str(corpora / "education-exports" / "dropout-bibliometrics" / "savedrecs.bib")])
    assert records["year"].notna().all()
    year = dict(zip(records["doi"], records["year"], strict=True))
    assert year["10.1080/00131911.2020.1793734"] == 2020
