"""Atomic checkpoint directories with a lineage manifest, and the code version.

A checkpoint is written to ``<root>/.tmp-<id>`` and renamed to ``<root>/<id>`` only when
complete, so a crashed run never leaves a half-written checkpoint under a real name. The
manifest ``lineage.json`` records input data versions, the parent checkpoint, the resolved
config, the code version and the seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from foresight import __version__
from foresight.paths import REPO_ROOT

MANIFEST = "lineage.json"


def code_version() -> str:
    """``git:<sha>[+dirty]`` of the repository when it is a git checkout, else ``pkg:<version>``."""
    try:
        sha = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return f"pkg:{__version__}"
    return f"git:{sha}{'+dirty' if dirty else ''}"


def write_checkpoint(root: str | Path, stage: str, manifest: dict, save: Callable[[Path], None]) -> Path:
    """Create ``<root>/<stage>-<UTC time>-<hash>`` atomically.

    Args:
        root: parent directory of checkpoints.
        stage: stage name, the id's prefix.
        manifest: lineage fields (inputs, parent_checkpoint, config, code_version, seed, ...).
        save: writes the model files into the directory it is given.

    Returns:
        Path of the finished checkpoint directory (its name is the checkpoint id).
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    digest = hashlib.sha256(json.dumps(manifest, sort_keys=True, default=str).encode()).hexdigest()[:8]
    checkpoint_id = f"{stage}-{stamp}-{digest}"
    tmp = root / f".tmp-{checkpoint_id}"
    try:
        save(tmp)
        record = {**manifest, "checkpoint_id": checkpoint_id, "stage": stage, "created_at": stamp}
        (tmp / MANIFEST).write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
        final = root / checkpoint_id
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def read_manifest(checkpoint: str | Path) -> dict:
    """Read a checkpoint's lineage manifest.

    Raises:
        FileNotFoundError: the directory has no ``lineage.json`` (not written by this pipeline).
    """
    path = Path(checkpoint) / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{checkpoint}: no {MANIFEST}; not a checkpoint written by this pipeline")
    return json.loads(path.read_text())
