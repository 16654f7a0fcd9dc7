# Shared definitions: the validated settings, paths, and how rules call the package.
import json
import os
import shlex
import sys

from litthemes.config import EMBED_VECTOR_KEYS, figure_formats, load_yaml, validate as validate_settings
from litthemes.captions import FIGURE_CAPTIONS, TABLE_CAPTIONS, figure_tables
from litthemes.startup import cancel_timers
from litthemes.tables import CODING_TREND_TABLES, TOPIC_TREND_TABLES, TREND_TABLES

# pydantic fills defaults and gives typed sections; the schema check above names bad keys.
CFG = validate_settings(config).model_dump(mode="json")
# The codebook is checked at start too, so a bad code stops the run before any work.
with open(CFG["codebook"], encoding="utf-8") as _codebook:
    validate(load_yaml(_codebook), "../schemas/codebook.schema.yaml", set_default=False)
# The interpreter running Snakemake has litthemes installed: put its bin folder first
# on PATH so every job (local or on a cluster node) runs the same `litthemes`, even
# when the virtual environment was not activated.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
INTERIM = CFG["interim_dir"]
PROCESSED = CFG["processed_dir"]
REPORTS = CFG["reports_dir"]
LOGS = "logs"
BENCH = "logs/benchmarks"


def as_json(section, keys=None, **overrides):
    """A config section as compact JSON for a rule's params (only `keys`, if given;
    `overrides` replace settings the workflow derives)."""
    value = CFG[section] if keys is None else {k: CFG[section][k] for k in keys}
    return json.dumps({**value, **overrides}, sort_keys=True, separators=(",", ":"))


def repeated(option, paths):
    """``--option p1 --option p2 ...`` for a shell command."""
    return " ".join(f"{option} {shlex.quote(path)}" for path in paths)


# For rules that embed text besides the embedding stage: everything that decides a
# vector's bits, so their caches are keyed as the embedding stage's are.
EMBED_VECTORS = as_json("embed", EMBED_VECTOR_KEYS)


FIGURE_NAMES = list(FIGURE_CAPTIONS)
# The configured formats and the two the briefs are made from (PNG for HTML, PDF for PDF).
FIGURE_FORMATS = figure_formats(CFG["figures"]["formats"])
FIGURE_FILES = [f"{REPORTS}/figures/{name}.{fmt}" for name in FIGURE_NAMES for fmt in FIGURE_FORMATS]
TABLE_NAMES = list(TABLE_CAPTIONS)
TABLE_FILES = [f"{REPORTS}/tables/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md", "tex")]
TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in TREND_TABLES]
# Written by the segment job (sharded: by the claims job), not by the trends job, so that
# a codebook edit leaves it be.
CLAIMS_FILE = f"{PROCESSED}/trends/claims.parquet"
# Written by the trends job (from the coding) and the topic_trends job (from the topics).
CODING_TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in CODING_TREND_TABLES]
TOPIC_TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in TOPIC_TREND_TABLES]
# Rules on the way to the brief get this priority; the sharded run's claims job (needed
# by the brief only) keeps the default 0, so on a few cores it takes a core only when no
# job on the main path is waiting for one.
MAIN_PATH = 1
# Main-path jobs with the longest way still to go (embedding shards, figures) go first
# among ready jobs: Snakemake breaks ties arbitrarily, and a gather or the tables job
# picked before them delayed the brief by a second or two on 2 cores.
LONG_PATH = MAIN_PATH + 1
# Below even the claims ledger: products nothing else waits for (the QDA export, the
# gathered segment vectors).
LAST = -1
# Which of coding and topic modelling is the longer way depends on whether topics are
# refitted (a minute at 12,000 records) or assigned with a frozen model (a second).
TOPICS_REFITTED = not CFG["topics"]["frozen_model"]
TOPIC_PATH = LONG_PATH if TOPICS_REFITTED else MAIN_PATH
CODE_PATH = MAIN_PATH if TOPICS_REFITTED else LONG_PATH
BRIEF = f"{REPORTS}/brief.html"
BRIEF_PDF = f"{REPORTS}/brief.pdf"
# Sharded per-record stages: shard k of N runs on the records whose id hashes to k.
SHARDS = list(range(CFG["shards"]))
SHARDED = len(SHARDS) > 1
# Settings that change how the work is split, never the results: left out of the
# report's settings (and its config hash), so a sharded run gives the same brief.
RESULT_CFG = {key: value for key, value in CFG.items() if key != "shards"}
SHARD_DIR = f"{INTERIM}/shards"


def shard_arg(wildcards):
    return f"{wildcards.shard}/{len(SHARDS)}"


def gather_plan(**tables):
    """`litthemes gather --plan` for several tables: kind -> (shard files, gathered file)."""
    return json.dumps({kind: {"parts": list(parts), "out": str(out)} for kind, (parts, out) in tables.items()})


def figure_job_inputs(names):
    """The trend tables, and the aligned topic table where a figure needs it, behind the
    figures ``names`` (litthemes.captions.FIGURE_TABLES). Called by the figure rules,
    after the topic rules are defined."""
    tables = figure_tables(names)
    inputs = {"trends": [f"{PROCESSED}/trends/{table}.parquet" for table in tables if table != "topics"]}
    if "topics" in tables:
        inputs["topics"] = rules.align_topics.output.topics
    return inputs
