rule topics:
    """Inductive topics (BERTopic; NMF alongside) with stability; no codebook involved."""
    input:
        records=rules.ingest.output.records,
        vectors=rules.embed.output.documents,
    output:
        topics=f"{INTERIM}/topics_fit.parquet",
        doc_topics=f"{PROCESSED}/doc_topics.parquet",
        summary=f"{INTERIM}/topic_fit.json",
        hierarchy=f"{PROCESSED}/topic_hierarchy.csv",
    params:
        settings=as_json("topics"),
        embed=as_json("embed", ["model", "device", "cache_dir"]),
        nlp=as_json("nlp", ["model", "batch_size"]),
    threads: 2
    resources:
        mem_mb=8000,
        runtime=240,
    log:
        f"{LOGS}/topics.log",
    benchmark:
        f"{BENCH}/topics.tsv"
    shell:
        "litthemes topics {input.records:q} {input.vectors:q}"
        " --out {output.topics:q} --doc-topics-out {output.doc_topics:q} --summary-out {output.summary:q}"
        " --hierarchy-out {output.hierarchy:q} --settings {params.settings:q}"
        " --embed-settings {params.embed:q} --nlp-settings {params.nlp:q} > {log:q} 2>&1"


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
        embed=as_json("embed", ["model", "device", "cache_dir"]),
    resources:
        mem_mb=3000,
        runtime=30,
    log:
        f"{LOGS}/align_topics.log",
    benchmark:
        f"{BENCH}/align_topics.tsv"
    shell:
        "litthemes align-topics {input.topics:q} {input.doc_topics:q} {input.vectors:q} {input.codes:q}"
        " --codebook {input.codebook:q} --fit-summary {input.summary:q} --out {output.topics:q}"
        " --summary-out {output.summary:q} --settings {params.settings:q} --embed-settings {params.embed:q}"
        " > {log:q} 2>&1"
