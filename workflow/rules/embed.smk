SEGMENT_VECTORS = f"{INTERIM}/segment_embeddings.parquet"
DOCUMENT_VECTORS = f"{INTERIM}/document_embeddings.parquet"


rule embed:
    """Sentence embeddings of segments and documents, shared by coding and topics."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
    output:
        segments=per_shard("segment_embeddings.parquet", SEGMENT_VECTORS),
        documents=per_shard("document_embeddings.parquet", DOCUMENT_VECTORS),
    params:
        settings=as_json("embed"),
        shard=shard_option,
    # Sharded, one thread a shard so that shards run side by side.
    threads: 1 if SHARDED else 2
    resources:
        mem_mb=6000,
        runtime=240,
    log:
        shard_log("embed"),
    benchmark:
        shard_log("embed", BENCH, ".tsv")
    shell:
        # --log: the log goes to its file, progress milestones to the console.
        "litthemes --log {log:q} embed {input.records:q} {input.segments:q} {params.shard}"
        " --segments-out {output.segments:q} --documents-out {output.documents:q}"
        " --settings {params.settings:q}"


if SHARDED:

    rule gather_vectors:
        """Segment and document embeddings of all shards, in record order."""
        input:
            records=rules.ingest.output.records,
            segments=expand(rules.embed.output.segments, shard=SHARDS),
            documents=expand(rules.embed.output.documents, shard=SHARDS),
        output:
            segments=SEGMENT_VECTORS,
            documents=DOCUMENT_VECTORS,
        params:
            plan=lambda wildcards, input, output: gather_plan(
                **{
                    "segment-vectors": (input.segments, output.segments),
                    "document-vectors": (input.documents, output.documents),
                }
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        log:
            f"{LOGS}/gather_vectors.log",
        benchmark:
            f"{BENCH}/gather_vectors.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q} > {log:q} 2>&1"
