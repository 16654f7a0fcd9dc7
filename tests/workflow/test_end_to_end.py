"""The whole workflow on a small corpus, checking the content of its outputs."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

HOSTILE = [
    {"title": "<script>alert(1)</script> Micro-credentials and employer trust", "year": "2021",
     "doi": "javascript:alert(1)", "url": "javascript:alert(2)", "authors": "Mallory, M.",
     "abstract": "Employers doubted the value of badges. Over 60% of 300 employers surveyed did not recognise them."},
    {"title": "Stackable credentials toward a master's degree", "year": "2022", "doi": "10.5555/stack.1",
     "url": "", "authors": "Doe, J.; Roe, R.",
     "abstract": "Three micro-credentials stack into a graduate certificate that counts toward the degree."},
    {"title": "Blockchain wallets for verifiable credentials", "year": "2020", "doi": "", "url": "https://example.org/x",
     "authors": "Lee, K.", "abstract": "Learners keep credentials in a digital wallet; issuers sign them on a ledger."},
    {"title": "The pandemic and online short courses", "year": "2021", "doi": "", "url": "", "authors": "Kim, S.",
     "abstract": "During COVID-19 lockdowns enrolments in online short courses doubled."},
]


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--configfile", str(workdir / "config.yaml"), "--cores", "2", *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SOURCE_DATE_EPOCH": "1700000000"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=1500)


def digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, embed_cache: str) -> Path:
    work = tmp_path_factory.mktemp("workflow")
    shutil.copy(ROOT / "data" / "sample" / "seed-references.tsv", work / "seed.tsv")
    with open(work / "extra.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HOSTILE[0]))
        writer.writeheader()
        writer.writerows(HOSTILE)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(inputs=["seed.tsv", "extra.csv"], codebook=str(ROOT / "config" / "codebook.yaml"))
    config["embed"]["cache_dir"] = embed_cache
    config["figures"]["dpi"] = 72
    config["topics"]["stability_runs"] = 2
    (work / "config.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(work)
    assert result.returncode == 0, result.stderr[-4000:]
    return work


def test_outputs_exist_and_nothing_left_to_do(run: Path) -> None:
    assert (run / "reports" / "brief.html").stat().st_size > 10_000
    pngs = sorted((run / "reports" / "figures").glob("*.png"))
    assert len(pngs) >= 6 and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert len(list((run / "reports" / "figures").glob("*.svg"))) == len(pngs)
    for table in ("prevalence", "trend_tests", "corpus_flow", "challenge_cooccurrence"):
        for ext in ("csv", "md", "tex"):
            assert (run / "reports" / "tables" / f"{table}.{ext}").exists()
    dry = snakemake(run, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr


def test_every_record_accounted_for_and_coded(run: Path) -> None:
    records = pd.read_parquet(run / "data" / "interim" / "records.parquet")
    flow = pd.read_csv(run / "reports" / "tables" / "corpus_flow.csv")
    assert dict(zip(flow["file"], flow["read"], strict=True)) == {"seed.tsv": 29, "extra.csv": 4}
    assert (flow["read"] == flow["included"] + flow["duplicates"] + flow["excluded"] + flow["quarantined"]).all()
    codes = pd.read_parquet(run / "data" / "processed" / "codes.parquet")
    included = records[records["status"] == "included"]
    assert len(codes) == 16 * len(included)
    assert set(codes["record_id"]) == set(included["record_id"])
    by_title = codes.merge(records[["record_id", "title"]]).query("present")
    assert "stackable_pathways" in set(by_title[by_title["title"].str.startswith("Stackable")]["theme"])
    assert "covid19_acceleration" in set(by_title[by_title["title"].str.startswith("The pandemic")]["theme"])


def test_tables_recompute_from_codes(run: Path) -> None:
    codes = pd.read_parquet(run / "data" / "processed" / "codes.parquet")
    prevalence = pd.read_csv(run / "reports" / "tables" / "prevalence.csv").set_index("theme")
    for theme, group in codes.groupby("theme"):
        assert prevalence.loc[theme, "coded"] == group["present"].sum()
        assert abs(prevalence.loc[theme, "share"] - group["present"].mean()) < 1e-5
    records = pd.read_parquet(run / "data" / "interim" / "records.parquet")
    by_year = pd.read_parquet(run / "data" / "processed" / "trends" / "prevalence_by_year.parquet")
    merged = codes.merge(records[["record_id", "year"]])
    row = by_year[(by_year["theme"] == "education_employment_gap") & (by_year["year"] == 2021)].iloc[0]
    sub = merged[(merged["theme"] == "education_employment_gap") & (merged["year"] == 2021)]
    assert row["records"] == len(sub) and row["coded"] == sub["present"].sum()


def test_brief_escapes_record_text_and_makes_no_unsafe_links(run: Path) -> None:
    html = (run / "reports" / "brief.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Key findings" in html and "Methods and provenance" in html
    assert "records offered only a title" in html
    assert html.count("data:image/png;base64,") >= 6
    assert "https://doi.org/10.5555/stack.1" in html or "Stackable" in html


def test_rerun_gives_identical_tables(run: Path) -> None:
    tables = sorted((run / "data" / "processed").rglob("*.parquet")) + sorted((run / "reports" / "tables").glob("*.csv"))
    before = digest(tables)
    result = snakemake(run, "--forcerun", "code")
    assert result.returncode == 0, result.stderr[-3000:]
    assert digest(tables) == before
