"""The asyncio API items of the coverage audit that no other test of
``tests/aio`` exercised, on both loops:

* create_connection: several candidate addresses (one of them refusing,
  or never answering) with ``happy_eyeballs_delay``/``interleave``, with
  ``local_addr``, every candidate refused (``OSError`` "Multiple
  exceptions"; 3.12's
  ``all_errors=True`` ExceptionGroup), argument validation (``sock`` with
  host/port, ``ssl_handshake_timeout``, ``server_hostname``);
* create_server on a list of hosts;
* TLS on the loop: create_server(ssl=) + create_connection(ssl=), the SSL
  transport's extra info, ``loop.start_tls`` on both ends of a plain
  connection, streams with ssl, a handshake the client refuses, sendfile
  over TLS (the stdlib's fallback);
* transports: ``get_extra_info('bufferevent')`` (evloop only), the default
  write buffer limits and ``set_write_buffer_limits(low=...)``, is_reading
  after close;
* ``loop.sendfile(transport, ...)`` with offset/count, ``fallback=False``
  with a file object that is not a regular file (transport and
  ``sock_sendfile``), sendfile argument validation;
* run_in_executor with an Executor that is not a ThreadPoolExecutor and
  set_default_executor refusing one;
* call_soon_threadsafe waking a loop whose only timer is an hour away.

Two evloop differences are recorded as xfails: ``loop.start_tls`` refuses
evloop's StreamTransport, and ``loop.sendfile``'s fallback (a file object
that is not a regular file) refuses it too; see the reasons there.

The candidate addresses of a "host with several addresses" come from a
resolver stub installed on the loop instance (``localhost`` has only
127.0.0.1 on the test machines); every connection attempt is a real one.
"""
import asyncio
import concurrent.futures
import io
import select
import socket
import ssl
import sys
import threading
import warnings

import pytest

import evloop
from aio_harness import run
from aio_protocols import Echo, Recorder, tcp_echo_server

MULTI_HOST = "multi-address.invalid"


async def _close_server(server):
    server.close()
    await server.wait_closed()


async def _server_side(sprotos):
    while not sprotos:
        await asyncio.sleep(0)
    sp = sprotos[0]
    await sp.made
    return sp


async def _echo_and_close(tr, pr, sprotos, server, payload):
    """Send payload over the client transport, wait for its echo, then close
    the client, the server side and the server; returns (peername, echo)."""
    try:
        peer = tr.get_extra_info("peername")
        tr.write(payload)
        got = await pr.wait_for_bytes(len(payload))
    finally:
        tr.close()
        await pr.lost
        await (await _server_side(sprotos)).lost
        await _close_server(server)
    return peer, got


