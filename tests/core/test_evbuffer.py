"""Evbuffer: libevent's evbuffer semantics (regress_buffer.c's ground),
bad input, callbacks, freezing, references, and fd I/O over socketpairs.

Every test that changes a buffer calls ``_validate()`` (libevent's
evbuffer_validate) after each change, through the ``ok()`` helper.
"""
import array
import gc
import os
import socket

import pytest

import evloop
from evloop import (EVBUFFER_CB_ENABLED, EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF,
                    EVBUFFER_EOL_CRLF_STRICT, EVBUFFER_EOL_LF,
                    EVBUFFER_EOL_NUL, EVBUFFER_PTR_ADD, EVBUFFER_PTR_SET,
                    EVLOOP_NONBLOCK, Evbuffer, EvbufferPtr)


def ok(*bufs):
    """Validate the invariants of every buffer given; return the first."""
    for b in bufs:
        b._validate()
    return bufs[0]


def make(*pieces):
    """A buffer whose chunks are exactly ``pieces`` (add_reference links
    each as its own chunk), to test chunk boundaries."""
    b = Evbuffer()
    for p in pieces:
        b.add_reference(p)
        ok(b)
    assert [c[1] for c in b._chunks()] == [len(p) for p in pieces if p]
    return b


# -- constants and construction ------------------------------------------------

def test_constants_have_libevent_values():
    assert (EVBUFFER_EOL_ANY, EVBUFFER_EOL_CRLF, EVBUFFER_EOL_CRLF_STRICT,
            EVBUFFER_EOL_LF, EVBUFFER_EOL_NUL) == (0, 1, 2, 3, 4)
    assert (EVBUFFER_PTR_SET, EVBUFFER_PTR_ADD) == (0, 1)
    assert EVBUFFER_CB_ENABLED == 1
    for name in ("Evbuffer", "EvbufferPtr", "EVBUFFER_EOL_ANY", "EVBUFFER_PTR_ADD",
                 "EVBUFFER_CB_ENABLED"):
        assert name in evloop.__all__


def test_new_buffer_is_empty():
    b = ok(Evbuffer())
    assert len(b) == 0 and b.get_length() == 0
    assert bytes(b) == b""
    assert b.remove(10) == b""
    assert b.copyout(10) == b""
    assert b.readln(EVBUFFER_EOL_LF) is None
    assert b.peek() == []
    assert b.get_contiguous_space() == 0
    assert "len=0" in repr(b)
    ok(b)


# -- add -------------------------------------------------------------------------

@pytest.mark.parametrize("conv", [bytes, bytearray, memoryview,
                                  lambda d: array.array("B", d)])
def test_add_accepts_bytes_like(conv):
    b = Evbuffer()
    b.add(conv(b"hello "))
    ok(b)
    b.add(conv(b"world"))
    ok(b)
    assert bytes(b) == b"hello world"
    assert len(b) == 11


def test_add_non_contiguous_memoryview():
    b = Evbuffer()
    b.add(memoryview(b"abcdef")[::2])
    assert bytes(ok(b)) == b"ace"


@pytest.mark.parametrize("bad", ["text", 12, None, [1, 2]])
def test_add_rejects_non_bytes(bad):
    b = Evbuffer()
    with pytest.raises(TypeError, match="data"):
        b.add(bad)
    with pytest.raises(TypeError, match="data"):
        b.prepend(bad)
    with pytest.raises(TypeError, match="data"):
        b.add_reference(bad)
    assert len(ok(b)) == 0


def test_small_adds_fill_one_chunk():
    b = Evbuffer()
    for _ in range(100):
        b.add(b"x" * 5)
        ok(b)
    assert len(b._chunks()) == 1
    assert bytes(b) == b"x" * 500


def test_chunks_grow_and_are_not_recopied():
    b = Evbuffer()
    for _ in range(200):
        b.add(bytearray(b"y" * 997))
        ok(b)
    caps = [c[2] for c in b._chunks()]
    assert len(caps) > 1
    assert max(caps) < 16384                  # doubling stops at 16 KiB blocks
    assert bytes(b) == b"y" * 997 * 200


def test_large_bytes_is_referenced_and_removed_without_copy():
    big = b"z" * 10000
    b = Evbuffer()
    b.add(big)
    ok(b)
    assert b._chunks()[0][3] is True           # a reference chunk
    assert b.remove(10000) is big              # the same object back
    ok(b)


def test_small_bytes_is_copied():
    b = Evbuffer()
    b.add(b"a" * 100)
    assert b._chunks()[0][3] is False


