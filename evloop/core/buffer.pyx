# Evbuffer: libevent's struct evbuffer (buffer.c), the byte queue that
# bufferevents and the asyncio transports read into and write from.
#
# The OS facts first.  read()/readv() fill memory the caller provides, and
# writev() sends up to IOV_MAX separate extents in one system call.  A
# socket hands data over in pieces whose sizes the kernel and the peer
# decide, and accepts only part of a write when its send buffer is full.
# So a network buffer is appended to at the back in arbitrary pieces,
# consumed from the front in other pieces, and must never be re-copied as a
# whole to do either.
#
# What that means for the code.  An Evbuffer is a singly linked chain of
# chunks (libevent's evbuffer_chain).  A memory chunk is one malloc block:
# the Chunk header, then `cap` bytes of which `off` bytes of data start
# `misalign` bytes in.  Draining advances misalign and frees chunks that
# empty out; adding fills the free space of the last chunk with data and
# then allocates a new chunk (sizes double up to CHUNK_MAX_AUTO, as
# libevent's evbuffer_add does).  A reference chunk points into the buffer
# a Python object exports (add_reference, and add() of a large `bytes`,
# which is immutable, so no copy is needed at all); it is never written to.
# Moving data between buffers (add_buffer, prepend_buffer, remove_buffer)
# relinks chunks instead of copying bytes.  read() reserves free space at
# the tail (the last chunk's spare room plus one new chunk) and fills it
# with a single readv(); write() gathers up to 64 chunks into one writev().
#
# Memory safety.  libevent hands out raw pointers (peek, pullup,
# reserve_space) that a later modification silently invalidates.  Python
# code must not be able to crash the interpreter that way, so every
# memoryview we hand out is exported by an _Extent object that holds a
# reference on its chunk (Chunk.refcnt): the chain is one owner, each view
# another, and the memory is freed when the last owner lets go.  A view
# may therefore show stale bytes after a modification (as libevent
# documents for its pointers) but never freed memory.  The same pin keeps a
# chunk alive while read()/write() run their syscall with the GIL
# released; Evbuffer.gen, bumped by every change, tells them (and
# EvbufferPtr caches, and reservations) whether another thread changed the
# buffer meanwhile.
#
# Invariants (checked by _validate(), libevent's evbuffer_validate_): the
# sum of the chunks' `off` is total_len; every chunk before last_with_data
# holds data, and at most one empty chunk (spare room from expand,
# reserve_space, read, or a drained chunk kept for reuse) follows it.
#
# Callbacks (evbuffer_run_callbacks): each modification adds to
# n_add_for_cb / n_del_for_cb, and the callbacks run when it completes,
# with {orig_size, n_added, n_deleted}; after defer_callbacks(base) they
# run from that base's loop instead, the counts of a whole burst coalesced.
# Cleanups of reference chunks and the callbacks run only once the chain is
# consistent again, so that they may themselves use the buffer.


# The constants of include/event2/buffer.h (C enum in core/buffer_chunk.pyx).
EVBUFFER_EOL_ANY = C_EVBUFFER_EOL_ANY
EVBUFFER_EOL_CRLF = C_EVBUFFER_EOL_CRLF
EVBUFFER_EOL_CRLF_STRICT = C_EVBUFFER_EOL_CRLF_STRICT
EVBUFFER_EOL_LF = C_EVBUFFER_EOL_LF
EVBUFFER_EOL_NUL = C_EVBUFFER_EOL_NUL
EVBUFFER_PTR_SET = C_EVBUFFER_PTR_SET
EVBUFFER_PTR_ADD = C_EVBUFFER_PTR_ADD
EVBUFFER_CB_ENABLED = C_EVBUFFER_CB_ENABLED


# -- public helper objects ----------------------------------------------------

@cython.final
cdef class EvbufferCbInfo:
    """struct evbuffer_cb_info: the length before the changes being
    reported, and the bytes added and removed since."""

    def __repr__(self):
        return (f"EvbufferCbInfo(orig_size={self.orig_size}, "
                f"n_added={self.n_added}, n_deleted={self.n_deleted})")


@cython.final
cdef class EvbufferCbEntry:
    """struct evbuffer_cb_entry: returned by Evbuffer.add_cb(); pass it to
    remove_cb_entry(), cb_set_flags() and cb_clear_flags()."""

    def __repr__(self):
        return (f"<EvbufferCbEntry cb={self.cb!r} flags={self.flags:#x}"
                f"{' removed' if self.removed else ''}>")


@cython.final
cdef class EvbufferPtr:
    """struct evbuffer_ptr: a position in an Evbuffer (``pos``; -1 when a
    search found nothing).

    ``EvbufferPtr(pos=-1)`` makes one; Evbuffer.ptr_set() moves it, and
    search()/search_range()/search_eol() return them.  A pointer is a
    position: after the buffer changes it still names the same offset
    (libevent's pointers become invalid instead); it just costs a walk of
    the chain to find its chunk again.
    """

    def __cinit__(self):
        self.pos = -1
        self.buf = None
        self.chunk = NULL
        self.in_chunk = 0

    def __init__(self, pos=-1):
        cdef Py_ssize_t p = size_arg(pos, "pos", True)
        # A second __init__ moves the pointer: forget the chunk cached for
        # the old position, or the next use would start there.
        self.buf = None
        self.chunk = NULL
        self.in_chunk = 0
        self.pos = p

    def __repr__(self):
        return f"EvbufferPtr(pos={self.pos})"


cdef EvbufferPtr make_ptr(Evbuffer buf, Py_ssize_t pos, Chunk *c,
                          Py_ssize_t in_chunk):
    cdef EvbufferPtr p = EvbufferPtr.__new__(EvbufferPtr)
    p.pos = pos
    if pos >= 0:
        p.buf = buf
        p.gen = buf.gen
        p.chunk = c
        p.in_chunk = in_chunk
    return p


cdef void call_cleanup_unraisable(object cb, object data, object arg) noexcept:
    # Called from __dealloc__: an exception can only be reported.
    cb(data, arg)


# -- the buffer ---------------------------------------------------------------