async def _until(predicate, what, timeout=5.0):
    """Poll ``predicate`` (no timing assertion: only a safety limit)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


async def _wait_server_connections_gone(server):
    # Python 3.11's Server.wait_closed() returns at once after close()
    # without waiting for the server's connections; wait for them here, so
    # that no server-side transport outlives the test (the fd check).
    # The count is _active_count up to 3.12 and the _clients set from 3.13.
    def connections():
        if hasattr(server, "_active_count"):
            return server._active_count
        return len(server._clients)

    await _until(lambda: connections() == 0, "the server's connections to close")


def _refusing(family=socket.AF_INET, host="127.0.0.1"):
    """A socket bound but not listening: connecting to it is refused, and
    nobody else can take the port while it is open."""
    s = socket.socket(family, socket.SOCK_STREAM)
    s.bind((host, 0))
    return s


def _have_ipv6_loopback():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(("::1", 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


HAVE_IPV6 = _have_ipv6_loopback()


def _addrinfo(sockaddr):
    family = socket.AF_INET6 if ":" in sockaddr[0] else socket.AF_INET
    return (family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr)


def _install_resolver(loop, sockaddrs):
    """``loop.getaddrinfo(MULTI_HOST, ...)`` answers ``sockaddrs`` (in that
    order); other names go to the real resolver.  Returns the list of the
    lookups made."""
    real = loop.getaddrinfo
    lookups = []

    async def getaddrinfo(host, port, *, family=0, type=0, proto=0, flags=0):
        if host == MULTI_HOST:
            lookups.append((host, port, family))
            return [_addrinfo(a) for a in sockaddrs
                    if family in (0, socket.AF_UNSPEC) or _addrinfo(a)[0] == family]
        return await real(host, port, family=family, type=type, proto=proto, flags=flags)

    loop.getaddrinfo = getaddrinfo
    return lookups


# -- create_connection: several candidates, Happy Eyeballs -----------------------


@pytest.mark.parametrize("delay,interleave", [
    (0.05, None),      # happy_eyeballs_delay alone implies interleave=1
    (None, 1),         # interleave alone: sequential attempts, reordered
    (0.05, 2),
], ids=["delay", "interleave", "delay+interleave2"])
def test_create_connection_skips_refusing_candidates(loop, delay, interleave):
    refusing = [_refusing()]
    if HAVE_IPV6:
        refusing.insert(0, _refusing(socket.AF_INET6, "::1"))
    try:
        async def main():
            server, addr, sprotos = await tcp_echo_server(loop)
            candidates = [s.getsockname()[:2] for s in refusing] + [addr]
            lookups = _install_resolver(loop, candidates)
            tr, pr = await loop.create_connection(
                lambda: Recorder(loop), MULTI_HOST, 4242,
                happy_eyeballs_delay=delay, interleave=interleave)
            peer, got = await _echo_and_close(tr, pr, sprotos, server, b"eyeballs")
            return lookups, peer, addr, got

        lookups, peer, addr, got = run(loop, main())
    finally:
        for s in refusing:
            s.close()
    assert lookups == [(MULTI_HOST, 4242, 0)]
    assert peer[:2] == addr
    assert got == b"eyeballs"


def _unanswered_listener():
    """A listener whose accept queue is full (backlog 0 and one connection
    nobody accepts): Linux drops further SYNs, so a connect to it stays
    pending.  Returns (listener, filler) or None where connects complete
    anyway."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    filler = socket.socket()
    filler.setblocking(False)
    filler.connect_ex(lsock.getsockname())
    probe = socket.socket()
    probe.setblocking(False)
    try:
        _, w, _ = select.select([], [filler], [], 5)
        if not w:
            lsock.close()
            filler.close()
            return None
        probe.connect_ex(lsock.getsockname())
        _, w, _ = select.select([], [probe], [], 0.3)
    finally:
        probe.close()
    if w:
        lsock.close()
        filler.close()
        return None
    return lsock, filler


def test_create_connection_happy_eyeballs_cancels_an_unanswered_attempt(loop):
    # The first candidate never answers; after happy_eyeballs_delay the
    # second one is tried, wins, and the pending first attempt is cancelled
    # (its socket closed: the fd check).
    pending = _unanswered_listener()
    if pending is None:
        pytest.skip("connects to a full accept queue complete on this kernel")
    lsock, filler = pending
    try:
        async def main():
            server, addr, sprotos = await tcp_echo_server(loop)
            _install_resolver(loop, [lsock.getsockname(), addr])
            tr, pr = await loop.create_connection(lambda: Recorder(loop), MULTI_HOST, 4242,
                                                  happy_eyeballs_delay=0.05)
            peer, got = await _echo_and_close(tr, pr, sprotos, server, b"second")
            return peer, addr, got

        peer, addr, got = run(loop, main(), timeout=30)
    finally:
        filler.close()
        lsock.close()
    assert peer == addr
    assert got == b"second"


def test_create_connection_candidates_with_local_addr(loop):
    refusing = _refusing()
    try:
        async def main():
            server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
            _install_resolver(loop, [refusing.getsockname(), addr])
            tr, pr = await loop.create_connection(
                lambda: Recorder(loop), MULTI_HOST, 4242,
                happy_eyeballs_delay=0.05, local_addr=("127.0.0.1", 0))
            try:
                sp = await _server_side(sprotos)
                client_name = tr.get_extra_info("sockname")
                seen_by_server = sp.transport.get_extra_info("peername")
                peer = tr.get_extra_info("peername")
            finally:
                tr.close()
                await pr.lost
                await sp.lost
                await _close_server(server)
            return client_name, seen_by_server, peer, addr

        client_name, seen_by_server, peer, addr = run(loop, main())
    finally:
        refusing.close()
    assert client_name[0] == "127.0.0.1" and client_name[1] > 0
    assert seen_by_server == client_name
    assert peer == addr


