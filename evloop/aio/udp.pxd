# Declarations of the asyncio datagram transport (aio/udp.pyx).

# The system's socket-address types, for recvfrom()/sendto() in C.
cdef extern from "<sys/socket.h>" nogil:
    ctypedef unsigned int socklen_t
    ctypedef unsigned short sa_family_t
    struct sockaddr:
        sa_family_t sa_family
    struct sockaddr_storage:
        sa_family_t ss_family
    ssize_t c_recvfrom "recvfrom" (int fd, void *buf, size_t n, int flags,
                                   sockaddr *addr, socklen_t *addrlen)
    ssize_t c_sendto "sendto" (int fd, const void *buf, size_t n, int flags,
                               const sockaddr *addr, socklen_t addrlen)
    int AF_INET, AF_INET6, AF_UNIX

cdef extern from "<netinet/in.h>" nogil:
    struct in_addr:
        pass
    struct in6_addr:
        pass
    struct sockaddr_in:
        sa_family_t sin_family
        unsigned short sin_port
        in_addr sin_addr
    struct sockaddr_in6:
        sa_family_t sin6_family
        unsigned short sin6_port
        unsigned int sin6_flowinfo
        in6_addr sin6_addr
        unsigned int sin6_scope_id
    unsigned short ntohs(unsigned short)
    unsigned short htons(unsigned short)
    unsigned int ntohl(unsigned int)
    unsigned int htonl(unsigned int)

cdef extern from "<arpa/inet.h>" nogil:
    const char *inet_ntop(int af, const void *src, char *dst, socklen_t size)
    int inet_pton(int af, const char *src, void *dst)
    int INET6_ADDRSTRLEN

cdef extern from "<sys/un.h>" nogil:
    struct sockaddr_un:
        sa_family_t sun_family
        char sun_path[108]


cdef class DatagramTransport:
    cdef object loop                 # the EventLoop; None after connection_lost (as asyncio)
    cdef Loop cloop                  # the same loop, typed (its readers/writers tables)
    cdef object sock                 # the socket object; None once closed
    cdef int fd                      # its fd (asyncio's _sock_fd)
    cdef int family                  # its address family
    cdef object protocol             # the asyncio DatagramProtocol
    cdef dict extra                  # get_extra_info values
    cdef object address              # remote_addr given to create_datagram_endpoint, or None
    cdef bint use_send               # extra["peername"] is true: send(), not sendto() (as asyncio)
    cdef bint cread                  # recvfrom() in C (AF_INET, AF_INET6, AF_UNIX)
    cdef object buffer               # deque of (bytes, addr) waiting for EV_WRITE
    cdef Py_ssize_t buffer_size      # asyncio's _buffer_size (get_write_buffer_size)
    cdef int conn_lost               # connection_lost scheduled (count of late sends)
    cdef bint closing                # close() / abort() / fatal error
    cdef bint paused                 # pause_reading()
    cdef bint protocol_connected     # set_protocol() was called (asyncio's flag)
    cdef bint protocol_paused        # pause_writing() was called
    cdef Py_ssize_t high_water       # pause_writing above this
    cdef Py_ssize_t low_water        # resume_writing at or below this
    cdef sockaddr_storage raddr      # sender address of the last datagram read in C
    cdef socklen_t raddr_len         # its length
    cdef object raddr_obj            # its Python form (reused while the sender repeats)
    cdef object saddr_key            # the last sendto() address converted in C, or None
    cdef sockaddr_storage saddr      # its sockaddr
    cdef socklen_t saddr_len         # its length
    cdef dict __dict__               # for ad-hoc attributes (as on asyncio's transports)
    cdef object __weakref__          # loop._transports is a WeakValueDictionary

    cdef int _read_ready_c(self) except -1
    cdef object _addr_obj(self)
    cdef bint _c_saddr(self, object addr) except -1
    cdef int _send_c(self, object data, object addr) except -1
    cdef int _maybe_pause_protocol(self) except -1
    cdef int _maybe_resume_protocol(self) except -1
    cdef int _fatal_error_c(self, object exc, str message) except -1
    cdef int _force_close_c(self, object exc) except -1
