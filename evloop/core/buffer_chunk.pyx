# The chunk layer of the Evbuffer (libevent's struct evbuffer_chain and the
# chain-walking helpers of buffer.c): allocation and reference counting of
# chunks, the _Extent exporter behind every memoryview the buffer hands
# out, byte-level walks across chunk boundaries, and argument checking.
# core/buffer.pyx builds the Evbuffer on top; its opening comment explains
# the design.  No Python-visible behaviour lives here except _Extent.


from cpython.buffer cimport (PyObject_GetBuffer, PyBuffer_Release,
                             PyObject_CheckBuffer, PyBUF_SIMPLE,
                             PyBUF_WRITABLE, PyBUF_FORMAT, PyBUF_ND,
                             PyBUF_STRIDES)
from cpython.bytes cimport (PyBytes_FromStringAndSize, PyBytes_AS_STRING,
                            PyBytes_GET_SIZE)
from cpython.memoryview cimport PyMemoryView_FromObject
from cpython.number cimport PyIndex_Check
from cpython.pyport cimport PY_SSIZE_T_MAX
from cpython.ref cimport Py_INCREF, Py_XDECREF
from libc.stdint cimport SIZE_MAX
from libc.string cimport memmove, memchr, memcmp
from evloop.includes.system cimport (iovec, readv, writev, ioctl, FIONREAD,
                                     memmem)


cdef extern from "Python.h":
    # With a NULL exception type, out-of-range values clamp.
    Py_ssize_t index_clamped "PyNumber_AsSsize_t"(object o, PyObject *exc) except? -1


# -- constants (include/event2/buffer.h) --------------------------------------

cdef enum:
    # enum evbuffer_eol_style
    C_EVBUFFER_EOL_ANY = 0
    C_EVBUFFER_EOL_CRLF = 1
    C_EVBUFFER_EOL_CRLF_STRICT = 2
    C_EVBUFFER_EOL_LF = 3
    C_EVBUFFER_EOL_NUL = 4
    # enum evbuffer_ptr_how
    C_EVBUFFER_PTR_SET = 0
    C_EVBUFFER_PTR_ADD = 1
    # callback entry flags; NODEFER is libevent-internal (evbuffer-internal.h):
    # such a callback runs synchronously even after defer_callbacks().
    C_EVBUFFER_CB_ENABLED = 1
    C_EVBUFFER_CB_NODEFER = 2

    # Chunk.flags
    CHUNK_IMMUTABLE = 0x01     # never written to or realigned (references)
    CHUNK_REFERENCE = 0x02     # data is Chunk.view, a Python object's buffer

    # freeze_start / freeze_end bits
    FROZEN_USER = 0x01         # freeze() was called
    FROZEN_FREED = 0x02        # free() was called: refuse everything
    FROZEN_BEV = 0x04          # a socket Bufferevent owns this end (bufferevent_socket_new)

    # Allocation policy (libevent: MIN_BUFFER_SIZE 1024, chains doubling up
    # to EVBUFFER_CHAIN_MAX_AUTO_SIZE 4096).  Larger chunks here: every
    # chunk costs Python-level work in peek() and an iovec in write().
    CHUNK_MIN_ALLOC = 1024     # smallest malloc block (header included)
    CHUNK_MAX_AUTO = 16384     # growth stops doubling here
    CHUNK_POW2_LIMIT = 65536   # above: round to pages, not powers of two
    MAX_TO_REALIGN = 2048      # evbuffer_chain_should_realign's limit
    ADD_REF_MIN = 2048         # add(bytes) at least this long references it
    ADD_BUFFER_COPY_MAX = 1024 # add_buffer copies a source this small
    NUM_WRITE_IOVEC = 64       # extents per writev()
    MAX_READ_DEFAULT = 4096    # EVBUFFER_MAX_READ in libevent 2.1


cdef char EMPTY_BYTE = 0       # what an empty export points at


# -- chunks -------------------------------------------------------------------