def test_create_connection_local_addr_of_another_family_skips_candidate(loop):
    # An IPv6 candidate cannot use an IPv4 local_addr: that attempt fails
    # ("no matching local address") and the next candidate is tried.
    if not HAVE_IPV6:
        pytest.skip("no IPv6 loopback on this machine")
    v6 = _refusing(socket.AF_INET6, "::1")
    try:
        async def main():
            server, addr, sprotos = await tcp_echo_server(loop)
            _install_resolver(loop, [v6.getsockname()[:2], addr])
            tr, pr = await loop.create_connection(
                lambda: Recorder(loop), MULTI_HOST, 4242, local_addr=("127.0.0.1", 0))
            peer = tr.get_extra_info("peername")
            tr.close()
            await pr.lost
            await (await _server_side(sprotos)).lost
            await _close_server(server)
            return peer, addr

        peer, addr = run(loop, main())
    finally:
        v6.close()
    assert peer == addr


@pytest.mark.parametrize("delay", [None, 0.05], ids=["sequential", "happy-eyeballs"])
def test_create_connection_every_candidate_refused(loop, delay):
    refusing = [_refusing(), _refusing()]
    ports = [s.getsockname()[1] for s in refusing]
    try:
        _install_resolver(loop, [s.getsockname() for s in refusing])
        with pytest.raises(OSError) as info:
            run(loop, loop.create_connection(lambda: Recorder(loop), MULTI_HOST, 4242,
                                             happy_eyeballs_delay=delay))
    finally:
        for s in refusing:
            s.close()
    # Two different errors (they name different ports): one OSError
    # listing both.
    msg = str(info.value)
    assert msg.startswith("Multiple exceptions: ")
    for port in ports:
        assert f"('127.0.0.1', {port})" in msg


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="create_connection(all_errors=True) is new in Python 3.12")
@pytest.mark.parametrize("delay", [None, 0.05], ids=["sequential", "happy-eyeballs"])
def test_create_connection_all_errors_raises_exception_group(loop, delay):
    refusing = [_refusing(), _refusing()]
    try:
        _install_resolver(loop, [s.getsockname() for s in refusing])
        with pytest.raises(ExceptionGroup) as info:  # noqa: F821 - 3.11+
            run(loop, loop.create_connection(lambda: Recorder(loop), MULTI_HOST, 4242,
                                             happy_eyeballs_delay=delay, all_errors=True))
    finally:
        for s in refusing:
            s.close()
    errors = info.value.exceptions
    assert len(errors) == 2
    assert all(isinstance(e, ConnectionRefusedError) for e in errors)


@pytest.mark.skipif(sys.version_info < (3, 12),
                    reason="create_connection(all_errors=True) is new in Python 3.12")
def test_create_connection_all_errors_single_failure_is_still_a_group(loop):
    refusing = _refusing()
    try:
        with pytest.raises(ExceptionGroup) as info:  # noqa: F821 - 3.11+
            run(loop, loop.create_connection(lambda: Recorder(loop), *refusing.getsockname(),
                                             all_errors=True))
    finally:
        refusing.close()
    assert [type(e) for e in info.value.exceptions] == [ConnectionRefusedError]


