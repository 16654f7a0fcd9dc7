# The figures are drawn by FIGURE_JOBS one-thread jobs, each drawing every FIGURE_JOBS-th
# figure (round robin spreads the heavy small multiples), so that on a cluster each is an
# ordinary 1-CPU job. Each job waits only for the tables its figures are drawn from
# (FIGURE_TABLES): the half without a topic figure can start while topics are still fitted.
FIGURE_JOBS = 2


for figure_part in range(FIGURE_JOBS):
    figure_names = FIGURE_NAMES[figure_part::FIGURE_JOBS]

    rule:
        name:
            f"figures_{figure_part}"
        input:
            **figure_job_inputs(figure_names),
            codebook=CFG["codebook"],
        output:
            [
                report(
                    f"{REPORTS}/figures/{name}.{fmt}",
                    caption=f"../report/figures/{name}.rst",
                    category="Figures",
                    subcategory=fmt.upper(),
                )
                for name in figure_names
                for fmt in FIGURE_FORMATS
            ],
        params:
            settings=as_json("figures", formats=FIGURE_FORMATS),
            study=CFG["study"],
            only=" ".join(f"--only {name}" for name in figure_names),
            topics=lambda w, input: f" --topics {shlex.quote(input.topics)}" if "topics" in input.keys() else "",
            trends_dir=lambda w, input: os.path.dirname(input.trends[0]),
            out_dir=lambda w, output: os.path.dirname(output[0]),
        resources:
            mem_mb=3000,
            runtime=30,
        priority: BRIEF_PATH
        log:
            f"{LOGS}/figures-{figure_part}.log",
        benchmark:
            f"{BENCH}/figures-{figure_part}.tsv"
        shell:
            "litthemes figures --trends-dir {params.trends_dir:q}{params.topics} --codebook {input.codebook:q}"
            " --out-dir {params.out_dir:q} --study {params.study:q} {params.only}"
            " --settings {params.settings:q} > {log:q} 2>&1"


rule tables:
    """Captioned tables as CSV, Markdown and LaTeX."""
    input:
        trends=TREND_FILES,
        topics=rules.align_topics.output.topics,
        flow=rules.ingest.output.flow,
        codebook=CFG["codebook"],
    output:
        [
            report(
                f"{REPORTS}/tables/{name}.{ext}",
                caption=f"../report/tables/{name}.rst",
                category="Tables",
                subcategory=ext.upper(),
            )
            if ext == "csv"
            else f"{REPORTS}/tables/{name}.{ext}"
            for name in TABLE_NAMES
            for ext in ("csv", "md", "tex")
        ],
    params:
        study=CFG["study"],
        trends_dir=lambda w, input: os.path.dirname(input.trends[0]),
        out_dir=lambda w, output: os.path.dirname(output[0]),
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        f"{LOGS}/tables.log",
    benchmark:
        f"{BENCH}/tables.tsv"
    shell:
        "litthemes tables --trends-dir {params.trends_dir:q} --topics {input.topics:q} --flow {input.flow:q}"
        " --codebook {input.codebook:q} --out-dir {params.out_dir:q} --study {params.study:q} > {log:q} 2>&1"
