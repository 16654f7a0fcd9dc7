# Shared definitions: the validated settings, paths, and how rules call the package.
import json
import os
import shlex
import sys

from litthemes.config import EMBED_VECTOR_KEYS, figure_formats, load_yaml, validate as validate_settings
from litthemes.captions import FIGURE_CAPTIONS, TABLE_CAPTIONS, figure_tables
from litthemes.tables import CODING_TREND_TABLES, TOPIC_TREND_TABLES, TREND_TABLES
from litthemes.versions import CODING_MODEL, NORMALIZATION_VERSION

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
LOGS = CFG["logs_dir"]
BENCH = f"{LOGS}/benchmarks"


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


# On a few cores Snakemake starts the ready jobs of highest priority first. Jobs on the
# way to the PDF brief go before short jobs beside it (tables, QDA export, HTML brief),
# and of those the jobs that start the longest chains go first: the topic fit and its
# refits in a cold run, the trend tables the figures wait for in a rerun. Otherwise a
# short job takes the core that the longest chain is waiting for. The claims ledger,
# which the brief also reads, keeps the default: moved ahead, a frozen-model add was no
# faster (docs/performance.md).
BRIEF_PATH = 1
CHAIN_START = 2


FIGURE_NAMES = list(FIGURE_CAPTIONS)
# The configured formats and the two the briefs are made from (PNG for HTML, PDF for PDF).
FIGURE_FORMATS = figure_formats(CFG["figures"]["formats"])
FIGURE_FILES = [f"{REPORTS}/figures/{name}.{fmt}" for name in FIGURE_NAMES for fmt in FIGURE_FORMATS]
TABLE_NAMES = list(TABLE_CAPTIONS)
TABLE_FILES = [f"{REPORTS}/tables/{name}.{ext}" for name in TABLE_NAMES for ext in ("csv", "md", "tex")]
TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in TREND_TABLES]
# Written by the trends job (from the coding) and the topic_trends job (from the topics).
CODING_TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in CODING_TREND_TABLES]
TOPIC_TREND_FILES = [f"{PROCESSED}/trends/{name}.parquet" for name in TOPIC_TREND_TABLES]
BRIEF = f"{REPORTS}/brief.html"
BRIEF_PDF = f"{REPORTS}/brief.pdf"
# Per-record stages (segment, embed, code) may run in shards: shard k of N works on the
# records whose id hashes to k, and a gather job joins the shards' tables into the table
# an unsharded run writes. Unsharded, each stage writes that table itself.
SHARDS = list(range(CFG["shards"]))
SHARDED = len(SHARDS) > 1
# Settings that change how the work is split or where logs go, never the results: left
# out of the report's settings (and its config hash), so a sharded run gives the same brief.
RESULT_CFG = {key: value for key, value in CFG.items() if key not in ("shards", "logs_dir")}
SHARD_DIR = f"{INTERIM}/shards"


wildcard_constraints:
    shard=r"\d+",


def per_shard(name, whole):
    """A per-record stage's output: one file per shard (a ``{shard}`` wildcard) when sharded, else ``whole``."""
    return f"{SHARD_DIR}/{{shard}}/{name}" if SHARDED else whole


def all_shards(path):
    """Every shard's file of a per-record stage's output pattern."""
    return expand(path, shard=SHARDS) if SHARDED else [path]


def shard_option(wildcards):
    """The CLI's ``--shard k/N`` for a per-record job (nothing when unsharded)."""
    return f"--shard {wildcards.shard}/{len(SHARDS)}" if SHARDED else ""


def shard_log(stage, folder=LOGS, suffix=".log"):
    """A per-record job's log (or benchmark) file."""
    return f"{folder}/{stage}-{{shard}}{suffix}" if SHARDED else f"{folder}/{stage}{suffix}"


def print_fit_warnings(path):
    """Print the fit check's warnings (litthemes.report.fit), if the run wrote it."""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as checks:
            for warning in json.load(checks)["warnings"]:
                print(f"WARNING (codebook and corpus): {warning}", file=sys.stderr)


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
