"""Trends stage: prevalence, trend tests, COVID-19 split, co-occurrence, matrices,
thematic map, opportunity/risk balance, topics over time and the claims ledger.

Every table here is computed from the coding (CODES), the cross-cutting dimensions,
the records and the topics; figures and the brief only render these tables.
"""

from __future__ import annotations

from litthemes.trends.tables import (
    callon_map,
    cooccurrence,
    corpus_profile,
    covid_split,
    cross_matrix,
    opportunity_risk,
    prevalence,
    prevalence_by_year,
    terminology,
    theme_map,
    topic_map,
    topic_trends,
    topics_over,
    trend_tests,
    wilson,
)

__all__ = [
    "callon_map",
    "cooccurrence",
    "corpus_profile",
    "covid_split",
    "cross_matrix",
    "opportunity_risk",
    "prevalence",
    "prevalence_by_year",
    "terminology",
    "theme_map",
    "topic_map",
    "topic_trends",
    "topics_over",
    "trend_tests",
    "wilson",
]
