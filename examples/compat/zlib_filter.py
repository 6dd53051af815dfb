"""A zlib filter over a bufferevent pair (libevent's regress_zlib.c, as a sample).

Two filter bufferevents sit on the two ends of a bufferevent pair: the
writer's output filter compresses (zlib.compressobj) into its pair end, the
reader's input filter decompresses (zlib.decompressobj) what arrives at the
other end.  The writer sends a text in pieces, then
bufferevent_flush(EV_WRITE, BEV_FINISHED) makes the compressor emit its
final block (Z_FINISH) and, passed down to the pair, tells the reader EOF.
The reader prints the text it got and the compression ratio; the exit code
is 0 if the round trip matched.
Run: python examples/compat/zlib_filter.py
"""
import os
import sys
import zlib

try:
    import evloop  # noqa: F401
except ImportError:  # run from a source checkout
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

from evloop.compat import (
    BEV_ERROR, BEV_EVENT_EOF, BEV_FINISHED, BEV_FLUSH, BEV_NEED_MORE, BEV_OK,
    BEV_OPT_CLOSE_ON_FREE, EV_READ, EV_WRITE,
    bufferevent_enable, bufferevent_filter_new, bufferevent_flush, bufferevent_free,
    bufferevent_get_input, bufferevent_pair_new, bufferevent_setcb, bufferevent_write,
    event_base_dispatch, event_base_free, event_base_loopexit, event_base_new,
    evbuffer_add, evbuffer_get_length, evbuffer_remove,
)

TEXT = "".join(f"line {i}: the quick brown fox jumps over the lazy dog\n" for i in range(200))


def zlib_output_filter(src, dst, dst_limit, mode, ctx):
    """Compress everything in src; BEV_FLUSH syncs, BEV_FINISHED ends the stream."""
    data = evbuffer_remove(src, evbuffer_get_length(src))
    out = ctx["z"].compress(data)
    if mode == BEV_FLUSH:
        out += ctx["z"].flush(zlib.Z_SYNC_FLUSH)
    elif mode == BEV_FINISHED:
        out += ctx["z"].flush(zlib.Z_FINISH)
    ctx["wire"] += len(out)
    evbuffer_add(dst, out)
    return BEV_OK


def zlib_input_filter(src, dst, dst_limit, mode, ctx):
    """Decompress what arrived; NEED_MORE until a whole block is there."""
    try:
        out = ctx["z"].decompress(evbuffer_remove(src, evbuffer_get_length(src)))
    except zlib.error:
        return BEV_ERROR
    if not out:
        return BEV_NEED_MORE
    evbuffer_add(dst, out)
    return BEV_OK


def readcb(bev, state):
    inp = bufferevent_get_input(bev)
    state["got"] += evbuffer_remove(inp, evbuffer_get_length(inp))


def eventcb(bev, what, state):
    if what & BEV_EVENT_EOF:
        state["eof"] = True
    else:
        state["error"] = what
    event_base_loopexit(state["base"], None)


def main():
    base = event_base_new()
    rc, (end_w, end_r) = bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE)
    assert rc == 0
    comp = {"z": zlib.compressobj(9), "wire": 0}
    decomp = {"z": zlib.decompressobj()}
    writer = bufferevent_filter_new(end_w, None, zlib_output_filter,
                                    BEV_OPT_CLOSE_ON_FREE, None, comp)
    reader = bufferevent_filter_new(end_r, zlib_input_filter, None,
                                    BEV_OPT_CLOSE_ON_FREE, None, decomp)
    state = {"base": base, "got": b"", "eof": False, "error": 0}
    bufferevent_setcb(reader, readcb, None, eventcb, state)
    bufferevent_enable(reader, EV_READ)

    data = TEXT.encode()
    for i in range(0, len(data), 1000):
        bufferevent_write(writer, data[i:i + 1000])
    bufferevent_flush(writer, EV_WRITE, BEV_FLUSH)
    bufferevent_flush(writer, EV_WRITE, BEV_FINISHED)
    event_base_dispatch(base)

    ok = state["eof"] and not state["error"] and state["got"] == data
    print(state["got"].decode().splitlines()[-1])
    print(f"{len(data)} bytes sent as {comp['wire']} compressed bytes "
          f"({100 * comp['wire'] // len(data)}%)")
    print("round trip ok" if ok else "round trip FAILED")
    bufferevent_free(writer)
    bufferevent_free(reader)
    event_base_free(base)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
