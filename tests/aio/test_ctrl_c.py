"""Ctrl-C under evloop.run behaves as under asyncio.run: the main task is
cancelled, then KeyboardInterrupt propagates out of run()."""
import os
import signal
import subprocess
import sys

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


@pytest.mark.parametrize("runner", ["asyncio", "evloop"])
def test_sigint_cancels_main_then_raises_keyboard_interrupt(runner):
    proc = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, runner], stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=ROOT),
        # A child of a non-interactive shell may inherit SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        assert proc.stdout.readline() == "ready\n"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out.split() == ["cancelled", "KeyboardInterrupt"]
    assert proc.returncode == 3