def test_create_connection_argument_validation(loop, tls_contexts):
    _, client_ctx = tls_contexts

    async def main():
        with pytest.raises(ValueError, match="host and port was not specified and no sock"):
            await loop.create_connection(asyncio.Protocol)
        with pytest.raises(ValueError, match="server_hostname is only meaningful with ssl"):
            await loop.create_connection(asyncio.Protocol, "127.0.0.1", 9,
                                         server_hostname="localhost")
        with pytest.raises(ValueError, match="ssl_handshake_timeout is only meaningful with ssl"):
            await loop.create_connection(asyncio.Protocol, "127.0.0.1", 9,
                                         ssl_handshake_timeout=5)
        sock = socket.socket()
        try:
            with pytest.raises(ValueError, match="host/port and sock can not be specified"):
                await loop.create_connection(asyncio.Protocol, "127.0.0.1", 9, sock=sock)
            with pytest.raises(ValueError, match="You must set server_hostname"):
                await loop.create_connection(asyncio.Protocol, sock=sock, ssl=client_ctx)
            with pytest.raises(ValueError, match="ssl_handshake_timeout should be a positive"):
                await loop.create_connection(asyncio.Protocol, sock=sock, ssl=client_ctx,
                                             server_hostname="localhost",
                                             ssl_handshake_timeout=0)
            assert sock.fileno() >= 0   # refused arguments leave the socket alone
        finally:
            sock.close()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            with pytest.raises(ValueError, match="A Stream Socket was expected"):
                await loop.create_connection(asyncio.Protocol, sock=udp)
        finally:
            udp.close()
        with pytest.raises(ValueError, match="ssl_handshake_timeout is only meaningful with ssl"):
            await loop.create_server(asyncio.Protocol, "127.0.0.1", 0, ssl_handshake_timeout=5)

    run(loop, main())


# -- create_server on several hosts ----------------------------------------------


def test_create_server_on_a_list_of_hosts(loop):
    async def main():
        server = await loop.create_server(lambda: Echo(loop), ["127.0.0.1", "127.0.0.2"], 0)
        try:
            names = sorted(s.getsockname() for s in server.sockets)
            assert [n[0] for n in names] == ["127.0.0.1", "127.0.0.2"]
            got = []
            for name in names:
                tr, pr = await loop.create_connection(lambda: Recorder(loop), *name)
                tr.write(name[0].encode())
                got.append(await pr.wait_for_bytes(len(name[0])))
                assert tr.get_extra_info("peername") == name
                tr.close()
                await pr.lost
            await _wait_server_connections_gone(server)
        finally:
            await _close_server(server)
        return got

    assert run(loop, main()) == [b"127.0.0.1", b"127.0.0.2"]


# -- TLS ---------------------------------------------------------------------------


def test_tls_echo_and_extra_info(loop, tls_contexts):
    server_ctx, client_ctx = tls_contexts

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, ssl=server_ctx)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr,
                                              ssl=client_ctx, server_hostname="localhost",
                                              ssl_handshake_timeout=30)
        try:
            info = {key: tr.get_extra_info(key) for key in
                    ("peercert", "cipher", "ssl_object", "sslcontext", "compression",
                     "socket", "peername", "sockname")}
            sp = await _server_side(sprotos)
            server_info = {key: sp.transport.get_extra_info(key)
                           for key in ("peercert", "ssl_object", "sslcontext", "peername")}
            payload = b"over tls " * 10000
            tr.write(payload)
            got = await pr.wait_for_bytes(len(payload))
        finally:
            tr.close()
            await pr.lost
            await (await _server_side(sprotos)).lost
            await _close_server(server)
        return info, server_info, got, payload, addr

    info, server_info, got, payload, addr = run(loop, main(), timeout=30)
    assert got == payload
    assert isinstance(info["ssl_object"], ssl.SSLObject)
    assert info["ssl_object"].server_hostname == "localhost"
    assert info["sslcontext"] is client_ctx
    assert ("DNS", "localhost") in info["peercert"]["subjectAltName"]
    name, version, bits = info["cipher"]
    assert isinstance(name, str) and version.startswith("TLS") and bits > 0
    assert info["socket"].family == socket.AF_INET
    assert info["peername"] == addr
    assert info["sockname"] == server_info["peername"]
    assert server_info["peercert"] is None    # the client sent no certificate
    assert server_info["sslcontext"] is server_ctx
    assert server_info["ssl_object"].server_side


