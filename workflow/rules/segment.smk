# Segmentation, a per-record stage: one job per shard when sharded (code.smk explains).
SEGMENTS_FILE = f"{INTERIM}/segments.parquet"


rule segment:
    """spaCy: titles, abstract sentences and full-text passages, with lemmas."""
    input:
        records=rules.ingest.output.records,
    output:
        segments=per_shard("segments.parquet", SEGMENTS_FILE),
    params:
        settings=as_json("segment"),
        shard=shard_option,
    resources:
        mem_mb=4000,
        runtime=60,
    log:
        shard_log("segment"),
    benchmark:
        shard_log("segment", BENCH, ".tsv")
    shell:
        "litthemes segment {input.records:q} {params.shard} --out {output.segments:q}"
        " --settings {params.settings:q} > {log:q} 2>&1"


if SHARDED:

    rule gather_segments:
        """Segments of all shards, in record order (the table an unsharded run writes)."""
        input:
            records=rules.ingest.output.records,
            parts=expand(rules.segment.output.segments, shard=SHARDS),
        output:
            segments=SEGMENTS_FILE,
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            f"{LOGS}/gather_segments.log",
        benchmark:
            f"{BENCH}/gather_segments.tsv"
        shell:
            "litthemes gather segments {input.parts:q} --records {input.records:q} --out {output.segments:q}"
            " > {log:q} 2>&1"
