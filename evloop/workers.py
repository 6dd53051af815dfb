"""gunicorn worker classes that serve on evloop.

    gunicorn myapp:app -k evloop.workers.EvloopUvicornWorker      # an ASGI app, under uvicorn
    gunicorn myapp:make_app -k evloop.workers.EvloopAiohttpWorker  # an aiohttp app

They are the uvicorn and aiohttp worker classes (``uvicorn_worker.
UvicornWorker`` from the uvicorn-worker package, else the deprecated
``uvicorn.workers.UvicornWorker``; ``aiohttp.worker.GunicornWebWorker``)
with the event loop
switched to evloop, as ``GunicornUVLoopWebWorker`` does for uvloop.  Each
class is built when it is first looked up, so gunicorn, uvicorn and
aiohttp are needed only for the class you name (``AttributeError`` names
what is missing otherwise).
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

__all__ = ["EvloopUvicornWorker", "EvloopAiohttpWorker"]

if TYPE_CHECKING:
    # What the module __getattr__ below builds on first access (so that
    # these names, listed in __all__, have types).
    from aiohttp.worker import GunicornWebWorker
    from uvicorn.workers import UvicornWorker

    EvloopUvicornWorker: type[UvicornWorker]
    EvloopAiohttpWorker: type[GunicornWebWorker]


def _uvicorn_worker() -> type[UvicornWorker]:
    try:
        # uvicorn's worker moved to the uvicorn-worker package
        # (uvicorn.workers is deprecated).
        from uvicorn_worker import UvicornWorker
    except ImportError:
        from uvicorn.workers import UvicornWorker

    class EvloopUvicornWorker(UvicornWorker):
        """uvicorn's gunicorn worker, its server on evloop
        (``loop="evloop:new_event_loop"``, uvicorn >= 0.36)."""

        CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "loop": "evloop:new_event_loop"}

    return EvloopUvicornWorker


def _aiohttp_worker() -> type[GunicornWebWorker]:
    from aiohttp.worker import GunicornWebWorker

    import evloop

    class EvloopAiohttpWorker(GunicornWebWorker):
        """aiohttp's gunicorn worker, its loop an evloop loop."""

        def init_process(self) -> None:
            # As aiohttp's GunicornUVLoopWebWorker: a loop made before the
            # fork belongs to the arbiter; the worker makes its own.
            asyncio.set_event_loop(None)
            asyncio.set_event_loop_policy(evloop.EventLoopPolicy())
            super().init_process()

    return EvloopAiohttpWorker


_FACTORIES = {"EvloopUvicornWorker": _uvicorn_worker, "EvloopAiohttpWorker": _aiohttp_worker}


def __getattr__(name: str) -> type:
    factory = _FACTORIES.get(name)
    if factory is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        cls = factory()
    except ImportError as exc:
        raise AttributeError(f"evloop.workers.{name} needs {exc.name!r}, which is not installed "
                             f"(pip install gunicorn and uvicorn or aiohttp)") from exc
    cls.__module__ = __name__
    globals()[name] = cls
    return cls