def test_tls_start_tls_upgrades_a_plain_connection(loop, loop_name, request, tls_contexts):
    server_ctx, client_ctx = tls_contexts

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        tls_client = tls_server = None
        upgraded = False
        try:
            tr.write(b"STARTTLS")
            await sp.wait_for_bytes(8)
            sp.transport.write(b"OK")
            await pr.wait_for_bytes(2)
            # New protocols for the TLS phase; the plain ones saw only the
            # plain bytes.
            pr2, sp2 = Recorder(loop), Recorder(loop)
            results = await asyncio.gather(
                loop.start_tls(sp.transport, sp2, server_ctx, server_side=True,
                               ssl_handshake_timeout=30),
                loop.start_tls(tr, pr2, client_ctx, server_hostname="localhost",
                               ssl_handshake_timeout=30),
                return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    raise r
            tls_server, tls_client = results
            upgraded = True
            # start_tls does not call connection_made of the new protocol.
            pr2.transport, sp2.transport = tls_client, tls_server
            pr2.events.append("made")
            sp2.events.append("made")
            peercert = tls_client.get_extra_info("peercert")
            tls_client.write(b"secret")
            await sp2.wait_for_bytes(6)
            tls_server.write(b"reply")
            got = await pr2.wait_for_bytes(5)
            tls_client.close()
            await pr2.lost
            await sp2.lost
        finally:
            for t in (tls_client, tls_server, tr, sp.transport):
                if t is not None:
                    t.close()
            if not upgraded:
                # Still the plain transports' protocols (after an upgrade
                # the SSL protocols are, and pr2/sp2 saw the loss).
                await pr.lost
                await sp.lost
            await _close_server(server)
        return bytes(pr.data), bytes(sp.data), bytes(sp2.data), got, peercert

    plain_c, plain_s, secret, got, peercert = run(loop, main(), timeout=30)
    assert (plain_c, plain_s) == (b"OK", b"STARTTLS")
    assert secret == b"secret"
    assert got == b"reply"
    assert ("DNS", "localhost") in peercert["subjectAltName"]


def test_tls_streams(loop, tls_contexts):
    server_ctx, client_ctx = tls_contexts
    handled = []

    async def handle(reader, writer):
        server_side = writer.get_extra_info("ssl_object").server_side
        try:
            while line := await reader.readline():
                writer.write(line.upper())
                await writer.drain()
        finally:
            writer.close()
            handled.append(server_side)

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx,
                                            limit=1 << 20)
        host, port = server.sockets[0].getsockname()[:2]
        try:
            reader, writer = await asyncio.open_connection(
                host, port, ssl=client_ctx, server_hostname="localhost", limit=1 << 20)
            ssl_object = writer.get_extra_info("ssl_object")
            lines = []
            for word in (b"alpha\n", b"beta\n", b"x" * 100000 + b"\n"):
                writer.write(word)
                await writer.drain()
                lines.append(await reader.readline())
            writer.close()
            await writer.wait_closed()
            await _until(lambda: handled, "the server handler to finish")
            await _wait_server_connections_gone(server)
        finally:
            await _close_server(server)
        return lines, ssl_object

    lines, ssl_object = run(loop, main(), timeout=30)
    assert lines == [b"ALPHA\n", b"BETA\n", b"X" * 100000 + b"\n"]
    assert isinstance(ssl_object, ssl.SSLObject) and not ssl_object.server_side
    assert handled == [True]


def test_tls_handshake_with_untrusted_certificate_fails(loop, exc_calls, tls_contexts):
    server_ctx, _ = tls_contexts
    untrusting = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)   # no trustme CA

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, ssl=server_ctx)
        try:
            with pytest.raises(ssl.SSLError) as info:
                await loop.create_connection(lambda: Recorder(loop), *addr, ssl=untrusting,
                                             server_hostname="localhost",
                                             ssl_handshake_timeout=30)
            await _wait_server_connections_gone(server)
        finally:
            await _close_server(server)
        return info.value, sprotos

    exc, sprotos = run(loop, main(), timeout=30)
    assert isinstance(exc, ssl.SSLCertVerificationError)
    assert "certificate verify failed" in str(exc)
    assert sprotos == [] or not any(p.events for p in sprotos)   # no app connection
    if loop.get_debug():
        # (PYTHONASYNCIODEBUG=1) asyncio's _accept_connection2 reports the
        # server side's failed handshake in debug mode only.
        calls = exc_calls.consume()
        assert [c["message"] for c in calls] == \
            ["Error on transport creation for incoming connection"], calls


