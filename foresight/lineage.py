"""Atomic checkpoint directories with a lineage manifest, and the code version.

A checkpoint is written to ``<root>/.tmp-<id>`` and renamed to ``<root>/<id>`` only when
complete, so a crashed run never leaves a half-written checkpoint under a real name. The
manifest ``lineage.json`` records input data versions, the parent checkpoint, the resolved
config, the code version and the seed.
"""

from __future__ import annotations

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


def write_checkpoint(
    root: str | Path, checkpoint_id: str, manifest: dict, save: Callable[[Path], None],
    is_main_process: bool = True, barrier: Callable[[], None] | None = None,
) -> Path:
    """Create ``<root>/<checkpoint_id>`` atomically.

    Every process calls ``save`` on the same temporary directory (distributed trainers
    gather their shards there); after ``barrier`` the main process alone writes the
    manifest and renames the directory into place.

    Args:
        root: parent directory of checkpoints.
        checkpoint_id: directory name, identical on every rank (e.g. ``<stage>-<job id>``).
        manifest: lineage fields (inputs, parent_checkpoint, config, code_version, seed, ...).
        save: writes the model files into the directory it is given.
        is_main_process: whether this process writes the manifest and renames.
        barrier: waits for every process (None in a single process).

    Returns:
        Path of the finished checkpoint directory.

    Raises:
        FileExistsError: a checkpoint with this id already exists.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final, tmp = root / checkpoint_id, root / f".tmp-{checkpoint_id}"
    if final.exists():
        raise FileExistsError(f"checkpoint {final} already exists")
    try:
        save(tmp)
        if barrier is not None:
            barrier()
        if is_main_process:
            record = {**manifest, "checkpoint_id": checkpoint_id,
                      "created_at": datetime.now(timezone.utc).isoformat()}
            (tmp / MANIFEST).write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
            os.replace(tmp, final)
    except BaseException:
        if is_main_process:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if barrier is not None:
        barrier()
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
