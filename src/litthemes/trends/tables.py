"""The analysis tables, each computed from the coding, the dimensions, the records and the topics."""

from __future__ import annotations

import itertools
import logging
import warnings
from typing import Any

import numpy as np
import pandas as pd

from litthemes.codebook import Codebook
from litthemes.config import TrendSettings
from litthemes.topics import Cooccurrence

log = logging.getLogger(__name__)


# scipy and statsmodels are imported by the functions that use them: together they
# cost about a second to import, and the claims job (trends.claims, a module of this
# package) uses neither.


def wilson(k: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def _presence(codes: pd.DataFrame) -> pd.DataFrame:
    """record x code boolean matrix."""
    return codes.pivot_table(
        index="record_id", columns="theme", values="present", aggfunc="max", fill_value=False
    ).astype(bool)


def corpus_profile(records: pd.DataFrame, dims: pd.DataFrame) -> dict[str, pd.DataFrame]:
    included = records[records["status"] == "included"].copy()
    included["source"] = included["source_file"].map(lambda p: str(p).rsplit("/", 1)[-1])
    included["year"] = included["year"].astype("Int64")
    by_source = (
        included.dropna(subset=["year"])
        .groupby(["year", "source"])
        .size()
        .rename("records")
        .reset_index()
        .sort_values(["year", "source"])
    )
    cred = dims[(dims["dimension"] == "credential_type") & dims["present"]]
    cred = cred.merge(included[["record_id", "year"]], on="record_id").dropna(subset=["year"])
    by_cred = cred.groupby(["year", "theme"]).size().rename("records").reset_index()
    by_cred = by_cred.rename(columns={"theme": "credential_type"}).sort_values(["year", "credential_type"])
    has_abs = included["abstract"].fillna("").str.len() > 0
    has_full = included["fulltext"].fillna("").str.len() > 0
    fields = pd.DataFrame(
        {
            "text_available": ["title only", "title + abstract", "full text"],
            "records": [int((~has_abs & ~has_full).sum()), int((has_abs & ~has_full).sum()), int(has_full.sum())],
        }
    )
    fields["share"] = (fields["records"] / max(len(included), 1)).round(4)
    return {"corpus_by_year": by_source, "corpus_by_credential_type": by_cred, "field_availability": fields}


def prevalence(codes: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """Per theme (and group): the share of records that mention it (``coded``, ``share``:
    the theme is present) and the share whose main theme it is (``main``, ``main_share``:
    rank 1 by salience and present), each with a 95% Wilson interval."""
    presence = _presence(codes)
    main = _main_presence(codes).reindex(index=presence.index, columns=presence.columns, fill_value=False)
    n = len(presence)
    rows = []
    items = [(t.id, t.label, t.group, [t.id]) for t in book.themes]
    items += [
        (f"group:{group}", label, group, [t.id for t in book.themes if t.group == group])
        for group, label in book.groups.items()
    ]
    for item, label, group, ids in items:
        ids = [i for i in ids if i in presence]
        k = int(presence[ids].any(axis=1).sum()) if ids else 0
        k_main = int(main[ids].any(axis=1).sum()) if ids else 0
        low, high = wilson(k, n)
        main_low, main_high = wilson(k_main, n)
        rows.append(
            {
                "theme": item,
                "label": label,
                "group": group,
                "records": n,
                "coded": k,
                "share": k / n if n else float("nan"),
                "ci_low": low,
                "ci_high": high,
                "main": k_main,
                "main_share": k_main / n if n else float("nan"),
                "main_ci_low": main_low,
                "main_ci_high": main_high,
            }
        )
    return pd.DataFrame(rows)


def _main_presence(codes: pd.DataFrame) -> pd.DataFrame:
    """record x theme: the theme is the record's main theme (rank 1) and present."""
    main = codes.assign(present=(codes["rank"] == 1) & codes["present"])
    return _presence(main)


def prevalence_by_year(
    codes: pd.DataFrame, records: pd.DataFrame, book: Codebook, settings: TrendSettings
) -> pd.DataFrame:
    """Share of each year's records coded with each theme: normalised for the growth of the literature."""
    presence = _presence(codes)
    group = {theme.id: theme.group for theme in book.themes}
    rows = [
        {
            "theme": theme,
            "group": group[theme],
            "year": year,
            "records": n,
            "coded": k,
            "share": k / n,
            "ci_low": low,
            "ci_high": high,
            "enough_records": enough,
        }
        for year, theme, n, k, low, high, enough in _shares_by_year(
            presence, records, list(group), settings.min_records_per_year
        )
    ]
    # The columns are named even without rows (a corpus without years has none).
    return pd.DataFrame(
        rows, columns=["theme", "group", "year", "records", "coded", "share", "ci_low", "ci_high", "enough_records"]
    )


def _shares_by_year(
    presence: pd.DataFrame, records: pd.DataFrame, columns: list[str], min_records: int
) -> list[tuple[int, str, int, int, float, float, bool]]:
    """(year, column, records that year, records with the column, Wilson interval, enough
    records) for each year and column of a record x column presence table; the interval
    is NaN in years with fewer than ``min_records`` records."""
    years = records.set_index("record_id")["year"].reindex(presence.index)
    out = []
    for year in sorted(y for y in years.dropna().unique()):
        mask = (years == year).to_numpy()
        n = int(mask.sum())
        enough = n >= min_records
        for column in columns:
            k = int(presence.loc[mask, column].sum()) if column in presence else 0
            low, high = wilson(k, n) if enough else (float("nan"), float("nan"))
            out.append((int(year), column, n, k, low, high, enough))
    return out


def trend_tests(codes: pd.DataFrame, records: pd.DataFrame, book: Codebook, settings: TrendSettings) -> pd.DataFrame:
    """Logistic regression of presence on year per theme; Benjamini-Hochberg across themes."""
    items = [(t.id, t.group or "") for t in book.themes]
    return _trend_table(_presence(codes), records, items, settings).rename(columns={"item": "theme"})


def topic_trends(doc_topics: pd.DataFrame, records: pd.DataFrame, settings: TrendSettings) -> pd.DataFrame:
    """The same trend test for each topic's share of the records."""
    frame = doc_topics[doc_topics["topic"] >= 0].assign(present=True, theme=lambda d: d["topic"].astype(str))
    presence = _presence(frame[["record_id", "theme", "present"]]) if len(frame) else pd.DataFrame()
    presence = presence.reindex(doc_topics["record_id"].unique(), fill_value=False)
    items = [(str(t), "topic") for t in sorted(doc_topics.loc[doc_topics["topic"] >= 0, "topic"].unique())]
    table = _trend_table(presence, records, items, settings).rename(columns={"item": "topic"})
    table["topic"] = table["topic"].astype(int)
    return table.drop(columns="group")


def _trend_table(
    presence: pd.DataFrame, records: pd.DataFrame, items: list[tuple[str, str]], settings: TrendSettings
) -> pd.DataFrame:
    # The GLM modules alone: statsmodels.api imports the whole library.
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.stats.multitest import multipletests
    from statsmodels.tools.tools import add_constant

    years = records.set_index("record_id")["year"].reindex(presence.index).astype(float)
    valid = years.notna().to_numpy()
    x = years[valid].to_numpy()
    centre = float(np.mean(x)) if len(x) else 0.0
    design = add_constant(x - centre) if len(x) else None
    rows = []
    for item, group in items:
        y = presence.loc[valid, item].astype(float).to_numpy() if item in presence else np.zeros(len(x))
        row: dict[str, Any] = {
            "item": item,
            "group": group,
            "records": len(x),
            "coded": int(y.sum()),
            "odds_ratio_per_year": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "note": "",
        }
        if design is None or y.sum() < 3 or y.sum() > len(y) - 3 or len(set(x)) < 3:
            row["note"] = "too few coded records or years for a test"
        else:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = GLM(y, design, family=families.Binomial()).fit()
                slope = float(fit.params[1])
                low, high = (float(v) for v in fit.conf_int()[1])
                row.update(
                    odds_ratio_per_year=np.exp(slope),
                    ci_low=np.exp(low),
                    ci_high=np.exp(high),
                    p_value=float(fit.pvalues[1]),
                )
            except (ValueError, np.linalg.LinAlgError) as exc:
                row["note"] = f"model failed: {exc}"
        rows.append(row)
    table = pd.DataFrame(
        rows,
        columns=["item", "group", "records", "coded", "odds_ratio_per_year", "ci_low", "ci_high", "p_value", "note"],
    )
    tested = table["p_value"].notna()
    table["q_value"] = np.nan
    if tested.any():
        table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]

    def classify(r: pd.Series) -> str:
        if pd.isna(r["q_value"]):
            return "untested"
        if r["q_value"] < settings.alpha:
            return "rising" if r["odds_ratio_per_year"] > 1 else "falling"
        return "stable"

    table["direction"] = table.apply(classify, axis=1) if len(table) else pd.Series(dtype=str)
    return table


def covid_split(codes: pd.DataFrame, records: pd.DataFrame, book: Codebook, settings: TrendSettings) -> pd.DataFrame:
    """Change in each theme's share from before to from the split year, with a Newcombe interval."""
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    presence = _presence(codes)
    years = records.set_index("record_id")["year"].reindex(presence.index)
    after = (years >= settings.covid_split_year).fillna(False).to_numpy(dtype=bool)
    before = (years < settings.covid_split_year).fillna(False).to_numpy(dtype=bool)
    n1, n0 = int(after.sum()), int(before.sum())
    rows = []
    for theme in book.themes:
        k1 = int(presence.loc[after, theme.id].sum()) if theme.id in presence else 0
        k0 = int(presence.loc[before, theme.id].sum()) if theme.id in presence else 0
        row: dict[str, Any] = {
            "theme": theme.id,
            "group": theme.group,
            "records_before": n0,
            "coded_before": k0,
            "records_after": n1,
            "coded_after": k1,
            "share_before": k0 / n0 if n0 else np.nan,
            "share_after": k1 / n1 if n1 else np.nan,
            "difference": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
        }
        if n0 and n1:
            row["difference"] = k1 / n1 - k0 / n0
            low, high = confint_proportions_2indep(k1, n1, k0, n0, method="newcomb", compare="diff")
            row["ci_low"], row["ci_high"] = float(low), float(high)
            if 0 < k0 + k1 < n0 + n1:
                row["p_value"] = float(test_proportions_2indep(k1, n1, k0, n0, method="score").pvalue)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["q_value"] = np.nan
    tested = table["p_value"].notna()
    if tested.any():
        table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"], method="fdr_bh")[1]
    return table


def terminology(dims: pd.DataFrame, records: pd.DataFrame, settings: TrendSettings) -> pd.DataFrame:
    """Per year: share of records using each credential term."""
    cred = dims[dims["dimension"] == "credential_type"]
    presence = _presence(cred)
    rows = [
        {
            "year": year,
            "credential_type": term,
            "records": n,
            "coded": k,
            "share": k / n,
            "ci_low": low,
            "ci_high": high,
        }
        for year, term, n, k, low, high, _ in _shares_by_year(
            presence, records, list(presence.columns), settings.min_records_per_year
        )
    ]
    return pd.DataFrame(rows, columns=["year", "credential_type", "records", "coded", "share", "ci_low", "ci_high"])


def cooccurrence(codes: pd.DataFrame, theme_ids: list[str], settings: TrendSettings) -> pd.DataFrame:
    """Pairs of themes: counts, Jaccard, lift and a one-sided Fisher exact test, BH-corrected."""
    from scipy.stats import fisher_exact
    from statsmodels.stats.multitest import multipletests

    presence = _presence(codes)
    n = len(presence)
    rows = []
    for a, b in itertools.combinations([t for t in theme_ids if t in presence], 2):
        pa, pb = presence[a].to_numpy(), presence[b].to_numpy()
        n_a, n_b, n_ab = int(pa.sum()), int(pb.sum()), int((pa & pb).sum())
        union = int((pa | pb).sum())
        table = [[n_ab, n_a - n_ab], [n_b - n_ab, n - n_a - n_b + n_ab]]
        p = float(fisher_exact(table, alternative="greater")[1]) if n_a and n_b else np.nan
        rows.append(
            {
                "theme_a": a,
                "theme_b": b,
                "n_a": n_a,
                "n_b": n_b,
                "n_both": n_ab,
                "jaccard": n_ab / union if union else 0.0,
                "lift": (n_ab * n) / (n_a * n_b) if n_a and n_b else np.nan,
                "p_value": p,
            }
        )
    table_df = pd.DataFrame(rows, columns=["theme_a", "theme_b", "n_a", "n_b", "n_both", "jaccard", "lift", "p_value"])
    table_df["q_value"] = np.nan
    tested = table_df["p_value"].notna()
    if tested.any():
        table_df.loc[tested, "q_value"] = multipletests(table_df.loc[tested, "p_value"], method="fdr_bh")[1]
    table_df["significant"] = table_df["q_value"] < settings.alpha
    return table_df


def cross_matrix(codes: pd.DataFrame, dims: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """Theme x dimension-code: records carrying both, and the share of the theme's records."""
    themes = _presence(codes)
    other = _presence(dims[dims["dimension"] == dimension]).reindex(themes.index, fill_value=False)
    rows = []
    for theme in themes.columns:
        t = themes[theme].to_numpy()
        for code in other.columns:
            both = int((t & other[code].to_numpy()).sum())
            rows.append(
                {
                    "theme": theme,
                    dimension: code,
                    "records": both,
                    "theme_records": int(t.sum()),
                    "share_of_theme": both / t.sum() if t.sum() else 0.0,
                }
            )
    return pd.DataFrame(rows, columns=["theme", dimension, "records", "theme_records", "share_of_theme"])


def callon_map(incidence: pd.DataFrame, cluster_of: dict[str, str]) -> pd.DataFrame:
    """Callon centrality and density of clusters of items (bibliometrix-style thematic map).

    ``incidence`` is documents x items (bool); equivalence index e_ij = c_ij^2 / (c_i c_j).
    Centrality = 10 * sum of e over links leaving the cluster; density = 100 * mean e
    of links inside it. Quadrants split at the medians.
    """
    items = [i for i in incidence.columns if i in cluster_of and incidence[i].sum() > 0]
    matrix = incidence[items].to_numpy(dtype=float)
    co = matrix.T @ matrix
    occ = np.diag(co).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        eq = np.where(np.outer(occ, occ) > 0, co**2 / np.outer(occ, occ), 0.0)
    np.fill_diagonal(eq, 0.0)
    clusters = sorted({cluster_of[i] for i in items})
    labels = np.asarray([cluster_of[i] for i in items])
    rows = []
    for cluster in clusters:
        inside = labels == cluster
        internal = eq[np.ix_(inside, inside)]
        k = int(inside.sum())
        density = 100 * internal.sum() / (k * (k - 1)) if k > 1 else 0.0
        centrality = 10 * eq[np.ix_(inside, ~inside)].sum()
        rows.append(
            {
                "cluster": cluster,
                "items": k,
                "occurrences": int(matrix[:, inside].any(axis=1).sum()),
                "centrality": float(centrality),
                "density": float(density),
            }
        )
    table = pd.DataFrame(rows, columns=["cluster", "items", "occurrences", "centrality", "density"])
    if len(table):
        c_med, d_med = table["centrality"].median(), table["density"].median()

        def quadrant(r: pd.Series) -> str:
            high_c, high_d = r["centrality"] >= c_med, r["density"] >= d_med
            return {
                (True, True): "motor",
                (False, True): "niche",
                (False, False): "emerging or declining",
                (True, False): "basic",
            }[(bool(high_c), bool(high_d))]

        table["quadrant"] = table.apply(quadrant, axis=1)
    else:
        table["quadrant"] = []
    return table


def theme_map(segment_codes: pd.DataFrame, book: Codebook) -> pd.DataFrame:
    """Thematic map of themes, with each theme's matched cues as its items."""
    theme_ids = {t.id for t in book.themes}
    lexical = segment_codes[(segment_codes["lexical"] > 0) & segment_codes["code"].isin(theme_ids)]
    if lexical.empty:
        return callon_map(pd.DataFrame(), {})
    lexical = lexical.assign(item=lexical["code"] + "|" + lexical["cue"])
    incidence = pd.crosstab(lexical["record_id"], lexical["item"]).astype(bool)
    cluster_of = {item: item.split("|", 1)[0] for item in incidence.columns}
    return callon_map(incidence, cluster_of).rename(columns={"cluster": "theme"})


def topic_map(doc_topics: pd.DataFrame, topics: pd.DataFrame, documents: list[str]) -> pd.DataFrame:
    """Thematic map of topics, with each topic's top terms as its items.

    ``documents`` are the lemma documents the topics were fitted on, in the order of
    ``doc_topics``: a document has a term when it has it as a token (or bigram) the way
    the topic model's vectorizer counted it, so a term stands for the same thing here
    as in the topic's term list ("art" is not found inside "article").
    """
    real = topics[topics["topic"] >= 0]
    if real.empty:
        return callon_map(pd.DataFrame(), {})
    cluster_of: dict[str, str] = {}
    for row in real.itertuples():
        for term in str(row.top_terms).split("; ")[:8]:
            cluster_of.setdefault(term, str(row.label))
    postings = Cooccurrence(documents, set(cluster_of)).postings
    incidence = np.zeros((len(documents), len(cluster_of)), dtype=bool)
    for column, term in enumerate(cluster_of):
        incidence[postings.get(term, []), column] = True
    return callon_map(pd.DataFrame(incidence, columns=list(cluster_of)), cluster_of).rename(
        columns={"cluster": "topic"}
    )


def opportunity_risk(
    codes: pd.DataFrame, records: pd.DataFrame, book: Codebook, settings: TrendSettings
) -> pd.DataFrame:
    """Per year: share of records discussing any trend theme vs any challenge theme."""
    presence = _presence(codes)
    years = records.set_index("record_id")["year"].reindex(presence.index)
    trend_ids = [t.id for t in book.themes if t.group == "trends" and t.id in presence]
    risk_ids = [t.id for t in book.themes if t.group == "challenges" and t.id in presence]
    rows = []
    for year in sorted(y for y in years.dropna().unique()):
        mask = (years == year).to_numpy()
        n = int(mask.sum())
        k_t = int(presence.loc[mask, trend_ids].any(axis=1).sum()) if trend_ids else 0
        k_r = int(presence.loc[mask, risk_ids].any(axis=1).sum()) if risk_ids else 0
        rows.append(
            {
                "year": int(year),
                "records": n,
                "opportunity": k_t / n,
                "risk": k_r / n,
                "balance": (k_t - k_r) / n,
                "enough_records": n >= settings.min_records_per_year,
            }
        )
    return pd.DataFrame(rows, columns=["year", "records", "opportunity", "risk", "balance", "enough_records"])


def topics_over(doc_topics: pd.DataFrame, records: pd.DataFrame, dims: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Topic counts per year and per credential type."""
    merged = doc_topics.merge(records[["record_id", "year"]], on="record_id")
    by_year = merged.dropna(subset=["year"]).groupby(["topic", "year"]).size().rename("records").reset_index()
    cred = dims[(dims["dimension"] == "credential_type") & dims["present"]][["record_id", "theme"]]
    by_cred = doc_topics.merge(cred, on="record_id").groupby(["topic", "theme"]).size().rename("records")
    by_cred = by_cred.reset_index().rename(columns={"theme": "credential_type"})
    return {"topics_by_year": by_year.astype({"year": int}), "topics_by_credential_type": by_cred}
