rule trends:
    """Prevalence, trend tests, COVID-19 split, co-occurrence, matrices, maps."""
    input:
        records=rules.ingest.output.records,
        codes=rules.code.output.codes,
        dimensions=rules.code.output.dimensions,
        segment_codes=rules.code.output.segment_codes,
        segments=rules.segment.output.segments,
        doc_topics=rules.topics.output.doc_topics,
        topics=rules.align_topics.output.topics,
        codebook=CFG["codebook"],
    output:
        TRENDS_JOB_FILES,
    params:
        settings=as_json("trends"),
        nlp=as_json("nlp", ["model"]),
        out_dir=lambda w, output: os.path.dirname(output[0]),
    resources:
        mem_mb=4000,
        runtime=60,
    priority: MAIN_PATH
    log:
        f"{LOGS}/trends.log",
    benchmark:
        f"{BENCH}/trends.tsv"
    shell:
        "litthemes trends --records {input.records:q} --codes {input.codes:q} --dimensions {input.dimensions:q}"
        " --segment-codes {input.segment_codes:q} --segments {input.segments:q}"
        " --doc-topics {input.doc_topics:q} --topics {input.topics:q} --codebook {input.codebook:q}"
        " --out-dir {params.out_dir:q} --settings {params.settings:q} --nlp-settings {params.nlp:q} --no-claims"
        " > {log:q} 2>&1"


rule claims:
    """The claims ledger: quantitative statements with their source (independent of the coding)."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
    output:
        CLAIMS_FILE,
    params:
        nlp=as_json("nlp", ["model", "cache_dir"]),
    resources:
        mem_mb=3000,
        runtime=30,
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{BENCH}/claims.tsv"
    shell:
        "litthemes claims --records {input.records:q} --segments {input.segments:q} --out {output:q}"
        " --nlp-settings {params.nlp:q} > {log:q} 2>&1"
