CODE_RESOURCES = {"mem_mb": 6000, "runtime": 120}
CODE_TABLES = ["codes", "dimensions", "segment_codes", "evidence"]
# Human-coded passages the semantic model learns from (code.training), if any.
TRAINING = CFG["code"]["training"]
TRAINING_INPUT = {"training": TRAINING} if TRAINING else {}
TRAINING_REPORT = f"{PROCESSED}/training_report.json"


if TRAINING:

    rule train:
        """Cross-validated agreement of the coder with the human-coded passages (for the brief)."""
        input:
            training=TRAINING,
            codebook=CFG["codebook"],
        output:
            report=TRAINING_REPORT,
        params:
            settings=as_json("code"),
            embed=EMBED_VECTORS,
            nlp=as_json("nlp", ["model"]),
        resources:
            mem_mb=4000,
            runtime=60,
        log:
            f"{LOGS}/train.log",
        benchmark:
            f"{BENCH}/train.tsv"
        shell:
            "litthemes train {input.training:q} --codebook {input.codebook:q} --out {output.report:q}"
            " --settings {params.settings:q} --embed-settings {params.embed:q} --nlp-settings {params.nlp:q}"
            " > {log:q} 2>&1"

if SHARDED:

    rule code_shard:
        """Deductive coding of one shard's records."""
        input:
            records=rules.ingest.output.records,
            segments=rules.segment_shard.output.segments,
            vectors=rules.embed_shard.output.segments,
            codebook=CFG["codebook"],
            **TRAINING_INPUT,
        output:
            **{name: f"{SHARD_DIR}/{{shard}}/{name}.parquet" for name in CODE_TABLES},
        wildcard_constraints:
            shard=r"\d+",
        params:
            settings=as_json("code"),
            embed=EMBED_VECTORS,
            nlp=as_json("nlp", ["model"]),
            shard=shard_arg,
        resources:
            **CODE_RESOURCES,
        priority: CODE_PATH
        log:
            f"{LOGS}/code-{{shard}}.log",
        benchmark:
            f"{BENCH}/code-{{shard}}.tsv"
        shell:
            "litthemes code {input.records:q} --codebook {input.codebook:q} --out {output.codes:q}"
            " --segments {input.segments:q} --vectors {input.vectors:q} --shard {params.shard}"
            " --segment-codes-out {output.segment_codes:q} --dimensions-out {output.dimensions:q}"
            " --evidence-out {output.evidence:q} --settings {params.settings:q}"
            " --embed-settings {params.embed:q} --nlp-settings {params.nlp:q} > {log:q} 2>&1"

    rule code:
        """Codes of all shards, gathered into the tables an unsharded run writes."""
        input:
            records=rules.ingest.output.records,
            **{name: expand(rules.code_shard.output[name], shard=SHARDS) for name in CODE_TABLES},
        output:
            codes=f"{PROCESSED}/codes.parquet",
            dimensions=f"{PROCESSED}/dimensions.parquet",
            segment_codes=f"{PROCESSED}/segment_codes.parquet",
            evidence=f"{PROCESSED}/evidence.parquet",
        params:
            plan=lambda wildcards, input, output: gather_plan(
                codes=(input.codes, output.codes),
                dimensions=(input.dimensions, output.dimensions),
                **{"segment-codes": (input.segment_codes, output.segment_codes)},
                evidence=(input.evidence, output.evidence),
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        # Alignment and trends read the shards' tables (CODE_PARTS); only the QDA export
        # and the brief wait for this job, so it goes after them.
        priority: MAIN_PATH
        log:
            f"{LOGS}/code.log",
        benchmark:
            f"{BENCH}/code.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q}"
            " > {log:q} 2>&1"

else:

    rule code:
        """Deductive coding with the codebook: segment codes, record codes, dimensions, evidence."""
        input:
            records=rules.ingest.output.records,
            segments=rules.segment.output.segments,
            vectors=rules.embed.output.segments,
            codebook=CFG["codebook"],
            **TRAINING_INPUT,
        output:
            codes=f"{PROCESSED}/codes.parquet",
            dimensions=f"{PROCESSED}/dimensions.parquet",
            segment_codes=f"{PROCESSED}/segment_codes.parquet",
            evidence=f"{PROCESSED}/evidence.parquet",
        params:
            settings=as_json("code"),
            embed=EMBED_VECTORS,
            nlp=as_json("nlp", ["model"]),
        resources:
            **CODE_RESOURCES,
        priority: CODE_PATH
        log:
            f"{LOGS}/code.log",
        benchmark:
            f"{BENCH}/code.tsv"
        shell:
            "litthemes code {input.records:q} --codebook {input.codebook:q} --out {output.codes:q}"
            " --segments {input.segments:q} --vectors {input.vectors:q}"
            " --segment-codes-out {output.segment_codes:q} --dimensions-out {output.dimensions:q}"
            " --evidence-out {output.evidence:q} --settings {params.settings:q}"
            " --embed-settings {params.embed:q} --nlp-settings {params.nlp:q} > {log:q} 2>&1"


# The coding tables as the jobs on the way to the brief read them: the shards' tables,
# gathered in memory (litthemes.shards.read_gathered), so alignment and trends start
# when coding ends instead of after the gather job.
if SHARDED:
    CODE_PARTS = {name: expand(rules.code_shard.output[name], shard=SHARDS) for name in CODE_TABLES}
else:
    CODE_PARTS = {name: [rules.code.output[name]] for name in CODE_TABLES}


rule export_qda:
    """REFI-QDA codebook (.qdc) and coded corpus (.qdpx) for checking the coding in a QDA tool."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
        segment_codes=rules.code.output.segment_codes,
        codebook=CFG["codebook"],
        # Order only (ancient: a change of the trend tables never reruns the export):
        # on a few cores the export, ready as soon as coding is done, took the core that
        # came free just before trends finished, and the figures, and so the brief,
        # waited for it.
        after_trends=ancient(CODING_TREND_FILES[0]),
    output:
        project=f"{REPORTS}/qda/coded-corpus.qdpx",
        codebook=f"{REPORTS}/qda/codebook.qdc",
    params:
        name=CFG["study"],
    resources:
        mem_mb=2000,
        runtime=30,
    # Nothing waits for the QDA files; the claims ledger (which the brief waits for)
    # goes first when both are ready.
    priority: LAST
    log:
        f"{LOGS}/export_qda.log",
    benchmark:
        f"{BENCH}/export_qda.tsv"
    shell:
        "litthemes export-qda --records {input.records:q} --segments {input.segments:q}"
        " --segment-codes {input.segment_codes:q} --codebook {input.codebook:q}"
        " --project-out {output.project:q} --codebook-out {output.codebook:q} --name {params.name:q} > {log:q} 2>&1"
