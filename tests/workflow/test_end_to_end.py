"""The whole workflow on a small corpus, checking the content of its outputs."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from litthemes.captions import FIGURE_CAPTIONS
from litthemes.codebook import load_codebook
from workflow_helpers import offline_env, run_snakemake, snakemake_command

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_snakemake(workdir, *args)


def digest(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def run(workflow_run: Path) -> Path:
    return workflow_run


def test_outputs_exist_and_nothing_left_to_do(run: Path) -> None:
    assert (run / "reports" / "brief.html").stat().st_size > 10_000
    # The shipped codebook with the default coding: its measured agreement is quoted.
    brief = (run / "reports" / "brief.html").read_text(encoding="utf-8")
    measured = load_codebook(ROOT / "config" / "codebook.yaml").agreement
    low, high = (f"{x * 100:.0f}%" for x in measured.main_theme_interval)
    assert f"the coder's main theme was the person's for {measured.main_theme * 100:.0f}% of them" in brief
    assert f"(95% interval {low}–{high})" in brief
    pngs = sorted((run / "reports" / "figures").glob("*.png"))
    assert len(pngs) == len(FIGURE_CAPTIONS) and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    pdfs = sorted((run / "reports" / "figures").glob("*.pdf"))
    assert [p.stem for p in pdfs] == [p.stem for p in pngs] and all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
    for table in ("prevalence", "trend_tests", "corpus_flow", "challenge_cooccurrence"):
        for ext in ("csv", "md", "tex"):
            assert (run / "reports" / "tables" / f"{table}.{ext}").exists()
    dry = snakemake(run, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr


def test_an_upgrade_that_changes_the_coding_reruns_it_and_nothing_before_it(run: Path) -> None:
    """The code stage's version (litthemes.versions) is a parameter of its rule: a release
    that changes what the stage writes reruns it and what follows, not the stages before it,
    instead of the next stage failing on a table of the old shape."""
    argv = ["snakemake", *snakemake_command(run, "-n")[3:]]
    upgraded = (
        "import runpy, sys, litthemes.versions as v; v.CODING_MODEL += 1; "
        f"sys.argv = {argv!r}; runpy.run_module('snakemake', run_name='__main__')"
    )
    dry = subprocess.run([sys.executable, "-c", upgraded], capture_output=True, text=True, env=offline_env())
    out = dry.stdout + dry.stderr
    assert dry.returncode == 0, out
    jobs = set(re.findall(r"^(\w+)\s+\d+$", out.split("Job stats:")[1], re.M)) if "Job stats:" in out else set()
    assert {"code", "trends", "brief_pdf"} <= jobs, out
    assert not jobs & {"ingest", "segment", "embed", "topics"}, out


def test_every_rule_that_embeds_gets_the_settings_that_decide_a_vector(run: Path) -> None:
    import json
    import re
    import shlex

    from litthemes.config import EMBED_VECTOR_KEYS

    # A dry run that would rerun the rules that embed text besides the embedding stage.
    dry = snakemake(run, "-n", "-p", "--forcerun", "code", "topics", "align_topics")
    commands = [
        line[line.index("litthemes ") :]
        for line in (dry.stdout + dry.stderr).splitlines()
        if re.search(r"litthemes (--log \S+ )?(code|topics|align-topics) ", line)
    ]
    assert len(commands) == 3, dry.stdout + dry.stderr
    for command in commands:
        words = shlex.split(command)
        settings = json.loads(words[words.index("--embed-settings") + 1])
        # Otherwise a cache keyed by these settings would miss a change of the vectors.
        assert set(EMBED_VECTOR_KEYS) <= set(settings), command


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
    # Every DOI becomes a doi.org link; the hostile record's "javascript:" DOI none.
    links = re.findall(r'href="([^"]+)">doi</a>', html)
    assert links and all(link.startswith("https://doi.org/10.") for link in links)
    cited = re.findall(r"Doe &amp; Roe \(2022\)[^<]*<a href=\"([^\"]+)\">doi</a>", html)
    assert cited and set(cited) == {"https://doi.org/10.5555/stack.1"}


def test_rerun_gives_identical_tables(run: Path) -> None:
    tables = sorted((run / "data" / "processed").rglob("*.parquet")) + sorted(
        (run / "reports" / "tables").glob("*.csv")
    )
    before = digest(tables)
    result = snakemake(run, "--forcerun", "code")
    assert result.returncode == 0, result.stderr[-3000:]
    assert digest(tables) == before


def test_a_tuned_encoder_is_one_job_before_every_coding_shard(run: Path) -> None:
    """code.tune_epochs: one `tune` job (2 threads) ahead of the sharded coding jobs, which
    find its encoder in the code cache, and it reruns only for what the encoder depends on."""
    import json
    import shlex

    import yaml

    config = yaml.safe_load((run / "config" / "config.yaml").read_text())
    config["shards"] = 2
    config["code"].update(training="coded.csv", tune_epochs=1)
    tuned = run / "config" / "tuned.yaml"
    coded = run / "coded.csv"
    try:
        tuned.write_text(yaml.safe_dump(config))
        coded.write_text("unit,text,code\nu1,Employers do not trust badges.,employer_acceptance\n")
        dry = snakemake(run, "-n", "-p", "--configfile", str(tuned))
        out = dry.stdout + dry.stderr
        assert dry.returncode == 0, out
        shell = [
            line[line.index("litthemes ") :] for line in out.splitlines() if re.search(r"litthemes (tune|code) ", line)
        ]
        assert [command.split()[1] for command in shell] == ["tune", "code", "code"], out
        words = shlex.split(shell[0])
        assert set(json.loads(words[words.index("--settings") + 1])) == {"tune_epochs", "cache_dir"}
        assert re.search(r"rule tune:\n(.*\n)*?\s+threads: 2", out), out
    finally:
        tuned.unlink(missing_ok=True)
        coded.unlink(missing_ok=True)
