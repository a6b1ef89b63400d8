"""Run history in PostgreSQL: the documented dagster.yaml works against a real server.

The test starts a throwaway PostgreSQL cluster (Debian's ``postgresql`` binaries) in a
temporary folder on a free loopback port, materializes a real asset with an instance
configured as docs/operations.md describes, checks the run and its events are stored in
PostgreSQL, and stops the server. It is skipped, with the reason, only when no server can
be started (binaries missing, or no unprivileged user to run it as root).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


def _as_server_user(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the 'postgres' system user then."""
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "postgres", "--", *cmd]


@pytest.fixture(scope="module")
def postgres_server():
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (install Debian package 'postgresql')")
    if os.geteuid() == 0:
        try:
            server_user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and `runuser` is unavailable to drop privileges")
    base = Path(tempfile.mkdtemp(prefix="reentry-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        os.chown(base, server_user.pw_uid, server_user.pw_gid)
    port = _free_port()
    init = subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"initdb failed, cannot start PostgreSQL: {init.stderr[-500:]}")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={base}"
    start = subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "start",
            ]
        ),
        capture_output=True,
        text=True,
    )
    if start.returncode != 0:
        log = (base / "log").read_text() if (base / "log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip(f"PostgreSQL did not start: {start.stderr[-300:]} {log[-300:]}")
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("CREATE ROLE dagster LOGIN")
            cur.execute("CREATE DATABASE dagster OWNER dagster")
        conn.close()
        yield port
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def documented_postgres_config(port: int) -> str:
    """The project's dagster.yaml with its commented PostgreSQL block switched on."""
    template = (Path(__file__).resolve().parents[1] / "dagster.yaml").read_text()
    lines, in_block = [], False
    for line in template.splitlines():
        if line.startswith("# storage:"):
            in_block = True
        if in_block and line.startswith("#"):
            line = line[2:]
        lines.append(line)
    text = "\n".join(lines) + "\n"
    assert "storage:\n  postgres:" in text, "dagster.yaml no longer documents PostgreSQL"
    return text.replace("db.example.internal", "127.0.0.1").replace("port: 5432", f"port: {port}")


def test_runs_are_stored_in_postgresql_with_the_documented_configuration(
    postgres_server, tmp_path, monkeypatch
):
    import psycopg2
    from dagster import DagsterInstance, materialize

    from assets.ingest.assets import landing_inventory
    from pipelines.resources import ReleaseSettings, RestrictedIOManager

    port = postgres_server
    home = tmp_path / "dagster_home"
    home.mkdir()
    # The storage block documented (commented out) in the dagster.yaml template, enabled
    # and pointed at this server; trust authentication ignores the password.
    (home / "dagster.yaml").write_text(documented_postgres_config(port))
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "not-checked-by-trust-auth")
    landing = tmp_path / "landing"
    for table in ("header", "episodes"):
        path = landing / "2024" / "201" / f"{table}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("CHILD\n1\n")
    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = materialize(
            [landing_inventory],
            instance=instance,
            resources={
                "settings": ReleaseSettings(landing=str(landing), output=str(tmp_path / "out")),
                "io_manager": RestrictedIOManager(base_dir=str(tmp_path / "storage")),
            },
        )
        assert result.success
        run_id = result.run_id
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="dagster")
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT status FROM runs WHERE run_id = %s", (run_id,))
            assert cur.fetchall() == [("SUCCESS",)]
            cur.execute(
                "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = "
                "'ASSET_MATERIALIZATION' AND asset_key LIKE %s",
                (run_id, "%landing_inventory%"),
            )
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
