rule figures:
    """Figures (PNG and SVG) rendered from the trend tables."""
    input:
        trends=TREND_FILES,
        topics=rules.align_topics.output.topics,
        codebook=CFG["codebook"],
    output:
        [
            report(
                f"{REPORTS}/figures/{name}.{fmt}",
                caption=f"../report/figures/{name}.rst",
                category="Figures",
                subcategory=fmt.upper(),
            )
            for name in FIGURE_NAMES
            for fmt in CFG["figures"]["formats"]
        ],
    params:
        settings=as_json("figures"),
        study=CFG["study"],
        trends_dir=lambda w, input: os.path.dirname(input.trends[0]),
        out_dir=lambda w, output: os.path.dirname(output[0]),
    threads: 2
    resources:
        mem_mb=3000,
        runtime=30,
    priority: MAIN_PATH
    log:
        f"{LOGS}/figures.log",
    benchmark:
        f"{BENCH}/figures.tsv"
    shell:
        "litthemes figures --trends-dir {params.trends_dir:q} --topics {input.topics:q} --codebook {input.codebook:q}"
        " --out-dir {params.out_dir:q} --study {params.study:q} --workers {threads}"
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
    priority: MAIN_PATH
    log:
        f"{LOGS}/tables.log",
    benchmark:
        f"{BENCH}/tables.tsv"
    shell:
        "litthemes tables --trends-dir {params.trends_dir:q} --topics {input.topics:q} --flow {input.flow:q}"
        " --codebook {input.codebook:q} --out-dir {params.out_dir:q} --study {params.study:q} > {log:q} 2>&1"
