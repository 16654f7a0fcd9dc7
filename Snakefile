# litthemes: thematic analysis of research literature, as a Snakemake workflow.
# Stages: ingest -> segment -> claims & embed -> code -> topics -> trends -> figures & tables -> report.
# All logic lives in the litthemes package; each rule calls one CLI subcommand.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/ingest.smk"
include: "workflow/rules/segment.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/embed.smk"
include: "workflow/rules/code.smk"
include: "workflow/rules/topics.smk"
include: "workflow/rules/trends.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        BRIEF,
        BRIEF_PDF,
        FIGURE_FILES,
        TABLE_FILES,
        rules.export_qda.output,
        SEGMENT_VECTORS,
    default_target: True


# The codebook-corpus fit warnings, where everyone running the workflow sees them.
onsuccess:
    print_fit_warnings(FIT_CHECK)
