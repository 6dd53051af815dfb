# Declarations of the evbuffer (libevent's struct evbuffer and struct
# evbuffer_chain, buffer.c / evbuffer-internal.h): the chunk chain, the
# Evbuffer, its pointers, callback entries and memory views.
# Every field is commented; the implementation is core/buffer.pyx.

cimport cython
from cpython.ref cimport PyObject
from libc.stdint cimport uint64_t

cdef class Evbuffer
cdef class EvbufferPtr


cdef struct Chunk:
    # One extent of an Evbuffer (libevent's struct evbuffer_chain).  A
    # memory chunk is a single malloc block: this header, then cap bytes.
    # A reference chunk points into the buffer a Python object exports.
    Chunk *next                # next chunk of the chain, or NULL
    char *buf                  # start of the storage
    Py_ssize_t cap             # storage size (libevent's buffer_len)
    Py_ssize_t misalign        # bytes before the data (drained or prepended room)
    Py_ssize_t off             # bytes of data, starting at buf + misalign
    Py_ssize_t refcnt          # owners: the chain (1), each view, each in-flight syscall
    int flags                  # CHUNK_* bits (buffer.pyx)
    PyObject *cleanup          # add_reference cleanup callable (owned), or NULL
    PyObject *cleanup_arg      # its arg (owned), set with cleanup
    PyObject *data             # CHUNK_REFERENCE: the object given (owned), else NULL
    Py_buffer view             # CHUNK_REFERENCE: the object's exported buffer


# A callback written in Cython (the bufferevents use these): called as
# fn(buf, orig_size, n_added, n_deleted, arg) instead of cb(buf, info, arg).
ctypedef int (*evbuffer_c_cb)(Evbuffer buf, Py_ssize_t orig_size,
                              Py_ssize_t n_added, Py_ssize_t n_deleted,
                              object arg) except -1


@cython.final
cdef class EvbufferCbInfo:
    # struct evbuffer_cb_info: what changed since the callbacks last ran.
    cdef readonly Py_ssize_t orig_size   # length before the changes
    cdef readonly Py_ssize_t n_added     # bytes added since
    cdef readonly Py_ssize_t n_deleted   # bytes removed since


@cython.final
cdef class EvbufferCbEntry:
    # struct evbuffer_cb_entry: one registered callback.
    cdef readonly object cb    # cb(buf, info, arg), or None for a C callback
    cdef readonly object arg   # its argument
    cdef readonly int flags    # EVBUFFER_CB_ENABLED | internal NODEFER
    cdef evbuffer_c_cb c_cb    # C-level callback, or NULL
    cdef bint removed          # removed from its buffer: never call again


@cython.final
cdef class EvbufferPtr:
    # struct evbuffer_ptr: a position, plus a cache of where it is.
    cdef readonly Py_ssize_t pos   # byte offset from the front; -1 = not found / unset
    cdef Evbuffer buf          # the buffer the cache below belongs to, or None
    cdef uint64_t gen          # buf.gen when the cache was filled
    cdef Chunk *chunk          # chunk holding pos (NULL = the end); valid while gen matches
    cdef Py_ssize_t in_chunk   # offset of pos in that chunk's data


@cython.final
cdef class _Extent:
    # The exporter behind the memoryviews of peek/pullup/reserve_space: it
    # holds one reference on its chunk, so the memory outlives a drain.
    cdef Chunk *chunk          # the pinned chunk
    cdef char *ptr             # first byte of the extent
    cdef Py_ssize_t length     # its size
    cdef bint readonly         # peek/pullup: read-only; reserve_space: writable