@cython.final
cdef class Evbuffer:
    """struct evbuffer: a queue of bytes made of a chain of chunks.

    ``Evbuffer()`` is evbuffer_new().  Data is added at the back (add,
    add_buffer, add_reference, add_printf, read) and taken from the front
    (remove, remove_buffer, drain, readln, write); prepend/prepend_buffer
    add at the front.  Moves between buffers relink chunks instead of
    copying; large ``bytes`` given to add() and anything given to
    add_reference() are referenced, not copied.

    Errors: TypeError/ValueError name the bad argument; a change refused
    because the buffer is frozen or freed raises RuntimeError (libevent
    returns -1); system calls raise OSError with errno.

    Differences from libevent: no locking (the GIL serialises Python
    callers; see read() for threads); views handed out are memory-safe
    (see peek()); EvbufferPtr keeps its position across changes.

    See also: Bufferevent, which owns an input and an output Evbuffer.
    """

    def __cinit__(self):
        self.first = self.last = self.last_with_data = NULL
        self.callbacks = []
        self.max_read = MAX_READ_DEFAULT

    def __dealloc__(self):
        cdef Chunk *c = self.first
        cdef Chunk *nxt
        self.first = self.last = self.last_with_data = NULL
        while c is not NULL:
            nxt = c.next
            if c.cleanup is not NULL:
                call_cleanup_unraisable(<object>c.cleanup, <object>c.data,
                                        <object>c.cleanup_arg)
            chunk_decref(c)
            c = nxt

    # -- chain maintenance (no accounting, no callbacks) -------------------

    cdef void _link_chain(self, Chunk *head, Chunk *tail, Chunk *tail_data) noexcept:
        """Append head..tail after the last data chunk, dropping the spare
        empty chunk (evbuffer_chain_insert / APPEND_CHAIN, which free the
        trailing empty chains).  tail_data: the last chunk with data in the
        new part, or NULL."""
        cdef Chunk *e
        cdef Chunk *nxt
        if self.last_with_data is NULL:
            e = self.first
            self.first = head
        else:
            e = self.last_with_data.next
            self.last_with_data.next = head
        while e is not NULL:           # empty chunks have no cleanup to run
            nxt = e.next
            chunk_decref(e)
            e = nxt
        tail.next = NULL
        self.last = tail
        if tail_data is not NULL:
            self.last_with_data = tail_data

    cdef Chunk *_tail_chunk(self, Py_ssize_t need, Py_ssize_t alloc) except NULL:
        """The spare empty chunk at the end, made to hold at least ``need``
        bytes: reused if big enough, else replaced by a new chunk of
        ``alloc`` (>= need) bytes."""
        cdef Chunk *e = self.last
        if e is not NULL and e is not self.last_with_data \
                and not (e.flags & CHUNK_IMMUTABLE) and e.cap >= need:
            e.misalign = 0
            return e
        e = chunk_new(alloc if alloc > need else need)
        self._link_chain(e, e, NULL)
        return e

    cdef int _append(self, const char *data, Py_ssize_t n) except -1:
        """evbuffer_add's copy: fill the last data chunk's free space
        (realigning it if that is cheap), put the rest in the next chunk."""
        cdef Chunk *c = self.last_with_data
        cdef Chunk *e
        cdef Py_ssize_t k = 0, prev_cap = 0, alloc
        if c is not NULL:
            prev_cap = c.cap
            if not (c.flags & CHUNK_IMMUTABLE):
                k = c.cap - c.misalign - c.off
                if k >= n:
                    memcpy(c.buf + c.misalign + c.off, data, n)
                    c.off += n
                    return 0
                if should_realign(c, n):
                    chunk_align(c)
                    memcpy(c.buf + c.off, data, n)
                    c.off += n
                    return 0
        # Blocks (header included) double up to CHUNK_MAX_AUTO, or fit the data.
        if prev_cap + <Py_ssize_t>sizeof(Chunk) >= CHUNK_MAX_AUTO // 2:
            alloc = CHUNK_MAX_AUTO - sizeof(Chunk)
        else:
            alloc = 2 * (prev_cap + <Py_ssize_t>sizeof(Chunk)) - sizeof(Chunk)
        if alloc < n - k:
            alloc = n - k
        e = self._tail_chunk(n - k, alloc)      # may raise: nothing copied yet
        if k > 0:
            memcpy(c.buf + c.misalign + c.off, data, k)
            c.off += k
        memcpy(e.buf, data + k, n - k)
        e.off = n - k
        self.last_with_data = e
        return 0

    cdef int _drop(self, Chunk *c) except -1:
        """Let go of a chunk leaving the chain; its add_reference cleanup
        is queued to run when the operation completes."""
        cdef object entry
        if c.cleanup is not NULL:
            entry = (<object>c.cleanup, <object>c.data, <object>c.cleanup_arg)
            Py_XDECREF(c.cleanup)
            Py_XDECREF(c.cleanup_arg)
            c.cleanup = c.cleanup_arg = NULL
            if self.cleanups is None:
                self.cleanups = [entry]
            else:
                self.cleanups.append(entry)
        chunk_decref(c)
        return 0

    cdef int _drop_all(self, bint keep_one) except -1:
        """Empty the chain.  With keep_one, an unshared memory chunk at the
        end is kept as spare room, so that a buffer drained and refilled
        (a transport's output) does not malloc each time."""
        cdef Chunk *c = self.first
        cdef Chunk *nxt
        cdef Chunk *keep = self.last
        if not (keep_one and keep is not NULL and keep.refcnt == 1
                and not (keep.flags & CHUNK_IMMUTABLE) and keep.cap <= CHUNK_MAX_AUTO):
            keep = NULL
        self.first = self.last = self.last_with_data = NULL
        while c is not NULL:
            nxt = c.next
            if c is not keep:
                self._drop(c)
            c = nxt
        if keep is not NULL:
            keep.next = NULL
            keep.misalign = keep.off = 0
            self.first = self.last = keep
        return 0

    cdef int _drain_chunks(self, Py_ssize_t n) except -1:
        """evbuffer_drain's chain work: 0 < n <= total_len."""
        cdef Chunk *c
        cdef Chunk *nxt
        if n >= self.total_len:
            return self._drop_all(True)
        c = self.first
        while n >= c.off:               # n < total_len: c always holds data
            n -= c.off
            nxt = c.next
            self.first = nxt
            self._drop(c)
            c = nxt
        c.misalign += n
        c.off -= n
        return 0

    cdef int _reserve_into(self, Py_ssize_t size, int nvec, Chunk **chunks,
                           Py_ssize_t *spaces) except -1:
        """Room for ``size`` bytes at the back, in at most ``nvec`` (1 or 2)
        extents: the last data chunk's free space, and/or the spare chunk
        (evbuffer_expand_singlechain for 1, evbuffer_expand_fast_ for 2).
        Returns the number of extents; ``spaces`` may exceed size."""
        cdef Chunk *c = self.last_with_data
        cdef Chunk *e
        cdef Py_ssize_t s
        self.gen += 1
        if c is not NULL and not (c.flags & CHUNK_IMMUTABLE):
            s = c.cap - c.misalign - c.off
            if s >= size:
                chunks[0] = c
                spaces[0] = s
                return 1
            if should_realign(c, size):
                chunk_align(c)
                chunks[0] = c
                spaces[0] = c.cap - c.off
                return 1
            if nvec >= 2 and s > 0:
                e = self._tail_chunk(size - s, size - s)
                chunks[0] = c
                spaces[0] = s
                chunks[1] = e
                spaces[1] = e.cap
                return 2
        e = self._tail_chunk(size, size)
        chunks[0] = e
        spaces[0] = e.cap
        return 1

    cdef int _commit_into(self, Chunk **chunks, Py_ssize_t *spaces, int nvec,
                          Py_ssize_t n) except -1:
        """Turn the first n reserved bytes into data (evbuffer_commit_space)."""
        cdef int i
        cdef Py_ssize_t k
        for i in range(nvec):
            if n <= 0:
                break
            k = spaces[i] if spaces[i] < n else n
            chunks[i].off += k
            self.last_with_data = chunks[i]
            self.total_len += k
            self.n_add_for_cb += k
            n -= k
        self.gen += 1
        return 0

    cdef Chunk *_locate(self, Py_ssize_t pos, Py_ssize_t *in_chunk) noexcept:
        """The chunk holding byte ``pos`` (NULL at the end), as
        evbuffer_ptr_set walks it; pos <= total_len."""
        cdef Chunk *c = self.first
        while c is not NULL and pos >= c.off:
            pos -= c.off
            c = c.next
        in_chunk[0] = pos if c is not NULL else 0
        return c

    cdef Py_ssize_t _pos_arg(self, object start, str name, Chunk **pc,
                             Py_ssize_t *pin) except -2:
        """A start/end argument: None (the front), an int or an
        EvbufferPtr; returns its position and finds its chunk."""
        cdef EvbufferPtr p
        cdef Py_ssize_t pos
        if start is None:
            pc[0] = self._locate(0, pin)
            return 0
        if isinstance(start, EvbufferPtr):
            p = <EvbufferPtr>start
            if p.pos < 0:
                raise ValueError(f"{name} is an unset EvbufferPtr (pos == -1)")
            if p.pos > self.total_len:
                raise ValueError(f"{name} ({p.pos}) is past the end of the buffer "
                                 f"({self.total_len} bytes)")
            if p.buf is self and p.gen == self.gen:
                pc[0] = p.chunk
                pin[0] = p.in_chunk
                return p.pos
            pos = p.pos
        elif PyIndex_Check(start) and not isinstance(start, bool):
            pos = index_clamped(start, NULL)
            if pos < 0:
                raise ValueError(f"{name} must be >= 0, got {start}")
            if pos > self.total_len:
                raise ValueError(f"{name} ({pos}) is past the end of the buffer "
                                 f"({self.total_len} bytes)")
        else:
            raise TypeError(f"{name} must be an EvbufferPtr, an int or None, "
                            f"not {type(start).__name__}")
        pc[0] = self._locate(pos, pin)
        return pos

    # -- accounting epilogue ----------------------------------------------

    cdef int _raise_frozen(self, bint front) except -1:
        if (self.freeze_start | self.freeze_end) & FROZEN_FREED:
            raise RuntimeError("the Evbuffer was freed")
        raise RuntimeError(f"the {'front' if front else 'back'} of the Evbuffer "
                           f"is frozen (freeze({front}))")

    cdef int _run_cleanups(self) except -1:
        """Run the queued add_reference cleanups; the first exception
        propagates after all ran."""
        cdef list todo = self.cleanups
        exc = None
        self.cleanups = None
        for cb, data, arg in todo:
            try:
                cb(data, arg)
            except BaseException as e:
                if exc is None:
                    exc = e
        if exc is not None:
            raise exc
        return 0

    cdef int _done(self) except -1:
        """End of a modification: cleanups, then callbacks
        (evbuffer_invoke_callbacks_)."""
        if self.cleanups is None:
            if not self.callbacks:
                self.n_add_for_cb = self.n_del_for_cb = 0
                return 0
            return self._invoke_callbacks()
        try:
            self._run_cleanups()
        finally:
            if self.callbacks:
                self._invoke_callbacks()
            else:
                self.n_add_for_cb = self.n_del_for_cb = 0
        return 0

    cdef int _invoke_callbacks(self) except -1:
        """evbuffer_invoke_callbacks_: schedule the deferred run, then run
        what must run now."""
        cdef Event ev = self.deferred_ev
        cdef EventBase base
        if ev is not None:
            base = ev.base
            if base is None or base.freed:
                # The loop is gone: nothing would ever run them later.
                self.deferred_ev = None
            else:
                if not (ev.flags & (C_EVLIST_ACTIVE | C_EVLIST_ACTIVE_LATER)):
                    # libevent queues deferred callbacks at the middle
                    # priority; recomputed in case priority_init changed it.
                    ev.pri = base.nqueues // 2
                event_active_nolock(base, ev, C_EV_TIMEOUT, 1)
        return self._run_callbacks(False)

    cdef int _run_callbacks(self, bint running_deferred) except -1:
        """evbuffer_run_callbacks.  Synchronously (not deferred) the enabled
        callbacks run and the counts reset; with deferral only NODEFER ones
        run now and the counts stay for the deferred run."""
        cdef int mask, want
        cdef bint clear = True
        cdef EvbufferCbEntry entry
        cdef EvbufferCbInfo info = None
        cdef Py_ssize_t orig, added, deleted
        if running_deferred:
            mask = C_EVBUFFER_CB_NODEFER | C_EVBUFFER_CB_ENABLED
            want = C_EVBUFFER_CB_ENABLED
        elif self.deferred_ev is not None:
            mask = C_EVBUFFER_CB_NODEFER | C_EVBUFFER_CB_ENABLED
            want = C_EVBUFFER_CB_NODEFER | C_EVBUFFER_CB_ENABLED
            clear = False
        else:
            mask = want = C_EVBUFFER_CB_ENABLED
        if not self.callbacks:
            self.n_add_for_cb = self.n_del_for_cb = 0
            return 0
        added = self.n_add_for_cb
        deleted = self.n_del_for_cb
        if added == 0 and deleted == 0:
            return 0
        orig = self.total_len + deleted - added
        if clear:
            self.n_add_for_cb = self.n_del_for_cb = 0
        exc = None
        # A snapshot: a callback may remove entries (its own or others').
        for entry in list(self.callbacks):
            if entry.removed or (entry.flags & mask) != want:
                continue
            try:
                if entry.c_cb is not NULL:
                    entry.c_cb(self, orig, added, deleted, entry.arg)
                else:
                    if info is None:
                        info = EvbufferCbInfo.__new__(EvbufferCbInfo)
                        info.orig_size = orig
                        info.n_added = added
                        info.n_deleted = deleted
                    entry.cb(self, info, entry.arg)
            except BaseException as e:
                if exc is None:
                    exc = e
        if exc is not None:
            raise exc
        return 0

    def _deferred_cb(self, fd, what, arg):
        # evbuffer_deferred_callback: the internal event fired.
        self._run_callbacks(True)

    # -- C-level operations ------------------------------------------------

    cdef int _add(self, const char *data, Py_ssize_t n) except -1:
        """evbuffer_add: copy n bytes to the back."""
        if self.freeze_end:
            self._raise_frozen(False)
        if n <= 0:
            return 0
        self._append(data, n)
        self.total_len += n
        self.n_add_for_cb += n
        self.gen += 1
        return self._done()

    cdef int _add_object(self, object data) except -1:
        """add() of any bytes-like object; a large bytes that does not fit
        the free space at the back is referenced instead of copied."""
        cdef Py_buffer view
        cdef Py_ssize_t n
        cdef Chunk *c
        if type(data) is bytes:
            n = PyBytes_GET_SIZE(data)
            if n >= ADD_REF_MIN:
                c = self.last_with_data
                if c is NULL or chunk_space(c) < n:
                    return self._add_ref(data, None, None)
            return self._add(PyBytes_AS_STRING(data), n)
        if isinstance(data, Evbuffer):
            data = bytes(data)
            return self._add(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        try:
            get_view(data, "data", &view)
        except BufferError:
            data = memoryview(data).tobytes()     # not contiguous: copy first
            return self._add(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        try:
            self._add(<char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return 0

    cdef int _add_ref(self, object data, object cleanup, object arg) except -1:
        """evbuffer_add_reference: link data's buffer as a chunk."""
        cdef Chunk *c
        if self.freeze_end:
            self._raise_frozen(False)     # cleanup not called (as libevent)
        c = chunk_new_ref(data)
        if cleanup is not None:
            c.cleanup = <PyObject *>cleanup
            c.cleanup_arg = <PyObject *>arg
            Py_INCREF(cleanup)
            Py_INCREF(arg)
        if c.off == 0:
            # Nothing to hold: the "last byte" is gone at once.
            self._drop(c)
            return self._done()
        self._link_chain(c, c, c)
        self.total_len += c.off
        self.n_add_for_cb += c.off
        self.gen += 1
        return self._done()

    cdef int _add_buffer(self, Evbuffer src) except -1:
        """evbuffer_add_buffer: move all of src to our back."""
        cdef Py_ssize_t n = src.total_len
        cdef Chunk *c
        cdef Chunk *d = self.last_with_data
        if (self.freeze_end | src.freeze_start) & FROZEN_FREED:
            (self if self.freeze_end & FROZEN_FREED else src)._raise_frozen(False)
        # libevent checks for nothing to move before the freezes.
        if src is self or n == 0:
            return 0
        if self.freeze_end:
            self._raise_frozen(False)
        if src.freeze_start:
            src._raise_frozen(True)
        if n <= ADD_BUFFER_COPY_MAX and d is not NULL and chunk_space(d) >= n:
            # A few bytes fit where we are: copying beats fragmenting.
            c = src.first
            while c is not NULL:
                if c.off:
                    memcpy(d.buf + d.misalign + d.off, c.buf + c.misalign, c.off)
                    d.off += c.off
                c = c.next
            src._drop_all(True)
        else:
            self._link_chain(src.first, src.last, src.last_with_data)
            src.first = src.last = src.last_with_data = NULL
        return self._moved_all_from(src, n)

    cdef int _prepend(self, const char *data, Py_ssize_t n) except -1:
        """evbuffer_prepend: copy n bytes to the front, into the first
        chunk's misalign room first, then into a new chunk filled from its
        end (so that further prepends fit in front of it)."""
        cdef Chunk *c = self.first
        cdef Chunk *h = NULL
        cdef Py_ssize_t k = 0
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(True)
        if n <= 0:
            return 0            # evbuffer_prepend: nothing to do comes first
        if self.freeze_start:
            self._raise_frozen(True)
        if c is not NULL and not (c.flags & CHUNK_IMMUTABLE) and c.off == 0 \
                and c.cap >= n:
            # The spare chunk of an empty buffer.
            c.misalign = c.cap - n
            memcpy(c.buf + c.misalign, data, n)
            c.off = n
            self.last_with_data = c
        else:
            if c is not NULL and not (c.flags & CHUNK_IMMUTABLE) and c.off > 0:
                k = c.misalign if c.misalign < n else n
            if k < n:
                h = chunk_new(n - k)        # may raise: nothing copied yet
            if k:
                c.misalign -= k
                memcpy(c.buf + c.misalign, data + n - k, k)
                c.off += k
            if h is not NULL:
                h.misalign = h.cap - (n - k)
                memcpy(h.buf + h.misalign, data, n - k)
                h.off = n - k
                h.next = self.first
                self.first = h
                if self.last is NULL:
                    self.last = h
                if self.last_with_data is NULL:
                    self.last_with_data = h
        self.total_len += n
        self.n_add_for_cb += n
        self.gen += 1
        return self._done()

    cdef int _prepend_buffer(self, Evbuffer src) except -1:
        """evbuffer_prepend_buffer: move all of src to our front."""
        cdef Py_ssize_t n = src.total_len
        cdef Chunk *e
        if src is self:
            return 0
        if self.freeze_start:
            self._raise_frozen(True)
        if src.freeze_start:
            src._raise_frozen(True)
        if n == 0:
            return 0
        # src's spare chunk stays behind: only its data chunks move.
        e = src.last_with_data.next
        if e is not NULL:
            chunk_decref(e)
        src.last_with_data.next = self.first
        if self.last_with_data is NULL:
            # We hold no data: at most a spare chunk, which stays last.
            if self.first is NULL:
                self.last = src.last_with_data
            self.last_with_data = src.last_with_data
        self.first = src.first
        src.first = src.last = src.last_with_data = NULL
        return self._moved_all_from(src, n)

    cdef int _moved_all_from(self, Evbuffer src, Py_ssize_t n) except -1:
        """Bookkeeping after all n bytes of src were relinked into self
        (add_buffer, prepend_buffer): lengths, callback counters,
        generations, then both buffers' callbacks."""
        src.total_len = 0
        src.n_del_for_cb += n
        src.gen += 1
        self.total_len += n
        self.n_add_for_cb += n
        self.gen += 1
        try:
            src._done()
        finally:
            self._done()
        return 0

    cdef int _drain(self, Py_ssize_t n) except -1:
        """evbuffer_drain: remove min(n, length) bytes from the front."""
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(True)
        if self.total_len == 0:
            return 0            # libevent: draining an empty buffer succeeds, frozen or not
        if self.freeze_start:
            self._raise_frozen(True)
        if n > self.total_len:
            n = self.total_len
        if n <= 0:
            return 0
        self._drain_chunks(n)
        self.total_len -= n
        self.n_del_for_cb += n
        self.gen += 1
        return self._done()

    cdef bytes _copyout(self, Chunk *c, Py_ssize_t in_chunk, Py_ssize_t n):
        """evbuffer_copyout_from: n bytes from (c, in_chunk); the caller
        clamps n to what is there.  A whole referenced bytes object is
        returned as is."""
        cdef bytes out
        cdef char *dst
        cdef Py_ssize_t k
        if n <= 0:
            return b""
        if c.off - in_chunk >= n:
            if (c.flags & CHUNK_REFERENCE) and in_chunk == 0 and c.misalign == 0 \
                    and n == c.cap and type(<object>c.data) is bytes:
                return <bytes>c.data
            return PyBytes_FromStringAndSize(c.buf + c.misalign + in_chunk, n)
        out = PyBytes_FromStringAndSize(NULL, n)
        dst = PyBytes_AS_STRING(out)
        while n > 0:
            k = c.off - in_chunk
            if k > n:
                k = n
            memcpy(dst, c.buf + c.misalign + in_chunk, k)
            dst += k
            n -= k
            c = c.next
            in_chunk = 0
        return out

    cdef bytes _remove(self, Py_ssize_t n):
        """evbuffer_remove: copy out, then drain."""
        cdef bytes data
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(True)
        if n > self.total_len:
            n = self.total_len
        if n <= 0:
            return b""
        if self.freeze_start:
            self._raise_frozen(True)
        data = self._copyout(self.first, 0, n)
        self._drain(n)
        return data

    cdef Py_ssize_t _remove_buffer(self, Evbuffer dst, Py_ssize_t n) except -1:
        """evbuffer_remove_buffer: move up to n bytes to dst's back; whole
        chunks are relinked, the last partial one is copied."""
        cdef Chunk *head
        cdef Chunk *c
        cdef Chunk *prev = NULL
        cdef Py_ssize_t moved = 0, rem
        if dst is self:
            raise ValueError("dst must not be the source buffer itself")
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(True)
        if dst.freeze_end & FROZEN_FREED:
            dst._raise_frozen(False)
        if n <= 0:
            return 0            # evbuffer_remove_buffer: before the freezes
        if self.freeze_start:
            self._raise_frozen(True)
        if dst.freeze_end:
            dst._raise_frozen(False)
        if n > self.total_len:
            n = self.total_len
        if n <= 0:
            return 0
        if n == self.total_len:
            dst._add_buffer(self)           # libevent does the same
            return n
        head = c = self.first
        while c.off <= n - moved:           # n < total_len: c holds data
            moved += c.off
            prev = c
            c = c.next
        if prev is not NULL:
            self.first = c
            dst._link_chain(head, prev, prev)
            self.total_len -= moved
            self.n_del_for_cb += moved
            dst.total_len += moved
            dst.n_add_for_cb += moved
        rem = n - moved
        self.gen += 1
        dst.gen += 1
        if rem > 0:
            dst._append(c.buf + c.misalign, rem)
            c.misalign += rem
            c.off -= rem
            self.total_len -= rem
            self.n_del_for_cb += rem
            dst.total_len += rem
            dst.n_add_for_cb += rem
        try:
            dst._done()
        finally:
            self._done()
        return n

    cdef char *_pullup(self, Py_ssize_t n) except? NULL:
        """evbuffer_pullup: make the first n bytes contiguous (0 <= n); NULL
        if the buffer is shorter.  Cleanups of references it consumed stay
        queued until the next _done()/_run_cleanups()."""
        cdef Chunk *c = self.first
        cdef Chunk *tmp
        cdef Chunk *nxt
        cdef Py_ssize_t need, k
        if n > self.total_len:
            return NULL
        if n == 0:
            return &EMPTY_BYTE
        if c.off >= n:
            return c.buf + c.misalign
        self.gen += 1
        if c.refcnt == 1 and not (c.flags & CHUNK_IMMUTABLE) and c.cap >= n:
            # Room in the first chunk (after moving its data to the front).
            if c.cap - c.misalign < n:
                chunk_align(c)
            tmp = c
            c = c.next
        else:
            tmp = chunk_new(n)
            memcpy(tmp.buf, c.buf + c.misalign, c.off)
            tmp.off = c.off
            nxt = c.next
            self.first = tmp
            tmp.next = nxt
            self._drop(c)
            c = nxt
        need = n - tmp.off
        while need > 0:                     # n <= total_len: c holds data
            k = c.off if c.off < need else need
            memcpy(tmp.buf + tmp.misalign + tmp.off, c.buf + c.misalign, k)
            tmp.off += k
            need -= k
            if k == c.off:
                nxt = c.next
                tmp.next = nxt
                self._drop(c)
                c = nxt
            else:
                c.misalign += k
                c.off -= k
        tmp.next = c
        self.first = tmp
        if c is NULL:
            self.last = tmp
        if c is NULL or c.off == 0:
            self.last_with_data = tmp
        return tmp.buf + tmp.misalign

    cdef object _readln(self, int style):
        """evbuffer_readln: the line without its terminator, or None."""
        cdef Chunk *c = self.first
        cdef Py_ssize_t in_chunk = 0, eol_len = 0, pos
        cdef bytes line
        if self.freeze_start:
            self._raise_frozen(True)
        pos = self._search_eol(0, &c, &in_chunk, style, &eol_len)
        if pos < 0:
            return None
        line = self._copyout(self.first, 0, pos)
        # libevent removes the line, then drains the terminator: the
        # callbacks run for each.
        try:
            self._drain(pos)
        finally:
            self._drain(eol_len)
        return line

    cdef Py_ssize_t _search(self, const char *what, Py_ssize_t wlen,
                            Py_ssize_t pos, Chunk **pc, Py_ssize_t *pin,
                            Py_ssize_t end) except -2:
        """evbuffer_search_range: the first match at or after pos (whose
        chunk is *pc, offset *pin) that ends by ``end``, or -1.  On success
        *pc/*pin locate the match.  An empty needle matches at pos."""
        cdef Chunk *c = pc[0]
        cdef Py_ssize_t i = pin[0], j, mpos
        cdef char *data
        cdef char *p
        if wlen == 0:
            return pos
        if end - pos < wlen:
            return -1
        while c is not NULL:
            data = c.buf + c.misalign
            if c.off - i >= wlen:
                # Matches inside this chunk: memmem (two-way, vectorised).
                p = <char *>memmem(data + i, c.off - i, what, wlen)
                if p is not NULL:
                    mpos = pos + (p - data - i)
                    if mpos + wlen > end:
                        return -1
                    pc[0] = c
                    pin[0] = p - data
                    return mpos
                j = c.off - wlen + 1
            else:
                j = i
            # Matches that start here and continue in the next chunks.
            while j < c.off:
                p = <char *>memchr(data + j, what[0], c.off - j)
                if p is NULL:
                    break
                j = p - data
                mpos = pos + (j - i)
                if mpos + wlen > end:
                    return -1
                if chunk_match(c, j, what, wlen):
                    pc[0] = c
                    pin[0] = j
                    return mpos
                j += 1
            pos += c.off - i
            if pos + wlen > end:
                return -1
            c = c.next
            i = 0
        return -1

    cdef Py_ssize_t _search_eol(self, Py_ssize_t pos, Chunk **pc,
                                Py_ssize_t *pin, int style,
                                Py_ssize_t *eol_len) except -2:
        """evbuffer_search_eol: where the next end of line starts (or -1)
        and, in *eol_len, how long it is."""
        cdef Chunk *c
        cdef Chunk *c2
        cdef Py_ssize_t i, i2, r, n
        cdef char ch
        eol_len[0] = 0
        if style == C_EVBUFFER_EOL_LF:
            r = self._search(b"\n", 1, pos, pc, pin, self.total_len)
            n = 1
        elif style == C_EVBUFFER_EOL_NUL:
            r = self._search(b"\0", 1, pos, pc, pin, self.total_len)
            n = 1
        elif style == C_EVBUFFER_EOL_CRLF_STRICT:
            r = self._search(b"\r\n", 2, pos, pc, pin, self.total_len)
            n = 2
        elif style == C_EVBUFFER_EOL_ANY:
            # Any run of CR and LF characters.
            r = find_eol_char(pc, pin, pos)
            n = 0
            if r >= 0:
                c = pc[0]
                i = pin[0]
                while c is not NULL:
                    ch = c.buf[c.misalign + i]
                    if ch != c'\r' and ch != c'\n':
                        break
                    n += 1
                    c = next_byte(c, &i)
        elif style == C_EVBUFFER_EOL_CRLF:
            # LF, or CR LF; a lone CR is part of the line.
            c = pc[0]
            i = pin[0]
            while True:
                r = find_eol_char(&c, &i, pos)
                if r < 0:
                    break
                pc[0] = c
                pin[0] = i
                if c.buf[c.misalign + i] == c'\n':
                    n = 1
                    break
                i2 = i
                c2 = next_byte(c, &i2)
                if c2 is NULL:
                    r = -1
                    break
                if c2.buf[c2.misalign + i2] == c'\n':
                    n = 2
                    break
                c = c2
                i = i2
                pos = r + 1
        else:
            raise ValueError(f"style: unknown EVBUFFER_EOL_* value {style}")
        if r >= 0:
            eol_len[0] = n
        return r

    cdef Py_ssize_t _read_fd(self, int fd, Py_ssize_t howmuch) except -1:
        """evbuffer_read: one read()/readv() of at most howmuch bytes (-1:
        what FIONREAD reports, capped at max_read) into reserved space.
        Returns the bytes read, 0 at EOF; raises OSError (BlockingIOError
        for EAGAIN).  The GIL is released around the syscall."""
        cdef Chunk *chunks[2]
        cdef Py_ssize_t spaces[2]
        cdef iovec iov[2]
        cdef int nvec, i, err = 0, avail = 0
        cdef ssize_t r = 0
        cdef Py_ssize_t left, k
        cdef uint64_t gen
        if self.freeze_end:
            self._raise_frozen(False)
        if howmuch < 0:
            if ioctl(fd, FIONREAD, &avail) < 0 or avail <= 0 or avail > self.max_read:
                howmuch = self.max_read
            else:
                howmuch = avail
        if howmuch == 0:
            return 0
        nvec = self._reserve_into(howmuch, 2, chunks, spaces)
        left = howmuch
        for i in range(nvec):
            k = spaces[i] if spaces[i] < left else left
            iov[i].iov_base = chunks[i].buf + chunks[i].misalign + chunks[i].off
            iov[i].iov_len = k
            spaces[i] = k
            left -= k
            chunks[i].refcnt += 1           # pinned while the GIL is released
        gen = self.gen
        try:
            while True:
                with nogil:
                    if nvec == 1:
                        r = read(fd, iov[0].iov_base, iov[0].iov_len)
                    else:
                        r = readv(fd, iov, nvec)
                    if r < 0:
                        err = errno
                if r >= 0 or err != EINTR:
                    break
                PyErr_CheckSignals()        # PEP 475: retry unless a handler raised
        finally:
            for i in range(nvec):
                chunk_decref(chunks[i])
        if r < 0:
            raise OSError(err, f"read from fd {fd}: {_os.strerror(err)}")
        if self.gen != gen:
            raise RuntimeError("the Evbuffer was changed by another thread during "
                               "read(); the bytes read are lost")
        if r == 0:
            return 0
        self._commit_into(chunks, spaces, nvec, r)
        self._done()
        return r

    cdef Py_ssize_t _write_fd(self, int fd, Py_ssize_t howmuch) except -1:
        """evbuffer_write_atmost: one write()/writev() of the first howmuch
        bytes (-1: all) over at most 64 chunks, then drain what was written.
        Raises OSError (BlockingIOError for EAGAIN).  The GIL is released
        around the syscall."""
        cdef iovec iov[NUM_WRITE_IOVEC]
        cdef Chunk *pinned[NUM_WRITE_IOVEC]
        cdef Chunk *c = self.first
        cdef int n = 0, i, err = 0
        cdef ssize_t r = 0
        cdef Py_ssize_t left, k
        cdef uint64_t gen
        if self.freeze_start:
            self._raise_frozen(True)
        if howmuch < 0 or howmuch > self.total_len:
            howmuch = self.total_len
        if howmuch == 0:
            return 0
        left = howmuch
        while c is not NULL and left > 0 and n < NUM_WRITE_IOVEC:
            if c.off:
                k = c.off if c.off < left else left
                iov[n].iov_base = c.buf + c.misalign
                iov[n].iov_len = k
                pinned[n] = c
                c.refcnt += 1
                n += 1
                left -= k
            c = c.next
        gen = self.gen
        try:
            while True:
                with nogil:
                    if n == 1:
                        r = write(fd, iov[0].iov_base, iov[0].iov_len)
                    else:
                        r = writev(fd, iov, n)
                    if r < 0:
                        err = errno
                if r >= 0 or err != EINTR:
                    break
                PyErr_CheckSignals()
        finally:
            for i in range(n):
                chunk_decref(pinned[i])
        if r < 0:
            raise OSError(err, f"write to fd {fd}: {_os.strerror(err)}")
        if self.gen != gen:
            raise RuntimeError("the Evbuffer was changed by another thread during "
                               "write(); the buffer no longer matches what was sent")
        self._drain(r)
        return r

    cdef EvbufferCbEntry _add_c_cb(self, evbuffer_c_cb fn, object arg, int flags):
        """add_cb() for a Cython callback; flags may include NODEFER."""
        cdef EvbufferCbEntry e = EvbufferCbEntry.__new__(EvbufferCbEntry)
        e.c_cb = fn
        e.arg = arg
        e.flags = flags
        self.callbacks.insert(0, e)
        return e

    # -- Python API: size and adding ---------------------------------------

    def __len__(self):
        return self.total_len

    def get_length(self):
        """evbuffer_get_length: bytes in the buffer (also len(buf))."""
        return self.total_len

    def get_contiguous_space(self):
        """evbuffer_get_contiguous_space: bytes in the first chunk, i.e.
        what pullup() would return without copying."""
        return self.first.off if self.first is not NULL else 0

    def add(self, data):
        """evbuffer_add: append a copy of ``data`` (any bytes-like object).

        A ``bytes`` of 2 KiB or more that does not fit in the free space at
        the back is referenced instead of copied (bytes are immutable).
        Raises TypeError for a non-bytes-like (str included), RuntimeError
        if the back is frozen.
        """
        self._add_object(data)

    def add_buffer(self, other):
        """evbuffer_add_buffer: move all of ``other`` (an Evbuffer) to the
        back of this one, relinking its chunks.  Adding a buffer to itself
        does nothing.  RuntimeError if our back or other's front is frozen.
        Runs other's callbacks, then ours."""
        self._add_buffer(buffer_arg(other, "other"))

    def add_printf(self, fmt, *args):
        """evbuffer_add_printf: append ``fmt % args``; a str format is
        encoded as UTF-8, a bytes format uses bytes %-formatting.  Returns
        the number of bytes added.

        Differences from libevent: Python %-formatting, not C printf.
        """
        cdef object data
        if isinstance(fmt, str):
            data = (fmt % args).encode("utf-8")
        elif isinstance(fmt, (bytes, bytearray)):
            data = bytes(fmt % args)
        else:
            raise TypeError(f"fmt must be str or bytes, not {type(fmt).__name__}")
        self._add(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data))
        return PyBytes_GET_SIZE(data)

    def add_iovec(self, vecs):
        """evbuffer_add_iovec: add each bytes-like of the iterable ``vecs``
        in turn.  Returns the number of bytes added."""
        cdef Py_ssize_t before = self.total_len
        if self.freeze_end:
            self._raise_frozen(False)
        if isinstance(vecs, (bytes, bytearray, memoryview, str)):
            raise TypeError("vecs must be an iterable of bytes-like objects, "
                            f"not {type(vecs).__name__}")
        for v in vecs:
            self._add_object(v)
        return self.total_len - before

    def add_reference(self, data, cleanup=None, arg=None):
        """evbuffer_add_reference: append ``data`` (any bytes-like object)
        without copying it.

        ``cleanup(data, arg)``, if given, runs exactly once, when the last
        byte of it leaves the buffer (drained, removed, moved out of a
        buffer it was moved into, or the buffer freed); for empty data, at
        once.  The buffer keeps data exported meanwhile, so a bytearray
        cannot be resized (its contents are still shared: change them and
        the buffer changes).  RuntimeError if the back is frozen (cleanup
        is then not called, as in libevent).
        """
        if cleanup is not None and not callable(cleanup):
            raise TypeError(f"cleanup must be callable or None, not {type(cleanup).__name__}")
        if not PyObject_CheckBuffer(data) or isinstance(data, str):
            raise TypeError(f"data must be a bytes-like object, not {type(data).__name__}")
        self._add_ref(data, cleanup, arg)

    def expand(self, n):
        """evbuffer_expand: make room for ``n`` more bytes at the back in one
        contiguous extent, so that adding them will not allocate."""
        cdef Chunk *chunks[2]
        cdef Py_ssize_t spaces[2]
        cdef Py_ssize_t size = size_arg(n, "n", False)
        if self.freeze_end & FROZEN_FREED:
            self._raise_frozen(False)
        if size:
            self._reserve_into(size, 1, chunks, spaces)

    def prepend(self, data):
        """evbuffer_prepend: insert a copy of ``data`` at the front.
        RuntimeError if the front is frozen."""
        cdef Py_buffer view
        get_view(data, "data", &view)
        try:
            self._prepend(<char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    def prepend_buffer(self, other):
        """evbuffer_prepend_buffer: move all of ``other`` to the front of
        this one.  RuntimeError if either front is frozen."""
        self._prepend_buffer(buffer_arg(other, "other"))

    # -- Python API: taking out --------------------------------------------

    def remove(self, n):
        """evbuffer_remove: take up to ``n`` bytes from the front (copy,
        then drain).  Returns bytes (shorter if the buffer is)."""
        return self._remove(size_arg(n, "n", False))

    def remove_buffer(self, dst, n):
        """evbuffer_remove_buffer: move up to ``n`` bytes from the front to
        the back of ``dst``, relinking whole chunks.  Returns the number
        moved.  ValueError if dst is this buffer."""
        return self._remove_buffer(buffer_arg(dst, "dst"), size_arg(n, "n", False))

    def copyout(self, n):
        """evbuffer_copyout: the first ``n`` bytes (or fewer), not drained."""
        cdef Py_ssize_t k = size_arg(n, "n", False)
        if k > self.total_len:
            k = self.total_len
        if k > 0 and self.freeze_start:
            self._raise_frozen(True)    # libevent's copyout honours the front freeze
        return self._copyout(self.first, 0, k)

    def copyout_from(self, ptr, n):
        """evbuffer_copyout_from: up to ``n`` bytes starting at ``ptr`` (an
        EvbufferPtr or an int position), not drained."""
        cdef Chunk *c
        cdef Py_ssize_t in_chunk, pos
        cdef Py_ssize_t k = size_arg(n, "n", False)
        pos = self._pos_arg(ptr, "ptr", &c, &in_chunk)
        if k > self.total_len - pos:
            k = self.total_len - pos
        if k > 0 and self.freeze_start:
            self._raise_frozen(True)
        return self._copyout(c, in_chunk, k)

    def drain(self, n):
        """evbuffer_drain: discard up to ``n`` bytes from the front.
        RuntimeError if the front is frozen."""
        self._drain(size_arg(n, "n", False))

    def pullup(self, n=-1):
        """evbuffer_pullup: make the first ``n`` bytes (-1: all) contiguous
        and return a read-only memoryview of them, or None if the buffer
        holds fewer than n bytes.

        Differences from libevent: pullup(0) (or -1 on an empty buffer)
        returns an empty memoryview rather than NULL.  The view stays
        valid memory after later changes (see peek()).
        """
        cdef Py_ssize_t k = size_arg(n, "n", True)
        cdef char *p
        if k < 0:
            k = self.total_len
        p = self._pullup(k)
        if p is NULL:
            return None
        if k == 0:
            view = memoryview(b"")
        else:
            view = chunk_view(self.first, p, k, True)
        if self.cleanups is not None:
            self._run_cleanups()
        return view

    def readln(self, style=C_EVBUFFER_EOL_ANY):
        """evbuffer_readln: the next line without its terminator, draining
        line and terminator; None (nothing drained) if no complete line is
        there.

        ``style``: EVBUFFER_EOL_ANY (any run of CR/LF characters: "\\r\\n"
        split across two reads yields an extra empty line), _CRLF (LF,
        optionally preceded by CR), _CRLF_STRICT (exactly CR LF), _LF, _NUL.
        ValueError for another style; RuntimeError if the front is frozen.
        Callbacks run twice, after the line and after the terminator are
        drained, as in libevent.
        """
        return self._readln(style_arg(style))

    # -- Python API: searching ---------------------------------------------

    def search(self, what, start=None):
        """evbuffer_search: an EvbufferPtr to the first occurrence of
        ``what`` at or after ``start`` (None, an int or an EvbufferPtr);
        pos == -1 if there is none.  An empty ``what`` matches at start."""
        return self.search_range(what, start, None)

    def search_range(self, what, start, end):
        """evbuffer_search_range: like search(), but the match must end at
        or before ``end`` (an int or EvbufferPtr; None: the buffer's end)."""
        cdef Py_buffer view
        cdef Chunk *c
        cdef Chunk *ce
        cdef Py_ssize_t in_chunk, in_end, pos, e, r
        pos = self._pos_arg(start, "start", &c, &in_chunk)
        e = self.total_len if end is None else self._pos_arg(end, "end", &ce, &in_end)
        get_view(what, "what", &view)
        try:
            r = self._search(<char *>view.buf, view.len, pos, &c, &in_chunk, e)
        finally:
            PyBuffer_Release(&view)
        return make_ptr(self, r, c, in_chunk)

    def search_eol(self, start=None, style=C_EVBUFFER_EOL_ANY):
        """evbuffer_search_eol: (EvbufferPtr to the start of the next end of
        line at or after ``start``, length of that end of line); the
        pointer's pos is -1 (and the length 0) if there is none.  Styles as
        in readln()."""
        cdef Chunk *c
        cdef Py_ssize_t in_chunk, pos, eol_len = 0, r
        cdef int st = style_arg(style)
        pos = self._pos_arg(start, "start", &c, &in_chunk)
        r = self._search_eol(pos, &c, &in_chunk, st, &eol_len)
        return make_ptr(self, r, c, in_chunk), eol_len

    def ptr_set(self, ptr, position, how):
        """evbuffer_ptr_set: move ``ptr`` to ``position`` (EVBUFFER_PTR_SET)
        or forward by ``position`` (EVBUFFER_PTR_ADD).  The end of the
        buffer is a valid position; past it, ptr.pos becomes -1 and
        ValueError is raised (libevent returns -1).  ValueError too for ADD
        on an unset pointer."""
        cdef EvbufferPtr p
        cdef Py_ssize_t delta, newpos, left
        cdef Chunk *c
        if not isinstance(ptr, EvbufferPtr):
            raise TypeError(f"ptr must be an EvbufferPtr, not {type(ptr).__name__}")
        p = <EvbufferPtr>ptr
        delta = size_arg(position, "position", False)
        if isinstance(how, bool) or not isinstance(how, int):
            raise TypeError(f"how must be EVBUFFER_PTR_SET or EVBUFFER_PTR_ADD, "
                            f"not {type(how).__name__}")
        if how == C_EVBUFFER_PTR_SET:
            newpos = delta
            c = self.first
            left = delta
        elif how == C_EVBUFFER_PTR_ADD:
            if p.pos < 0:
                raise ValueError("ptr is unset (pos == -1): cannot add to it")
            if delta > PY_SSIZE_T_MAX - p.pos:
                newpos = PY_SSIZE_T_MAX
            else:
                newpos = p.pos + delta
            if p.buf is self and p.gen == self.gen:
                c = p.chunk         # walk on from where it is
                left = p.in_chunk + delta
            else:
                c = self.first
                left = newpos
        else:
            raise ValueError(f"how must be EVBUFFER_PTR_SET or EVBUFFER_PTR_ADD, got {how}")
        if newpos > self.total_len:
            p.pos = -1
            p.buf = None
            p.chunk = NULL
            raise ValueError(f"position {newpos} is past the end of the buffer "
                             f"({self.total_len} bytes)")
        while c is not NULL and left >= c.off:
            left -= c.off
            c = c.next
        p.pos = newpos
        p.buf = self
        p.gen = self.gen
        p.chunk = c
        p.in_chunk = left if c is not NULL else 0

    # -- Python API: zero-copy access --------------------------------------

    def peek(self, n=-1, start=None):
        """evbuffer_peek: read-only memoryviews over the chunks holding the
        ``n`` bytes (-1: all) from ``start``, without copying.

        The views are memory-safe: each pins its chunk, so it stays valid
        memory after the buffer changes, but it may then show bytes the
        buffer no longer holds (libevent's pointers are simply invalid).

        Differences from libevent: the last view is cut to exactly n bytes
        (libevent returns whole chunks) and only the views needed are
        returned (libevent also reports how many extents it would need).
        """
        cdef Chunk *c
        cdef Py_ssize_t in_chunk, pos, k
        cdef Py_ssize_t want = size_arg(n, "n", True)
        cdef list out = []
        pos = self._pos_arg(start, "start", &c, &in_chunk)
        if want < 0 or want > self.total_len - pos:
            want = self.total_len - pos
        while c is not NULL and want > 0:
            k = c.off - in_chunk
            if k > want:
                k = want
            if k > 0:
                out.append(chunk_view(c, c.buf + c.misalign + in_chunk, k, True))
            want -= k
            c = c.next
            in_chunk = 0
        return out

    def reserve_space(self, size, n_vec=1):
        """evbuffer_reserve_space: writable memoryviews over free space at
        the back, at least ``size`` bytes in all, in at most ``n_vec``
        extents (1: one contiguous view; 2 or more: the free space left in
        the last chunk, then a new one).  Views may be longer than size.

        Write into them, then commit_space(n) with the number of bytes
        written.  Any other change to the buffer in between invalidates the
        reservation (commit_space then raises RuntimeError).  RuntimeError
        if the back is frozen.
        """
        cdef Py_ssize_t want = size_arg(size, "size", False)
        cdef int i, nv
        cdef Chunk *c
        cdef list out = []
        if isinstance(n_vec, bool) or not isinstance(n_vec, int):
            raise TypeError(f"n_vec must be an int, not {type(n_vec).__name__}")
        if n_vec < 1:
            raise ValueError(f"n_vec must be >= 1, got {n_vec}")
        if self.freeze_end:
            self._raise_frozen(False)
        nv = self._reserve_into(want if want > 0 else 1, 2 if n_vec >= 2 else 1,
                                self.res_chunks, self.res_space)
        self.res_n = nv
        self.res_gen = self.gen
        self.res_active = True
        for i in range(nv):
            c = self.res_chunks[i]
            out.append(chunk_view(c, c.buf + c.misalign + c.off, self.res_space[i], False))
        return out

    def commit_space(self, n):
        """evbuffer_commit_space: the first ``n`` bytes written into the
        views of the last reserve_space() become data (n may be less than
        reserved: libevent's shrinking of the iovecs).  ValueError if n is
        more than was reserved; RuntimeError if there is no reservation or
        the buffer changed since."""
        cdef Py_ssize_t k = size_arg(n, "n", False)
        cdef Py_ssize_t reserved
        if self.freeze_end:
            self._raise_frozen(False)
        if not self.res_active:
            raise RuntimeError("commit_space() without a pending reserve_space()")
        if self.res_gen != self.gen:
            self.res_active = False
            raise RuntimeError("the reservation is no longer valid: the buffer "
                               "changed after reserve_space()")
        reserved = self.res_space[0] + (self.res_space[1] if self.res_n == 2 else 0)
        if k > reserved:
            raise ValueError(f"n ({k}) is more than the {reserved} bytes reserved")
        self.res_active = False
        if k == 0:
            return
        self._commit_into(self.res_chunks, self.res_space, self.res_n, k)
        self._done()

    # -- Python API: I/O ---------------------------------------------------

    def read(self, fd, howmuch=-1):
        """evbuffer_read: one read()/readv() from ``fd`` (an int or an
        object with fileno()) of at most ``howmuch`` bytes; -1 means what
        FIONREAD reports, capped at get_max_read() (4096, libevent's
        EVBUFFER_MAX_READ).  Returns the number read; 0 at end of file.

        Raises BlockingIOError (EAGAIN) or another OSError with errno;
        RuntimeError if the back is frozen.  The GIL is released during
        the syscall; if another thread changes the buffer meanwhile, the
        bytes read are dropped and RuntimeError is raised.

        Differences from libevent: an explicit howmuch is not capped at
        EVBUFFER_MAX_READ, only at what FIONREAD reports (or
        EVBUFFER_MAX_READ when that is less), so a huge howmuch never
        reserves memory no read could fill; EINTR is retried (PEP 475).
        """
        cdef int ifd = fd_of(fd, "fd")
        cdef Py_ssize_t n = size_arg(howmuch, "howmuch", True)
        cdef int avail = 0
        if n > self.max_read:
            if ioctl(ifd, FIONREAD, &avail) < 0 or avail < self.max_read:
                avail = self.max_read
            if n > avail:
                n = avail
        return self._read_fd(ifd, n)

    def write(self, fd):
        """evbuffer_write: write_atmost(fd, -1)."""
        return self._write_fd(fd_of(fd, "fd"), -1)

    def write_atmost(self, fd, howmuch):
        """evbuffer_write_atmost: one write()/writev() of at most
        ``howmuch`` bytes (-1: all) from the front, over at most 64 chunks;
        drains what was written and returns its length.  Raises
        BlockingIOError (EAGAIN), BrokenPipeError, ... with errno;
        RuntimeError if the front is frozen."""
        return self._write_fd(fd_of(fd, "fd"), size_arg(howmuch, "howmuch", True))

    def set_max_read(self, n):
        """evbuffer_set_max_read (libevent 2.2): the size of read(fd, -1)."""
        cdef Py_ssize_t k = size_arg(n, "n", False)
        if k < 1 or k > INT_MAX:
            raise ValueError(f"n must be in 1..{INT_MAX}, got {n}")
        self.max_read = k

    def get_max_read(self):
        """evbuffer_get_max_read (libevent 2.2)."""
        return self.max_read

    # -- Python API: callbacks, freezing -----------------------------------

    def add_cb(self, cb, arg=None):
        """evbuffer_add_cb: call ``cb(buf, info, arg)`` after every change
        (``info``: EvbufferCbInfo with orig_size, n_added, n_deleted), or
        from the loop after defer_callbacks().  Returns the entry.

        Callbacks run newest first (libevent leaves the order undefined).
        A callback may remove any entry, itself included.  An exception in
        a callback propagates from the call that changed the buffer, after
        the other callbacks ran.
        """
        cdef EvbufferCbEntry e
        if not callable(cb):
            raise TypeError(f"cb must be callable, not {type(cb).__name__}")
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(False)
        e = EvbufferCbEntry.__new__(EvbufferCbEntry)
        e.cb = cb
        e.arg = arg
        e.flags = C_EVBUFFER_CB_ENABLED
        self.callbacks.insert(0, e)
        return e

    def remove_cb_entry(self, entry):
        """evbuffer_remove_cb_entry.  ValueError if it is not registered
        here."""
        cdef EvbufferCbEntry e = entry_arg(entry)
        cdef Py_ssize_t i
        for i in range(len(self.callbacks)):
            if self.callbacks[i] is e:
                del self.callbacks[i]
                e.removed = True
                return
        raise ValueError("entry is not a callback of this Evbuffer")

    def remove_cb(self, cb, arg=None):
        """evbuffer_remove_cb: remove the newest entry with this cb and arg
        (compared with ``is``, then ``==``).  ValueError if none."""
        cdef EvbufferCbEntry e
        cdef Py_ssize_t i
        for i in range(len(self.callbacks)):
            e = self.callbacks[i]
            if e.c_cb is NULL and (e.cb is cb or e.cb == cb) \
                    and (e.arg is arg or e.arg == arg):
                del self.callbacks[i]
                e.removed = True
                return
        raise ValueError(f"no callback {cb!r} with that arg is registered")

    def cb_set_flags(self, entry, flags):
        """evbuffer_cb_set_flags: EVBUFFER_CB_ENABLED (re-)enables it."""
        cdef EvbufferCbEntry e = entry_arg(entry)
        e.flags |= flags_arg(flags)

    def cb_clear_flags(self, entry, flags):
        """evbuffer_cb_clear_flags: clearing EVBUFFER_CB_ENABLED suspends
        it (changes made meanwhile are not reported to it later)."""
        cdef EvbufferCbEntry e = entry_arg(entry)
        e.flags &= ~flags_arg(flags)

    def freeze(self, at_front):
        """evbuffer_freeze: refuse (RuntimeError) changes at the front
        (drain, remove, readln, write, prepend) if ``at_front`` is true,
        else at the back (add*, read, reserve/commit).  Callbacks are not
        affected."""
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(bool(at_front))
        if at_front:
            self.freeze_start |= FROZEN_USER
        else:
            self.freeze_end |= FROZEN_USER

    def unfreeze(self, at_front):
        """evbuffer_unfreeze: undo freeze(at_front)."""
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(bool(at_front))
        if at_front:
            self.freeze_start &= ~FROZEN_USER
        else:
            self.freeze_end &= ~FROZEN_USER

    def defer_callbacks(self, base):
        """evbuffer_defer_callbacks: from now on the callbacks run from
        ``base``'s loop (an internal event at the middle priority) instead
        of right after each change; the changes of a burst are reported
        once, coalesced.  If the base is freed, they run synchronously
        again.

        Differences from libevent: no 32-per-pass limit of deferred
        callbacks (they are not moved to the next pass).
        """
        cdef EventBase b = usable_base(base, "defer callbacks")
        cdef Event ev = self.deferred_ev
        if self.freeze_start & FROZEN_FREED:
            self._raise_frozen(False)
        if ev is not None:
            if ev.base is b:
                return
            if not ev.base.freed:
                event_del_nolock(ev.base, ev, False)
        ev = Event.__new__(Event)
        event_assign_internal(ev, b, -1, 0, self._deferred_cb)
        ev.pri = b.nqueues // 2
        self.deferred_ev = ev

    def free(self):
        """evbuffer_free: drop the callbacks (they do not run), the data
        (add_reference cleanups run) and the deferred event.  Afterwards
        every change raises RuntimeError; reading finds it empty.
        Idempotent."""
        cdef EvbufferCbEntry e
        cdef Event ev = self.deferred_ev
        if self.freeze_start & FROZEN_FREED:
            return
        for e in self.callbacks:
            e.removed = True
        self.callbacks = []
        self.deferred_ev = None
        if ev is not None and ev.base is not None and not ev.base.freed:
            event_del_nolock(ev.base, ev, False)
        self.freeze_start |= FROZEN_FREED
        self.freeze_end |= FROZEN_FREED
        self._drop_all(False)
        self.total_len = 0
        self.n_add_for_cb = self.n_del_for_cb = 0
        self.res_active = False
        self.gen += 1
        if self.cleanups is not None:
            self._run_cleanups()

    @property
    def freed(self):
        """True once free() was called."""
        return bool(self.freeze_start & FROZEN_FREED)

    # -- Python conveniences -----------------------------------------------

    def __bytes__(self):
        """A copy of everything (the buffer is not drained)."""
        return self._copyout(self.first, 0, self.total_len)

    def __getbuffer__(self, Py_buffer *view, int flags):
        # Read-only, and only while the data is one chunk: the buffer
        # protocol needs one contiguous block, and pulling it up here would
        # hide a copy and a change of layout inside memoryview(buf).
        cdef Chunk *c = self.first
        if self.total_len == 0:
            fill_view(view, &EMPTY_BYTE, 0, True, flags)
        elif c.off == self.total_len:
            fill_view(view, c.buf + c.misalign, c.off, True, flags)
            c.refcnt += 1
            view.internal = <void *>c
        else:
            raise BufferError("the Evbuffer's data is in several chunks: "
                              "call pullup() first, or use peek()")
        view.obj = self

    def __releasebuffer__(self, Py_buffer *view):
        if view.internal is not NULL:
            chunk_decref(<Chunk *>view.internal)
            view.internal = NULL

    def __repr__(self):
        cdef Chunk *c = self.first
        cdef int n = 0
        while c is not NULL:
            n += 1
            c = c.next
        state = ""
        if self.freeze_start & FROZEN_FREED:
            state = " freed"
        else:
            if self.freeze_start:
                state += " front-frozen"
            if self.freeze_end:
                state += " back-frozen"
        return f"<evloop.Evbuffer len={self.total_len} chunks={n}{state}>"

    # -- debugging ---------------------------------------------------------

    def _chunks(self):
        """The chain, for tests: a list of (misalign, off, cap,
        is_reference, refcnt)."""
        cdef Chunk *c = self.first
        out = []
        while c is not NULL:
            out.append((c.misalign, c.off, c.cap,
                        bool(c.flags & CHUNK_REFERENCE), c.refcnt))
            c = c.next
        return out

    def _validate(self):
        """evbuffer_validate_: check the invariants; AssertionError (raised
        explicitly, so also under -O) naming the first one broken."""
        cdef Chunk *c = self.first
        cdef Chunk *prev = NULL
        cdef Chunk *lwd = NULL
        cdef Py_ssize_t total = 0
        cdef int n_empty = 0, i
        cdef bint found
        cdef Chunk *r
        while c is not NULL:
            if c.refcnt < 1:
                raise AssertionError(f"chunk with refcnt {c.refcnt} in the chain")
            if c.misalign < 0 or c.off < 0 or c.misalign + c.off > c.cap:
                raise AssertionError(f"chunk out of bounds: misalign={c.misalign} "
                                     f"off={c.off} cap={c.cap}")
            if c.flags & CHUNK_REFERENCE:
                if not (c.flags & CHUNK_IMMUTABLE):
                    raise AssertionError("reference chunk not immutable")
                if c.buf != <char *>c.view.buf or c.cap != c.view.len or c.data is NULL:
                    raise AssertionError("reference chunk does not match its buffer")
            else:
                if c.buf != <char *>(c + 1):
                    raise AssertionError("memory chunk storage misplaced")
                if c.cleanup is not NULL or c.data is not NULL:
                    raise AssertionError("memory chunk with a cleanup or an object")
            if c.off == 0:
                n_empty += 1
            else:
                if n_empty:
                    raise AssertionError("empty chunk in the middle of the chain")
                lwd = c
            total += c.off
            prev = c
            c = c.next
        if n_empty > 1:
            raise AssertionError(f"{n_empty} empty chunks at the end (at most 1)")
        if self.last is not prev:
            raise AssertionError("last does not point at the last chunk")
        if self.last_with_data is not lwd:
            raise AssertionError("last_with_data does not point at the last chunk with data")
        if total != self.total_len:
            raise AssertionError(f"total_len {self.total_len} != sum of chunks {total}")
        if self.cleanups is not None:
            raise AssertionError("cleanups left queued after an operation")
        if self.n_add_for_cb < 0 or self.n_del_for_cb < 0:
            raise AssertionError("negative callback counters")
        if (self.deferred_ev is None or not self.callbacks) and \
                (self.n_add_for_cb or self.n_del_for_cb):
            raise AssertionError("callback counters not reset after the callbacks ran")
        if self.freeze_start & FROZEN_FREED and (self.first is not NULL or self.callbacks):
            raise AssertionError("a freed buffer holds chunks or callbacks")
        if self.res_active and self.res_gen == self.gen:
            if self.res_n < 1 or self.res_n > 2:
                raise AssertionError(f"reservation spans {self.res_n} chunks")
            for i in range(self.res_n):
                r = self.res_chunks[i]
                found = False
                c = self.first
                while c is not NULL:
                    if c is r:
                        found = True
                    c = c.next
                if not found:
                    raise AssertionError("reserved chunk not in the chain")
                if r.flags & CHUNK_IMMUTABLE:
                    raise AssertionError("reserved chunk is immutable")
                if self.res_space[i] != r.cap - r.misalign - r.off:
                    raise AssertionError("reserved space does not match the chunk")
                if r is not self.last and r is not self.last_with_data:
                    raise AssertionError("reserved chunk not at the back")
            if self.res_n == 2 and (self.res_chunks[0] is not self.last_with_data
                                    or self.res_chunks[1] is not self.last):
                raise AssertionError("two-chunk reservation not at the back")
