rule embed:
    """Sentence embeddings of segments and documents, shared by coding and topics."""
    input:
        records=rules.ingest.output.records,
        segments=rules.segment.output.segments,
    output:
        segments=f"{INTERIM}/segment_embeddings.parquet",
        documents=f"{INTERIM}/document_embeddings.parquet",
    params:
        settings=as_json("embed"),
    threads: 2
    resources:
        mem_mb=6000,
        runtime=240,
    log:
        f"{LOGS}/embed.log",
    benchmark:
        f"{BENCH}/embed.tsv"
    shell:
        "litthemes embed {input.records:q} {input.segments:q} --segments-out {output.segments:q}"
        " --documents-out {output.documents:q} --settings {params.settings:q} > {log:q} 2>&1"
