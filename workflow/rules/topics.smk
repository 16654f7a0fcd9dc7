FROZEN_MODEL = CFG["topics"]["frozen_model"]
# A frozen topic model is not refitted, so it has no stability refits either.
REFIT_RUNS = [] if FROZEN_MODEL else list(range(1, CFG["topics"]["stability_runs"]))
TOPICS_FIT = f"{INTERIM}/topics_fit.parquet"
TOPIC_FIT_SUMMARY = f"{INTERIM}/topic_fit.json"
TOPIC_MODEL = f"{PROCESSED}/topic_model.parquet"
DOC_TOPICS = f"{PROCESSED}/doc_topics.parquet"
TOPIC_HIERARCHY = f"{PROCESSED}/topic_hierarchy.csv"
# What a topic fit, a refit or a frozen model's assignment reads: documents and their vectors.
TOPIC_INPUT = dict(
    records=rules.ingest.output.records,
    segments=SEGMENTS_FILE,
    vectors=DOCUMENT_VECTORS,
)


if REFIT_RUNS:

    rule topic_refits:
        """The extra topic fits with other seeds, for the stability check: one job beside the fit.

        One job rather than one per refit: importing UMAP and HDBSCAN costs a process more
        than a refit of a thousand documents takes.
        """
        input:
            **TOPIC_INPUT,
        output:
            expand(f"{INTERIM}/topic_refits/run-{{run}}.parquet", run=REFIT_RUNS),
        params:
            settings=as_json("topics"),
            runs=lambda wildcards, output: " ".join([repeated("--run", map(str, REFIT_RUNS)), repeated("--out", output)]),
        resources:
            mem_mb=6000,
            runtime=240,
        priority: CHAIN_START
        log:
            f"{LOGS}/topic_refits.log",
        benchmark:
            f"{BENCH}/topic_refits.tsv"
        shell:
            "litthemes topic-refit {input.records:q} {input.segments:q} {input.vectors:q} {params.runs}"
            " --settings {params.settings:q} > {log:q} 2>&1"


REFITS = rules.topic_refits.output if REFIT_RUNS else []


# The fit and the frozen model's assignment are one command, told apart by params.mode.
TOPIC_COMMAND = (
    "litthemes --log {log:q} topics {input.records:q} {input.segments:q} {input.vectors:q} {params.mode}"
    " --out {output.topics:q} --doc-topics-out {output.doc_topics:q} --summary-out {output.summary:q}"
    " --hierarchy-out {output.hierarchy:q} --settings {params.settings:q}"
    " --embed-settings {params.embed:q}"
)
TOPIC_PARAMS = dict(settings=as_json("topics"), embed=EMBED_VECTORS)
TOPIC_RESOURCES = dict(mem_mb=8000, runtime=240)

if FROZEN_MODEL:

    rule topics:
        """Topics of the frozen model: each new record joins the nearest saved topic."""
        input:
            **TOPIC_INPUT,
            frozen_model=FROZEN_MODEL,
        output:
            topics=TOPICS_FIT,
            doc_topics=DOC_TOPICS,
            summary=TOPIC_FIT_SUMMARY,
            hierarchy=TOPIC_HIERARCHY,
            model=TOPIC_MODEL,
        params:
            **TOPIC_PARAMS,
            mode=lambda w, output: f"--model-out {shlex.quote(output.model)}",
        resources:
            **TOPIC_RESOURCES,
        priority: CHAIN_START
        log:
            f"{LOGS}/topics.log",
        benchmark:
            f"{BENCH}/topics.tsv"
        shell:
            TOPIC_COMMAND

else:

    rule topics:
        """Inductive topics (BERTopic; NMF alongside); no codebook involved.

        The stability check waits for the refits, the fit does not: topic_stability adds
        it, so the fit and its refits run side by side.
        """
        input:
            **TOPIC_INPUT,
        output:
            topics=f"{INTERIM}/topics_fit_unchecked.parquet",
            doc_topics=DOC_TOPICS,
            summary=f"{INTERIM}/topic_fit_unchecked.json",
            hierarchy=TOPIC_HIERARCHY,
        params:
            **TOPIC_PARAMS,
            mode="--stability-later",
        resources:
            **TOPIC_RESOURCES,
        priority: CHAIN_START
        log:
            f"{LOGS}/topics.log",
        benchmark:
            f"{BENCH}/topics.tsv"
        shell:
            TOPIC_COMMAND

    rule topic_stability:
        """The fit's agreement with its refits (ARI, NMI, each topic's best Jaccard)."""
        input:
            records=rules.ingest.output.records,
            vectors=DOCUMENT_VECTORS,
            topics=rules.topics.output.topics,
            doc_topics=rules.topics.output.doc_topics,
            summary=rules.topics.output.summary,
            refits=REFITS,
        output:
            topics=TOPICS_FIT,
            summary=TOPIC_FIT_SUMMARY,
            model=TOPIC_MODEL,
        params:
            settings=as_json("topics", ["method", "stability_threshold"]),
            refits=lambda wildcards, input: repeated("--refit", input.refits),
        resources:
            mem_mb=2000,
            runtime=10,
        priority: BRIEF_PATH
        log:
            f"{LOGS}/topic_stability.log",
        benchmark:
            f"{BENCH}/topic_stability.tsv"
        shell:
            "litthemes topic-stability {input.records:q} {input.vectors:q} {input.topics:q} {input.doc_topics:q}"
            " --fit-summary {input.summary:q} {params.refits} --out {output.topics:q}"
            " --summary-out {output.summary:q} --model-out {output.model:q} --settings {params.settings:q}"
            " > {log:q} 2>&1"


rule align_topics:
    """Align topics to the codebook; a topic that matches no theme is emergent."""
    input:
        topics=TOPICS_FIT,
        doc_topics=DOC_TOPICS,
        summary=TOPIC_FIT_SUMMARY,
        vectors=DOCUMENT_VECTORS,
        segment_vectors=SEGMENT_VECTORS,
        codes=CODE_PARTS["codes"],
        codebook=CFG["codebook"],
    output:
        topics=f"{PROCESSED}/topics.parquet",
        summary=f"{PROCESSED}/topic_summary.json",
    params:
        settings=as_json("topics", ["emergent_threshold"]),
        embed=EMBED_VECTORS,
    resources:
        mem_mb=3000,
        runtime=30,
    priority: BRIEF_PATH
    log:
        f"{LOGS}/align_topics.log",
    benchmark:
        f"{BENCH}/align_topics.tsv"
    shell:
        "litthemes align-topics {input.topics:q} {input.doc_topics:q} {input.vectors:q} {input.codes:q}"
        " --codebook {input.codebook:q} --fit-summary {input.summary:q}"
        " --segment-vectors {input.segment_vectors:q} --out {output.topics:q}"
        " --summary-out {output.summary:q} --settings {params.settings:q} --embed-settings {params.embed:q}"
        " > {log:q} 2>&1"