def test_tls_sendfile_uses_the_fallback(loop, tmp_path, tls_contexts):
    server_ctx, client_ctx = tls_contexts
    data = bytes(range(256)) * 1024
    path = tmp_path / "tls.bin"
    path.write_bytes(data)

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop),
                                                      ssl=server_ctx)
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr,
                                              ssl=client_ctx, server_hostname="localhost")
        try:
            sp = await _server_side(sprotos)
            with open(path, "rb") as f:
                with pytest.raises(RuntimeError, match="fallback is disabled"):
                    await loop.sendfile(tr, f, fallback=False)
                sent = await loop.sendfile(tr, f, offset=100, count=200000)
                pos = f.tell()
            got = await sp.wait_for_bytes(200000)
        finally:
            tr.close()
            await pr.lost
            await (await _server_side(sprotos)).lost
            await _close_server(server)
        return sent, pos, got

    sent, pos, got = run(loop, main(), timeout=30)
    assert sent == 200000
    assert pos == 200100
    assert got == data[100:200100]


# -- transports ------------------------------------------------------------------


def test_get_extra_info_bufferevent(loop, loop_name):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        await pr.made
        await asyncio.sleep(0)   # reading starts after connection_made
        try:
            out = {}
            for side, t in (("client", tr), ("server", sp.transport)):
                bev = t.get_extra_info("bufferevent")
                fd = t.get_extra_info("socket").fileno()
                if bev is None:
                    out[side] = None
                    continue
                enabled_reading = bev.get_enabled() & evloop.EV_READ
                t.pause_reading()
                enabled_paused = bev.get_enabled() & evloop.EV_READ
                t.resume_reading()
                out[side] = (isinstance(bev, evloop.Bufferevent), bev.getfd() == fd,
                             bev.get_base() is loop.event_base,
                             bool(enabled_reading), bool(enabled_paused))
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return out

    out = run(loop, main())
    if loop_name == "evloop":
        # The transport is its socket Bufferevent on the loop's EventBase;
        # pause_reading() disables its EV_READ.
        assert out == {"client": (True, True, True, True, False),
                       "server": (True, True, True, True, False)}
    else:
        assert out == {"client": None, "server": None}


def test_write_buffer_limits_defaults_and_low_only(loop):
    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        seen = {}
        try:
            seen["client default"] = tr.get_write_buffer_limits()
            seen["server default"] = sp.transport.get_write_buffer_limits()
            tr.set_write_buffer_limits(low=1000)
            seen["low=1000"] = tr.get_write_buffer_limits()
            tr.set_write_buffer_limits(low=0)
            seen["low=0"] = tr.get_write_buffer_limits()
            tr.set_write_buffer_limits(high=8000)
            seen["high=8000"] = tr.get_write_buffer_limits()
            tr.set_write_buffer_limits()
            seen["reset"] = tr.get_write_buffer_limits()
            with pytest.raises(ValueError):
                tr.set_write_buffer_limits(low=-1)
            seen["after error"] = tr.get_write_buffer_limits()
            # low-only limits govern pause_writing: above 4*low it pauses.
            sp.transport.pause_reading()
            tr.set_write_buffer_limits(low=4096)
            chunk = b"z" * 65536
            for _ in range(4096):
                tr.write(chunk)
                if "pause_writing" in pr.events:
                    break
                await asyncio.sleep(0)
            seen["paused above"] = tr.get_write_buffer_size() > 4 * 4096
            sp.transport.resume_reading()
            await _until(lambda: "resume_writing" in pr.events, "resume_writing")
            seen["reading before close"] = tr.is_reading()
            tr.close()
            seen["reading after close"] = tr.is_reading()
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return seen, pr.events

    seen, events = run(loop, main(), timeout=30)
    assert seen == {
        "client default": (16 * 1024, 64 * 1024),
        "server default": (16 * 1024, 64 * 1024),
        "low=1000": (1000, 4000),
        "low=0": (0, 0),
        "high=8000": (2000, 8000),
        "reset": (16 * 1024, 64 * 1024),
        "after error": (16 * 1024, 64 * 1024),
        "paused above": True,
        "reading before close": True,
        "reading after close": False,
    }
    assert events[:3] == ["made", "pause_writing", "resume_writing"]


# -- sendfile --------------------------------------------------------------------


