"""getaddrinfo / getnameinfo, on both loops.

evloop answers numeric hosts without the thread pool (as uvloop does); the
answers must be exactly ``socket.getaddrinfo``'s, including the errors.
"""
import asyncio
import socket

import pytest

from aio_harness import run

S, D = socket.SOCK_STREAM, socket.SOCK_DGRAM

CASES = [
    # (host, port, kwargs)
    ("127.0.0.1", 80, {}),
    ("127.0.0.1", 80, {"type": S}),
    ("127.0.0.1", "80", {"type": S}),
    ("127.0.0.1", b"8080", {"type": D}),
    (b"127.0.0.1", 0, {"family": socket.AF_INET}),
    ("127.0.0.1", None, {"type": S}),
    ("127.0.0.1", "http", {"type": S}),
    ("::1", 443, {"type": S}),
    ("::1", 443, {"family": socket.AF_INET6, "proto": socket.IPPROTO_TCP}),
    ("0.0.0.0", 0, {"flags": socket.AI_PASSIVE, "type": S}),
    (None, 8000, {"flags": socket.AI_PASSIVE, "type": S}),
    (None, 8000, {"type": S}),
    ("127.0.0.1", 80, {"flags": socket.AI_CANONNAME, "type": S}),
    ("127.0.0.1", 80, {"flags": socket.AI_NUMERICHOST, "type": S}),
    ("127.0.0.1", 70000, {"type": S}),
    ("fe80::1%1", 80, {"type": S}),
    ("localhost", 80, {"family": socket.AF_INET, "type": S}),
    ("localhost", "80", {"type": S}),
    ("localhost", None, {"family": socket.AF_INET, "type": S}),
    ("localhost", 80, {"type": S, "flags": socket.AI_ADDRCONFIG}),
]

ERROR_CASES = [
    ("::1", 80, {"family": socket.AF_INET}),
    ("127.0.0.1", 80, {"family": socket.AF_INET6}),
    ("127.0.0.1", "no-such-service-xyz", {"type": S}),
    ("not-an-ip", 80, {"flags": socket.AI_NUMERICHOST}),
    (None, None, {}),
]


def _norm(infos):
    return sorted(infos, key=repr)


@pytest.mark.parametrize("host,port,kwargs", CASES, ids=repr)
def test_getaddrinfo_matches_socket(loop, host, port, kwargs):
    expected = socket.getaddrinfo(host, port, **kwargs)
    got = run(loop, loop.getaddrinfo(host, port, **kwargs))
    assert _norm(got) == _norm(expected)


@pytest.mark.parametrize("host,port,kwargs", ERROR_CASES, ids=repr)
def test_getaddrinfo_errors_match_socket(loop, host, port, kwargs):
    with pytest.raises(Exception) as expected:
        socket.getaddrinfo(host, port, **kwargs)
    with pytest.raises(type(expected.value)) as got:
        run(loop, loop.getaddrinfo(host, port, **kwargs))
    assert got.value.args == expected.value.args


def test_getaddrinfo_localhost_includes_loopback(loop):
    infos = run(loop, loop.getaddrinfo("localhost", 8080, family=socket.AF_INET, type=S))
    assert infos
    for family, type_, _proto, _canonname, sockaddr in infos:
        assert family == socket.AF_INET
        assert type_ == S
        assert sockaddr[1] == 8080
    assert ("127.0.0.1", 8080) in [i[4] for i in infos]


def test_getaddrinfo_many_concurrent(loop):
    async def main():
        return await asyncio.gather(*(
            loop.getaddrinfo("127.0.0.1", p, type=S) for p in range(1000, 1200)))

    results = run(loop, main())
    assert [r[0][4] for r in results] == [("127.0.0.1", p) for p in range(1000, 1200)]


@pytest.mark.parametrize("sockaddr,flags", [
    (("127.0.0.1", 80), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV),
    (("127.0.0.1", 80), 0),
    (("::1", 443, 0, 0), socket.NI_NUMERICHOST | socket.NI_NUMERICSERV),
    (("127.0.0.1", 53), socket.NI_DGRAM | socket.NI_NUMERICHOST),
])
def test_getnameinfo_matches_socket(loop, sockaddr, flags):
    expected = socket.getnameinfo(sockaddr, flags)
    assert run(loop, loop.getnameinfo(sockaddr, flags)) == expected


def test_getnameinfo_numeric(loop):
    got = run(loop, loop.getnameinfo(("127.0.0.1", 8080),
                                     socket.NI_NUMERICHOST | socket.NI_NUMERICSERV))
    assert got == ("127.0.0.1", "8080")
