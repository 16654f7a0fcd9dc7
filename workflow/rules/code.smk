# Human-coded passages the semantic model learns from (code.training), if any.
TRAINING = CFG["code"]["training"]
TRAINING_INPUT = {"training": TRAINING} if TRAINING else {}
# With code.tune_epochs the encoder is tuned on the human codes once, before the (sharded)
# coding jobs, which then find it in the code cache.
TUNED = bool(TRAINING) and CFG["code"]["tune_epochs"] > 0
TUNE_NOTE = f"{PROCESSED}/tuned_encoder.json"
TRAINING_REPORT = f"{PROCESSED}/training_report.json"
CODE_TABLES = ["codes", "dimensions", "segment_codes", "evidence"]
CODE_FILES = {name: f"{PROCESSED}/{name}.parquet" for name in CODE_TABLES}


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
            segment=as_json("segment", ["model"]),
        resources:
            mem_mb=4000,
            # Tuning the encoder once per fold (code.tune_epochs) takes five times one tuning.
            runtime=300 if TUNED else 60,
        log:
            f"{LOGS}/train.log",
        benchmark:
            f"{BENCH}/train.tsv"
        shell:
            "litthemes train {input.training:q} --codebook {input.codebook:q} --out {output.report:q}"
            " --settings {params.settings:q} --embed-settings {params.embed:q} --segment-settings {params.segment:q}"
            " > {log:q} 2>&1"


if TUNED:

    rule tune:
        """The sentence encoder fine-tuned on the human codes (code.tune_epochs), into the code cache."""
        input:
            training=TRAINING,
            codebook=CFG["codebook"],
        output:
            note=TUNE_NOTE,
        params:
            # Only what the encoder depends on: other coding settings do not tune it again.
            settings=as_json("code", ["tune_epochs", "cache_dir"]),
            embed=EMBED_VECTORS,
        threads: 2
        resources:
            mem_mb=4000,
            runtime=120,
        log:
            f"{LOGS}/tune.log",
        benchmark:
            f"{BENCH}/tune.tsv"
        shell:
            "litthemes tune {input.training:q} --codebook {input.codebook:q} --out {output.note:q}"
            " --settings {params.settings:q} --embed-settings {params.embed:q} > {log:q} 2>&1"


rule code:
    """Deductive coding with the codebook: segment codes, record codes, dimensions, evidence."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
        vectors=rules.embed.output.segments,
        codebook=CFG["codebook"],
        **TRAINING_INPUT,
        **({"tuned": TUNE_NOTE} if TUNED else {}),
    output:
        **{name: per_shard(f"{name}.parquet", CODE_FILES[name]) for name in CODE_TABLES},
    params:
        settings=as_json("code"),
        embed=EMBED_VECTORS,
        segment=as_json("segment", ["model"]),
        shard=shard_option,
        # Not in the command: a new version reruns the job after an upgrade (litthemes.versions).
        coding_model=CODING_MODEL,
    resources:
        mem_mb=6000,
        runtime=120,
    priority: BRIEF_PATH
    log:
        shard_log("code"),
    benchmark:
        shard_log("code", BENCH, ".tsv")
    shell:
        "litthemes code {input.records:q} --codebook {input.codebook:q} --out {output.codes:q}"
        " --segments {input.segments:q} --vectors {input.vectors:q} {params.shard}"
        " --segment-codes-out {output.segment_codes:q} --dimensions-out {output.dimensions:q}"
        " --evidence-out {output.evidence:q} --settings {params.settings:q}"
        " --embed-settings {params.embed:q} --segment-settings {params.segment:q} > {log:q} 2>&1"


# The coding tables as trends and alignment read them: each shard's table (joined in
# memory by litthemes.shards.read_gathered), so those jobs need not wait for the gather.
CODE_PARTS = {name: all_shards(rules.code.output[name]) for name in CODE_TABLES}

if SHARDED:

    rule gather_codes:
        """Codes of all shards, gathered into the tables an unsharded run writes."""
        input:
            records=rules.ingest.output.records,
            **CODE_PARTS,
        output:
            **CODE_FILES,
        params:
            plan=lambda wildcards, input, output: gather_plan(
                **{name.replace("_", "-"): (input[name], output[name]) for name in CODE_TABLES}
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            f"{LOGS}/gather_codes.log",
        benchmark:
            f"{BENCH}/gather_codes.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q} > {log:q} 2>&1"


rule export_qda:
    """REFI-QDA codebook (.qdc) and coded corpus (.qdpx) for checking the coding in a QDA tool."""
    input:
        records=rules.ingest.output.records,
        segments=SEGMENTS_FILE,
        segment_codes=CODE_FILES["segment_codes"],
        codebook=CFG["codebook"],
    output:
        project=f"{REPORTS}/qda/coded-corpus.qdpx",
        codebook=f"{REPORTS}/qda/codebook.qdc",
    params:
        name=CFG["study"],
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"{LOGS}/export_qda.log",
    benchmark:
        f"{BENCH}/export_qda.tsv"
    shell:
        "litthemes export-qda --records {input.records:q} --segments {input.segments:q}"
        " --segment-codes {input.segment_codes:q} --codebook {input.codebook:q}"
        " --project-out {output.project:q} --codebook-out {output.codebook:q} --name {params.name:q} > {log:q} 2>&1"
