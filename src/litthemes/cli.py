"""Command-line interface: every workflow stage is a subcommand.

Stage settings come from ``--config config.yaml`` (the section of that stage) or
from ``--settings JSON`` (the section itself, as the Snakemake rules pass it).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import yaml

from litthemes import __version__
from litthemes.captions import FIGURE_CAPTIONS
from litthemes.config import ConfigError, json_schema, load, load_yaml

if TYPE_CHECKING:
    from litthemes.cache import CacheEntry


def _section(config: str | None, settings_json: str | None, name: str) -> dict[str, Any]:
    if settings_json:
        try:
            value = json.loads(settings_json)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"--settings is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise click.BadParameter("--settings must be a JSON object")
        return value
    if config:
        return getattr(load(config), name).model_dump(mode="json")
    return {}


config_option = click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False),
    help="config.yaml to take this stage's settings from.",
)
settings_option = click.option("--settings", "settings_json", help="This stage's settings as a JSON object.")


def _shard(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    from litthemes.shards import parse_shard

    if value is None:
        return None
    try:
        return parse_shard(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


shard_option = click.option(
    "--shard", callback=_shard, help="Only records of shard k of N ('k/N'); `litthemes gather` joins the shards."
)


class _Group(click.Group):
    """Bad input (a config, a codebook, a coding file) ends in one error line and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        from pydantic import ValidationError

        from litthemes.agree.readers import CodingError

        try:
            return super().invoke(ctx)
        except (ConfigError, CodingError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except ValidationError as exc:
            # A stage's --settings that its section of the config would refuse (the
            # workflow passes validated settings; a person calling the stage may not).
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
            click.echo(f"error: --settings ({exc.title}): {problems}", err=True)
            sys.exit(2)


# Commands that use spaCy only for tokens, sentences, lemmas and matchers: thinc would
# import torch with spaCy (most of such a job's start-up), which none of them uses.
SPACY_WITHOUT_TORCH = {"segment", "code", "claims"}


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="litthemes")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.option(
    "--log",
    "log_file",
    type=click.Path(dir_okay=False),
    help="Write the log to this file; the console shows only warnings and progress milestones.",
)
@click.pass_context
def main(ctx: click.Context, verbose: bool, log_file: str | None) -> None:
    """litthemes: thematic analysis of research literature."""
    from litthemes.progress import setup_logging

    setup_logging(verbose, log_file)
    if ctx.invoked_subcommand in SPACY_WITHOUT_TORCH:
        from litthemes.speedups import import_spacy

        import_spacy()


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--out", required=True, help="RECORDS.parquet to write.")
@click.option("--flow", "flow_out", required=True, help="FLOW.json to write (per-file accounting).")
@config_option
@settings_option
def ingest(paths: tuple[str, ...], out: str, flow_out: str, config: str | None, settings_json: str | None) -> None:
    """Read exports (Scopus, WoS, RIS, BibTeX, OpenAlex, CSV, full texts) into one record table."""
    from litthemes.ingest.run import run

    flow = run(list(paths), out, flow_out, _section(config, settings_json, "ingest"))
    totals = flow["totals"]
    click.echo(
        f"read {totals['read']}: included {totals['included']}, duplicates {totals['duplicates']}, "
        f"excluded {totals['excluded']}, quarantined {totals['quarantined']}",
        err=True,
    )
    for failed in (f for f in flow["files"] if f["error"]):
        click.echo(f"unreadable: {failed['error']}", err=True)


@main.command()
@click.argument("folder")
@click.option(
    "--from",
    "exports",
    multiple=True,
    type=click.Path(exists=True),
    help="an export (file or folder) to copy into FOLDER/exports (repeatable).",
)
@click.option("--study", help="short name of the study (default: the folder's name).")
@click.option("--force", is_flag=True, help="overwrite the study's config, codebook and README.")
def init(folder: str, exports: tuple[str, ...], study: str | None, force: bool) -> None:
    """Start a study in FOLDER: config (outputs, logs and caches inside FOLDER), codebook template, README."""
    from litthemes.study import init_study

    try:
        written = init_study(folder, list(exports), study, force)
    except (FileExistsError, FileNotFoundError) as error:
        raise click.UsageError(str(error)) from None
    for path in written:
        click.echo(f"wrote {path}", err=True)
    click.echo(f"next: snakemake --cores 2 --configfile {Path(folder) / 'config.yaml'}  (see {written[-1]})", err=True)


@main.command()
def formats() -> None:
    """List the reader formats that ingest.formats can name."""
    from litthemes.ingest.readers import formats

    click.echo("\n".join(formats()))


@main.command("segment")
@click.argument("records")
@click.option("--out", required=True, help="segments.parquet to write.")
@shard_option
@config_option
@settings_option
def segment_cmd(
    records: str, out: str, shard: tuple[int, int] | None, config: str | None, settings_json: str | None
) -> None:
    """Split records into titles, sentences and passages, with lemmas."""
    from litthemes.segment.run import run

    n = run(records, out, _section(config, settings_json, "segment"), shard)
    click.echo(f"{n} segments", err=True)


