"""Fixtures of the asyncio-face tests: every test runs on the stdlib's
``asyncio.SelectorEventLoop`` and on ``evloop.EventLoop`` (ids
``asyncio`` / ``evloop``).  The fixtures live in ``aio_harness.py`` so the
integration tests can share them; see its docstring.
"""


from aio_harness import _harness, exc_calls, loop, loop_factory, loop_name, tls_contexts  # noqa: F401


