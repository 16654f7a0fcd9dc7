rule ingest:
    """Read every export into the canonical record table; account for every record."""
    input:
        CFG["inputs"],
    output:
        records=f"{INTERIM}/records.parquet",
        flow=f"{INTERIM}/flow.json",
    params:
        settings=as_json("ingest"),
        # Not in the command: a new version reruns the job after an upgrade (litthemes.versions).
        normalization=NORMALIZATION_VERSION,
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"{LOGS}/ingest.log",
    benchmark:
        f"{BENCH}/ingest.tsv"
    shell:
        "litthemes ingest {input:q} --out {output.records:q} --flow {output.flow:q}"
        " --settings {params.settings:q} > {log:q} 2>&1"
