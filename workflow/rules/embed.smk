EMBED_RESOURCES = {"mem_mb": 6000, "runtime": 240}
SEGMENT_VECTORS = f"{INTERIM}/segment_embeddings.parquet"
DOCUMENT_VECTORS = f"{INTERIM}/document_embeddings.parquet"

if SHARDED:

    rule embed_shard:
        """Sentence embeddings of one shard's segments and documents."""
        input:
            records=rules.ingest.output.records,
            segments=rules.segment_shard.output.segments,
        output:
            segments=f"{SHARD_DIR}/{{shard}}/segment_embeddings.parquet",
            documents=f"{SHARD_DIR}/{{shard}}/document_embeddings.parquet",
        wildcard_constraints:
            shard=r"\d+",
        params:
            settings=as_json("embed"),
            shard=shard_arg,
        # One thread each, so that shards run side by side: on 2 cores two 1-thread
        # shards encode 15% more per second than one 2-thread shard at a time, and a
        # shard never waits for a second core to free up.
        threads: 1
        resources:
            **EMBED_RESOURCES,
        priority: LONG_PATH
        log:
            f"{LOGS}/embed-{{shard}}.log",
        benchmark:
            f"{BENCH}/embed-{{shard}}.tsv"
        shell:
            "litthemes embed {input.records:q} {input.segments:q} --shard {params.shard}"
            " --segments-out {output.segments:q} --documents-out {output.documents:q}"
            " --settings {params.settings:q} > {log:q} 2>&1"

    rule embed:
        """Document embeddings of all shards, in record order (what topics wait for)."""
        input:
            records=rules.ingest.output.records,
            documents=expand(rules.embed_shard.output.documents, shard=SHARDS),
        output:
            documents=DOCUMENT_VECTORS,
        params:
            plan=lambda wildcards, input, output: gather_plan(
                **{"document-vectors": (input.documents, output.documents)}
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        priority: TOPIC_PATH
        log:
            f"{LOGS}/embed.log",
        benchmark:
            f"{BENCH}/embed.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q} > {log:q} 2>&1"

    rule embed_segments:
        """Segment embeddings of all shards, in record order: for notebooks and reuse.

        Coding reads each shard's own vectors, so nothing on the way to the brief waits
        for this (larger) gather: it goes after every other job.
        """
        input:
            records=rules.ingest.output.records,
            segments=expand(rules.embed_shard.output.segments, shard=SHARDS),
        output:
            segments=SEGMENT_VECTORS,
        params:
            plan=lambda wildcards, input, output: gather_plan(
                **{"segment-vectors": (input.segments, output.segments)}
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        priority: LAST
        log:
            f"{LOGS}/embed_segments.log",
        benchmark:
            f"{BENCH}/embed_segments.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q} > {log:q} 2>&1"

else:

    rule embed:
        """Sentence embeddings of segments and documents, shared by coding and topics."""
        input:
            records=rules.ingest.output.records,
            segments=rules.segment.output.segments,
        output:
            segments=SEGMENT_VECTORS,
            documents=DOCUMENT_VECTORS,
        params:
            settings=as_json("embed"),
        threads: 2
        resources:
            **EMBED_RESOURCES,
        priority: LONG_PATH
        log:
            f"{LOGS}/embed.log",
        benchmark:
            f"{BENCH}/embed.tsv"
        shell:
            "litthemes embed {input.records:q} {input.segments:q} --segments-out {output.segments:q}"
            " --documents-out {output.documents:q} --settings {params.settings:q} > {log:q} 2>&1"
