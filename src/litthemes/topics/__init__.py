"""Topics stage: inductive topics (BERTopic, or NMF), their stability, and their alignment
to the codebook's themes; a topic that matches no theme is emergent.

- :mod:`litthemes.topics.fit`: the models (UMAP, HDBSCAN, c-TF-IDF; NMF beside them);
- :mod:`litthemes.topics.refits`: refits with other seeds and the stability check;
- :mod:`litthemes.topics.coherence`: NPMI coherence of the topic terms;
- :mod:`litthemes.topics.frozen`: a fit saved as a model, and new records assigned to it;
- :mod:`litthemes.topics.align`: topics against the codebook's themes;
- :mod:`litthemes.topics.run`: the fit job's inputs and outputs.
"""

from __future__ import annotations

from litthemes.topics.align import align
from litthemes.topics.coherence import Cooccurrence, npmi_coherence, scored_terms
from litthemes.topics.fit import (
    MIN_DOCUMENTS,
    TOKEN_PATTERN,
    TopicModelResult,
    cluster_documents,
    exact_neighbors,
    fit_bertopic,
    fit_nmf,
    min_topic_size,
    reduce_outliers,
    representative,
    stop_words,
)
from litthemes.topics.refits import stability

__all__ = [
    "MIN_DOCUMENTS",
    "TOKEN_PATTERN",
    "Cooccurrence",
    "TopicModelResult",
    "align",
    "cluster_documents",
    "exact_neighbors",
    "fit_bertopic",
    "fit_nmf",
    "min_topic_size",
    "npmi_coherence",
    "reduce_outliers",
    "representative",
    "scored_terms",
    "stability",
    "stop_words",
]
