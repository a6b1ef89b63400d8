"""`reentry ui` starts the Dagster UI on loopback and it lists the whole graph.

Starts the real command in its own process group with a temporary DAGSTER_HOME, asks the
GraphQL endpoint for assets, checks, schedules and sensors, then kills the whole group and
checks that nothing it started is still running.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from pipelines import constants as c

ROOT = Path(__file__).resolve().parents[1]

QUERY = """
{
  assetNodes { assetKey { path } groupName
    assetChecksOrError { ... on AssetChecks { checks { name blocking } } } }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name cronSchedule executionTimezone }
    sensors { name }
    jobs { name } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _non_loopback_address() -> str | None:
    """This host's address on its default route, if it has one (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _processes_with_env(marker: str) -> list[int]:
    """Processes whose environment holds our unique DAGSTER_HOME (survivors of the kill)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                status = (entry / "status").read_text()
                if "State:\tZ" not in status:
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_reentry_ui_lists_assets_checks_schedule_and_sensor(tmp_path):
    port = _free_port()
    home = tmp_path / "dagster_home"
    env = {**os.environ, "DAGSTER_HOME": str(home), "REENTRY_UI_TEST_MARKER": str(home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so we can stop all it starts
    )
    pgid = os.getpgid(proc.pid)
    try:
        data = None
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                data = _graphql(port, QUERY)["data"]
                if data["assetNodes"]:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError):
                pass
            assert proc.poll() is None, "reentry ui exited early"
            time.sleep(1)
        assert data and data["assetNodes"], "the UI did not come up within 150 s"
        assets = {"/".join(n["assetKey"]["path"]): n for n in data["assetNodes"]}
        assert set(assets) >= {
            c.LANDING_INVENTORY,
            c.VALIDATED_RETURNS,
            c.EPISODE_HISTORY,
            c.REENTRY_MEASURES,
            c.DISCLOSURE_CONTROLLED_TABLES,
            c.CANDIDATE_RELEASE,
            c.PUBLISHED_RELEASE,
        }
        assert assets[c.DISCLOSURE_CONTROLLED_TABLES]["groupName"] == c.DISCLOSURE
        checks = {
            check["name"]: check["blocking"]
            for node in assets.values()
            for check in (node["assetChecksOrError"].get("checks") or [])
        }
        assert checks[c.VALIDATION_CHECK] is True
        assert checks[c.DISCLOSURE_AUDIT_CHECK] is True
        (repo,) = data["repositoriesOrError"]["nodes"]
        assert [(s["name"], s["executionTimezone"]) for s in repo["schedules"]] == [
            (c.ANNUAL_SCHEDULE, "Europe/London")
        ]
        assert [s["name"] for s in repo["sensors"]] == [c.LANDING_SENSOR]
        assert {c.BUILD_JOB, c.PUBLISH_JOB} <= {j["name"] for j in repo["jobs"]}
        # Bound to loopback only: the UI shows run metadata and must not be on the network.
        external = _non_loopback_address()
        if external is not None:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((external, port)) != 0, f"UI reachable on {external}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        proc.wait(timeout=30)
    deadline = time.monotonic() + 20
    while _processes_with_env(str(home)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with_env(str(home)) == [], "processes started by `reentry ui` survived"