def test_add_evbuffer_copies_content():
    a, b = make(b"ab", b"cd"), Evbuffer()
    b.add(a)
    assert bytes(ok(b)) == b"abcd" and len(ok(a)) == 4


def test_add_printf():
    b = Evbuffer()
    assert b.add_printf("%d-%s|", 42, "x") == 5
    ok(b)
    assert b.add_printf(b"%s:%d", b"k", 7) == 3
    ok(b)
    assert b.add_printf("100%%") == 4
    assert b.add_printf("é") == 2               # UTF-8
    assert bytes(ok(b)) == b"42-x|k:7100%" + "é".encode()
    with pytest.raises(TypeError, match="fmt"):
        b.add_printf(5)
    with pytest.raises(TypeError):
        b.add_printf("%d %d", 1)                # Python's own formatting error


def test_add_iovec():
    b = Evbuffer()
    assert b.add_iovec([b"ab", bytearray(b"cd"), memoryview(b"ef")]) == 6
    assert bytes(ok(b)) == b"abcdef"
    with pytest.raises(TypeError, match="vecs"):
        b.add_iovec(b"abc")


def test_expand_makes_room_without_new_chunk():
    b = Evbuffer()
    b.add(b"abc")
    b.expand(5000)
    ok(b)
    n = len(b._chunks())
    b.add(bytearray(5000))
    ok(b)
    assert len(b._chunks()) == n
    assert len(b) == 5003
    b.expand(0)
    with pytest.raises(ValueError, match="n"):
        b.expand(-1)
    with pytest.raises(TypeError, match="n"):
        b.expand("1")


# -- add_buffer / prepend / prepend_buffer / remove_buffer ---------------------

def test_add_buffer_moves_chunks():
    src = make(b"a" * 3000, b"b" * 3000)
    dst = Evbuffer()
    dst.add(b"head")
    dst.add_buffer(src)
    ok(dst, src)
    assert len(src) == 0
    assert bytes(dst) == b"head" + b"a" * 3000 + b"b" * 3000
    assert [c[3] for c in dst._chunks()][-2:] == [True, True]    # moved, not copied


def test_add_buffer_self_and_empty_are_noops():
    b = make(b"abc")
    b.add_buffer(b)
    b.add_buffer(Evbuffer())
    assert bytes(ok(b)) == b"abc"
    with pytest.raises(TypeError, match="other"):
        b.add_buffer(b"abc")


def test_add_buffer_small_source_is_copied_into_free_space():
    dst = Evbuffer()
    dst.add(b"x")
    src = Evbuffer()
    src.add(b"yz")
    dst.add_buffer(src)
    ok(dst, src)
    assert len(dst._chunks()) == 1 and bytes(dst) == b"xyz" and len(src) == 0


def test_prepend_uses_drained_room():
    b = Evbuffer()
    b.add(b"0123456789")
    b.drain(5)
    ok(b)
    b.prepend(b"abc")
    ok(b)
    assert len(b._chunks()) == 1
    assert bytes(b) == b"abc56789"
    b.prepend(b"X" * 3000)
    ok(b)
    assert bytes(b) == b"X" * 3000 + b"abc56789"
    b.prepend(b"")
    assert len(ok(b)) == 3008


def test_prepend_to_empty_and_before_reference():
    b = Evbuffer()
    b.prepend(b"tail")
    ok(b)
    b.prepend(bytearray(b"head-"))
    assert bytes(ok(b)) == b"head-tail"
    r = make(b"R" * 100)
    r.prepend(b"p")
    assert bytes(ok(r)) == b"p" + b"R" * 100


def test_prepend_buffer():
    dst = Evbuffer()
    dst.add(b"world")
    src = make(b"hello", b", ")
    dst.prepend_buffer(src)
    ok(dst, src)
    assert bytes(dst) == b"hello, world" and len(src) == 0
    empty = Evbuffer()
    empty.prepend_buffer(dst)
    ok(empty, dst)
    assert bytes(empty) == b"hello, world"
    with pytest.raises(TypeError, match="other"):
        empty.prepend_buffer(None)


def test_remove_buffer_moves_whole_chunks_and_copies_the_rest():
    src = make(b"a" * 100, b"b" * 100, b"c" * 100)
    dst = Evbuffer()
    assert src.remove_buffer(dst, 150) == 150
    ok(src, dst)
    assert bytes(dst) == b"a" * 100 + b"b" * 50
    assert bytes(src) == b"b" * 50 + b"c" * 100
    assert src.remove_buffer(dst, 10 ** 6) == 150
    ok(src, dst)
    assert len(src) == 0 and len(dst) == 300
    assert src.remove_buffer(dst, 5) == 0
    with pytest.raises(ValueError, match="dst"):
        dst.remove_buffer(dst, 1)
    with pytest.raises(TypeError, match="dst"):
        dst.remove_buffer(b"", 1)
    with pytest.raises(ValueError, match="n"):
        dst.remove_buffer(src, -1)


