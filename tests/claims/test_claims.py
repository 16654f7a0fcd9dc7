"""Claims stage: quantitative statements found in segments (claims.spans), and the ledger
that joins them with sentence and citation (claims.ledger)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import litthemes.claims.spans as claims_module
from litthemes.claims import find_claims, ledger
from litthemes.claims.run import run as run_claims
from litthemes.segment.run import run as run_segment
from litthemes.tables import RECORDS, write_table


def test_claims_ledger_finds_quantities() -> None:
    segs = pd.DataFrame(
        [
            {
                "record_id": "r",
                "segment_index": 1,
                "field": "abstract",
                "text": "Over 2,000 learners earned badges, and 45% of employers recognised them.",
            },
            {
                "record_id": "r",
                "segment_index": 2,
                "field": "abstract",
                "text": "The market will grow by 12% to $1.2 billion.",
            },
            {"record_id": "r", "segment_index": 0, "field": "title", "text": "Title with 50% ignored"},
        ]
    )
    recs = pd.DataFrame(
        [{"record_id": "r", "authors": "Doe, J.; Roe, R.", "year": 2022, "title": "Badges", "doi": "10.1/x"}]
    )
    claims = find_claims(segs, recs)
    kinds = set(claims["kind"])
    assert {"percentage", "money", "count"} <= kinds
    assert "2,000 learners" in set(claims["value"])
    assert (claims["segment_index"] != 0).all()
    assert claims["citation"].iloc[0].startswith("Doe & Roe (2022)")


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        # Numbers in words take more than one token (the dropout corpus's "Ninety-four percent").
        ("Ninety-four percent of the baseline sample was interviewed.", ["Ninety-four percent"]),
        ("We surveyed twenty five students and thirty-two teachers.", ["twenty five students", "thirty-two teachers"]),
        ("About 10-20% of adults earned a badge.", ["10-20%"]),
        # An ordinal counts nothing.
        ("Among second grade students, reading rose.", []),
        ("Skills of twenty-first century learners matter.", []),
        # A change in percent keeps its unit; an enumeration after "growth" is no growth.
        ("Wages fell, a decline of 28 percent.", ["decline of 28 percent"]),
        ("Pay rose by 4 per cent a year.", ["rose by 4 per cent"]),
        ("Indicators cause economic growth, (2) growth causes indicators.", []),
        ("The growth of the one sector slowed, at a growth rate of 5% overall.", ["growth rate of 5%"]),
    ],
)
def test_claims_read_whole_numbers(text: str, claims: list[str]) -> None:
    segs = pd.DataFrame([{"record_id": "r", "segment_index": 1, "field": "abstract", "text": text}])
    recs = pd.DataFrame([{"record_id": "r", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""}])
    assert find_claims(segs, recs)["value"].tolist() == claims


def test_claims_prefilter_drops_only_text_without_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [
        "Twenty thousand learners enrolled in the first cohort.",
        "Uptake rose by a third in 2021.",
        "Someone said badges are often ignored.",
        "No quantities appear in this sentence at all.",
        "Enrolment doubled to ²3 per cent.",
        "One-third of issuers (n=12) offer stackable credentials.",
    ]
    assert [claims_module.may_hold_claim(t) for t in texts] == [True, True, False, False, True, True]
    segs = pd.DataFrame(
        [{"record_id": "r", "segment_index": i + 1, "field": "abstract", "text": t} for i, t in enumerate(texts)]
    )
    recs = pd.DataFrame([{"record_id": "r", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""}])
    filtered = find_claims(segs, recs)
    monkeypatch.setattr(claims_module, "may_hold_claim", lambda text: True)
    assert filtered.equals(find_claims(segs, recs))  # the filter loses nothing
    assert len(filtered) >= 2
    # Titles only (the bundled sample): an empty ledger with its columns, not an error.
    titles = find_claims(segs.assign(field="title"), recs)
    assert titles.empty and list(titles.columns) == list(filtered.columns)


def test_claims_cache_runs_spacy_on_new_text_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [
        "Over 2,000 learners earned badges, and 45% of employers recognised them.",
        "The market will grow by 12% to $1.2 billion.",
        "Twenty thousand learners enrolled.",
        "Enrolment rose by 30% in 2021.",
    ]
    segs = pd.DataFrame(
        [
            {"record_id": f"r{i % 2}", "segment_index": i + 1, "field": "abstract", "text": t}
            for i, t in enumerate(texts)
        ]
    )
    recs = pd.DataFrame(
        [{"record_id": f"r{i}", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""} for i in range(3)]
    )
    uncached = find_claims(segs, recs)
    first = find_claims(segs.iloc[:3], recs, cache_dir=str(tmp_path))
    pd.testing.assert_frame_equal(first, find_claims(segs.iloc[:3], recs))
    seen: list[list[str]] = []
    real = claims_module._spans
    monkeypatch.setattr(claims_module, "_spans", lambda batch, model: seen.append(batch) or real(batch, model))
    grown = find_claims(segs, recs, cache_dir=str(tmp_path))
    assert seen == [[texts[3]]]  # only the new text went through spaCy
    pd.testing.assert_frame_equal(grown, uncached)
    assert len(grown) > len(first)


def _records() -> pd.DataFrame:
    rows = [
        {
            "record_id": "r1",
            "title": "Badges at scale",
            "status": "included",
            "authors": "Doe, J.",
            "year": 2021,
            "doi": "10.1/a",
            "fulltext": "",
            "abstract": "Over 2,000 learners earned badges. Completion rose by 30% in 2021. No numbers here.",
        },
        {
            "record_id": "r2",
            "title": "Costs",
            "status": "included",
            "authors": "Roe, R.; Poe, P.",
            "year": 2023,
            "doi": "",
            "fulltext": "",
            "abstract": "Each credential cost $40 to issue, and 12% of issuers stopped.",
        },
        {
            "record_id": "r3",
            "title": "Dropped 50%",
            "status": "excluded",
            "authors": "Zed, Z.",
            "year": 2020,
            "doi": "",
            "fulltext": "",
            "abstract": "A 75% share that must not appear.",
        },
    ]
    return pd.DataFrame(rows).reindex(columns=RECORDS.names)


def test_the_claims_stage_reads_the_segments_and_keeps_included_records(tmp_path: Path) -> None:
    write_table(_records(), tmp_path / "records.parquet", RECORDS)
    settings = {"cache_dir": str(tmp_path / "cache")}
    run_segment(str(tmp_path / "records.parquet"), str(tmp_path / "segments.parquet"), settings)
    found = run_claims(
        str(tmp_path / "records.parquet"),
        str(tmp_path / "segments.parquet"),
        str(tmp_path / "claims.parquet"),
        settings,
    )
    again = run_claims(
        str(tmp_path / "records.parquet"), str(tmp_path / "segments.parquet"), str(tmp_path / "again.parquet"), settings
    )
    assert found == again >= 4
    assert (tmp_path / "claims.parquet").read_bytes() == (tmp_path / "again.parquet").read_bytes()
    ledger_table = pd.read_parquet(tmp_path / "claims.parquet")
    assert "r3" not in set(ledger_table["record_id"])
    assert ledger_table.loc[ledger_table["value"] == "2,000 learners", "citation"].iloc[0].startswith("Doe (2021)")
    # In segment order, and within a segment in the order the claims appear.
    assert ledger_table["value"].tolist()[-2:] == ["$40", "12%"]


def test_spans_of_another_segment_table_are_named() -> None:
    segs = pd.DataFrame([{"record_id": "r", "segment_index": 1, "field": "abstract", "text": "45% of issuers."}])
    recs = pd.DataFrame([{"record_id": "r", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""}])
    spans = pd.DataFrame([{"record_id": "r", "segment_index": 7, "kind": "percentage", "value": "45%", "position": 0}])
    with pytest.raises(ValueError, match="segment 7 of record 'r'"):
        ledger(spans, segs, recs)


def test_the_claims_command_runs_spacy_without_torch(tmp_path: Path) -> None:
    """The claims job is one of a rerun's short jobs: thinc would import torch with spaCy
    (most of the job's start-up), and nothing in it uses torch. Same ledger either way."""
    write_table(_records(), tmp_path / "records.parquet", RECORDS)
    settings = json.dumps({"cache_dir": str(tmp_path / "cache")})
    run_segment(str(tmp_path / "records.parquet"), str(tmp_path / "segments.parquet"), json.loads(settings))
    command = (
        "import sys; from click.testing import CliRunner; from litthemes.cli import main; "
        "done = CliRunner().invoke(main, ['claims', '--records', {records!r}, '--segments', {segments!r}, "
        "'--out', {out!r}, '--settings', {settings!r}]); "
        "assert done.exit_code == 0, done.output; print('torch' in sys.modules)"
    )
    outputs = {}
    for name, speedups in (("fast", "1"), ("plain", "0")):
        out = tmp_path / f"{name}.parquet"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                command.format(
                    records=str(tmp_path / "records.parquet"),
                    segments=str(tmp_path / "segments.parquet"),
                    out=str(out),
                    settings=settings,
                ),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "LITTHEMES_SPEEDUPS": speedups},
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        outputs[name] = (done.stdout.strip().splitlines()[-1], out.read_bytes())
    assert outputs["fast"][0] == "False"  # torch stayed out of the job
    assert outputs["plain"][0] == "True"  # as spaCy imports it by itself
    assert outputs["fast"][1] == outputs["plain"][1]
