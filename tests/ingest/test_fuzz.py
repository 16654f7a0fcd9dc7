"""Property-based tests: whatever bytes a reader gets, it returns records plus quarantine
entries or raises one clear UnreadableFile naming the file; nothing else escapes, and
no record is lost from the accounting. benchmarks/fuzz_readers.py pushes harder."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from litthemes.ingest import ingest
from litthemes.ingest.readers import UnreadableFile, read_file

SUFFIXES = [".csv", ".tsv", ".txt", ".ris", ".bib", ".json", ".jsonl", ".xlsx", ".xls", ".pdf", ".md"]

SEEDS = {
    ".csv": b"title,abstract,year,doi\nBadges,Some text,2020,10.1000/x\nCredentials,More,2021,\n",
    ".txt": b"FN Clarivate\nVR 1.0\nPT J\nAU Doe, J\nTI A title\n   continued\nPY 2020\nER\n\nEF\n",
    ".ris": b"TY  - JOUR\nTI  - A title\nAB  - An abstract\nPY  - 2020\nER  -\n",
    ".bib": b"@article{k1,\n title={A {B} title},\n year={2020},\n}\n@article{k2, title={Other}}\n",
    ".json": b'[{"id": "W1", "title": "T", "abstract_inverted_index": {"a": [0]}, "publication_year": 2020}]',
}


def check(path: Path) -> None:
    try:
        result = read_file(path)
    except UnreadableFile as exc:
        assert str(path) in str(exc)
        return
    assert result.read == len(result.records) + len(result.quarantined)
    for entry in result.quarantined:
        assert entry.file == str(path) and entry.location and entry.reason


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        check(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    suffix=st.sampled_from(sorted(SEEDS)),
    cut=st.integers(0, 400),
    insert=st.binary(max_size=40),
    encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]),
    huge=st.booleans(),
)
def test_mutated_valid_exports(suffix: str, cut: int, insert: bytes, encoding: str, huge: bool) -> None:
    text = SEEDS[suffix].decode()
    if huge:
        text = text.replace("A title", "A title " + "x" * 200_000)
    data = text.encode(encoding, errors="replace")
    position = min(cut, len(data))
    data = data[:position] + insert + data[position:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        check(path)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=6), max_size=8),
    header=st.lists(
        st.sampled_from(["title", "abstract", "year", "doi", "id", "extra", "Title"]), min_size=1, max_size=5
    ),
)
def test_ingest_accounts_for_every_row(rows: list[list[str]], header: list[str]) -> None:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        records, flow = ingest([str(path)])
        for row in flow["files"]:
            assert row["read"] == row["included"] + row["duplicates"] + row["excluded"] + row["quarantined"]
        assert len(records) == flow["totals"]["read"] - flow["totals"]["quarantined"]
