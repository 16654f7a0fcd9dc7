"""Names and short captions of the figures and tables, in the order the brief shows them.

Kept apart from the drawing code so that the workflow (which needs the file names
when Snakemake starts) and the report do not import matplotlib.
"""

from __future__ import annotations

FIGURE_CAPTIONS = {
    "corpus_by_year": "Records per publication year, by source file.",
    "field_availability": "Which text each record offered for coding: title only, title and abstract, or full text.",
    "theme_prevalence": "Share of records that mention each theme (pale) and whose main theme it is (dark, rank 1 by "
    "salience), with 95% Wilson intervals, coloured by group.",
    "theme_trends": "Share of each year's records coded with each theme (normalised for the growth of the "
    "literature); shaded: 95% Wilson interval; hollow markers: years with too few records for an interval.",
    "covid_change": "Change in each theme's share from before to after the COVID-19 split year, with 95% Newcombe "
    "intervals.",
    "terminology_shift": "Share of each year's records that use each credential term.",
    "challenge_cooccurrence": "Challenge themes appearing in the same record: lift (colour) and number of records "
    "(label).",
    "challenge_network": "Network of challenge themes; edge width: Jaccard index; solid edges: significant "
    "co-occurrence (Fisher exact, FDR-corrected).",
    "theme_by_stakeholder": "Share of each theme's records that speak about each stakeholder.",
    "theme_by_credential_type": "Share of each theme's records that discuss each credential type.",
    "theme_by_setting": "Share of each theme's records set in each educational setting.",
    "thematic_map_themes": "Thematic map of themes (Callon centrality x density); quadrants split at the medians.",
    "thematic_map_topics": "Thematic map of inductive topics (Callon centrality x density).",
    "opportunity_risk": "Share of each year's records discussing trend themes (opportunity) vs challenge themes "
    "(risk).",
    "topics": "Size of each inductive topic; orange: emergent (not named by the codebook: no theme matches, or "
    "its records lie outside the codebook's literature); hatched: unstable across seeds.",
}

# The tables each figure is drawn from: trend tables by name, and "topics" for the
# aligned topic table. Each figure job is given only these, so the job that draws no
# topic figure starts as soon as the coding's trend tables are in.
FIGURE_TABLES: dict[str, tuple[str, ...]] = {
    "corpus_by_year": ("corpus_by_year",),
    "field_availability": ("field_availability",),
    "theme_prevalence": ("prevalence",),
    "theme_trends": ("prevalence_by_year",),
    "covid_change": ("covid_split",),
    "terminology_shift": ("terminology",),
    "challenge_cooccurrence": ("challenge_cooccurrence",),
    "challenge_network": ("challenge_cooccurrence", "prevalence"),
    "theme_by_stakeholder": ("theme_by_stakeholder",),
    "theme_by_credential_type": ("theme_by_credential_type",),
    "theme_by_setting": ("theme_by_setting",),
    "thematic_map_themes": ("thematic_map_themes",),
    "thematic_map_topics": ("thematic_map_topics",),
    "opportunity_risk": ("opportunity_risk",),
    "topics": ("topics",),
}
# Every figure's footer gives the number of records this table counts.
FOOTER_TABLE = "field_availability"

# Okabe-Ito's colour-blind-safe palette: the figures' colours, and those of drafted codes.
# The theme x dimension figures (and the trend tables of the same names), and the
# codebook dimension each reads.
CROSS_DIMENSIONS = {
    "theme_by_stakeholder": "stakeholder",
    "theme_by_credential_type": "credential_type",
    "theme_by_setting": "setting",
}

OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]


def topic_figures(names: list[str]) -> list[str]:
    """Those of figures ``names`` drawn from the aligned topic table."""
    return [name for name in names if "topics" in FIGURE_TABLES[name]]


def figure_tables(names: list[str]) -> list[str]:
    """The tables figures ``names`` are drawn from, footer included, in a stable order."""
    unknown = sorted(set(names) - set(FIGURE_TABLES))
    if unknown:
        raise ValueError(f"unknown figures {unknown}; figures are {list(FIGURE_TABLES)}")
    return sorted({FOOTER_TABLE, *(table for name in names for table in FIGURE_TABLES[name])})


# name -> caption; the order is the order in the brief.
TABLE_CAPTIONS = {
    "corpus_flow": "Records per source file: read, quarantined, merged as duplicates, excluded by a rule, included.",
    "field_availability": "Text available for coding.",
    "prevalence": "Share of records that mention each theme and group (coded, share) and whose main theme it is "
    "(main, main_share), with 95% Wilson intervals.",
    "trend_tests": "Trend of each theme over years: odds ratio per year from logistic regression, 95% CI, p and BH q "
    "value.",
    "covid_split": "Share of records per theme before and from the COVID-19 split year; difference with 95% Newcombe "
    "interval.",
    "challenge_cooccurrence": "Pairs of challenge themes: records with both, Jaccard, lift, one-sided Fisher exact p "
    "and BH q.",
    "theme_by_stakeholder": "Records carrying each theme and stakeholder.",
    "theme_by_credential_type": "Records carrying each theme and credential type.",
    "theme_by_setting": "Records carrying each theme and setting.",
    "thematic_map_themes": "Callon centrality and density of themes, and their quadrant.",
    "topics": "Inductive topics: size, top terms, best-matching theme, alignment, emergent flag and stability.",
    "emergent_topics": "Topics the codebook does not name: no theme matches them, or their records lie outside the "
    "codebook's literature.",
    "claims": "Claims ledger: quantitative statements with their sentence and source.",
}
