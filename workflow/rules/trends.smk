rule trends:
    """Prevalence, trend tests, COVID-19 split, co-occurrence, matrices, maps."""
    input:
        records=rules.ingest.output.records,
        codes=CODE_PARTS["codes"],
        dimensions=CODE_PARTS["dimensions"],
        segment_codes=CODE_PARTS["segment_codes"],
        doc_topics=rules.topics.output.doc_topics,
        codebook=CFG["codebook"],
    output:
        CODING_TREND_FILES,
    params:
        settings=as_json("trends"),
        out_dir=lambda w, output: os.path.dirname(output[0]),
        coding=lambda w, input: " ".join([repeated("--codes", input.codes), repeated("--dimensions", input.dimensions),
                                          repeated("--segment-codes", input.segment_codes)]),
    resources:
        mem_mb=4000,
        runtime=60,
    priority: CHAIN_START
    log:
        f"{LOGS}/trends.log",
    benchmark:
        f"{BENCH}/trends.tsv"
    shell:
        "litthemes trends --records {input.records:q} {params.coding}"
        " --doc-topics {input.doc_topics:q} --codebook {input.codebook:q}"
        " --out-dir {params.out_dir:q} --settings {params.settings:q} > {log:q} 2>&1"


rule topic_trends:
    """The thematic map of topics and the topic trends: from the topics, so a codebook edit leaves them be."""
    input:
        records=rules.ingest.output.records,
        segments=SEGMENTS_FILE,
        doc_topics=rules.topics.output.doc_topics,
        # The fit's own topic table: only its terms and labels are read, which neither
        # the stability check nor the alignment changes, so this job waits for neither.
        topics=rules.topics.output.topics,
    output:
        TOPIC_TREND_FILES,
    params:
        settings=as_json("trends"),
        out_dir=lambda w, output: os.path.dirname(output[0]),
    resources:
        mem_mb=3000,
        runtime=30,
    priority: CHAIN_START
    log:
        f"{LOGS}/topic_trends.log",
    benchmark:
        f"{BENCH}/topic_trends.tsv"
    shell:
        "litthemes topic-trends --records {input.records:q} --segments {input.segments:q}"
        " --doc-topics {input.doc_topics:q} --topics {input.topics:q} --out-dir {params.out_dir:q}"
        " --settings {params.settings:q} > {log:q} 2>&1"