def test_transport_sendfile_offset_and_count(loop, tmp_path):
    data = bytes(range(256)) * 4096    # 1 MiB
    path = tmp_path / "payload.bin"
    path.write_bytes(data)

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        try:
            tr.write(b"head:")
            with open(path, "rb") as f:
                sent = await loop.sendfile(tr, f, offset=7, count=600000)
                pos = f.tell()
                rest = await loop.sendfile(tr, f, offset=len(data) - 10)
            tr.write(b":tail")
            want = 5 + 600000 + 10 + 5
            got = await sp.wait_for_bytes(want)
            # The transport reads again after sendfile.
            sp.transport.write(b"ack")
            ack = await pr.wait_for_bytes(3)
            reading = tr.is_reading()
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return sent, pos, rest, got, ack, reading

    sent, pos, rest, got, ack, reading = run(loop, main(), timeout=30)
    assert sent == 600000
    assert pos == 600007
    assert rest == 10
    assert got == b"head:" + data[7:600007] + data[-10:] + b":tail"
    assert ack == b"ack"
    assert reading


def test_transport_sendfile_after_queued_writes(loop, tmp_path):
    # sendfile waits until what write() queued has gone out (the bytes stay
    # in order), and write() during it raises.
    data = bytes(range(256)) * 1024
    path = tmp_path / "after.bin"
    path.write_bytes(data)
    queued = b"q" * (16 << 20)   # more than the kernel buffers take

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        try:
            sp.transport.pause_reading()
            tr.set_write_buffer_limits(high=64 << 20)
            tr.write(queued)
            assert tr.get_write_buffer_size() > 0
            with open(path, "rb") as f:
                task = loop.create_task(loop.sendfile(tr, f))
                await asyncio.sleep(0.01)
                assert not task.done()
                with pytest.raises(RuntimeError, match="sendfile is in progress"):
                    tr.write(b"too early")
                sp.transport.resume_reading()
                sent = await task
            tr.write(b"end")
            got = await sp.wait_for_bytes(len(queued) + len(data) + 3)
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return sent, got

    sent, got = run(loop, main(), timeout=30)
    assert sent == len(data)
    assert len(got) == len(queued) + len(data) + 3
    assert got == queued + data + b"end"


def test_transport_sendfile_fallback_false_with_a_non_regular_file(loop):
    payload = b"in memory " * 5000

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        try:
            f = io.BytesIO(payload)
            with pytest.raises(asyncio.SendfileNotAvailableError, match="not a regular file"):
                await loop.sendfile(tr, f, fallback=False)
            pos = f.tell()
            # The transport is left as it was: registered, reading, usable.
            closing, reading = tr.is_closing(), tr.is_reading()
            tr.write(b"after")
            got = await sp.wait_for_bytes(5)
            sp.transport.write(b"back")
            back = await pr.wait_for_bytes(4)
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return pos, closing, reading, got, back

    assert run(loop, main(), timeout=30) == (0, False, True, b"after", b"back")


def test_transport_sendfile_falls_back_for_a_non_regular_file(loop, loop_name, request):
    payload = b"in memory " * 5000

    async def main():
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        try:
            f = io.BytesIO(payload)
            sent = await loop.sendfile(tr, f, offset=10)
            pos = f.tell()
            tr.write(b"+")
            got = await sp.wait_for_bytes(len(payload) - 9)
            # The fallback gave the transport back to its protocol.
            protocol_back = tr.get_protocol() is pr
            sp.transport.write(b"back")
            back = await pr.wait_for_bytes(4)
        finally:
            tr.close()
            await pr.lost
            await sp.lost
            await _close_server(server)
        return sent, pos, got, protocol_back, back

    sent, pos, got, protocol_back, back = run(loop, main(), timeout=30)
    assert sent == len(payload) - 10
    assert pos == len(payload)
    assert got == payload[10:] + b"+"
    assert protocol_back
    assert back == b"back"


def test_sock_sendfile_non_regular_file(loop):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    payload = b"bytesio " * 4000

    async def main():
        f = io.BytesIO(payload)
        with pytest.raises(asyncio.SendfileNotAvailableError, match="not a regular file"):
            await loop.sock_sendfile(b, f, fallback=False)
        sent = await loop.sock_sendfile(b, f, count=1000)
        b.shutdown(socket.SHUT_WR)
        got = b""
        while chunk := await loop.sock_recv(a, 65536):
            got += chunk
        return sent, f.tell(), got

    try:
        sent, pos, got = run(loop, main())
    finally:
        a.close()
        b.close()
    assert sent == 1000
    assert pos == 1000
    assert got == payload[:1000]