# -- remove / copyout / drain -------------------------------------------------

def test_remove_copyout_drain():
    b = make(b"abc", b"defg", b"hi")
    assert b.copyout(5) == b"abcde"
    assert len(ok(b)) == 9
    assert b.remove(5) == b"abcde"
    ok(b)
    assert b.remove(0) == b""
    b.drain(1)
    ok(b)
    assert bytes(b) == b"ghi"
    b.drain(100)
    assert len(ok(b)) == 0
    assert b.remove(3) == b""


@pytest.mark.parametrize("method", ["remove", "copyout", "drain"])
def test_sizes_are_checked(method):
    b = make(b"abc")
    with pytest.raises(ValueError, match="n"):
        getattr(b, method)(-1)
    with pytest.raises(TypeError, match="n"):
        getattr(b, method)("3")
    with pytest.raises(TypeError, match="n"):
        getattr(b, method)(True)
    with pytest.raises(TypeError, match="n"):
        getattr(b, method)(1.5)
    assert bytes(ok(b)) == b"abc"


def test_huge_sizes_clamp():
    b = make(b"abc")
    assert b.copyout(2 ** 80) == b"abc"
    b.drain(2 ** 80)
    assert len(ok(b)) == 0


def test_copyout_from():
    b = make(b"abc", b"def")
    p = EvbufferPtr()
    b.ptr_set(p, 2, EVBUFFER_PTR_SET)
    assert b.copyout_from(p, 3) == b"cde"
    assert b.copyout_from(4, 100) == b"ef"
    assert b.copyout_from(6, 1) == b""
    with pytest.raises(ValueError, match="ptr"):
        b.copyout_from(7, 1)
    with pytest.raises(ValueError, match="ptr"):
        b.copyout_from(EvbufferPtr(), 1)
    with pytest.raises(TypeError, match="ptr"):
        b.copyout_from("0", 1)
    ok(b)


# -- pullup ----------------------------------------------------------------------

def test_pullup():
    b = make(b"ab", b"cd", b"ef")
    v = b.pullup(3)
    ok(b)
    assert bytes(v) == b"abc" and v.readonly
    assert b.get_contiguous_space() >= 3
    assert bytes(b) == b"abcdef"
    assert b.pullup(7) is None
    assert bytes(b.pullup()) == b"abcdef"
    ok(b)
    assert len(b._chunks()) == 1
    assert bytes(b.pullup(0)) == b""
    with pytest.raises(ValueError, match="n"):
        b.pullup(-2)


def test_pullup_view_survives_drain():
    b = make(b"12", b"34")
    v = b.pullup()
    b.drain(4)
    ok(b)
    gc.collect()
    assert len(v) == 4
    v.tobytes()                     # still valid memory (content unspecified)
    v.release()


# -- readln / search_eol --------------------------------------------------------

@pytest.mark.parametrize("style,data,lines,rest", [
    (EVBUFFER_EOL_LF, b"a\nb\r\nc", [b"a", b"b\r"], b"c"),
    (EVBUFFER_EOL_CRLF, b"a\r\nb\nc\rd\r\n\r", [b"a", b"b", b"c\rd"], b"\r"),
    (EVBUFFER_EOL_CRLF_STRICT, b"a\nb\r\n\r\n", [b"a\nb", b""], b""),
    (EVBUFFER_EOL_NUL, b"x\x00\x00yz", [b"x", b""], b"yz"),
    (EVBUFFER_EOL_ANY, b"a\r\n\r\nb\nc\r", [b"a", b"b", b"c"], b""),
])
def test_readln_styles(style, data, lines, rest):
    b = Evbuffer()
    b.add(data)
    got = []
    while True:
        line = b.readln(style)
        ok(b)
        if line is None:
            break
        got.append(line)
    assert got == lines
    assert bytes(b) == rest


def test_readln_no_line_drains_nothing():
    b = make(b"no line here\r")
    assert b.readln(EVBUFFER_EOL_CRLF) is None
    assert b.readln(EVBUFFER_EOL_CRLF_STRICT) is None
    assert bytes(ok(b)) == b"no line here\r"
    b.add(b"\n")
    assert b.readln(EVBUFFER_EOL_CRLF) == b"no line here"
    assert len(ok(b)) == 0


def test_readln_across_chunks():
    b = make(b"abc\r", b"\nde", b"f\n")
    assert b.readln(EVBUFFER_EOL_CRLF_STRICT) == b"abc"
    ok(b)
    assert b.readln(EVBUFFER_EOL_LF) == b"def"
    assert len(ok(b)) == 0