@main.command()
@click.argument("records")
@click.argument("segments")
@click.option("--segments-out", required=True)
@click.option("--documents-out", required=True)
@shard_option
@config_option
@settings_option
def embed(
    records: str,
    segments: str,
    segments_out: str,
    documents_out: str,
    shard: tuple[int, int] | None,
    config: str | None,
    settings_json: str | None,
) -> None:
    """Embed segments and documents (cached by text hash and model)."""
    from litthemes.embed.run import run

    n_seg, n_doc = run(records, segments, segments_out, documents_out, _section(config, settings_json, "embed"), shard)
    click.echo(f"{n_seg} segments and {n_doc} documents embedded", err=True)


@main.command()
@click.argument("records")
@click.option("--codebook", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, help="CODES.parquet to write (record x theme).")
@click.option("--segments", "segments_path", required=True, help="segments.parquet from `litthemes segment`.")
@click.option("--vectors", "vectors_path", required=True, help="segment embeddings from `litthemes embed`.")
@click.option("--segment-codes-out")
@click.option("--dimensions-out", help="record x credential type / stakeholder / setting.")
@click.option("--evidence-out", help="best quotes per record and code.")
@click.option(
    "--train",
    "train_path",
    help="human-coded passages to fit the semantic model on (CSV, .qdpx or annotated folder); overrides code.training.",
)
@shard_option
@config_option
@click.option("--settings", "settings_json", help="code settings as JSON.")
@click.option("--embed-settings", "embed_json", help="embed settings as JSON.")
@click.option("--segment-settings", "segment_json", help="segment settings as JSON.")
def code(
    records: str,
    codebook: str,
    out: str,
    segments_path: str,
    vectors_path: str,
    segment_codes_out: str | None,
    dimensions_out: str | None,
    evidence_out: str | None,
    train_path: str | None,
    shard: tuple[int, int] | None,
    config: str | None,
    settings_json: str | None,
    embed_json: str | None,
    segment_json: str | None,
) -> None:
    """Code records into the codebook's themes (deductive)."""
    from litthemes.code.run import run

    settings = _section(config, settings_json, "code")
    if train_path:
        settings = {**settings, "training": train_path}
    summary = run(
        records,
        codebook,
        segments_path,
        vectors_path,
        out,
        segment_codes_out=segment_codes_out,
        dimensions_out=dimensions_out,
        evidence_out=evidence_out,
        settings=settings,
        embed_settings=_section(config, embed_json, "embed"),
        segment_settings=_section(config, segment_json, "segment"),
        shard=shard,
    )
    click.echo(
        f"{summary['records']} records, {summary['segments']} segments, {summary['coded']} record-theme codes", err=True
    )


