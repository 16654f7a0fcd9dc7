rule code:
    """Deductive coding with the codebook: segment codes, record codes, dimensions, evidence."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
        vectors=rules.embed.output.segments,
        codebook=CFG["codebook"],
    output:
        codes=f"{PROCESSED}/codes.parquet",
        dimensions=f"{PROCESSED}/dimensions.parquet",
        segment_codes=f"{PROCESSED}/segment_codes.parquet",
        evidence=f"{PROCESSED}/evidence.parquet",
    params:
        settings=as_json("code"),
        embed=as_json("embed", ["model", "device", "cache_dir"]),
        nlp=as_json("nlp", ["model"]),
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
