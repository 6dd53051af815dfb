# cython: language_level=3
"""evloop._evloop: the compiled core.

One translation unit made of the core/ sources, in dependency order, so
that calls between them are plain C calls (the uvloop layout).  This file
holds only include lines.
"""

include "core/cimports.pxi"
include "core/consts.pyx"
include "core/clock.pyx"
include "core/config.pyx"
include "core/backend.pyx"
include "core/backend_epoll.pyx"
include "core/backend_poll.pyx"
include "core/backend_select.pyx"
include "core/timers.pyx"
include "core/evmap.pyx"
include "core/signals.pyx"
include "core/event.pyx"
include "core/base.pyx"
include "core/buffer_chunk.pyx"
include "core/buffer.pyx"
include "core/bufferevent.pyx"
include "core/bufferevent_filter.pyx"
include "core/bufferevent_ratelim.pyx"
include "core/listener.pyx"
include "aio/loop.pyx"
include "aio/transports.pyx"
include "aio/sockops.pyx"
include "aio/pipes.pyx"
include "aio/process.pyx"
include "aio/udp.pyx"
