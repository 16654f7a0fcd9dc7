"""Helpers for tests that run the whole workflow in a scratch project."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]


# Records written for the end-to-end run: a hostile title and links, and abstracts
# whose themes are known.
HOSTILE = [
    {
        "title": "<script>alert(1)</script> Micro-credentials and employer trust",
        "year": "2021",
        "doi": "javascript:alert(1)",
        "url": "javascript:alert(2)",
        "authors": "Mallory, M.",
        "abstract": "Employers doubted the value of badges. Over 60% of 300 employers surveyed did not recognise them.",
    },
    {
        "title": "Stackable credentials toward a master's degree",
        "year": "2022",
        "doi": "10.5555/stack.1",
        "url": "",
        "authors": "Doe, J.; Roe, R.",
        "abstract": "Three micro-credentials stack into a graduate certificate that counts toward the degree.",
    },
    {
        "title": "Blockchain wallets for verifiable credentials",
        "year": "2020",
        "doi": "",
        "url": "https://example.org/x",
        "authors": "Lee, K.",
        "abstract": "Learners keep credentials in a digital wallet; issuers sign them on a ledger.",
    },
    {
        "title": "The pandemic and online short courses",
        "year": "2021",
        "doi": "",
        "url": "",
        "authors": "Kim, S.",
        "abstract": "During COVID-19 lockdowns enrolments in online short courses doubled.",
    },
]


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The command that runs the project's workflow in ``workdir`` with workdir/config/config.yaml."""
    config = str(workdir / "config" / "config.yaml")
    snakefile = str(ROOT / "Snakefile")
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        snakefile,
        "--directory",
        str(workdir),
        "--configfile",
        config,
        "--cores",
        "2",
        *args,
    ]


def run_snakemake(workdir: Path, *args: str, timeout: int = 1500) -> subprocess.CompletedProcess[str]:
    """Run the project's workflow in ``workdir`` (see :func:`snakemake_command`)."""
    command = snakemake_command(workdir, *args)
    return subprocess.run(command, capture_output=True, text=True, env=offline_env(), timeout=timeout)


OFFLINE = Path(__file__).resolve().parent / "workflow" / "offline"


def offline_env() -> dict[str, str]:
    """Environment in which every Python process has its network connections refused."""
    path = os.pathsep.join(p for p in (str(OFFLINE), os.environ.get("PYTHONPATH", "")) if p)
    # HF_HUB_OFFLINE is deliberately not set: the run must be offline by itself.
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    return {**env, "PYTHONPATH": path, "SOURCE_DATE_EPOCH": "1700000000"}


def make_project(work: Path, embed_cache: str) -> Path:
    """A small project folder: the paper's 29 references plus the records above."""
    (work / "config").mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "data" / "sample" / "seed-references.tsv", work / "seed.tsv")
    with open(work / "extra.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HOSTILE[0]))
        writer.writeheader()
        writer.writerows(HOSTILE)
    shutil.copy(ROOT / "config" / "codebook.yaml", work / "config" / "codebook.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config.update(inputs=["seed.tsv", "extra.csv"])
    config["embed"]["cache_dir"] = embed_cache
    config["figures"]["dpi"] = 72
    config["topics"]["stability_runs"] = 2
    (work / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return work


def segment_and_embed(records: Path, embed_cache: str) -> tuple[str, str]:
    """Run the segment and embed stages on a record table; the paths of segments and segment vectors."""
    from click.testing import CliRunner

    from litthemes.cli import main

    folder = records.parent
    segments, vectors = str(folder / "segments.parquet"), str(folder / "segment_vectors.parquet")
    runner = CliRunner()
    done = runner.invoke(main, ["segment", str(records), "--out", segments, "--settings", '{"cache_dir": ""}'])
    assert done.exit_code == 0, done.output
    done = runner.invoke(
        main,
        [
            "embed",
            str(records),
            segments,
            "--segments-out",
            vectors,
            "--documents-out",
            str(folder / "document_vectors.parquet"),
            "--settings",
            f'{{"cache_dir": "{embed_cache}"}}',
        ],
    )
    assert done.exit_code == 0, done.output
    return segments, vectors


def abstracts_as_records(path: Path, abstracts: dict[str, str]) -> Path:
    """A record table at ``path`` of included records, one per ``abstracts`` entry (id -> text)."""
    from litthemes.tables import RECORDS, write_table

    records = pd.DataFrame([{c: "" for c in RECORDS.names} for _ in abstracts])
    records["record_id"] = list(abstracts)
    records["year"] = 2022
    records["status"] = "included"
    records["abstract"] = list(abstracts.values())
    write_table(records, path, RECORDS)
    return path


def trained_code_command(folder: Path, codebook: Path, training: Path, settings: str, embed_cache: str) -> list[str]:
    """`litthemes code --train` on folder/records.parquet and the segment and embed stages'
    outputs there (see :func:`segment_and_embed`), writing codes and segment codes to folder."""
    return [
        "code",
        str(folder / "records.parquet"),
        "--codebook",
        str(codebook),
        "--out",
        str(folder / "codes.parquet"),
        "--train",
        str(training),
        "--segments",
        str(folder / "segments.parquet"),
        "--vectors",
        str(folder / "segment_vectors.parquet"),
        "--segment-codes-out",
        str(folder / "segment_codes.parquet"),
        "--settings",
        settings,
        "--embed-settings",
        json.dumps({"cache_dir": embed_cache}),
    ]


def train_command(
    training: Path, codebook: Path, report: Path, settings: dict[str, object], embed_cache: str
) -> list[str]:
    """`litthemes train` (cross-validated agreement) on ``training``, its report written to ``report``."""
    return [
        "train",
        str(training),
        "--codebook",
        str(codebook),
        "--out",
        str(report),
        "--settings",
        json.dumps(settings),
        "--embed-settings",
        json.dumps({"cache_dir": embed_cache}),
    ]


BUILD_ABSTRACT = (
    ("background", "Software teams increasingly rely on continuous integration {i}."),
    ("objective", "This paper studies how teams configure their build pipelines {i}."),
    ("result", "We found that most builds fail because of flaky tests {i}."),
)


def coded_abstracts_csv(path: Path, documents: int, passages: tuple[tuple[str, str], ...] = BUILD_ABSTRACT) -> Path:
    """A human-coding CSV of ``documents`` short abstracts, each the ``passages`` (code,
    text with ``{i}`` for the document number) in order; a code of '' leaves one uncoded."""
    rows = ["unit,document,position,text,code"]
    for i in range(documents):
        rows += [f"p{i}-{k},d{i},{k},{text.format(i=i)},{code}" for k, (code, text) in enumerate(passages)]
    path.write_text("\n".join(rows) + "\n")
    return path
