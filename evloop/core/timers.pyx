# The timer min-heap (libevent minheap-internal.h): a C array of borrowed
# Event pointers, each Event knowing its own index (heap_idx) so that
# deletion is O(log n).  The base keeps every event in the heap alive
# through EventBase.pinned.
#
# Order: deadline, then insertion number.  libevent compares deadlines only,
# so events with equal deadlines come out in an order that depends on the
# heap's shape; evloop makes that order FIFO, which asyncio's call_at
# needs and which no libevent program can rely on being otherwise.

cdef inline bint heap_greater(PyObject *a, PyObject *b) noexcept:
    cdef Event ea = <Event>a
    cdef Event eb = <Event>b
    if ea.timeout_ns != eb.timeout_ns:
        return ea.timeout_ns > eb.timeout_ns
    return ea.seq > eb.seq


cdef void heap_shift_up(EventBase base, Py_ssize_t hole, PyObject *e) noexcept:
    cdef Py_ssize_t parent = (hole - 1) // 2
    while hole and heap_greater(base.heap[parent], e):
        base.heap[hole] = base.heap[parent]
        (<Event>base.heap[hole]).heap_idx = hole
        hole = parent
        parent = (hole - 1) // 2
    base.heap[hole] = e
    (<Event>e).heap_idx = hole


cdef void heap_shift_down(EventBase base, Py_ssize_t hole, PyObject *e) noexcept:
    cdef Py_ssize_t child = 2 * (hole + 1)
    while child <= base.heap_n:
        if child == base.heap_n or heap_greater(base.heap[child], base.heap[child - 1]):
            child -= 1
        if not heap_greater(e, base.heap[child]):
            break
        base.heap[hole] = base.heap[child]
        (<Event>base.heap[hole]).heap_idx = hole
        hole = child
        child = 2 * (hole + 1)
    base.heap[hole] = e
    (<Event>e).heap_idx = hole


cdef int heap_push(EventBase base, Event ev) except -1:
    cdef Py_ssize_t newcap
    cdef void *p
    if base.heap_n == base.heap_cap:
        newcap = base.heap_cap * 2 if base.heap_cap else 8
        p = realloc(base.heap, newcap * sizeof(PyObject *))
        if p is NULL:
            raise MemoryError()
        base.heap = <PyObject **>p
        base.heap_cap = newcap
    ev.seq = base.seq
    base.seq += 1
    base.heap_n += 1
    heap_shift_up(base, base.heap_n - 1, <PyObject *>ev)
    return 0


cdef int heap_erase(EventBase base, Event ev) except -1:
    cdef Py_ssize_t idx = ev.heap_idx
    cdef Py_ssize_t parent
    cdef PyObject *last
    if idx < 0:
        return 0
    base.heap_n -= 1
    last = base.heap[base.heap_n]
    if idx != base.heap_n:
        # Move the last element into the hole, then restore the order in
        # whichever direction it is broken (libevent min_heap_erase_).
        parent = (idx - 1) // 2
        if idx > 0 and heap_greater(base.heap[parent], last):
            heap_shift_up(base, idx, last)
        else:
            heap_shift_down(base, idx, last)
    ev.heap_idx = -1
    return 0
