"""Entry points: EventLoopPolicy, new_event_loop(), install(), run().

``evloop.run(main)`` is the recommended way (``asyncio.Runner`` with
evloop's loop factory on 3.11+, the same steps by hand on 3.10).  The
policy API is deprecated upstream from Python 3.14 and kept for code that
calls ``asyncio.set_event_loop_policy``.
"""
import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from .loop import EventLoop

# Python 3.14 deprecates the public policy names (asyncio.__getattr__ warns
# on ``asyncio.DefaultEventLoopPolicy``) and keeps the class as
# ``asyncio.unix_events._DefaultEventLoopPolicy``; take it from there where
# it exists, so importing evloop warns on no version.  (A version check,
# so that type checkers see the base class.)
if sys.version_info >= (3, 14):
    _DefaultPolicy = asyncio.unix_events._DefaultEventLoopPolicy
else:
    _DefaultPolicy = asyncio.DefaultEventLoopPolicy

__all__ = ["EventLoopPolicy", "new_event_loop", "install", "run"]

_T = TypeVar("_T")


def new_event_loop() -> EventLoop:
    """A new evloop.EventLoop."""
    return EventLoop()


class EventLoopPolicy(_DefaultPolicy):
    """asyncio's default policy, making evloop loops."""

    def _loop_factory(self) -> EventLoop:
        return new_event_loop()


def install() -> None:
    """asyncio.set_event_loop_policy(EventLoopPolicy())."""
    asyncio.set_event_loop_policy(EventLoopPolicy())


def run(main: Coroutine[Any, Any, _T], *, debug: bool | None = None) -> _T:
    """Run coroutine ``main`` on a new evloop loop, like asyncio.run()."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(debug=debug, loop_factory=new_event_loop) as runner:
            return runner.run(main)
    return _run_310(main, debug)


def _run_310(main: Coroutine[Any, Any, _T],
             debug: bool | None) -> _T:  # pragma: no cover - Python 3.10 only
    if asyncio.events._get_running_loop() is not None:
        raise RuntimeError("evloop.run() cannot be called from a running event loop")
    if not asyncio.iscoroutine(main):
        raise ValueError(f"a coroutine was expected, got {main!r}")
    loop = new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        if debug is not None:
            loop.set_debug(debug)
        return loop.run_until_complete(main)
    finally:
        try:
            to_cancel = asyncio.all_tasks(loop)
            for task in to_cancel:
                task.cancel()
            if to_cancel:
                loop.run_until_complete(asyncio.gather(*to_cancel, return_exceptions=True))
            for task in to_cancel:
                if task.cancelled():
                    continue
                if task.exception() is not None:
                    loop.call_exception_handler({
                        "message": "unhandled exception during evloop.run() shutdown",
                        "exception": task.exception(),
                        "task": task,
                    })
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
