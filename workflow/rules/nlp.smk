rule segment:
    """spaCy: titles, abstract sentences and full-text passages, with lemmas."""
    input:
        records=rules.ingest.output.records,
    output:
        segments=f"{INTERIM}/segments.parquet",
    params:
        settings=as_json("nlp"),
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        f"{LOGS}/segment.log",
    benchmark:
        f"{BENCH}/segment.tsv"
    shell:
        "litthemes segment {input.records:q} --out {output.segments:q} --settings {params.settings:q} > {log:q} 2>&1"
