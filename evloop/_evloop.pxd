# Declarations of every cdef class of the compiled unit, one concept a file
# (see core/*.pxd).  _evloop.pyx includes the implementations in the same
# order.

include "core/event.pxd"
include "core/buffer.pxd"
include "core/bufferevent.pxd"
include "core/bufferevent_filter.pxd"
include "core/bufferevent_ratelim.pxd"
include "core/listener.pxd"
include "aio/loop.pxd"
include "aio/transports.pxd"
include "aio/sockops.pxd"
include "aio/pipes.pxd"
include "aio/process.pxd"
include "aio/udp.pxd"
