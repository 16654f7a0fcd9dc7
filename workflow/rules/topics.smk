rule topics:
    """Inductive topics (BERTopic; NMF alongside), aligned to the codebook, with stability."""
    input:
        records=rules.ingest.output.records,
        vectors=rules.embed.output.documents,
        codes=rules.code.output.codes,
        codebook=CFG["codebook"],
    output:
        topics=f"{PROCESSED}/topics.parquet",
        doc_topics=f"{PROCESSED}/doc_topics.parquet",
        summary=f"{PROCESSED}/topic_summary.json",
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
        "litthemes topics {input.records:q} {input.vectors:q} {input.codes:q} --codebook {input.codebook:q}"
        " --out {output.topics:q} --doc-topics-out {output.doc_topics:q} --summary-out {output.summary:q}"
        " --hierarchy-out {output.hierarchy:q} --settings {params.settings:q}"
        " --embed-settings {params.embed:q} --nlp-settings {params.nlp:q} > {log:q} 2>&1"
