"""The README's UI command serves the definitions on the project's instance."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

QUERY = """{ assetNodes { assetKey { path } }
  schedulesOrError(repositorySelector: {repositoryName: "__repository__", repositoryLocationName: "pipelines.definitions"}) {
    ... on Schedules { results { name scheduleState { status } } } }
  sensorsOrError(repositorySelector: {repositoryName: "__repository__", repositoryLocationName: "pipelines.definitions"}) {
    ... on Sensors { results { name sensorState { status } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def test_ui_serves_every_asset_with_schedule_and_sensor_running(tmp_path):
    port = _free_port()
    env = {**os.environ, "FORESIGHT_HOME": str(tmp_path)}
    # dagster dev does not stop promptly on SIGTERM: own process group, killed hard below.
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5)
                break
            except OSError:
                assert proc.poll() is None, "the UI process exited"
                assert time.time() < deadline, "the UI did not answer within 180 s"
                time.sleep(2)
        data = _post(port, QUERY)
        assets = {"/".join(n["assetKey"]["path"]) for n in data["assetNodes"]}
        assert assets == {"search_world", "arithmetic_world", "trajectories", "augmented_trajectories",
                          "wm_amt_checkpoint", "fe_sft_checkpoint", "fc_rl_checkpoint", "fe_sft_scores",
                          "benchmark_scores", "grid_midtrain_checkpoint", "grid_sft_checkpoint", "grid_rl_checkpoint",
                          "grid_scores", "recipe_report"}
        assert {s["name"]: s["scheduleState"]["status"] for s in data["schedulesOrError"]["results"]} == {"nightly_evaluation": "RUNNING"}
        assert {s["name"]: s["sensorState"]["status"] for s in data["sensorsOrError"]["results"]} == {"evaluation_automation": "RUNNING"}
        assert (tmp_path / "dagster" / "dagster.yaml").exists()  # the project's instance config
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
