"""Figures stage: matplotlib figures and captioned tables from the trend tables.

The drawing lives in :mod:`litthemes.figures.draw` (which imports matplotlib), the
tables in :mod:`litthemes.figures.tables`, the stage's I/O in
:mod:`litthemes.figures.run`; this package itself imports nothing, so that the tables
job and the workflow do not pay for matplotlib.
"""