cdef Chunk *chunk_new(Py_ssize_t need) except NULL:
    """evbuffer_chain_new: a memory chunk with at least ``need`` bytes of
    storage.  The block is rounded up to a power of two (pages above
    CHUNK_POW2_LIMIT) so that the allocator can recycle it."""
    cdef size_t total = <size_t>need + sizeof(Chunk)
    cdef size_t size
    cdef Chunk *c
    if need < 0 or <size_t>need > <size_t>(SIZE_MAX >> 1) - sizeof(Chunk) - 4096:
        raise MemoryError()
    if total <= CHUNK_MIN_ALLOC:
        size = CHUNK_MIN_ALLOC
    elif total <= CHUNK_POW2_LIMIT:
        size = CHUNK_MIN_ALLOC
        while size < total:
            size <<= 1
    else:
        size = (total + 4095) & ~(<size_t>4095)
    c = <Chunk *>malloc(size)
    if c is NULL:
        raise MemoryError()
    c.next = NULL
    c.buf = <char *>(c + 1)
    c.cap = <Py_ssize_t>(size - sizeof(Chunk))
    c.misalign = 0
    c.off = 0
    c.refcnt = 1
    c.flags = 0
    c.cleanup = NULL
    c.cleanup_arg = NULL
    c.data = NULL
    return c


cdef Chunk *chunk_new_ref(object obj) except NULL:
    """A reference chunk over obj's buffer (EVBUFFER_REFERENCE |
    EVBUFFER_IMMUTABLE).  Holding the export keeps obj alive and, for a
    bytearray, stops it from being resized under us."""
    cdef Chunk *c = <Chunk *>malloc(sizeof(Chunk))
    if c is NULL:
        raise MemoryError()
    try:
        PyObject_GetBuffer(obj, &c.view, PyBUF_SIMPLE)
    except BaseException:
        c_free(c)
        raise
    c.next = NULL
    c.buf = <char *>c.view.buf
    c.cap = c.view.len
    c.misalign = 0
    c.off = c.view.len
    c.refcnt = 1
    c.flags = CHUNK_IMMUTABLE | CHUNK_REFERENCE
    c.cleanup = NULL
    c.cleanup_arg = NULL
    c.data = <PyObject *>obj
    Py_INCREF(obj)
    return c


cdef void chunk_decref(Chunk *c) noexcept:
    """Drop one owner; the last one frees the chunk (evbuffer_chain_free,
    postponed while views pin it as libevent's CHAIN_PINNED does)."""
    c.refcnt -= 1
    if c.refcnt > 0:
        return
    if c.flags & CHUNK_REFERENCE:
        PyBuffer_Release(&c.view)
    Py_XDECREF(c.cleanup)
    Py_XDECREF(c.cleanup_arg)
    Py_XDECREF(c.data)
    c_free(c)


cdef inline Py_ssize_t chunk_space(Chunk *c) noexcept:
    """CHAIN_SPACE_LEN: free bytes after the data."""
    if c.flags & CHUNK_IMMUTABLE:
        return 0
    return c.cap - c.misalign - c.off


cdef inline bint should_realign(Chunk *c, Py_ssize_t n) noexcept:
    """evbuffer_chain_should_realign: moving the data to the front is
    cheaper than a new chunk when there is little of it."""
    return (c.refcnt == 1 and not (c.flags & CHUNK_IMMUTABLE)
            and c.cap - c.off >= n and c.off < c.cap // 2
            and c.off <= MAX_TO_REALIGN)


cdef inline void chunk_align(Chunk *c) noexcept:
    memmove(c.buf, c.buf + c.misalign, c.off)
    c.misalign = 0


cdef bint chunk_match(Chunk *c, Py_ssize_t i, const char *what,
                      Py_ssize_t wlen) noexcept:
    """evbuffer_ptr_memcmp == 0: do the wlen bytes at (c, i) equal what?"""
    cdef Py_ssize_t k
    while c is not NULL and wlen > 0:
        k = c.off - i
        if k > wlen:
            k = wlen
        if k > 0 and memcmp(c.buf + c.misalign + i, what, k) != 0:
            return False
        what += k
        wlen -= k
        c = c.next
        i = 0
    return wlen == 0


cdef int fill_view(Py_buffer *view, char *ptr, Py_ssize_t n, bint readonly,
                   int flags) except -1:
    """PyBuffer_FillInfo without touching view.obj (Cython manages it)."""
    if readonly and (flags & PyBUF_WRITABLE) == PyBUF_WRITABLE:
        raise BufferError("this Evbuffer extent is read-only")
    view.buf = ptr
    view.len = n
    view.readonly = readonly
    view.itemsize = 1
    if (flags & PyBUF_FORMAT) == PyBUF_FORMAT:
        view.format = b"B"
    else:
        view.format = NULL
    view.ndim = 1
    view.shape = &view.len if (flags & PyBUF_ND) == PyBUF_ND else NULL
    view.strides = &view.itemsize if (flags & PyBUF_STRIDES) == PyBUF_STRIDES else NULL
    view.suboffsets = NULL
    view.internal = NULL
    return 0


