"""Training and evaluation entry points, launched as processes (Dagster Pipes or by hand).

Each module runs as ``python -m foresight.training.<stage> --job job.json`` and imports
this package only (plus the small ``dagster-pipes`` client when launched by Dagster).
"""
