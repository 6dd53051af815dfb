"""evloop.compat: libevent's C API under its C names, for line-by-line ports.

The top layer of evloop (pure Python, thin): one module per libevent header,
each a set of functions over the object API of ``evloop`` (``EventBase``,
``Event``, ``EventConfig``), keeping libevent's names, argument order and
0/-1 return convention:

* ``evloop.compat.event``        -- ``event2/event.h`` (event_base_*, event_*, evtimer_*, ...)
* ``evloop.compat.event_compat`` -- ``event2/event_compat.h`` (event_init, event_dispatch, ...)
* ``evloop.compat.util``         -- ``event2/util.h`` (evutil_*)
* ``evloop.compat.buffer``       -- ``event2/buffer.h`` (evbuffer_*, + evbuffer_readline)
* ``evloop.compat.bufferevent``  -- ``event2/bufferevent.h`` (bufferevent_*, BEV_*)
* ``evloop.compat.listener``     -- ``event2/listener.h`` (evconnlistener_*, LEV_OPT_*)

Every name is re-exported here, so ``from evloop.compat import *`` reads like
``#include <event2/event.h>``.  The conventions (timevals as ``(sec, usec)``
tuples, ``None`` for ``NULL``, out-parameters in the return value, failures
logged on the ``'evloop.compat'`` logger) are described in ``util.py``.
"""

from . import buffer, bufferevent, event, event_compat, listener, util
from .buffer import *  # noqa: F401,F403
from .bufferevent import *  # noqa: F401,F403
from .event import *  # noqa: F401,F403
from .event_compat import *  # noqa: F401,F403
from .listener import *  # noqa: F401,F403
from .util import *  # noqa: F401,F403

__all__ = [*event.__all__, *event_compat.__all__, *util.__all__,
           *buffer.__all__, *bufferevent.__all__, *listener.__all__]