cdef object chunk_view(Chunk *c, char *ptr, Py_ssize_t n, bint readonly):
    """A memoryview of n bytes at ptr inside c, pinning c."""
    cdef _Extent e = _Extent.__new__(_Extent)
    e.chunk = c
    c.refcnt += 1
    e.ptr = ptr
    e.length = n
    e.readonly = readonly
    return PyMemoryView_FromObject(e)


@cython.final
cdef class _Extent:
    """Exporter of one Evbuffer extent (see the module comment)."""

    def __dealloc__(self):
        if self.chunk is not NULL:
            chunk_decref(self.chunk)
            self.chunk = NULL

    def __getbuffer__(self, Py_buffer *view, int flags):
        fill_view(view, self.ptr, self.length, self.readonly, flags)
        view.obj = self

    def __releasebuffer__(self, Py_buffer *view):
        pass


# -- argument checking --------------------------------------------------------

cdef Py_ssize_t size_arg(object v, str name, bint all_ok) except? -2:
    """A size argument: an int >= 0 (huge values clamp), or -1 meaning
    "everything" where all_ok."""
    cdef Py_ssize_t n
    if isinstance(v, bool) or not PyIndex_Check(v):
        raise TypeError(f"{name} must be an int, not {type(v).__name__}")
    n = index_clamped(v, NULL)
    if n < 0:
        if all_ok and n == -1:
            return -1
        if all_ok:
            raise ValueError(f"{name} must be >= 0 or -1 (everything), got {v}")
        raise ValueError(f"{name} must be >= 0, got {v}")
    return n


cdef int style_arg(object style) except -1:
    if isinstance(style, bool) or not isinstance(style, int):
        raise TypeError(f"style must be an EVBUFFER_EOL_* int, not {type(style).__name__}")
    if style < C_EVBUFFER_EOL_ANY or style > C_EVBUFFER_EOL_NUL:
        raise ValueError(f"style must be one of EVBUFFER_EOL_ANY/CRLF/CRLF_STRICT/LF/NUL, got {style}")
    return style


cdef int flags_arg(object flags) except -1:
    if isinstance(flags, bool) or not isinstance(flags, int):
        raise TypeError(f"flags must be an int, not {type(flags).__name__}")
    if flags & ~C_EVBUFFER_CB_ENABLED or flags < 0:
        raise ValueError(f"flags: only EVBUFFER_CB_ENABLED may be set or cleared, got {flags:#x}")
    return flags


cdef EvbufferCbEntry entry_arg(object entry):
    if not isinstance(entry, EvbufferCbEntry):
        raise TypeError(f"entry must be an EvbufferCbEntry from add_cb(), "
                        f"not {type(entry).__name__}")
    return <EvbufferCbEntry>entry


cdef Evbuffer buffer_arg(object b, str name):
    if not isinstance(b, Evbuffer):
        raise TypeError(f"{name} must be an Evbuffer, not {type(b).__name__}")
    return <Evbuffer>b


cdef int get_view(object data, str name, Py_buffer *view) except -1:
    """A contiguous read-only view of a bytes-like argument."""
    if not PyObject_CheckBuffer(data) or isinstance(data, str):
        raise TypeError(f"{name} must be a bytes-like object, not {type(data).__name__}")
    PyObject_GetBuffer(data, view, PyBUF_SIMPLE)
    return 0


# -- walking the chain byte by byte ---------------------------------------------

cdef Py_ssize_t find_eol_char(Chunk **pc, Py_ssize_t *pin, Py_ssize_t pos) noexcept:
    """evbuffer_find_eol_char: the first CR or LF at or after (*pc, *pin),
    whose position is pos; -1 if none.  *pc/*pin are moved onto it."""
    cdef Chunk *c = pc[0]
    cdef Py_ssize_t i = pin[0], n
    cdef char *data
    cdef char *p
    cdef char *q
    while c is not NULL:
        n = c.off - i
        if n > 0:
            data = c.buf + c.misalign + i
            p = <char *>memchr(data, c'\n', n)
            q = <char *>memchr(data, c'\r', (p - data) if p is not NULL else n)
            if q is not NULL:
                p = q
            if p is not NULL:
                pc[0] = c
                pin[0] = i + (p - data)
                return pos + (p - data)
            pos += n
        c = c.next
        i = 0
    return -1


cdef inline Chunk *next_byte(Chunk *c, Py_ssize_t *pi) noexcept:
    """The chunk and offset of the byte after (c, *pi); NULL at the end."""
    cdef Py_ssize_t i = pi[0] + 1
    while c is not NULL and i >= c.off:
        i -= c.off
        c = c.next
    pi[0] = i
    return c
