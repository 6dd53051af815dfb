"""The aiohttp application of ``test_gunicorn.py``: ``GET /loop`` answers
``{"loop": "<module>.<qualname>"}`` of the loop serving it.  The module-level
``app`` is what ``gunicorn aiohttp_gunicorn_app:app -k ...`` serves."""
import asyncio

from aiohttp import web


async def loop_class(request):
    loop = type(asyncio.get_running_loop())
    return web.json_response({"loop": f"{loop.__module__}.{loop.__qualname__}"})


app = web.Application()
app.router.add_get("/loop", loop_class)
