import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import poptune as pt
from poptune.report.live import make_server

POPULATION, STEPS = 3, 6


def gated_train(gate):
    """Member 0 waits at its step 3 until ``gate`` opens: the run is half done, and running."""

    def train(member):
        x = member.checkpoint or 0.0
        for step in member.steps():
            x += member.hparams["lr"]
            member.report(x, checkpoint=x)
            if member.id == 0 and step == 3:
                assert gate.wait(30)

    return train


@pytest.fixture
def server(tmp_path):
    run_dir = tmp_path / "run"
    server = make_server(run_dir, port=0, refresh=0.05)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    server.run_dir = run_dir
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def get(url):
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read().decode()


def state(server, after=""):
    return json.loads(get(f"{server.url}/api/state?after={after}")[2])


def wait_for(condition, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_serve_follows_a_run_from_before_it_starts_to_its_end(server):
    code, kind, page = get(server.url + "/")
    assert code == 200 and kind.startswith("text/html") and "Waiting for the run" in page
    assert state(server) == {"version": "", "ready": False, "status": "waiting", "reports": 0, "error": ""}

    gate = threading.Event()
    run = threading.Thread(target=pt.run, args=(gated_train(gate), {"lr": pt.Float(0.01, 0.1)}), kwargs=dict(
        population=POPULATION, steps=STEPS, interval=2, runner="inline", dir=server.run_dir, seed=0, progress=False))
    run.start()
    try:
        first = wait_for(lambda: (s := state(server))["ready"] and s["reports"] and s)  # (commits come in groups)
        assert first["status"] == "running" and 0 < first["reports"] < POPULATION * STEPS
        assert "running" in first["sections"]["summary"] and set(first["figures"]) == {
            "scores", "schedule", "lineage", "drift"}
        page = get(server.url + "/")[2]
        assert f"data-version='{first['version']}'" in page and "id='plot-scores'" in page and "api/state" in page
        assert state(server, first["version"]).keys() == {"version", "ready", "status", "reports"}  # no news
    finally:
        gate.set()
        run.join(30)
    last = wait_for(lambda: (s := state(server, first["version"]))["status"] == "finished" and s)
    assert last["reports"] == POPULATION * STEPS and last["version"] != first["version"]
    assert "finished" in last["sections"]["summary"]
    members = re.findall(r"<tr><td>(\d+)</td><td class='text'>finished</td><td>6</td>", last["sections"]["tables"])
    assert sorted(members) == ["0", "1", "2"]
    scores = next(t for t in last["figures"]["scores"]["data"] if t["name"].startswith("member 0"))
    assert scores["x"] == list(range(1, STEPS + 1))  # the reports written after the first look
    before = {n: os.stat(server.run_dir / n).st_mtime_ns for n in os.listdir(server.run_dir) if n != "poptune.db-shm"}
    time.sleep(0.1)
    get(server.url + "/")
    state(server)
    after = {n: os.stat(server.run_dir / n).st_mtime_ns for n in os.listdir(server.run_dir) if n != "poptune.db-shm"}
    assert after == before  # the server wrote nothing into the run directory


def test_unknown_paths_are_404(server):
    with pytest.raises(urllib.error.HTTPError) as err:
        get(server.url + "/../../etc/passwd")
    assert err.value.code == 404


def test_serve_refuses_a_bad_port(tmp_path):
    with pytest.raises(ValueError, match="port=70000"):
        make_server(tmp_path, port=70000)


def test_cli_serve_stops_cleanly_on_ctrl_c(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "poptune.cli", "serve", str(tmp_path), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert "Waiting for the run" in get(url)[2]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "poptune serve: stopped" in out and "Traceback" not in err
