"""evloop demo: libevent programs on evloop, driven from a client, then asyncio.

1. examples/tutorial/bufferevent_server.py, the libevent tutorial's chapter 5
   echo server (a socket bufferevent per client, lines framed with
   evbuffer_readln()), is started as a subprocess on a free port; a client
   reads its greeting, sends a few lines cut into pieces that do not match
   the lines, and prints each line echoed back whole.
2. examples/compat/rot13_server_events.py (a line-for-line port of the
   libevent book's event_new()/event_add() ROT13 server): a few lines are
   sent and each must come back rot13'd.
Each server is stopped with SIGINT, which it catches with an evsignal event
to shut down cleanly.  3. examples/asyncio/one_loop.py: a libevent timer, a
bufferevent echo server and an aiohttp app served by one evloop EventLoop,
the app fetched once with aiohttp's client.  Exits non-zero if anything is
wrong.

Run from the repository root: python examples/demo.py   (or: make demo)
"""
import codecs
import os
import signal
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL_SERVER = os.path.join(ROOT, "examples", "tutorial", "bufferevent_server.py")
SERVER = os.path.join(ROOT, "examples", "compat", "rot13_server_events.py")
ONE_LOOP = os.path.join(ROOT, "examples", "asyncio", "one_loop.py")
# The tutorial server's lines, sent in pieces that cut across them.
PIECES = [b"Hello, lib", b"event!\nLines come back ", b"whole,\nhowever they", b" are sent.\n"]
LINES = [b"Hello, libevent!\n", b"evloop speaks rot13\n", b"The quick brown fox 123\n"]
TIMEOUT = 30.0


def start(script, env):
    """Start a server on a free port; (process, {METHOD, PORT})."""
    proc = subprocess.Popen([sys.executable, script, "0"], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=ROOT)
    info = {}
    while len(info) < 2:  # its METHOD:<m> and PORT:<p> lines
        line = proc.stdout.readline()
        if not line:
            proc.wait(TIMEOUT)
            raise RuntimeError("server exited before printing its port")
        key, _, value = line.strip().partition(":")
        info[key] = value
    print("server backend method: %s" % info["METHOD"])
    print("server port: %s" % info["PORT"])
    return proc, info


def stop(proc):
    """SIGINT, then the rest of its output; True if it exited with 0."""
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=TIMEOUT)
    print("server said: " + "\n             ".join(out.strip().splitlines()))
    print("server exit code: %d" % proc.returncode)
    return proc.returncode == 0


def run_server(script, env, talk):
    proc, info = start(script, env)
    try:
        with socket.create_connection(("127.0.0.1", int(info["PORT"])), timeout=TIMEOUT) as sock:
            with sock.makefile("rb") as reader:
                ok = talk(sock, reader)
        return stop(proc) and ok
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def tutorial_client(sock, reader):
    print("greeting: %r" % reader.readline())
    for piece in PIECES:
        sock.sendall(piece)
        print("sent     %r" % piece)
    expected = b"".join(PIECES).splitlines(keepends=True)
    ok = True
    for line in expected:
        received = reader.readline()
        good = received == line
        ok = ok and good
        print("echoed   %-30r %s" % (received, "ok" if good else "WRONG"))
    return ok


def rot13_client(sock, reader):
    ok = True
    for line in LINES:
        sock.sendall(line)
        received = reader.readline()
        expected = codecs.encode(line.decode(), "rot13").encode()
        good = received == expected
        ok = ok and good
        print("sent %-30r received %-30r %s" % (line, received, "ok" if good else "WRONG"))
    return ok


def main():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    print("-- the libevent tutorial's chapter 5 server: bufferevents, lines echoed --")
    ok = run_server(TUTORIAL_SERVER, env, tutorial_client)
    print()
    print("-- the libevent book's ROT13 server: event_new() and event_add() --")
    ok = run_server(SERVER, env, rot13_client) and ok
    print()
    print("-- asyncio face: libevent timer + bufferevent echo + aiohttp on one loop --")
    rc = subprocess.run([sys.executable, ONE_LOOP], env=env, cwd=ROOT,
                        timeout=TIMEOUT).returncode
    ok = ok and rc == 0
    print("demo: %s" % ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