@main.command()
@click.argument("training")
@click.option("--codebook", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", help="the cross-validation report (JSON) to write.")
@click.option("--folds", type=click.IntRange(min=2), help="folds (default: code.training_folds).")
@config_option
@click.option("--settings", "settings_json", help="code settings as JSON.")
@click.option("--embed-settings", "embed_json", help="embed settings as JSON.")
@click.option("--segment-settings", "segment_json", help="segment settings as JSON.")
@click.option(
    "--compare-lexical-weights",
    is_flag=True,
    help="also score the same folds with the cues weighing 0 to 0.8 of a passage's score (code.lexical_weight).",
)
def train(
    training: str,
    codebook: str,
    out: str | None,
    folds: int | None,
    config: str | None,
    settings_json: str | None,
    embed_json: str | None,
    segment_json: str | None,
    compare_lexical_weights: bool,
) -> None:
    """Cross-validate the coder on human-coded passages: agreement per code on held-out documents."""
    from litthemes.code.train import training_report

    report = training_report(
        training,
        codebook,
        _section(config, settings_json, "code"),
        _section(config, embed_json, "embed"),
        _section(config, segment_json, "segment"),
        folds,
        out,
        compare_lexical_weights,
    )
    click.echo(report["table_text"])
    summary = report["summary"]
    click.echo(
        f"{summary['passages']} passages in {summary['documents']} documents, {summary['folds']}-fold: "
        f"mean kappa {summary['mean_kappa']:.3f}, Krippendorff's alpha {summary['krippendorff_alpha']:.3f}",
        err=True,
    )
    if compare_lexical_weights:
        configured = summary["lexical_weight"]
        click.echo("lexical_weight  mean kappa  alpha")
        for row in summary["by_lexical_weight"]:
            mark = "  (configured)" if row["lexical_weight"] == configured else ""
            weight, kappa, alpha = row["lexical_weight"], row["mean_kappa"], row["krippendorff_alpha"]
            click.echo(f"{weight:>14g}  {kappa:>10.3f}  {alpha:>5.3f}{mark}")
        best = summary["best_lexical_weight"]
        if best != configured:
            click.echo(
                f"best on these folds: code.lexical_weight: {best:g} (chosen on the very folds it is scored on, "
                "so its kappa is a little optimistic)",
                err=True,
            )


@main.command()
@click.argument("training")
@click.option("--codebook", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", help="a JSON note of the tuned encoder (its folder, passages, epochs) to write.")
@config_option
@click.option("--settings", "settings_json", help="code settings as JSON (tune_epochs, cache_dir).")
@click.option("--embed-settings", "embed_json", help="embed settings as JSON (the encoder to tune).")
def tune(
    training: str,
    codebook: str,
    out: str | None,
    config: str | None,
    settings_json: str | None,
    embed_json: str | None,
) -> None:
    """Fine-tune the sentence encoder on human-coded passages (code.tune_epochs) into the code cache."""
    from litthemes.code.tune import tune_note

    note = tune_note(training, codebook, _section(config, settings_json, "code"), _section(config, embed_json, "embed"))
    if out:
        from litthemes.tables import write_json

        write_json(note, out)
    click.echo(f"encoder tuned on {note['passages']} passages for {note['epochs']} epochs: {note['encoder']}", err=True)


@main.command()
@click.argument("records")
@click.argument("segments")
@click.argument("document_vectors")
@click.option("--out", required=True, help="fitted topics (.parquet)")
@click.option("--doc-topics-out", required=True)
@click.option("--summary-out", required=True)
@click.option("--hierarchy-out")
@click.option("--model-out", help="the fitted topics as a model file that topics.frozen_model can name.")
@click.option(
    "--refit",
    "refits",
    multiple=True,
    help="a `litthemes topic-refit` output for the stability check (repeatable); without any, the refits run here.",
)
@click.option(
    "--stability-later",
    is_flag=True,
    help="write the fit without the stability check, for `litthemes topic-stability` to add "
    "(so that the refits can run alongside the fit).",
)
@config_option
@settings_option
@click.option("--embed-settings", "embed_json")
def topics(
    records: str,
    segments: str,
    document_vectors: str,
    out: str,
    doc_topics_out: str,
    summary_out: str,
    hierarchy_out: str | None,
    model_out: str | None,
    refits: tuple[str, ...],
    stability_later: bool,
    config: str | None,
    settings_json: str | None,
    embed_json: str | None,
) -> None:
    """Fit inductive topics (BERTopic and NMF) with stability checks."""
    from litthemes.topics.run import run

    summary = run(
        records,
        segments,
        document_vectors,
        out,
        doc_topics_out,
        summary_out,
        hierarchy_out,
        _section(config, settings_json, "topics"),
        _section(config, embed_json, "embed"),
        list(refits) if refits else None,
        model_out,
        stability_later=stability_later,
    )
    click.echo(f"{summary.get('topics', 0)} topics in {summary.get('documents', 0)} documents", err=True)


@main.command("topic-stability")
@click.argument("records")
@click.argument("document_vectors")
@click.argument("fitted_topics")
@click.argument("doc_topics")
@click.option("--fit-summary", required=True, help="the summary `litthemes topics --stability-later` wrote")
@click.option("--refit", "refits", multiple=True, help="a `litthemes topic-refit` output (repeatable)")
@click.option("--out", required=True, help="the fitted topics with their stability (.parquet)")
@click.option("--summary-out", required=True)
@click.option("--model-out", help="the fitted topics as a model file that topics.frozen_model can name.")
@config_option
@settings_option
def topic_stability(
    records: str,
    document_vectors: str,
    fitted_topics: str,
    doc_topics: str,
    fit_summary: str,
    refits: tuple[str, ...],
    out: str,
    summary_out: str,
    model_out: str | None,
    config: str | None,
    settings_json: str | None,
) -> None:
    """Add the stability check (agreement with the refits) to a topic fit."""
    from litthemes.topics.refits import run_stability

    summary = run_stability(
        records,
        document_vectors,
        fitted_topics,
        doc_topics,
        fit_summary,
        list(refits),
        out,
        summary_out,
        model_out,
        _section(config, settings_json, "topics"),
    )
    click.echo(json.dumps(summary["stability"]), err=True)


# Table kinds `gather` joins: kind -> (schema in litthemes.tables, kept in record-table
# order). The segment stage's tables keep that order; coding tables are sorted by record id.
GATHERED_TABLES = {
    "segments": ("SEGMENTS", True),
    "codes": ("CODES", False),
    "dimensions": ("CODES", False),
    "segment-codes": ("SEGMENT_CODES", False),
    "evidence": ("EVIDENCE", False),
}
GATHER_KINDS = (*GATHERED_TABLES, "segment-vectors", "document-vectors")


@main.command()
@click.argument("kind", type=click.Choice(GATHER_KINDS), required=False)
@click.argument("parts", nargs=-1)
@click.option("--records", required=True, help="the record table the shards were cut from (for the order).")
@click.option("--out", help="the gathered table (with KIND and PARTS).")
@click.option(
    "--plan", "plan_json", help='several tables in one call, as JSON: {"KIND": {"parts": [...], "out": "..."}, ...}.'
)
def gather(kind: str | None, parts: tuple[str, ...], records: str, out: str | None, plan_json: str | None) -> None:
    """Join the shards of a sharded stage into the table the unsharded stage writes."""
    from litthemes import tables
    from litthemes.shards import gather_tables, gather_vectors, included_order

    if plan_json:
        if kind or parts or out:
            raise click.UsageError("give either KIND PARTS... --out, or --plan")
        plan = json.loads(plan_json)
        unknown = sorted(set(plan) - set(GATHER_KINDS))
        if unknown:
            raise click.UsageError(f"--plan: unknown kinds {unknown}; known: {', '.join(GATHER_KINDS)}")
        jobs = [(name, list(step["parts"]), str(step["out"])) for name, step in plan.items()]
    elif kind and parts and out:
        jobs = [(kind, list(parts), out)]
    else:
        raise click.UsageError("give KIND PARTS... --out, or --plan")
    order = included_order(records)
    for name, paths, target in jobs:
        if name.endswith("vectors"):
            n = gather_vectors(paths, target, order)
        else:
            schema, in_record_order = GATHERED_TABLES[name]
            n = gather_tables(paths, getattr(tables, schema), name, target, order if in_record_order else None)
        click.echo(f"{name}: {n} rows from {len(paths)} shards", err=True)


@main.command("topic-refit")
@click.argument("records")
@click.argument("segments")
@click.argument("document_vectors")
@click.option(
    "--run",
    "run_indices",
    required=True,
    multiple=True,
    type=click.IntRange(min=1),
    help="refit number; the seed is topics.seed + this (repeatable, one per --out).",
)
@click.option(
    "--out",
    "outs",
    required=True,
    multiple=True,
    help="the refit's record x topic table (.parquet), in the order of --run",
)
@config_option
@settings_option
def topic_refit(
    records: str,
    segments: str,
    document_vectors: str,
    run_indices: tuple[int, ...],
    outs: tuple[str, ...],
    config: str | None,
    settings_json: str | None,
) -> None:
    """Refits of the topic model with other seeds, for the stability check."""
    from litthemes.topics.refits import run_refits

    if len(run_indices) != len(outs):
        raise click.UsageError(f"{len(run_indices)} --run but {len(outs)} --out: give one --out per --run")
    repeated = next((run for run in run_indices if run_indices.count(run) > 1), None)
    if repeated is not None:
        raise click.UsageError(f"--run {repeated} given twice: each refit once, with its own --out")
    counts = run_refits(
        records,
        segments,
        document_vectors,
        dict(zip(run_indices, outs, strict=True)),
        _section(config, settings_json, "topics"),
    )
    for run_index, n in counts.items():
        click.echo(f"refit {run_index}: {n} topics", err=True)


@main.command("align-topics")
@click.argument("fitted_topics")
@click.argument("doc_topics")
@click.argument("document_vectors")
@click.argument("codes", nargs=-1, required=True)
@click.option("--codebook", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--fit-summary", required=True)
@click.option(
    "--segment-vectors", required=True, help="segment embeddings (for which records are in the codebook's literature)"
)
@click.option("--out", required=True, help="topics.parquet with theme alignment and emergent flags")
@click.option("--summary-out", required=True)
@config_option
@settings_option
@click.option("--embed-settings", "embed_json")
def align_topics(
    fitted_topics: str,
    doc_topics: str,
    document_vectors: str,
    codes: tuple[str, ...],
    codebook: str,
    fit_summary: str,
    segment_vectors: str,
    out: str,
    summary_out: str,
    config: str | None,
    settings_json: str | None,
    embed_json: str | None,
) -> None:
    """Align topics to the codebook's themes; topics that match none are emergent.

    CODES is the code table, or the code tables of the coding shards.
    """
    from litthemes.topics.align import run_align

    summary = run_align(
        fitted_topics,
        doc_topics,
        document_vectors,
        list(codes),
        codebook,
        fit_summary,
        out,
        summary_out,
        _section(config, settings_json, "topics"),
        _section(config, embed_json, "embed"),
        segment_vectors,
    )
    click.echo(json.dumps(summary), err=True)


@main.command()
@click.option("--records", required=True)
@click.option("--codes", required=True, multiple=True, help="the code table, or each coding shard's (repeatable)")
@click.option("--dimensions", required=True, multiple=True, help="as --codes")
@click.option("--segment-codes", required=True, multiple=True, help="as --codes")
@click.option("--doc-topics", required=True)
@click.option("--codebook", required=True)
@click.option("--out-dir", required=True)
@config_option
@settings_option
def trends(
    records: str,
    codes: tuple[str, ...],
    dimensions: tuple[str, ...],
    segment_codes: tuple[str, ...],
    doc_topics: str,
    codebook: str,
    out_dir: str,
    config: str | None,
    settings_json: str | None,
) -> None:
    """Compute prevalence, trends with intervals, co-occurrence and the code-topic crosswalk."""
    from litthemes.trends.run import run

    written = run(
        records,
        list(codes),
        list(dimensions),
        list(segment_codes),
        doc_topics,
        codebook,
        out_dir,
        _section(config, settings_json, "trends"),
    )
    click.echo(f"{len(written)} tables", err=True)


@main.command("topic-trends")
@click.option("--records", required=True)
@click.option("--segments", required=True)
@click.option("--doc-topics", required=True)
@click.option("--topics", "topics_path", required=True, help="fitted or aligned topics")
@click.option("--out-dir", required=True)
@config_option
@settings_option
def topic_trends(
    records: str,
    segments: str,
    doc_topics: str,
    topics_path: str,
    out_dir: str,
    config: str | None,
    settings_json: str | None,
) -> None:
    """Write the thematic map of topics and the topic trends (they need no coding)."""
    from litthemes.trends.run import run_topic_trends

    written = run_topic_trends(
        records, segments, doc_topics, topics_path, out_dir, _section(config, settings_json, "trends")
    )
    click.echo(f"{len(written)} tables", err=True)


@main.command()
@click.option("--records", required=True)
@click.option("--segments", required=True)
@click.option("--out", required=True, help="claims.parquet to write.")
@config_option
@click.option("--settings", "settings_json", help="segment settings as JSON (the spaCy model and its cache).")
def claims(records: str, segments: str, out: str, config: str | None, settings_json: str | None) -> None:
    """The claims ledger: percentages, amounts, counts and growth statements with their source."""
    from litthemes.claims.run import run

    n = run(records, segments, out, _section(config, settings_json, "segment"))
    click.echo(f"{n} claims", err=True)


@main.group("codebook")
def codebook_group() -> None:
    """Codebooks: draft one from the topics, measure one against labelled passages."""


@codebook_group.command("draft")
@click.option(
    "--config",
    "config",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="the study's config (its last run's topics are read)",
)
@click.option("--out", required=True, help="the drafted codebook (YAML) to write")
@click.option("--extend", is_flag=True, help="keep the study's codebook and add codes for its emergent topics")
@click.option(
    "--merge-similarity",
    default=0.9,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="merge topics whose centroids are at least this similar (cosine)",
)
@click.option("--terms", "n_terms", default=6, show_default=True, type=click.IntRange(min=1), help="cues per code")
@click.option(
    "--examples",
    "n_examples",
    default=3,
    show_default=True,
    type=click.IntRange(min=0),
    help="example passages per code",
)
def codebook_draft(config: str, out: str, extend: bool, merge_similarity: float, n_terms: int, n_examples: int) -> None:
    """Draft a codebook from the fitted topics (topics to codes), for a researcher to edit."""
    from litthemes.topics.draft import draft_codebook

    try:
        n = draft_codebook(config, out, merge_similarity, n_terms, n_examples, extend)
    except FileNotFoundError as error:
        raise click.UsageError(f"{error}: run the workflow with this config first") from None
    click.echo(f"wrote {out}: {n} drafted codes; edit it, then point `codebook:` in the config at it", err=True)


@codebook_group.command("measure")
@click.argument("passages", type=click.Path(exists=True, dir_okay=False))
@click.option("--codebook", "codebook_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--config", type=click.Path(exists=True, dir_okay=False), help="take the code and embed settings from it")
@click.option("--against", default="", help="what the passages are, for the brief (default: their count and file)")
@click.option("--write", is_flag=True, help="put the result into the codebook as its agreement block")
def codebook_measure(passages: str, codebook_path: str, config: str | None, against: str, write: bool) -> None:
    """How the codebook's coding agrees with passages a person labelled with a main theme and
    the others present (YAML or CSV with text, main, others): main theme right, with its 95%
    interval, precision and recall of the themes present. Label them from the definitions,
    before looking at the coder's output, and keep them out of the codebook's examples."""
    from litthemes.code.evaluate import measure_agreement, read_labelled_passages
    from litthemes.codebook import load_codebook, write_agreement
    from litthemes.config import CodeSettings, EmbedSettings

    book = load_codebook(codebook_path)
    items = read_labelled_passages(passages, book)
    code = CodeSettings.model_validate(_section(config, None, "code"))
    embed = EmbedSettings.model_validate(_section(config, None, "embed"))
    description = against or f"{len(items)} passages labelled by a person ({passages})"
    scores, agreement = measure_agreement(items, book, embed, code, description)
    low, high = agreement.main_theme_interval
    click.echo(
        f"{agreement.passages} passages: main theme right {agreement.main_theme:.1%} (95% interval "
        f"{low:.1%}-{high:.1%}), within the top three {scores['top3_by_rank']:.1%}; themes present: "
        f"precision {agreement.precision:.3f}, recall {agreement.recall:.3f}"
    )
    if write:
        write_agreement(codebook_path, agreement)
        click.echo(f"wrote the agreement block into {codebook_path}", err=True)
    else:
        click.echo(agreement.as_yaml())


@main.command("fit-check")
@click.option("--records", required=True)
@click.option("--codes", required=True)
@click.option("--topics", "topics_path", required=True, help="aligned topics")
@click.option("--topic-summary", required=True)
@click.option("--out", required=True, help="the checks as JSON")
def fit_check(records: str, codes: str, topics_path: str, topic_summary: str, out: str) -> None:
    """Does the codebook fit the corpus? Prints a warning, with numbers, where it does not."""
    from litthemes.report.fit import run_fit_check

    checks = run_fit_check(records, codes, topics_path, topic_summary, out)
    for warning in checks["warnings"]:
        click.echo(f"WARNING: {warning}", err=True)


@main.command()
@click.option("--trends-dir", required=True)
@click.option("--topics", "topics_path", help="aligned topic table; needed for the topic figures.")
@click.option("--codebook", required=True)
@click.option("--out-dir", required=True)
@click.option("--study", default="corpus")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="processes drawing figures side by side.",
)
@click.option(
    "--only",
    multiple=True,
    type=click.Choice(list(FIGURE_CAPTIONS)),
    help="draw only this figure (repeatable); default: every figure.",
)
@config_option
@settings_option
def figures(
    trends_dir: str,
    topics_path: str | None,
    codebook: str,
    out_dir: str,
    study: str,
    workers: int,
    only: tuple[str, ...],
    config: str | None,
    settings_json: str | None,
) -> None:
    """Render the figures (PNG/SVG) from the trend tables."""
    from litthemes.captions import topic_figures
    from litthemes.figures.run import run_figures

    drawn_from_topics = topic_figures(list(only or FIGURE_CAPTIONS))
    if drawn_from_topics and not topics_path:
        raise click.UsageError(f"--topics: figures {drawn_from_topics} are drawn from the topic table")
    written = run_figures(
        trends_dir,
        topics_path,
        codebook,
        out_dir,
        study,
        _section(config, settings_json, "figures"),
        workers,
        list(only) or None,
    )
    click.echo(f"{len(written)} figure files", err=True)


@main.command()
@click.option("--trends-dir", required=True)
@click.option("--topics", "topics_path", required=True)
@click.option("--flow", "flow_path", required=True)
@click.option("--codebook", required=True)
@click.option("--out-dir", required=True)
@click.option("--study", default="corpus")
def tables(trends_dir: str, topics_path: str, flow_path: str, codebook: str, out_dir: str, study: str) -> None:
    """Write the captioned tables (CSV, Markdown, LaTeX)."""
    from litthemes.figures.run import run_tables

    written = run_tables(trends_dir, topics_path, flow_path, codebook, out_dir, study)
    click.echo(f"{len(written)} table files", err=True)


@main.command()
@click.option("--records", required=True)
@click.option("--flow", "flow_path", required=True)
@click.option("--codes", required=True)
@click.option("--evidence", required=True)
@click.option("--trends-dir", required=True)
@click.option("--topics", "topics_path", required=True)
@click.option("--topic-summary", required=True)
@click.option("--figures-dir", required=True)
@click.option("--codebook", required=True)
@click.option("--out", help="the brief as self-contained HTML")
@click.option("--pdf-out", help="the brief as an A4 PDF")
@click.option("--training-report", help="the cross-validation report of `litthemes train`, for the methods section")
@click.option(
    "--fit-check", help="the checks of `litthemes fit-check`, shown at the top where the codebook does not fit"
)
@click.option("--config", "config", type=click.Path(exists=True, dir_okay=False))
@click.option("--settings", "settings_json", help="the whole validated config as JSON")
def report(
    records: str,
    flow_path: str,
    codes: str,
    evidence: str,
    trends_dir: str,
    topics_path: str,
    topic_summary: str,
    figures_dir: str,
    codebook: str,
    out: str | None,
    pdf_out: str | None,
    training_report: str | None,
    fit_check: str | None,
    config: str | None,
    settings_json: str | None,
) -> None:
    """Write the policy brief (self-contained HTML with --out, PDF with --pdf-out)."""
    from litthemes.report import run

    if not out and not pdf_out:
        raise click.UsageError("give --out, --pdf-out or both")
    if settings_json:
        from litthemes.config import validate

        full = validate(json.loads(settings_json)).model_dump(mode="json")
    elif config:
        full = load(config).model_dump(mode="json")
    else:
        raise click.UsageError("give --config or --settings")
    run(
        records,
        flow_path,
        codes,
        evidence,
        trends_dir,
        topics_path,
        topic_summary,
        figures_dir,
        codebook,
        out,
        full,
        full["report"],
        pdf_out,
        training_report,
        fit_check,
    )
    click.echo("wrote " + " and ".join(path for path in (out, pdf_out) if path), err=True)


@main.command()
@click.argument("a", required=False)
@click.argument("b", required=False)
@click.option("--out-dir", help="Write agreement.csv, summary.json and confusion.png (or the suggestions) here.")
@click.option("--codes", help="Comma-separated codes to compare (default: all codes used).")
@click.option(
    "--suggest",
    type=click.IntRange(min=1),
    help="Instead of comparing: write the N passages whose coding is most uncertain, to code next "
    "(suggestions.csv and suggestions.qdpx in --out-dir). A, if given, is what is coded already.",
)
@click.option("--segments", help="with --suggest: segments.parquet of the run.")
@click.option("--segment-codes", "segment_codes", help="with --suggest: segment_codes.parquet of the run.")
@click.option("--codebook", type=click.Path(exists=True, dir_okay=False), help="with --suggest: the codebook.")
@click.option(
    "--config",
    "config",
    type=click.Path(exists=True, dir_okay=False),
    help="with --suggest: the run's config (for the thresholds and, without the options above, its paths).",
)
def agree(
    a: str | None,
    b: str | None,
    out_dir: str | None,
    codes: str | None,
    suggest: int | None,
    segments: str | None,
    segment_codes: str | None,
    codebook: str | None,
    config: str | None,
) -> None:
    """Agreement of coding B with reference coding A (CSV/TSV/Parquet, .qdpx, or annotated folder),
    or, with --suggest, the passages to code by hand next."""
    from litthemes.agree import agreement, confusion, plot_confusion, read_coding
    from litthemes.tables import write_json, write_text

    if suggest:
        _suggest(suggest, a, out_dir, segments, segment_codes, codebook, config)
        return
    if not a or not b:
        raise click.UsageError("give two codings A and B (or --suggest N)")
    coding_a, coding_b = read_coding(a), read_coding(b)
    table, summary = agreement(coding_a, coding_b, codes.split(",") if codes else None)
    click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    click.echo(json.dumps(summary, indent=2))
    if out_dir:
        out = Path(out_dir)
        write_text(table.to_csv(index=False, float_format="%.6g"), out / "agreement.csv")
        write_json(summary, out / "summary.json")
        plot_confusion(confusion(coding_a, coding_b), out / "confusion.png", f"{Path(a).name} vs {Path(b).name}")


def _suggest(
    n: int,
    coded: str | None,
    out_dir: str | None,
    segments: str | None,
    segment_codes: str | None,
    codebook: str | None,
    config: str | None,
) -> None:
    from litthemes.agree import read_units
    from litthemes.agree.suggest import uncertain_passages, write_suggestion_project
    from litthemes.codebook import load_codebook
    from litthemes.config import CodeSettings
    from litthemes.tables import SEGMENT_CODES, SEGMENTS, read_table, write_text

    settings = load(config) if config else None
    code_settings = settings.code if settings else CodeSettings()
    segments = segments or (f"{settings.interim_dir}/segments.parquet" if settings else None)
    segment_codes = segment_codes or (f"{settings.processed_dir}/segment_codes.parquet" if settings else None)
    codebook = codebook or (settings.codebook if settings else None)
    if not (segments and segment_codes and codebook and out_dir):
        raise click.UsageError(
            "--suggest needs --out-dir and --segments, --segment-codes and --codebook (or --config of the run)"
        )
    done = set(read_units(coded)["text"]) if coded else set()
    passages = uncertain_passages(
        read_table(segments, SEGMENTS),
        read_table(segment_codes, SEGMENT_CODES),
        n,
        code_settings.present_threshold,
        code_settings.min_share,
        done,
    )
    out = Path(out_dir)
    write_text(passages.to_csv(index=False), out / "suggestions.csv")
    write_suggestion_project(load_codebook(codebook), passages, out / "suggestions.qdpx")
    click.echo(
        f"{len(passages)} passages to code: {out / 'suggestions.csv'} (fill the code column) and "
        f"{out / 'suggestions.qdpx'}",
        err=True,
    )


@main.command("export-qda")
@click.option("--records", required=True)
@click.option("--segments", required=True)
@click.option("--segment-codes", required=True)
@click.option("--codebook", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--project-out", required=True, help="REFI-QDA project (.qdpx) with the coded corpus.")
@click.option("--codebook-out", required=True, help="REFI-QDA codebook (.qdc).")
@click.option("--name", default="litthemes coding", help="Project name shown in the QDA tool.")
def export_qda(
    records: str, segments: str, segment_codes: str, codebook: str, project_out: str, codebook_out: str, name: str
) -> None:
    """Export codebook and coded corpus for NVivo, ATLAS.ti, MAXQDA or QualCoder (REFI-QDA)."""
    from litthemes.agree.refi import write_codebook, write_project
    from litthemes.codebook import load_codebook
    from litthemes.tables import RECORDS, SEGMENT_CODES, SEGMENTS, read_table

    book = load_codebook(codebook)
    recs = read_table(records, RECORDS)
    recs = recs[recs["status"] == "included"]
    write_codebook(book, codebook_out)
    write_project(
        book, recs, read_table(segments, SEGMENTS), read_table(segment_codes, SEGMENT_CODES), project_out, name
    )
    click.echo(f"wrote {project_out} and {codebook_out}", err=True)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def check(path: str) -> None:
    """Validate a config file (or a codebook, by its 'codes' key) and report every problem."""
    with open(path, encoding="utf-8") as fh:
        data = load_yaml(fh) or {}
    if isinstance(data, dict) and "codes" in data:
        from litthemes.codebook import load_codebook

        book = load_codebook(path)
        click.echo(f"codebook OK: {book.stamp}, {len(book.codes)} codes")
    else:
        load(path)
        click.echo("config OK")


@main.group()
def cache() -> None:
    """Show the caches that make reruns fast, or prune what no run has used for a while."""


cache_config_option = click.option(
    "--config",
    "config",
    default="config/config.yaml",
    show_default=True,
    type=click.Path(exists=True, dir_okay=False),
    help="config.yaml naming the cache folders.",
)


def _cache_table(entries: list[CacheEntry], now: float, kept: set[CacheEntry] | None = None) -> str:
    """Entries as a table; with ``kept``, a column that says which prune keeps whatever their age."""
    from tabulate import tabulate

    headers = ["kind", "entry", "files", "MB", "unused for (days)"]
    rows = [[e.kind, str(e.path), e.files, f"{e.size / 1e6:.1f}", f"{e.unused_days(now):.1f}"] for e in entries]
    if kept is not None:
        headers.append("kept by prune (used last)")
        for row, entry in zip(rows, entries, strict=True):
            row.append("yes" if entry in kept else "")
    return tabulate(
        rows,
        headers=headers,
        colalign=("left", "left", "right", "right", "right", "left")[: len(headers)],
        disable_numparse=True,
    )


def _cache_entries(config: str) -> list[CacheEntry]:
    from litthemes.cache import configured_roots, find_entries
    from litthemes.ingest import input_files

    settings = load(config)
    return find_entries(configured_roots(settings), input_files(settings.inputs, settings.ingest))


@cache.command("status")
@cache_config_option
def cache_status(config: str) -> None:
    """Every cache entry: its kind, size and how long since a run last used it."""
    import time

    entries = _cache_entries(config)
    if not entries:
        click.echo("no cache entries")
        return
    from litthemes.cache import latest_entries

    click.echo(_cache_table(entries, time.time(), latest_entries(entries)))
    click.echo(f"{len(entries)} entries, {sum(e.size for e in entries) / 1e6:.1f} MB")


@cache.command("prune")
@cache_config_option
@click.option(
    "--unused-for",
    "unused_for",
    required=True,
    type=click.FloatRange(min=0),
    help="Remove entries no run has used for more than this many days.",
)
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def cache_prune(config: str, unused_for: float, dry_run: bool) -> None:
    """Remove cache entries no run has used for more than --unused-for days.

    The entry each stage used last is kept whatever its age (the current settings'), so
    what goes is what earlier settings, codebook versions, models or file versions left;
    a run that needs it again only spends the time to recompute it. Do not prune while a
    run is going.
    """
    import time

    from litthemes.cache import prune

    now = time.time()
    stale = prune(_cache_entries(config), unused_for, now, dry_run)
    if stale:
        click.echo(_cache_table(stale, now))
    verb = "would remove" if dry_run else "removed"
    click.echo(f"{verb} {len(stale)} entries, {sum(e.size for e in stale) / 1e6:.1f} MB")


@main.command()
@click.option("--out-dir", default="workflow/schemas", show_default=True)
def schema(out_dir: str) -> None:
    """Regenerate the config and codebook JSON schemas that the Snakefile validates against."""
    from litthemes.codebook import codebook_json_schema

    for name, source, content in (
        ("config", "litthemes.config", json_schema()),
        ("codebook", "litthemes.codebook", codebook_json_schema()),
    ):
        text = f"# Generated by `litthemes schema` from {source}; do not edit by hand.\n"
        text += yaml.safe_dump(content, sort_keys=True, allow_unicode=True, width=100)
        path = Path(out_dir) / f"{name}.schema.yaml"
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}", err=True)


def run() -> None:
    """The ``litthemes`` console command."""
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