@cython.final
cdef class Evbuffer:
    cdef Chunk *first          # head of the chain, NULL when there is none
    cdef Chunk *last           # tail of the chain
    cdef Chunk *last_with_data # last chunk with off > 0, NULL if empty; at most
                               # one empty chunk may follow it (libevent's last_with_datap)
    cdef Py_ssize_t total_len  # bytes in the buffer
    cdef uint64_t gen          # bumped by every change of data or layout: it
                               # invalidates EvbufferPtr caches and reservations
    cdef Py_ssize_t n_add_for_cb   # bytes added since the callbacks last ran
    cdef Py_ssize_t n_del_for_cb   # bytes removed since
    cdef int freeze_start      # FROZEN_* bits: changes at the front refused
    cdef int freeze_end        # FROZEN_* bits: changes at the back refused
    cdef Py_ssize_t max_read   # read() size when howmuch < 0 (EVBUFFER_MAX_READ)
    cdef list callbacks        # EvbufferCbEntry, newest first (libevent's LIST_INSERT_HEAD)
    cdef list cleanups         # (cleanup, data, arg) to run when the current
                               # operation ends, or None
    cdef Event deferred_ev     # internal Event that runs the callbacks from a
                               # loop (defer_callbacks), or None
    cdef bint res_active       # a reserve_space awaits commit_space
    cdef uint64_t res_gen      # gen right after the reservation
    cdef int res_n             # chunks it spans (1 or 2)
    cdef Chunk *res_chunks[2]  # those chunks (valid while gen == res_gen)
    cdef Py_ssize_t res_space[2]   # free bytes reserved in each
    cdef object __weakref__

    # C-level twins of the public methods, for bufferevents and transports.
    cdef int _add(self, const char *data, Py_ssize_t n) except -1
    cdef int _add_object(self, object data) except -1
    cdef int _add_ref(self, object data, object cleanup, object arg) except -1
    cdef int _add_buffer(self, Evbuffer src) except -1
    cdef int _prepend(self, const char *data, Py_ssize_t n) except -1
    cdef int _prepend_buffer(self, Evbuffer src) except -1
    cdef int _drain(self, Py_ssize_t n) except -1
    cdef bytes _copyout(self, Chunk *c, Py_ssize_t in_chunk, Py_ssize_t n)
    cdef bytes _remove(self, Py_ssize_t n)
    cdef Py_ssize_t _remove_buffer(self, Evbuffer dst, Py_ssize_t n) except -1
    cdef char *_pullup(self, Py_ssize_t n) except? NULL
    cdef object _readln(self, int style)
    cdef Py_ssize_t _read_fd(self, int fd, Py_ssize_t howmuch) except -1
    cdef Py_ssize_t _write_fd(self, int fd, Py_ssize_t howmuch) except -1
    cdef EvbufferCbEntry _add_c_cb(self, evbuffer_c_cb fn, object arg, int flags)

    # internals
    cdef int _append(self, const char *data, Py_ssize_t n) except -1
    cdef Chunk *_tail_chunk(self, Py_ssize_t need, Py_ssize_t alloc) except NULL
    cdef void _link_chain(self, Chunk *head, Chunk *tail, Chunk *tail_data) noexcept
    cdef int _drop(self, Chunk *c) except -1
    cdef int _drop_all(self, bint keep_one) except -1
    cdef int _drain_chunks(self, Py_ssize_t n) except -1
    cdef int _reserve_into(self, Py_ssize_t size, int nvec, Chunk **chunks,
                           Py_ssize_t *spaces) except -1
    cdef int _commit_into(self, Chunk **chunks, Py_ssize_t *spaces, int nvec,
                          Py_ssize_t n) except -1
    cdef Chunk *_locate(self, Py_ssize_t pos, Py_ssize_t *in_chunk) noexcept
    cdef Py_ssize_t _pos_arg(self, object start, str name, Chunk **pc,
                             Py_ssize_t *pin) except -2
    cdef Py_ssize_t _search(self, const char *what, Py_ssize_t wlen,
                            Py_ssize_t pos, Chunk **pc, Py_ssize_t *pin,
                            Py_ssize_t end) except -2
    cdef Py_ssize_t _search_eol(self, Py_ssize_t pos, Chunk **pc,
                                Py_ssize_t *pin, int style,
                                Py_ssize_t *eol_len) except -2
    cdef int _raise_frozen(self, bint front) except -1
    cdef int _done(self) except -1
    cdef int _moved_all_from(self, Evbuffer src, Py_ssize_t n) except -1
    cdef int _run_cleanups(self) except -1
    cdef int _invoke_callbacks(self) except -1
    cdef int _run_callbacks(self, bint running_deferred) except -1
