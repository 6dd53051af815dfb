"""The project's own async tests through pytest-asyncio, on evloop.

``tests/integration/conftest.py`` implements pytest-asyncio's
``pytest_asyncio_loop_factories`` hook (1.4+) returning
``{"evloop": evloop.new_event_loop}``: every ``@pytest.mark.asyncio`` test
here (and its async fixtures) must then run on an ``evloop.EventLoop``.
"""
import asyncio

import pytest
import pytest_asyncio

import evloop


@pytest_asyncio.fixture
async def echo_server():
    """An async fixture: it runs on the test's loop too."""
    assert type(asyncio.get_running_loop()) is evloop.EventLoop

    async def handle(reader, writer):
        writer.write(await reader.read())
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[:2]
    server.close()
    await server.wait_closed()


@pytest.mark.asyncio
async def test_runs_on_evloop():
    loop = asyncio.get_running_loop()
    assert type(loop) is evloop.EventLoop
    assert isinstance(loop.event_base, evloop.EventBase)


@pytest.mark.asyncio
async def test_sleep_and_tasks_on_evloop():
    assert type(asyncio.get_running_loop()) is evloop.EventLoop
    results = await asyncio.gather(*(asyncio.sleep(0.001, i) for i in range(10)))
    assert results == list(range(10))


@pytest.mark.asyncio
async def test_async_fixture_shares_the_loop(echo_server):
    assert type(asyncio.get_running_loop()) is evloop.EventLoop
    reader, writer = await asyncio.open_connection(*echo_server)
    writer.write(b"through pytest-asyncio")
    writer.write_eof()
    data = await reader.read()
    writer.close()
    await writer.wait_closed()
    assert data == b"through pytest-asyncio"


@pytest.mark.asyncio(loop_factories=["evloop"])
async def test_loop_factories_marker_selects_evloop():
    assert type(asyncio.get_running_loop()) is evloop.EventLoop


@pytest.mark.asyncio
async def test_get_event_loop_is_the_running_loop():
    loop = asyncio.get_running_loop()
    assert type(loop) is evloop.EventLoop
    assert asyncio.get_event_loop() is loop


class TestInAClass:
    @pytest.mark.asyncio
    async def test_method_runs_on_evloop(self):
        assert type(asyncio.get_running_loop()) is evloop.EventLoop


def test_sync_test_is_not_given_a_loop():
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
