"""Run every libevent-style example as a real subprocess.

examples/compat/*.py are ports of libevent's tutorial programs and samples
written against evloop.compat; examples/demo.py drives the tutorial's chapter 5
server and the ROT13 server.
Each test bounds every wait with a timeout (no timing is asserted); the
``proc`` fixture of ``example_runner.py`` kills its subprocesses at teardown.
"""
import os
import signal
import socket

from example_runner import COMPAT, EXAMPLES, TIMEOUT, recv_lines, rot13, run


# -- event_base_hello.py ---------------------------------------------------------

def test_event_base_hello():
    res = run(os.path.join(COMPAT, "event_base_hello.py"))
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "Starting Libevent 2.1.12-stable.  Available methods are:" in out
    for method in ("epoll", "poll", "select"):
        assert "    %s\n" % method in out
    assert "Using Libevent with backend method epoll." in out
    assert "O(1) event notification is supported." in out
    assert "Hello from a timer on epoll: fd=-1 what=0x01" in out
    assert "event_base_dispatch returned 0" in out
    # The first config (O(1) and all fd types) has no backend on Linux; the
    # failure reaches the example's event_set_log_callback.
    assert "[warn] event_base_new_with_config" in out


def test_event_base_hello_honours_event_noepoll():
    res = run(os.path.join(COMPAT, "event_base_hello.py"), EVENT_NOEPOLL="1")
    assert res.returncode == 0, res.stderr
    assert "Using Libevent with backend method poll." in res.stdout
    assert "All FD types are supported." in res.stdout
    assert "Hello from a timer on poll" in res.stdout


# -- timer_sample.py --------------------------------------------------------------

def test_timer_sample():
    res = run(os.path.join(COMPAT, "timer_sample.py"), 4, 10)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "pending on: 0x01"
    ticks = [line for line in lines if line.startswith("timeout_cb called at ")]
    assert len(ticks) == 4
    assert ticks[-1].endswith("(tick 4)")
    # event_del() left nothing pending, so dispatch returned 1 ("no events").
    assert lines[-1] == "event_base_dispatch returned 1 after 4 ticks"


# -- signal_sample.py ------------------------------------------------------------

def test_signal_sample(proc):
    p = proc(os.path.join(COMPAT, "signal_sample.py"), 3)
    assert p.readline() == "READY"
    for i in range(1, 4):
        p.p.send_signal(signal.SIGINT)
        assert p.readline() == "signal_cb: got signal %d (%d of 3)" % (signal.SIGINT, i)
    rc, out, err = p.finish()
    assert rc == 0, err
    assert out.strip() == "event_base_dispatch returned 1 after 3 signals"


# -- rot13_server_events.py -------------------------------------------------------

def start_server(proc):
    p = proc(os.path.join(COMPAT, "rot13_server_events.py"), 0)
    method = p.readline()
    port = p.readline()
    assert method.startswith("METHOD:") and port.startswith("PORT:")
    assert method[len("METHOD:"):] in ("epoll", "poll", "select")
    return p, int(port[len("PORT:"):])


def test_echo_server_rot13(proc):
    p, port = start_server(proc)
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as c:
        c.sendall(b"Hello, World!\n")
        assert recv_lines(c, 1) == b"Uryyb, Jbeyq!\n"
        # Two lines in one send, then a line split across sends.
        c.sendall(b"abc\nXYZ 123\n")
        assert recv_lines(c, 2) == b"nop\nKLM 123\n"
        c.sendall(b"split ")
        c.sendall(b"line\n")
        assert recv_lines(c, 1) == b"fcyvg yvar\n"
        big = b"".join(b"line %d of many, with text\n" % i for i in range(300))
        c.sendall(big)
        assert recv_lines(c, 300) == rot13(big)
    p.p.send_signal(signal.SIGTERM)
    rc, out, err = p.finish()
    assert rc == 0, err
    assert "event_base_dispatch returned 0; bye" in out


def test_echo_server_several_clients(proc):
    p, port = start_server(proc)
    clients = [socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) for _ in range(5)]
    try:
        for i, c in enumerate(clients):
            c.sendall(b"client %d says hi\n" % i)
        for i, c in enumerate(clients):
            assert recv_lines(c, 1) == rot13(b"client %d says hi\n" % i)
        # A client that leaves does not disturb the others.
        clients.pop(0).close()
        clients[0].sendall(b"still here\n")
        assert recv_lines(clients[0], 1) == b"fgvyy urer\n"
    finally:
        for c in clients:
            c.close()
    p.p.send_signal(signal.SIGINT)
    rc, out, err = p.finish()
    assert rc == 0, err
    assert "bye" in out


# -- demo.py ---------------------------------------------------------------------

def test_demo():
    res = run(os.path.join(EXAMPLES, "demo.py"))
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    tutorial, rot13_part = out.split("-- the libevent book's ROT13 server")
    # The tutorial's chapter 5 server echoed the lines whole, in pieces sent.
    assert "greeting: b'Welcome to My socket\\n'" in tutorial
    assert "echoed   b'Lines come back whole,\\n'    ok" in tutorial
    assert tutorial.count(" ok\n") == 3
    assert "server said: Hello, libevent!\n" in tutorial
    # The book's ROT13 server.
    assert rot13_part.count(" ok\n") == 3
    assert "received b'Uryyb, yvorirag!\\n'" in rot13_part
    for part in (tutorial, rot13_part):
        assert "server backend method: epoll" in part
        assert "server exit code: 0" in part
    assert "WRONG" not in out
    assert out.rstrip().endswith("demo: OK")


def test_examples_are_short():
    scripts = [os.path.join(EXAMPLES, "demo.py")] + [
        os.path.join(COMPAT, name) for name in sorted(os.listdir(COMPAT)) if name.endswith(".py")]
    assert len(scripts) >= 5
    for path in scripts:
        with open(path) as f:
            assert len(f.read().splitlines()) <= 170, path
