CLAIMS_FILE = f"{PROCESSED}/trends/claims.parquet"


rule claims:
    """The claims ledger: quantitative statements with their source (independent of the coding)."""
    input:
        records=rules.ingest.output.records,
        segments=SEGMENTS_FILE,
    output:
        claims=CLAIMS_FILE,
    params:
        settings=as_json("segment"),
    resources:
        mem_mb=3000,
        runtime=30,
    log:
        f"{LOGS}/claims.log",
    benchmark:
        f"{BENCH}/claims.tsv"
    shell:
        "litthemes claims --records {input.records:q} --segments {input.segments:q} --out {output.claims:q}"
        " --settings {params.settings:q} > {log:q} 2>&1"
