"""Ctrl-C under evloop.run behaves as under asyncio.run: the main task is
cancelled, then KeyboardInterrupt propagates out of run()."""
import os
import signal
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PROGRAM = r"""
import asyncio, sys, evloop
async def main():
    print("ready", flush=True)
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        print("cancelled", flush=True)
        raise
runner = evloop.run if sys.argv[1] == "evloop" else asyncio.run
try:
    runner(main())
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
"""


def _wait_until_polling(pid, timeout=10.0):
    """Wait until process ``pid`` sleeps in its event loop's poll.

    Needed before 3.11: asyncio.run() (and evloop.run's 3.10 path, which
    copies it) install no SIGINT handler -- asyncio.Runner's, which cancels
    the main task, is new in 3.11 (bpo-39622) -- so the default
    handler raises KeyboardInterrupt wherever the main thread is.  A Ctrl-C
    landing while main() still runs its first step (just after printing
    "ready") ends main with KeyboardInterrupt instead of cancelling it.
    Waiting for the poll makes the run deterministic on every version."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{pid}/wchan") as f:
                wchan = f.read().strip()
        except OSError:
            return  # no /proc details here: send the signal anyway
        # wchan is "0" where the kernel hides it; then the state must do.
        if state == "S" and (wchan in ("", "0") or "poll" in wchan or "select" in wchan):
            return
        time.sleep(0.01)


@pytest.mark.parametrize("runner", ["asyncio", "evloop"])
def test_sigint_cancels_main_then_raises_keyboard_interrupt(runner):
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, runner], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT),
        # A child of a non-interactive shell may inherit SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.readline() == "ready\n"
        _wait_until_polling(proc.pid)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.split() == ["cancelled", "KeyboardInterrupt"]
    assert proc.returncode == 3
