FROZEN_MODEL = CFG["topics"]["frozen_model"]
# A frozen topic model is not refitted, so it has no stability refits either.
REFIT_RUNS = [] if FROZEN_MODEL else list(range(1, CFG["topics"]["stability_runs"]))


rule topic_refit:
    """One more topic fit with another seed, for the stability check (refits run side by side)."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
        vectors=rules.embed.output.documents,
    output:
        f"{INTERIM}/topic_refits/run-{{run}}.parquet",
    wildcard_constraints:
        run=r"\d+",
    params:
        settings=as_json("topics"),
    resources:
        mem_mb=6000,
        runtime=240,
    priority: TOPIC_PATH
    log:
        f"{LOGS}/topic_refit-{{run}}.log",
    benchmark:
        f"{BENCH}/topic_refit-{{run}}.tsv"
    shell:
        "litthemes topic-refit {input.records:q} {input.segments:q} {input.vectors:q} --run {wildcards.run}"
        " --out {output:q} --settings {params.settings:q} > {log:q} 2>&1"


rule topics:
    """Inductive topics (BERTopic; NMF alongside) with stability; no codebook involved."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
        vectors=rules.embed.output.documents,
        refits=expand(rules.topic_refit.output[0], run=REFIT_RUNS),
        frozen_model=[FROZEN_MODEL] if FROZEN_MODEL else [],
    output:
        topics=f"{INTERIM}/topics_fit.parquet",
        doc_topics=f"{PROCESSED}/doc_topics.parquet",
        summary=f"{INTERIM}/topic_fit.json",
        hierarchy=f"{PROCESSED}/topic_hierarchy.csv",
        model=f"{PROCESSED}/topic_model.parquet",
    params:
        settings=as_json("topics"),
        embed=EMBED_VECTORS,
        refits=lambda wildcards, input: " ".join(f"--refit {shlex.quote(p)}" for p in input.refits),
    resources:
        mem_mb=8000,
        runtime=240,
    priority: TOPIC_PATH
    log:
        f"{LOGS}/topics.log",
    benchmark:
        f"{BENCH}/topics.tsv"
    shell:
        "litthemes topics {input.records:q} {input.segments:q} {input.vectors:q}"
        " --out {output.topics:q} --doc-topics-out {output.doc_topics:q} --summary-out {output.summary:q}"
        " --hierarchy-out {output.hierarchy:q} --model-out {output.model:q} {params.refits} --settings {params.settings:q}"
        " --embed-settings {params.embed:q} > {log:q} 2>&1"


rule align_topics:
    """Align topics to the codebook; a topic that matches no theme is emergent."""
    input:
        topics=rules.topics.output.topics,
        doc_topics=rules.topics.output.doc_topics,
        summary=rules.topics.output.summary,
        vectors=rules.embed.output.documents,
        codes=rules.code.output.codes,
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
    priority: MAIN_PATH
    log:
        f"{LOGS}/align_topics.log",
    benchmark:
        f"{BENCH}/align_topics.tsv"
    shell:
        "litthemes align-topics {input.topics:q} {input.doc_topics:q} {input.vectors:q} {input.codes:q}"
        " --codebook {input.codebook:q} --fit-summary {input.summary:q} --out {output.topics:q}"
        " --summary-out {output.summary:q} --settings {params.settings:q} --embed-settings {params.embed:q}"
        " > {log:q} 2>&1"
