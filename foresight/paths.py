"""Where the pipeline reads shipped data and writes everything it produces.

All outputs (trajectory snapshots, checkpoints, the DuckDB catalog, MLflow runs, the
Dagster instance) live under one home folder: ``$FORESIGHT_HOME`` if set, else
``<repo>/.foresight_home``.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "data"
SQL_DIR = REPO_ROOT / "sql"
HOME_ENV = "FORESIGHT_HOME"


def home() -> Path:
    """Return the project home folder (created if missing).

    Returns:
        Absolute path of ``$FORESIGHT_HOME`` or ``<repo>/.foresight_home``.
    """
    path = Path(os.environ.get(HOME_ENV, REPO_ROOT / ".foresight_home")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def subdir(name: str) -> Path:
    """Return ``home()/name``, created if missing."""
    path = home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def mlflow_tracking_uri() -> str:
    """MLflow tracking URI: ``$MLFLOW_TRACKING_URI`` or a SQLite store under the home folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{home() / 'mlflow.db'}"
