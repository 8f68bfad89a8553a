"""Dagster definitions, presets and the command line of the pipeline."""
