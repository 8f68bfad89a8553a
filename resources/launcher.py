"""Launches training and evaluation processes through Dagster Pipes.

The same asset runs ``python -m foresight.training.<stage>`` on a laptop CPU or
``accelerate launch --config_file <zero2.yaml> -m foresight.training.<stage>`` on GPUs:
only this resource's config changes. The process reports logs, metrics, the checkpoint
path and the MLflow run id back through Pipes.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import dagster as dg
from pydantic import Field

from foresight.config import TrainingJob
from foresight.paths import HOME_ENV, home


class TrainingLauncher(dg.ConfigurableResource):
    """How training processes are started.

    Attributes:
        launcher: "python" (one process) or "accelerate" (``accelerate launch``, e.g. DeepSpeed ZeRO-2).
        accelerate_config: accelerate config file for "accelerate" (see docs/gpu.md).
        num_processes: processes for "accelerate".
        env: extra environment variables for the process (e.g. CUDA_VISIBLE_DEVICES).
    """

    launcher: str = Field("python", description='"python" or "accelerate"')
    accelerate_config: str | None = None
    num_processes: int = 1
    env: dict[str, str] = {}

    def command(self, module: str, job_file: Path) -> list[str]:
        if self.launcher == "python":
            return [sys.executable, "-m", module, "--job", str(job_file)]
        if self.launcher == "accelerate":
            cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(self.num_processes)]
            if self.accelerate_config:
                cmd += ["--config_file", self.accelerate_config]
            return cmd + ["-m", module, "--job", str(job_file)]
        raise ValueError(f"unknown launcher {self.launcher!r}; use 'python' or 'accelerate'")

    def launch(self, context: dg.AssetExecutionContext, module: str, job: TrainingJob) -> tuple[dict, str | None]:
        """Run ``module`` on ``job`` as a Pipes subprocess.

        Returns:
            (metadata reported by the process as plain values, its data version).

        Raises:
            dagster.DagsterPipesExecutionError: the process failed (its stderr is in the event log).
        """
        jobs_dir = home() / "jobs"
        jobs_dir.mkdir(exist_ok=True)
        with tempfile.NamedTemporaryFile("w", suffix=".json", dir=jobs_dir, prefix=f"{job.stage}-", delete=False) as fh:
            fh.write(job.model_dump_json(indent=2))
        env = {**os.environ, HOME_ENV: str(home()), **self.env}
        invocation = dg.PipesSubprocessClient(env=env).run(
            command=self.command(module, Path(fh.name)), context=context,
        )
        result = invocation.get_materialize_result()
        metadata = {k: getattr(v, "value", v) for k, v in (result.metadata or {}).items()}
        version = result.data_version.value if result.data_version else None
        context.log.info(f"{job.stage} finished: {json.dumps(metadata, default=str)[:2000]}")
        return metadata, version
