rule report:
    """The policy brief: self-contained HTML written from the numbers."""
    input:
        records=rules.ingest.output.records,
        flow=rules.ingest.output.flow,
        codes=rules.code.output.codes,
        evidence=rules.code.output.evidence,
        trends=TREND_FILES,
        topics=rules.align_topics.output.topics,
        topic_summary=rules.align_topics.output.summary,
        figures=FIGURE_FILES,
        codebook=CFG["codebook"],
    output:
        html=report(BRIEF, caption="../report/brief.rst", category="Brief"),
        pdf=report(BRIEF_PDF, caption="../report/brief.rst", category="Brief"),
    params:
        settings=json.dumps(RESULT_CFG, sort_keys=True, separators=(",", ":")),
        trends_dir=lambda w, input: os.path.dirname(input.trends[0]),
        figures_dir=lambda w, input: os.path.dirname(input.figures[0]),
    resources:
        mem_mb=4000,
        runtime=30,
    priority: MAIN_PATH
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{BENCH}/report.tsv"
    shell:
        "litthemes report --records {input.records:q} --flow {input.flow:q} --codes {input.codes:q}"
        " --evidence {input.evidence:q} --trends-dir {params.trends_dir:q} --topics {input.topics:q}"
        " --topic-summary {input.topic_summary:q} --figures-dir {params.figures_dir:q}"
        " --codebook {input.codebook:q} --out {output.html:q} --pdf-out {output.pdf:q}"
        " --settings {params.settings:q} > {log:q} 2>&1"