def test_readln_any_splits_crlf_across_reads():
    # libevent documents the ambiguity: CR then LF in a later read gives
    # an extra empty line.
    b = Evbuffer()
    b.add(b"line\r")
    assert b.readln(EVBUFFER_EOL_ANY) == b"line"
    b.add(b"\nnext\n")
    assert b.readln(EVBUFFER_EOL_ANY) == b""
    assert b.readln(EVBUFFER_EOL_ANY) == b"next"
    ok(b)


def test_readln_bad_style():
    b = make(b"a\n")
    with pytest.raises(ValueError, match="style"):
        b.readln(5)
    with pytest.raises(ValueError, match="style"):
        b.readln(-1)
    with pytest.raises(TypeError, match="style"):
        b.readln("LF")
    with pytest.raises(ValueError, match="style"):
        b.search_eol(None, 9)
    assert bytes(ok(b)) == b"a\n"


def test_search_eol():
    b = make(b"ab\r", b"\r\n", b"cd\n")
    p, n = b.search_eol(None, EVBUFFER_EOL_ANY)
    assert (p.pos, n) == (2, 3)
    p, n = b.search_eol(None, EVBUFFER_EOL_CRLF)
    assert (p.pos, n) == (3, 2)
    p, n = b.search_eol(5, EVBUFFER_EOL_LF)
    assert (p.pos, n) == (7, 1)
    p, n = b.search_eol(p, EVBUFFER_EOL_NUL)
    assert (p.pos, n) == (-1, 0)
    ok(b)


# -- search / ptr_set -----------------------------------------------------------

def test_search_across_chunk_boundaries():
    b = make(b"xxab", b"c", b"dxxabcd")
    assert b.search(b"abcd").pos == 2
    assert b.search(b"abcd", 3).pos == 8
    p = b.search(b"abcd")
    b.ptr_set(p, 1, EVBUFFER_PTR_ADD)
    assert b.search(b"abcd", p).pos == 8
    assert b.search(b"abce").pos == -1
    assert b.search(b"").pos == 0
    assert b.search(b"", 4).pos == 4
    assert b.search(bytearray(b"dx")).pos == 5
    ok(b)


def test_search_range():
    b = make(b"hello ", b"world")
    assert b.search_range(b"wor", 0, 9).pos == 6
    assert b.search_range(b"wor", 0, 8).pos == -1
    end = EvbufferPtr()
    b.ptr_set(end, 11, EVBUFFER_PTR_SET)
    assert b.search_range(b"ld", None, end).pos == 9
    assert b.search_range(b"o", 5, 3).pos == -1
    with pytest.raises(ValueError, match="end"):
        b.search_range(b"o", 0, 12)


def test_search_bad_arguments():
    b = make(b"abc")
    with pytest.raises(TypeError, match="what"):
        b.search("a")
    with pytest.raises(TypeError, match="start"):
        b.search(b"a", "0")
    with pytest.raises(ValueError, match="start"):
        b.search(b"a", -1)
    with pytest.raises(ValueError, match="start"):
        b.search(b"a", 4)
    with pytest.raises(ValueError, match="start"):
        b.search(b"a", b.search(b"zz"))          # an unset pointer


def test_ptr_set():
    b = make(b"abc", b"defg")
    p = EvbufferPtr()
    assert p.pos == -1 and repr(p) == "EvbufferPtr(pos=-1)"
    b.ptr_set(p, 0, EVBUFFER_PTR_SET)
    assert p.pos == 0
    b.ptr_set(p, 4, EVBUFFER_PTR_ADD)
    assert p.pos == 4 and b.copyout_from(p, 2) == b"ef"
    b.ptr_set(p, 3, EVBUFFER_PTR_ADD)          # the end is a valid position
    assert p.pos == 7 and b.copyout_from(p, 1) == b""
    with pytest.raises(ValueError, match="past the end"):
        b.ptr_set(p, 1, EVBUFFER_PTR_ADD)
    assert p.pos == -1
    with pytest.raises(ValueError, match="unset"):
        b.ptr_set(p, 1, EVBUFFER_PTR_ADD)
    with pytest.raises(ValueError, match="past the end"):
        b.ptr_set(p, 8, EVBUFFER_PTR_SET)
    with pytest.raises(ValueError, match="how"):
        b.ptr_set(p, 0, 2)
    with pytest.raises(TypeError, match="how"):
        b.ptr_set(p, 0, "set")
    with pytest.raises(ValueError, match="position"):
        b.ptr_set(p, -1, EVBUFFER_PTR_SET)
    with pytest.raises(TypeError, match="ptr"):
        b.ptr_set(3, 0, EVBUFFER_PTR_SET)
    with pytest.raises(ValueError, match="pos"):
        EvbufferPtr(-2)
    assert EvbufferPtr(5).pos == 5


