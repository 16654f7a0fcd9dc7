"""Checks for people working on litthemes itself (not used by the pipeline)."""
