"""evloop demo: a libevent-style ROT13 server, driven from a client.

Starts examples/compat/echo_server_events.py (a line-for-line port of the
libevent book's event_new()/event_add() ROT13 server running on evloop's
EventBase) as a subprocess on a free port, reads the METHOD and PORT lines it
prints, sends a few lines over TCP, checks that each comes back rot13'd,
then stops the server with SIGINT (it catches the signal with an evsignal
event and shuts down cleanly).  Then it runs examples/asyncio/one_loop.py:
a libevent timer, a bufferevent echo server and an aiohttp app served by
one evloop EventLoop, the app fetched once with aiohttp's client.  Exits
non-zero if anything is wrong.

Run from the repository root: python examples/demo.py   (or: make demo)
"""
import codecs
import os
import signal
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(ROOT, "examples", "compat", "echo_server_events.py")
ONE_LOOP = os.path.join(ROOT, "examples", "asyncio", "one_loop.py")
LINES = [b"Hello, libevent!\n", b"evloop speaks rot13\n", b"The quick brown fox 123\n"]
TIMEOUT = 30.0


def read_header(proc):
    """The server's METHOD:<m> and PORT:<p> lines, as a dict."""
    info = {}
    while len(info) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server exited before printing its port")
        key, _, value = line.strip().partition(":")
        info[key] = value
    return info


def exchange(port):
    """Send each line, read its answer; returns [(sent, received)]."""
    pairs = []
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        reader = sock.makefile("rb")
        try:
            for line in LINES:
                sock.sendall(line)
                pairs.append((line, reader.readline()))
        finally:
            reader.close()
    return pairs


def main():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen([sys.executable, SERVER, "0"], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    ok = True
    try:
        info = read_header(proc)
        print("server backend method: %s" % info["METHOD"])
        print("server port: %s" % info["PORT"])
        for sent, received in exchange(int(info["PORT"])):
            expected = codecs.encode(sent.decode(), "rot13").encode()
            good = received == expected
            ok = ok and good
            print("sent %-30r received %-30r %s" % (sent, received, "ok" if good else "WRONG"))
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=TIMEOUT)
        print(out.strip())
        print("server exit code: %d" % proc.returncode)
        ok = ok and proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    print()
    print("-- asyncio face: libevent timer + bufferevent echo + aiohttp on one loop --")
    rc = subprocess.run([sys.executable, ONE_LOOP], env=env, cwd=ROOT,
                        timeout=TIMEOUT).returncode
    ok = ok and rc == 0
    print("demo: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