def test_sendfile_argument_validation(loop, tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("text")
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.setblocking(False)

    async def main():
        with open(path, "rb") as f:
            with pytest.raises(ValueError, match="count must be a positive integer"):
                await loop.sock_sendfile(b, f, count=0)
            with pytest.raises(ValueError, match="offset must be a non-negative integer"):
                await loop.sock_sendfile(b, f, offset=-1)
            with pytest.raises(TypeError, match="offset must be a non-negative integer"):
                await loop.sock_sendfile(b, f, offset=1.5)
            with pytest.raises(ValueError, match="only SOCK_STREAM type sockets are supported"):
                await loop.sock_sendfile(udp, f)
        with open(path, "r") as f:
            with pytest.raises(ValueError, match="file should be opened in binary mode"):
                await loop.sock_sendfile(b, f)
        server, addr, sprotos = await tcp_echo_server(loop, factory=lambda: Recorder(loop))
        tr, pr = await loop.create_connection(lambda: Recorder(loop), *addr)
        sp = await _server_side(sprotos)
        tr.close()
        try:
            with open(path, "rb") as f:
                with pytest.raises(RuntimeError, match="Transport is closing"):
                    await loop.sendfile(tr, f)
        finally:
            await pr.lost
            await sp.lost
            await _close_server(server)

    try:
        run(loop, main())
    finally:
        for s in (a, b, udp):
            s.close()


# -- executors -------------------------------------------------------------------


class InlineExecutor(concurrent.futures.Executor):
    """Not a ThreadPoolExecutor: runs the call at submit time."""

    def __init__(self):
        self.calls = []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append(fn.__name__)
        fut = concurrent.futures.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def test_run_in_executor_with_a_non_thread_pool_executor(loop):
    ex = InlineExecutor()

    def add(a, b):
        return (threading.get_ident(), a + b)

    def fail():
        raise KeyError("inline")

    async def main():
        got = await loop.run_in_executor(ex, add, 20, 22)
        with pytest.raises(KeyError, match="inline"):
            await loop.run_in_executor(ex, fail)
        return got

    tid, value = run(loop, main())
    assert value == 42
    assert tid == threading.get_ident()
    assert ex.calls == ["add", "fail"]


def test_set_default_executor_rejects_a_non_thread_pool_executor(loop):
    ex = InlineExecutor()
    if sys.version_info >= (3, 11):
        # base_events.set_default_executor: TypeError since Python 3.11.
        with pytest.raises(TypeError, match="executor must be ThreadPoolExecutor instance"):
            loop.set_default_executor(ex)
        assert run(loop, loop.run_in_executor(None, lambda: "default pool")) == "default pool"
        assert ex.calls == []
    else:
        # Python 3.10: accepted with a DeprecationWarning.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loop.set_default_executor(ex)
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        assert run(loop, loop.run_in_executor(None, lambda: "inline")) == "inline"
        assert ex.calls == ["<lambda>"]


# -- call_soon_threadsafe ---------------------------------------------------------


def test_call_soon_threadsafe_wakes_a_loop_waiting_for_a_far_timer(loop):
    far = []
    woken = []
    far_handle = loop.call_later(3600, far.append, "far timer ran")
    # Only a guard against hanging the suite: the wakeup must come first.
    safety = []
    safety_handle = loop.call_later(60, lambda: (safety.append(True), loop.stop()))
    blocked = threading.Event()

    def worker():
        # The loop is (about to be) in its poll, with an hour to wait.
        blocked.wait(5)
        loop.call_soon_threadsafe(lambda: (woken.append(threading.get_ident()), loop.stop()))

    loop.call_soon(blocked.set)
    t = threading.Thread(target=worker)
    t.start()
    try:
        loop.run_forever()
    finally:
        t.join()
        far_handle.cancel()
        safety_handle.cancel()
    assert safety == []
    assert woken == [threading.get_ident()]   # ran in the loop's thread
    assert far == []