def test_ptr_survives_changes_as_a_position():
    b = make(b"abc", b"def")
    p = b.search(b"e")
    assert p.pos == 4
    b.prepend(b"__")                        # invalidates the cached chunk
    ok(b)
    assert b.copyout_from(p, 2) == b"cd"    # still offset 4
    b.drain(6)
    with pytest.raises(ValueError, match="ptr"):
        b.copyout_from(p, 1)


# -- peek / reserve / commit ----------------------------------------------------

def test_peek():
    b = make(b"abc", b"defg", b"hi")
    views = b.peek()
    assert [bytes(v) for v in views] == [b"abc", b"defg", b"hi"]
    assert all(v.readonly for v in views)
    assert [bytes(v) for v in b.peek(5)] == [b"abc", b"de"]
    assert [bytes(v) for v in b.peek(3, 2)] == [b"c", b"de"]
    assert b.peek(0) == []
    assert b.peek(-1, 9) == []
    with pytest.raises(ValueError, match="n"):
        b.peek(-5)
    with pytest.raises(TypeError, match="start"):
        b.peek(1, 1.0)
    ok(b)


def test_peek_views_are_memory_safe_after_free():
    b = Evbuffer()
    b.add(b"0123456789")
    views = b.peek()
    b.free()
    gc.collect()
    assert bytes(views[0]) == b"0123456789"     # chunk pinned by the view
    views[0].release()


def test_reserve_and_commit():
    b = Evbuffer()
    b.add(b"abc")
    views = b.reserve_space(100)
    ok(b)
    assert len(views) == 1 and len(views[0]) >= 100 and not views[0].readonly
    views[0][:5] = b"12345"
    b.commit_space(4)                         # commit may shrink
    ok(b)
    assert bytes(b) == b"abc1234"
    with pytest.raises(RuntimeError, match="reserve_space"):
        b.commit_space(0)                     # nothing pending any more


