"""Versions of what a stage computes, bumped when the meaning of its tables changes.

Each keys the stage's cache, and the workflow passes it to the stage's rule as a
parameter: after an upgrade that changes one, Snakemake reruns that stage and what
follows it (its params changed) instead of the next stage failing on the old table.
"""

from __future__ import annotations

# Normalisation of a record's fields at ingest (the ingest cache keeps normalised rows under it).
NORMALIZATION_VERSION = 4
# The meaning of a cached lexical or segment-code row, and the columns of the segment-code table.
CODING_MODEL = 5
