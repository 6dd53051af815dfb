"""The source code type-checks and lints clean, as uvloop's
tests/test_sourcecode.py checks its own.

* mypy: ``[tool.mypy]`` in pyproject.toml, strict, over the package and
  tests/typing/usage.py, a user program of both faces and evloop.compat;
  mypy checking EventLoop's class also checks that its compiled engine's
  methods (evloop/_evloop.pyi) are compatible with asyncio's.
* ruff: ``[tool.ruff]`` over every Python tree of the repository.
* tests/typing/usage.py also runs, so the typed program is a working one.

The linters run as subprocesses of this interpreter, with the versions
requirements-dev.lock pins; mypy checks the code for this Python version
(``make test-all`` runs it for each).  Caches: mypy's in .mypy_cache (reruns
take a second or two), none for ruff.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typing" / "usage.py"
TIMEOUT = 600


def run_tool(*args):
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=TIMEOUT)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.slow
def test_mypy_strict():
    pytest.importorskip("mypy", reason="mypy is in requirements-dev.txt")
    rc, output = run_tool("mypy", "--config-file", "pyproject.toml")
    assert rc == 0, "mypy found errors:\n" + output


def test_ruff():
    pytest.importorskip("ruff", reason="ruff is in requirements-dev.txt")
    rc, output = run_tool("ruff", "check", "--no-cache", "evloop", "tests", "bench",
                          "examples", "tools", "docs")
    assert rc == 0, "ruff found errors:\n" + output


def test_usage_program_runs():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for name in ("EVENT_NOEPOLL", "EVENT_NOPOLL", "EVENT_NOSELECT", "EVENT_SHOW_METHOD"):
        env.pop(name, None)
    proc = subprocess.run([sys.executable, "-W", "error", str(USAGE)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    expected = [
        "asyncio: PROTOCOLS",
        "asyncio: streams",
        "asyncio: sock_calls",
        "asyncio: soon1 later2 at3 task42 executor32",
        "asyncio: reader SIGUSR1",
        "asyncio: timer EV_TIMEOUT, BUFFEREVENT",
        "asyncio: EventLoop is an AbstractEventLoop: True",
        "asyncio: run_until_complete PROTOCOLS",
        *(["asyncio: Runner streams EventLoop"] if sys.version_info >= (3, 11) else []),
        "asyncio: EventLoopPolicy makes EventLoop",
        "asyncio: install(); asyncio.run streams",
        "libevent: select avoided=True ticks=3 lines=[b'first line', b'second line 2', None]"
        " pair=pair echo=listener",
        "compat: rc=0 pending=True echo=compat left=[0] method=True",
    ]
    assert (proc.returncode, proc.stdout.splitlines(), proc.stderr) == (0, expected, ""), (
        proc.stdout + proc.stderr)