def test_reserve_two_extents():
    b = Evbuffer()
    b.add(bytearray(b"x" * 800))              # leaves a little free room
    free_room = b._chunks()[0][2] - 800
    views = b.reserve_space(free_room + 500, 2)
    ok(b)
    assert len(views) == 2 and len(views[0]) == free_room
    total = len(views[0]) + len(views[1])
    data = bytes(range(256)) * (total // 256 + 1)
    views[0][:] = data[:free_room]
    views[1][:500] = data[free_room:free_room + 500]
    b.commit_space(free_room + 500)
    ok(b)
    assert bytes(b) == b"x" * 800 + data[:free_room + 500]


def test_reservation_invalidated_by_any_change():
    b = Evbuffer()
    b.reserve_space(10)
    b.add(b"x")
    with pytest.raises(RuntimeError, match="reservation"):
        b.commit_space(1)
    ok(b)
    b.reserve_space(10)
    b.drain(1)
    with pytest.raises(RuntimeError, match="reservation"):
        b.commit_space(0)
    ok(b)
    views = b.reserve_space(10)
    with pytest.raises(ValueError, match="n"):
        b.commit_space(len(views[0]) + 1)
    b.commit_space(0)
    assert len(ok(b)) == 0
    with pytest.raises(ValueError, match="size"):
        b.reserve_space(-1)
    with pytest.raises(ValueError, match="n_vec"):
        b.reserve_space(1, 0)
    with pytest.raises(TypeError, match="n_vec"):
        b.reserve_space(1, "2")


# -- add_reference and its cleanup -------------------------------------------

def test_reference_cleanup_runs_once_at_last_byte():
    calls = []
    data = bytearray(b"referenced")
    b = Evbuffer()
    b.add_reference(data, lambda d, a: calls.append((d, a)), "arg")
    ok(b)
    data[0:1] = b"R"                           # shared, not copied
    assert bytes(b) == b"Referenced"
    with pytest.raises(BufferError):
        data.extend(b"!")                      # exported: cannot resize
    b.drain(5)
    ok(b)
    assert calls == []
    assert b.remove(5) == b"enced"
    ok(b)
    assert calls == [(data, "arg")]
    data.extend(b"!")                          # released
    b.free()
    assert len(calls) == 1


def test_reference_cleanup_on_free_and_on_dealloc():
    calls = []
    b = Evbuffer()
    b.add_reference(b"abc", lambda d, a: calls.append(a), 1)
    b.free()
    assert calls == [1]
    b.free()
    assert calls == [1]
    b = Evbuffer()
    b.add_reference(b"abc", lambda d, a: calls.append(a), 2)
    del b
    gc.collect()
    assert calls == [1, 2]


def test_reference_cleanup_follows_moved_chunks():
    calls = []
    a, b = Evbuffer(), Evbuffer()
    a.add_reference(b"x" * 100, lambda d, arg: calls.append(arg), "r")
    a.add(b"tail")
    assert a.remove_buffer(b, 100) == 100        # moved whole, not copied
    ok(a, b)
    assert calls == []
    b.drain(99)
    assert calls == []
    b.drain(1)
    ok(b)
    assert calls == ["r"]


def test_reference_cleanup_after_pullup_copy():
    calls = []
    b = Evbuffer()
    b.add(b"a")
    b.add_reference(b"bc", lambda d, arg: calls.append(d))
    assert bytes(b.pullup()) == b"abc"
    ok(b)
    assert calls == [b"bc"]


def test_reference_empty_and_bad_cleanup():
    calls = []
    b = Evbuffer()
    b.add_reference(b"", lambda d, a: calls.append(a), 0)
    assert calls == [0] and len(ok(b)) == 0
    with pytest.raises(TypeError, match="cleanup"):
        b.add_reference(b"x", cleanup=3)


def test_reference_cleanup_exception_propagates_after_drain():
    def boom(d, a):
        raise KeyError("cleanup")
    b = Evbuffer()
    b.add_reference(b"abc", boom)
    with pytest.raises(KeyError):
        b.drain(3)
    assert len(ok(b)) == 0


def test_reference_not_added_when_frozen_and_cleanup_not_called():
    calls = []
    b = Evbuffer()
    b.freeze(False)
    with pytest.raises(RuntimeError, match="frozen"):
        b.add_reference(b"abc", lambda d, a: calls.append(1))
    assert calls == [] and len(ok(b)) == 0


# -- callbacks -----------------------------------------------------------------

def record(log):
    def cb(buf, info, arg):
        log.append((arg, info.orig_size, info.n_added, info.n_deleted))
    return cb


def test_callback_info_values():
    log = []
    b = Evbuffer()
    e = b.add_cb(record(log), "A")
    assert e.arg == "A" and e.flags == EVBUFFER_CB_ENABLED
    b.add(b"hello")
    b.prepend(b">>")
    b.drain(3)
    assert b.remove(2) == b"el"
    b.drain(0)                                 # no change: no callback
    b.add(b"")
    assert log == [("A", 0, 5, 0), ("A", 5, 2, 0), ("A", 7, 0, 3), ("A", 4, 0, 2)]
    assert "n_added=" in repr(b) or True
    ok(b)


def test_callbacks_of_both_buffers_on_moves():
    log = []
    a, b = Evbuffer(), Evbuffer()
    a.add(b"0123456789")
    a.add_cb(record(log), "a")
    b.add_cb(record(log), "b")
    b.add_buffer(a)
    assert log == [("a", 10, 0, 10), ("b", 0, 10, 0)]
    del log[:]
    b.remove_buffer(a, 4)
    assert log == [("a", 0, 4, 0), ("b", 10, 0, 4)]
    del log[:]
    b.prepend_buffer(a)
    assert log == [("a", 4, 0, 4), ("b", 6, 4, 0)]
    ok(a, b)


def test_readln_reports_line_and_terminator_separately():
    log = []
    b = Evbuffer()
    b.add(b"ab\r\ncd")
    b.add_cb(record(log), None)
    assert b.readln(EVBUFFER_EOL_CRLF) == b"ab"
    assert log == [(None, 6, 0, 2), (None, 4, 0, 2)]


def test_callbacks_newest_first_remove_and_flags():
    log = []
    b = Evbuffer()
    cb = record(log)
    e1 = b.add_cb(cb, 1)
    b.add_cb(cb, 2)
    b.add(b"x")
    assert [x[0] for x in log] == [2, 1]
    b.remove_cb(cb, 2)
    with pytest.raises(ValueError):
        b.remove_cb(cb, 2)
    del log[:]
    b.cb_clear_flags(e1, EVBUFFER_CB_ENABLED)
    b.add(b"y")
    assert log == []
    b.cb_set_flags(e1, EVBUFFER_CB_ENABLED)
    b.add(b"z")
    assert log == [(1, 2, 1, 0)]                # changes while disabled are not replayed
    b.remove_cb_entry(e1)
    with pytest.raises(ValueError, match="entry"):
        b.remove_cb_entry(e1)
    b.add(b"w")
    assert len(log) == 1
    with pytest.raises(TypeError, match="entry"):
        b.remove_cb_entry("e")
    with pytest.raises(TypeError, match="cb"):
        b.add_cb(5)
    with pytest.raises(ValueError, match="flags"):
        b.cb_set_flags(e1, 4)
    with pytest.raises(TypeError, match="flags"):
        b.cb_clear_flags(e1, "1")
    ok(b)


def test_callback_may_remove_itself_and_use_the_buffer():
    log = []
    b = Evbuffer()

    def once(buf, info, arg):
        log.append(info.n_added)
        buf.remove_cb_entry(entry)
        buf.add(b"more")                        # re-entrant change
    entry = b.add_cb(once)
    b.add(b"abc")
    assert log == [3]
    assert bytes(ok(b)) == b"abcmore"


def test_callback_exception_propagates_after_change_and_others_run():
    log = []
    b = Evbuffer()
    b.add_cb(record(log), "late")

    def bad(buf, info, arg):
        raise ValueError("from callback")
    b.add_cb(bad)
    with pytest.raises(ValueError, match="from callback"):
        b.add(b"data")
    assert bytes(ok(b)) == b"data"
    assert log == [("late", 0, 4, 0)]


def test_deferred_callbacks_run_from_the_loop_coalesced(base):
    log = []
    b = Evbuffer()
    b.add_cb(record(log), "d")
    b.defer_callbacks(base)
    b.add(b"abc")
    b.add(b"de")
    b.drain(1)
    assert log == []
    ok(b)
    base.loop(EVLOOP_NONBLOCK)
    assert log == [("d", 0, 5, 1)]
    base.loop(EVLOOP_NONBLOCK)
    assert len(log) == 1
    b.add(b"f")
    base.loop(EVLOOP_NONBLOCK)
    assert log[-1] == ("d", 4, 1, 0)
    ok(b)
    b.free()


def test_deferred_callbacks_revert_to_sync_when_base_freed(make_base):
    base = make_base()
    log = []
    b = Evbuffer()
    b.add_cb(record(log), 0)
    b.defer_callbacks(base)
    base.free()
    b.add(b"x")
    assert log == [(0, 0, 1, 0)]
    ok(b)
    with pytest.raises(TypeError, match="base"):
        b.defer_callbacks(object())
    with pytest.raises(RuntimeError, match="freed"):
        b.defer_callbacks(base)


def test_deferred_buffer_freed_before_loop_runs(base):
    log = []
    b = Evbuffer()
    b.add_cb(record(log), 0)
    b.defer_callbacks(base)
    b.add(b"x")
    b.free()
    base.loop(EVLOOP_NONBLOCK)
    assert log == []


# -- freeze / free ---------------------------------------------------------------

def test_freeze_front(sockpair):
    b = Evbuffer()
    b.add(b"abc\n")
    b.freeze(True)
    for call in (lambda: b.drain(1), lambda: b.remove(1), lambda: b.prepend(b"x"),
                 lambda: b.readln(EVBUFFER_EOL_LF), lambda: b.write(sockpair[0]),
                 lambda: b.remove_buffer(Evbuffer(), 1),
                 lambda: Evbuffer().add_buffer(b), lambda: b.prepend_buffer(make(b"q"))):
        with pytest.raises(RuntimeError, match="front"):
            call()
        ok(b)
    b.add(b"tail")                             # the back still works
    with pytest.raises(RuntimeError, match="front"):
        b.copyout(100)                         # libevent's copyout honours the front freeze too
    b.unfreeze(True)
    assert b.copyout(100) == b"abc\ntail"
    assert b.readln(EVBUFFER_EOL_LF) == b"abc"
    ok(b)


def test_freeze_back(sockpair):
    b = Evbuffer()
    b.add(b"abc")
    b.reserve_space(10)
    b.freeze(False)
    sockpair[1].send(b"zz")
    for call in (lambda: b.add(b"x"), lambda: b.add_printf("x"),
                 lambda: b.add_reference(b"x"), lambda: b.add_buffer(make(b"q")),
                 lambda: make(b"q").remove_buffer(b, 1), lambda: b.read(sockpair[0]),
                 lambda: b.reserve_space(1), lambda: b.commit_space(0)):
        with pytest.raises(RuntimeError, match="back"):
            call()
        ok(b)
    b.prepend(b">")                            # the front still works
    b.drain(1)
    assert bytes(ok(b)) == b"abc"
    b.unfreeze(False)
    b.add(b"d")
    assert bytes(ok(b)) == b"abcd"


def test_free():
    log = []
    b = Evbuffer()
    b.add_cb(record(log))
    b.add(b"abc")
    b.free()
    assert b.freed and len(b) == 0 and bytes(b) == b""
    assert len(log) == 1                       # no callback on free
    with pytest.raises(RuntimeError, match="freed"):
        b.add(b"x")
    with pytest.raises(RuntimeError, match="freed"):
        b.drain(1)
    with pytest.raises(RuntimeError, match="freed"):
        b.freeze(True)
    with pytest.raises(RuntimeError, match="freed"):
        b.add_cb(record(log))
    assert "freed" in repr(b)
    b.free()
    ok(b)


# -- buffer protocol and conversions --------------------------------------------

def test_buffer_protocol_only_while_one_chunk():
    b = Evbuffer()
    assert bytes(memoryview(b)) == b""
    b.add(b"abc")
    m = memoryview(b)
    assert bytes(m) == b"abc" and m.readonly
    b.drain(3)                                 # memory pinned by the export
    ok(b)
    m.release()
    c = make(b"ab", b"cd")
    with pytest.raises(BufferError, match="pullup"):
        memoryview(c)
    c.pullup()
    assert bytes(memoryview(c)) == b"abcd"
    assert b"-".join([b"x", c]) == b"x-abcd"


# -- read / write ------------------------------------------------------------------

def test_read_and_eof(sockpair):
    a, s = sockpair
    s.sendall(b"hello world")
    b = Evbuffer()
    assert b.read(a) == 11
    ok(b)
    assert bytes(b) == b"hello world"
    with pytest.raises(BlockingIOError):
        b.read(a.fileno())
    ok(b)
    s.sendall(b"x" * 10000)
    assert b.read(a, 3) == 3
    ok(b)
    n = b.read(a, -1)                          # FIONREAD, capped at max_read
    assert n == 4096
    n += b.read(a, 100000)
    assert n == 9997 and len(b) == 11 + 10000
    ok(b)
    s.shutdown(socket.SHUT_WR)
    assert b.read(a) == 0
    assert b.read(a, 0) == 0
    assert bytes(ok(b)) == b"hello world" + b"x" * 10000


def test_read_errors(sockpair):
    b = Evbuffer()
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError) as ei:
        b.read(r)
    assert ei.value.errno == 9                  # EBADF
    with pytest.raises(OSError) as ei:
        b.write(r)                               # nothing to write: no syscall
        b.add(b"x")
        b.write(r)
    assert ei.value.errno == 9
    assert len(ok(b)) == 1
    with pytest.raises(TypeError, match="fd"):
        b.read("3")
    with pytest.raises(ValueError, match="howmuch"):
        b.read(sockpair[0], -2)
    with pytest.raises(ValueError, match="howmuch"):
        b.write_atmost(sockpair[0], -3)


