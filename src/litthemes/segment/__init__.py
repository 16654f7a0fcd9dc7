"""NLP stage: spaCy processing and segmentation of records into codable passages.

A segment is a title, an abstract sentence, or a full-text sentence (paragraphs
first, long ones split into sentences). Offsets are character positions in the
field the segment came from, so evidence quotes can be traced to the text.
"""

from __future__ import annotations

from litthemes.segment.pipeline import (
    TRAINED_PIPELINES,
    lemma_string,
    lemmatize,
    load_pipeline,
    pipeline_id,
    segment,
)

__all__ = ["TRAINED_PIPELINES", "lemma_string", "lemmatize", "load_pipeline", "pipeline_id", "segment"]
