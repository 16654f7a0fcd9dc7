FIT_CHECK = f"{REPORTS}/fit_check.json"


rule fit_check:
    """Does the codebook fit the corpus? Warnings with numbers, for the brief and the console."""
    input:
        records=rules.ingest.output.records,
        codes=CODE_FILES["codes"],
        topics=rules.align_topics.output.topics,
        topic_summary=rules.align_topics.output.summary,
    output:
        checks=FIT_CHECK,
    resources:
        mem_mb=2000,
        runtime=10,
    priority: BRIEF_PATH
    log:
        f"{LOGS}/fit_check.log",
    benchmark:
        f"{BENCH}/fit_check.tsv"
    shell:
        "litthemes fit-check --records {input.records:q} --codes {input.codes:q} --topics {input.topics:q}"
        " --topic-summary {input.topic_summary:q} --out {output.checks:q} > {log:q} 2>&1"


REPORT_INPUT = dict(
    records=rules.ingest.output.records,
    flow=rules.ingest.output.flow,
    codes=CODE_FILES["codes"],
    evidence=CODE_FILES["evidence"],
    trends=TREND_FILES,
    topics=rules.align_topics.output.topics,
    topic_summary=rules.align_topics.output.summary,
    figures=FIGURE_FILES,
    codebook=CFG["codebook"],
    fit_check=FIT_CHECK,
    **({"training_report": TRAINING_REPORT} if TRAINING else {}),
)
REPORT_PARAMS = dict(
    settings=json.dumps(RESULT_CFG, sort_keys=True, separators=(",", ":")),
    trends_dir=lambda w, input: os.path.dirname(input.trends[0]),
    figures_dir=lambda w, input: os.path.dirname(input.figures[0]),
    training=lambda w, input: f" --training-report {shlex.quote(input.training_report)}" if TRAINING else "",
)
REPORT_COMMAND = (
    # --log: the log goes to its file; warnings (a font missing for the PDF) to the console.
    "litthemes --log {log:q} report --records {input.records:q} --flow {input.flow:q} --codes {input.codes:q}"
    " --evidence {input.evidence:q} --trends-dir {params.trends_dir:q} --topics {input.topics:q}"
    " --topic-summary {input.topic_summary:q} --figures-dir {params.figures_dir:q}"
    " --codebook {input.codebook:q} --fit-check {input.fit_check:q}{params.training} --settings {params.settings:q} {params.target}"
)


rule report:
    """The policy brief: self-contained HTML written from the numbers."""
    input:
        **REPORT_INPUT,
    output:
        html=report(BRIEF, caption="../report/brief.rst", category="Brief"),
    params:
        **REPORT_PARAMS,
        target=lambda w, output: f"--out {shlex.quote(output.html)}",
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{BENCH}/report.tsv"
    shell:
        REPORT_COMMAND


rule brief_pdf:
    """The same brief as an A4 PDF (WeasyPrint), in a job of its own beside the HTML."""
    input:
        **REPORT_INPUT,
    output:
        pdf=report(BRIEF_PDF, caption="../report/brief.rst", category="Brief"),
    params:
        **REPORT_PARAMS,
        target=lambda w, output: f"--pdf-out {shlex.quote(output.pdf)}",
    resources:
        mem_mb=4000,
        runtime=30,
    priority: BRIEF_PATH
    log:
        f"{LOGS}/brief_pdf.log",
    benchmark:
        f"{BENCH}/brief_pdf.tsv"
    shell:
        REPORT_COMMAND