def test_set_max_read(sockpair):
    a, s = sockpair
    b = Evbuffer()
    assert b.get_max_read() == 4096
    b.set_max_read(10)
    s.sendall(b"y" * 100)
    assert b.read(a) == 10
    with pytest.raises(ValueError, match="n"):
        b.set_max_read(0)
    ok(b)


def test_write_and_write_atmost(sockpair):
    a, s = sockpair
    b = make(b"abc", b"defg", b"hij")
    assert b.write_atmost(a, 5) == 5
    ok(b)
    assert bytes(b) == b"fghij"
    assert b.write(a) == 5
    assert len(ok(b)) == 0
    assert b.write(a) == 0
    assert s.recv(100) == b"abcdefghij"


def test_write_gathers_at_most_64_chunks(sockpair):
    a, s = sockpair
    b = make(*[bytes([65 + i % 26]) * 10 for i in range(100)])
    assert b.write(a) == 640
    ok(b)
    assert len(b) == 360
    assert s.recv(1000) == b"".join(bytes([65 + i % 26]) * 10 for i in range(64))


def test_write_until_eagain_then_read_back(sockpair):
    a, s = sockpair
    b = Evbuffer()
    b.add(os.urandom(1 << 20))
    copy = bytes(b)
    sent = 0
    with pytest.raises(BlockingIOError):
        while True:
            sent += b.write(a)
            ok(b)
    assert len(b) == len(copy) - sent
    got = Evbuffer()
    while len(got) < sent:
        got.read(s, 65536)
        ok(got)
    assert bytes(got) == copy[:sent]


def test_read_runs_callbacks(sockpair):
    a, s = sockpair
    log = []
    b = Evbuffer()
    b.add(b"12")
    b.add_cb(record(log), "r")
    s.sendall(b"abc")
    b.read(a)
    assert log == [("r", 2, 3, 0)]
    b.write(a)
    assert log[-1] == ("r", 5, 0, 5)
    ok(b)
