"""Fixtures of the asyncio-face tests: every test runs on the stdlib's
``asyncio.SelectorEventLoop`` and on ``evloop.EventLoop`` (ids
``asyncio`` / ``evloop``).  The fixtures live in ``aio_harness.py`` so the
integration tests can share them; see its docstring.
"""
import socket

import pytest

from aio_harness import _harness, exc_calls, loop, loop_factory, loop_name, tls_contexts  # noqa: F401


@pytest.fixture
def pair():
    """A connected, non-blocking AF_UNIX socketpair, closed at teardown."""
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    yield a, b
    a.close()
    b.close()
