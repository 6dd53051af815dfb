"""The two-loop harness of the asyncio-face tests (``tests/aio``) and the
integration tests (``tests/integration``).

Every test body runs once per loop, the way uvloop's ``tests/test_tcp.py``
mixins and anyio's ``tests/conftest.py`` do it:

* ``loop_factory``: parametrized with ids ``asyncio`` (the stdlib's
  ``asyncio.SelectorEventLoop``, built explicitly so an installed policy
  cannot change it) and ``evloop`` (``evloop.new_event_loop``);
* ``loop``: a loop from that factory, set as the current event loop; its
  teardown runs ``shutdown_asyncgens`` and ``shutdown_default_executor``,
  closes it, checks it is closed, that the exception handler was not
  called unexpectedly and that nothing emitted a ``ResourceWarning``;
* ``exc_calls``: the recorder installed as the loop's exception handler.
  A test that expects handler calls takes them with ``exc_calls.consume()``;
  whatever is left at teardown fails the test;
* ``loop_name``: ``"asyncio"`` or ``"evloop"``;
* ``known_difference(request, loop_name, reason, on="evloop")``: mark this
  run ``xfail(strict=True)`` when it runs on loop ``on`` -- the one way a
  test records that evloop behaves differently from asyncio;
* ``run(loop, coro, timeout=10)``: ``run_until_complete`` with a safety
  timeout, so a broken loop fails a test instead of hanging the suite.

The root ``tests/conftest.py`` checks every test for leaked descriptors.
"""
import asyncio
import gc
import warnings

import pytest

import evloop

LOOP_FACTORIES = {
    "asyncio": asyncio.SelectorEventLoop,
    "evloop": evloop.new_event_loop,
}


def run(loop, coro, timeout=10):
    """Run ``coro`` to completion on ``loop``; TimeoutError after
    ``timeout`` seconds."""
    return loop.run_until_complete(asyncio.wait_for(coro, timeout))


def known_difference(request, loop_name, reason, on="evloop"):
    """Declare that this test is expected to fail on loop ``on``."""
    if loop_name == on:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


class ExceptionHandlerCalls:
    """An exception handler that records the contexts it is called with."""

    def __init__(self):
        self.calls = []

    def __call__(self, loop, context):
        self.calls.append(context)

    def __len__(self):
        return len(self.calls)

    def consume(self):
        """Take (and forget) every call recorded so far."""
        calls, self.calls = self.calls, []
        return calls


@pytest.fixture(params=list(LOOP_FACTORIES), ids=list(LOOP_FACTORIES))
def loop_name(request):
    return request.param


@pytest.fixture
def loop_factory(loop_name):
    return LOOP_FACTORIES[loop_name]


class _Harness:
    def __init__(self, loop, calls):
        self.loop = loop
        self.calls = calls


def _finish(loop):
    """What asyncio.run() does after main(): let async generators and the
    default executor finish, then close."""
    if loop.is_closed():
        return
    if loop.is_running():  # pragma: no cover - a test left it running
        pytest.fail("the loop is still running at teardown")
    try:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


@pytest.fixture
def _harness(loop_factory):
    loop = loop_factory()
    calls = ExceptionHandlerCalls()
    loop.set_exception_handler(calls)
    asyncio.set_event_loop(loop)
    harness = _Harness(loop, calls)
    try:
        yield harness
    finally:
        asyncio.set_event_loop(None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            _finish(loop)
            gc.collect()
        assert loop.is_closed()
        resource = [w for w in caught if issubclass(w.category, ResourceWarning)]
        assert not resource, [str(w.message) for w in resource]
        leftover = calls.consume()
        assert not leftover, f"unexpected exception handler calls: {leftover!r}"


@pytest.fixture
def loop(_harness):
    return _harness.loop


@pytest.fixture
def exc_calls(_harness):
    return _harness.calls


@pytest.fixture(scope="session")
def tls_contexts():
    """(server SSLContext, client SSLContext) for "localhost"/127.0.0.1,
    from a throw-away CA that trustme generates for this test session."""
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    client_ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx
