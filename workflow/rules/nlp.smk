SEGMENT_RESOURCES = {"mem_mb": 4000, "runtime": 60}
SEGMENTS_FILE = f"{INTERIM}/segments.parquet"
# Found by the segment jobs, which have spaCy loaded anyway. Unsharded, the segment job
# writes the claims ledger itself (CLAIMS_FILE): a job of its own waited for a free core
# until the figures were drawn and then held the brief back (1-1.5 s of a 55 s rerun);
# sharded, the shards write the spans and the claims job joins them.
CLAIM_SPANS_FILE = f"{INTERIM}/claim_spans.parquet"

if SHARDED:

    rule segment_shard:
        """spaCy on one shard of the records: titles, sentences, passages, with lemmas."""
        input:
            records=rules.ingest.output.records,
        output:
            segments=f"{SHARD_DIR}/{{shard}}/segments.parquet",
            claims=f"{SHARD_DIR}/{{shard}}/claim_spans.parquet",
        wildcard_constraints:
            shard=r"\d+",
        params:
            settings=as_json("nlp"),
            shard=shard_arg,
        resources:
            **SEGMENT_RESOURCES,
        priority: MAIN_PATH
        log:
            f"{LOGS}/segment-{{shard}}.log",
        benchmark:
            f"{BENCH}/segment-{{shard}}.tsv"
        shell:
            "litthemes segment {input.records:q} --shard {params.shard} --out {output.segments:q}"
            " --claims-out {output.claims:q} --settings {params.settings:q} > {log:q} 2>&1"

    rule segment:
        """Segments of all shards, in record order (the same table an unsharded run writes)."""
        input:
            records=rules.ingest.output.records,
            parts=expand(rules.segment_shard.output.segments, shard=SHARDS),
            claims=expand(rules.segment_shard.output.claims, shard=SHARDS),
        output:
            segments=SEGMENTS_FILE,
            claims=CLAIM_SPANS_FILE,
        params:
            plan=lambda wildcards, input, output: gather_plan(
                segments=(input.parts, output.segments), **{"claim-spans": (input.claims, output.claims)}
            ),
        resources:
            mem_mb=4000,
            runtime=10,
        priority: MAIN_PATH
        log:
            f"{LOGS}/segment.log",
        benchmark:
            f"{BENCH}/segment.tsv"
        shell:
            "litthemes gather --plan {params.plan:q} --records {input.records:q} > {log:q} 2>&1"

else:

    rule segment:
        """spaCy: titles, abstract sentences and full-text passages, with lemmas."""
        input:
            records=rules.ingest.output.records,
        output:
            segments=SEGMENTS_FILE,
            ledger=CLAIMS_FILE,
        params:
            settings=as_json("nlp"),
        resources:
            **SEGMENT_RESOURCES,
        priority: MAIN_PATH
        log:
            f"{LOGS}/segment.log",
        benchmark:
            f"{BENCH}/segment.tsv"
        shell:
            "litthemes segment {input.records:q} --out {output.segments:q} --ledger-out {output.ledger:q}"
            " --settings {params.settings:q} > {log:q} 2>&1"
