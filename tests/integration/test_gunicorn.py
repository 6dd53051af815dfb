"""gunicorn with evloop's worker classes (``evloop.workers``), as real
subprocesses: ``gunicorn -k evloop.workers.EvloopUvicornWorker`` serving the
ASGI app of ``uvicorn_app.py`` and ``-k evloop.workers.EvloopAiohttpWorker``
serving an aiohttp app; each answers requests from its worker on an evloop
loop and stops gracefully on SIGTERM (exit status 0)."""
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest

import evloop

pytest.importorskip("gunicorn", reason="gunicorn is in requirements-dev.txt")

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
EVLOOP = f"{evloop.EventLoop.__module__}.{evloop.EventLoop.__qualname__}"
TIMEOUT = 30


def get_loop_class(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/loop")
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())["loop"]
    finally:
        conn.close()


def run_gunicorn(app, worker, requests=3):
    """gunicorn APP -k WORKER on a socket bound here (``--bind fd://N``):
    wait until it answers, make ``requests`` GET /loop requests, SIGTERM it.
    Returns (answers, returncode, stderr)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(HERE), env.get("PYTHONPATH")]))
    env.pop("PYTHONWARNINGS", None)
    cmd = [sys.executable, "-m", "gunicorn", app, "-k", worker, "-w", "1",
           "--bind", f"fd://{listener.fileno()}", "--graceful-timeout", "10",
           "--log-level", "info"]
    try:
        proc = subprocess.Popen(cmd, cwd=HERE, env=env, pass_fds=[listener.fileno()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    finally:
        listener.close()   # the arbiter has its copy
    answers = []
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:        # the backlog holds the connect until a worker accepts
            try:
                answers.append(get_loop_class(port))
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        for _ in range(requests - 1):
            answers.append(get_loop_class(port))
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return answers, proc.returncode, err


@pytest.mark.slow
@pytest.mark.parametrize("app, worker", [
    ("uvicorn_app:app", "evloop.workers.EvloopUvicornWorker"),
    ("aiohttp_gunicorn_app:app", "evloop.workers.EvloopAiohttpWorker"),
], ids=["uvicorn", "aiohttp"])
def test_gunicorn_worker_serves_on_evloop(app, worker):
    answers, rc, err = run_gunicorn(app, worker)
    assert answers == [(200, EVLOOP)] * 3, err
    assert rc == 0, err
    assert "Traceback" not in err, err
    assert "Booting worker with pid" in err, err


def test_worker_classes_are_the_frameworks_workers_on_evloop():
    from aiohttp.worker import GunicornWebWorker
    from uvicorn_worker import UvicornWorker

    from evloop import workers

    assert issubclass(workers.EvloopUvicornWorker, UvicornWorker)
    assert workers.EvloopUvicornWorker.CONFIG_KWARGS["loop"] == "evloop:new_event_loop"
    assert issubclass(workers.EvloopAiohttpWorker, GunicornWebWorker)
    assert workers.EvloopAiohttpWorker.__module__ == "evloop.workers"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = workers.Nope
