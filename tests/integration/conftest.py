"""Fixtures of the integration tests.

* ``loop_factory`` / ``loop`` / ``exc_calls`` / ``loop_name``: the same
  two-loop harness as ``tests/aio`` (``tests/aio/aio_harness.py``, loaded
  here by path so this directory does not depend on being collected after
  ``tests/aio``), for tests that drive a loop by hand (aiohttp).
* ``pytest_asyncio_loop_factories``: pytest-asyncio (1.4+) runs every
  ``@pytest.mark.asyncio`` test of this directory on ``evloop.EventLoop``.
  This is the supported way to give pytest-asyncio a custom loop; the older
  ``event_loop_policy`` fixture override is deprecated since 1.4.
"""
import importlib.util
import pathlib
import sys

import pytest

import evloop


def _load_harness():
    name = "aio_harness"
    if name not in sys.modules:
        path = pathlib.Path(__file__).resolve().parent.parent / "aio" / "aio_harness.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_harness_module = _load_harness()
_harness = _harness_module._harness
exc_calls = _harness_module.exc_calls
loop = _harness_module.loop
loop_factory = _harness_module.loop_factory
loop_name = _harness_module.loop_name


@pytest.hookimpl(optionalhook=True)
def pytest_asyncio_loop_factories(config, item):
    """pytest-asyncio's hook: run async tests here on evloop."""
    return {"evloop": evloop.new_event_loop}
