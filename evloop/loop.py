"""evloop.EventLoop: the asyncio face.

``EventLoop`` is ``asyncio.SelectorEventLoop`` with its engine replaced by
the compiled ``evloop._evloop.Loop`` (first in the MRO): the ready queue,
timers, the ``_run_once`` pass, readers/writers and signal handlers run on
an ``EventBase`` (``loop.event_base``), which libevent-face ``Event``\\ s can
share.  The hot ``sock_*`` coroutines (``sock_recv``, ``sock_recv_into``,
``sock_sendall``, ``sock_accept``, and ``sock_recvfrom``,
``sock_recvfrom_into``, ``sock_sendto``, also on Python 3.10) are compiled
too (``aio/sockops.pyx``), and so are the stream, pipe, subprocess and
datagram transports (``aio/transports.pyx``, ``aio/pipes.pyx``,
``aio/process.pyx``: children watched by pidfd events, no child watcher;
``aio/udp.pyx``).  What the stdlib writes against that engine (Happy
Eyeballs in ``create_connection``, ``create_server``,
``create_datagram_endpoint``'s checks and resolution, ``sock_connect``,
``sock_sendfile``, SSL) is inherited unchanged.

Differences from asyncio: none intended.  Where evloop's behaviour differs
anyway, ``tests/aio`` has an ``xfail`` saying why.
"""
from __future__ import annotations

import asyncio
import selectors
import socket
import sys
import threading
import warnings
import weakref
from asyncio import base_events as _base_events
from typing import TYPE_CHECKING, Any

from . import _evloop

if TYPE_CHECKING:
    import asyncio.log
    import concurrent.futures
    from asyncio.events import _ProtocolFactory
    from collections.abc import Callable, Mapping, Sequence
    from socket import _GetAddrInfoResult

    from _typeshed import FileDescriptorLike, StrPath
    from typing import TypeVar

    from typing_extensions import TypeVarTuple, Unpack

    _T = TypeVar("_T")
    _Ts = TypeVarTuple("_Ts")

    # asyncio's private API that this module uses or overrides, declared
    # for the type checker (typeshed declares only the public one): the list
    # of what a new Python version can break here.

    def _set_result_unless_cancelled(fut: asyncio.Future[_T], result: _T) -> None: ...

    class _StdServer(_base_events.Server):
        _sockets: list[socket.socket]  # (None once closed)
        _clients: weakref.WeakSet[asyncio.Transport]  # 3.13's (_adopt_server adds it before)
        def _attach(self) -> None: ...  # 3.13: _attach(transport)
        def _detach(self) -> None: ...  # 3.13: _detach(transport)
        def _start_serving(self) -> None: ...

    class _StdSelectorEventLoop(asyncio.SelectorEventLoop):
        _transports: weakref.WeakValueDictionary[int, asyncio.BaseTransport]
        _default_executor: concurrent.futures.ThreadPoolExecutor | None
        _executor_shutdown_called: bool
        _signal_handlers: dict[int, Any]
        _unix_server_sockets: dict[socket.socket, int]  # 3.13's
        def _check_signal(self, sig: int) -> None: ...
        def _run_forever_setup(self) -> None: ...  # 3.13
        def _run_forever_cleanup(self) -> None: ...  # 3.13
        def _stop_serving(self, sock: socket.socket) -> None: ...
        def _make_ssl_transport(self, rawsock: socket.socket, *args: Any,
                                server: _base_events.Server | None = None,
                                **kwargs: Any) -> asyncio.Transport: ...
        # As EventLoop overrides them; the Server they return has the
        # private members above.
        async def create_server(
                self, protocol_factory: _ProtocolFactory,
                host: str | Sequence[str] | None = None, port: int | None = None, *,
                start_serving: bool = True, **kwargs: Any) -> _StdServer: ...
        async def create_unix_server(
                self, protocol_factory: _ProtocolFactory, path: StrPath | None = None, *,
                start_serving: bool = True, cleanup_socket: bool = True,
                **kwargs: Any) -> _StdServer: ...
else:
    from asyncio.futures import _set_result_unless_cancelled

    _StdServer = _base_events.Server
    _StdSelectorEventLoop = asyncio.SelectorEventLoop

__all__ = ["EventLoop"]


class _NoSelector(selectors.BaseSelector):
    """Stands in for the selector of asyncio.SelectorEventLoop, which
    EventLoop never polls (the EventBase does).  Only the stdlib's
    transport ``__repr__`` asks it anything (get_key), and gets KeyError."""

    def register(self, fileobj: FileDescriptorLike, events: int,  # pragma: no cover
                 data: Any = None) -> selectors.SelectorKey:
        raise RuntimeError("evloop's EventLoop has no selector; use add_reader")

    def unregister(self,  # pragma: no cover
                   fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        raise KeyError(fileobj)

    def select(self,  # pragma: no cover
               timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        raise RuntimeError("evloop's EventLoop has no selector")

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return {}

    def get_key(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        raise KeyError(fileobj)

    def close(self) -> None:
        pass


def _numeric_addrinfo(host: bytes | str | None, port: bytes | str | int | None, family: int,
                      type: int, proto: int, flags: int) -> _GetAddrInfoResult | None:
    """getaddrinfo for a numeric host and port without the thread pool
    (uvloop does the same).  None when a real lookup is needed."""
    if host is None or port is None and host is None:
        return None
    if isinstance(host, bytes):
        host = host.decode("idna")
    if not isinstance(host, str):
        return None
    if port is not None and not isinstance(port, int):
        if isinstance(port, (bytes, str)):
            try:
                port = int(port)
            except ValueError:
                return None
        else:
            return None
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.split("%")[0])
    except (OSError, ValueError):
        return None
    try:
        return socket.getaddrinfo(host, port, family, type, proto,
                                  flags | socket.AI_NUMERICHOST | socket.AI_NUMERICSERV)
    except OSError:
        return None


if sys.version_info < (3, 13):
    class _Server(_StdServer):
        """asyncio.Server as Python 3.13 has it, on 3.10-3.12: the server
        tracks its client transports, so ``close_clients()`` and
        ``abort_clients()`` exist on every version.  (The stdlib builds its
        own Server inside create_server; EventLoop switches its class.)"""

        def _attach(self, transport: asyncio.Transport | None = None) -> None:
            super()._attach()
            if transport is not None:
                self._clients.add(transport)

        def _detach(self, transport: asyncio.Transport | None = None) -> None:
            if transport is not None:
                self._clients.discard(transport)
            super()._detach()

        def close_clients(self) -> None:
            for transport in self._clients.copy():
                transport.close()

        def abort_clients(self) -> None:
            for transport in self._clients.copy():
                transport.abort()

    def _adopt_server(server: _StdServer) -> _StdServer:
        server.__class__ = _Server
        server._clients = weakref.WeakSet()
        return server


class EventLoop(_evloop.Loop, _StdSelectorEventLoop):
    """An asyncio event loop driven by an evloop EventBase.

    ``loop.event_base`` is that base: an ``evloop.Event`` added to it fires
    in the same dispatch passes as the loop's callbacks, at libevent
    priority 1 of 3 unless given another.
    """

    def __init__(self, *, config: _evloop.EventConfig | None = None) -> None:
        super().__init__(selector=_NoSelector())
        if not hasattr(self, "_unix_server_sockets"):
            self._unix_server_sockets = {}

    def __repr__(self) -> str:
        running = getattr(self, "_thread_id", None) is not None
        return (f"<{self.__class__.__name__} running={running} "
                f"closed={self.is_closed()} debug={self.get_debug()}>")

    def close(self) -> None:
        if self.is_running():
            raise RuntimeError("Cannot close a running event loop")
        if self.is_closed():
            return
        try:
            super().close()
        finally:
            self._free_engine()

    if (3, 13) <= sys.version_info < (3, 13, 3):
        def run_forever(self) -> None:
            """Run until stop() is called.

            CPython 3.13.0-3.13.2's run_forever() calls
            _run_forever_setup() inside its try, so when the loop refuses to
            run (already running, another loop running, closed) the finally
            clause's _run_forever_cleanup() clears the running loop of the
            loop that *is* running (gh-130145, fixed in 3.13.3).  This is
            the fixed method."""
            self._run_forever_setup()
            try:
                while True:
                    self._run_once()
                    if self._stopping:
                        break
            finally:
                self._run_forever_cleanup()

    # -- transports ----------------------------------------------------

    def _make_socket_transport(self, sock: socket.socket, protocol: asyncio.BaseProtocol,
                               waiter: asyncio.Future[None] | None = None, *,
                               extra: dict[str, Any] | None = None,
                               server: _base_events.Server | None = None) -> asyncio.Transport:
        """TCP and Unix stream transports run on a socket Bufferevent."""
        return _evloop.StreamTransport(self, sock, protocol, waiter, extra, server)

    def _make_read_pipe_transport(self, pipe: Any, protocol: asyncio.BaseProtocol,
                                  waiter: asyncio.Future[None] | None = None,
                                  extra: dict[str, Any] | None = None) -> asyncio.ReadTransport:
        """connect_read_pipe's transport: a Bufferevent over the pipe's fd."""
        return _evloop.ReadPipeTransport(self, pipe, protocol, waiter, extra)

    def _make_write_pipe_transport(self, pipe: Any, protocol: asyncio.BaseProtocol,
                                   waiter: asyncio.Future[None] | None = None,
                                   extra: dict[str, Any] | None = None) -> asyncio.WriteTransport:
        """connect_write_pipe's transport: a Bufferevent over the pipe's fd."""
        return _evloop.WritePipeTransport(self, pipe, protocol, waiter, extra)

    async def _make_subprocess_transport(
            self, protocol: asyncio.BaseProtocol, args: Any, shell: bool, stdin: Any,
            stdout: Any, stderr: Any, bufsize: int, extra: dict[str, Any] | None = None,
            **kwargs: Any) -> asyncio.SubprocessTransport:
        """subprocess_exec/subprocess_shell's transport: evloop's compiled
        ProcessTransport, its child watched by a pidfd event on the base (no
        child watcher, no thread; a waitpid thread where pidfd_open is
        missing).  The rest is _UnixSelectorEventLoop's method."""
        waiter = self.create_future()
        transp = _evloop.ProcessTransport(self, protocol, args, shell, stdin, stdout, stderr,
                                          bufsize, waiter, extra, kwargs)
        try:
            await waiter
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException:
            transp.close()
            await transp._wait()
            raise
        return transp

    def _make_datagram_transport(self, sock: socket.socket, protocol: asyncio.BaseProtocol,
                                 address: Any = None, waiter: asyncio.Future[None] | None = None,
                                 extra: dict[str, Any] | None = None) -> asyncio.DatagramTransport:
        """create_datagram_endpoint's transport: the compiled
        DatagramTransport (aio/udp.pyx).  The stdlib's
        create_datagram_endpoint itself is inherited: its argument checks
        (sock= with modifiers, family, AF_UNIX paths, reuse_address's
        removal), address resolution and socket setup are cold code that
        the transport's speed does not depend on, and keeping it keeps
        every message and version difference exactly the stdlib's."""
        return _evloop.DatagramTransport(self, sock, protocol, address, waiter, extra)

    # -- servers -------------------------------------------------------
    #
    # The stdlib builds the listening sockets and the Server; evloop asks it
    # not to start serving and starts the server itself, so that a failure
    # after the sockets exist (listen() refusing the backlog, a cancelled
    # create_server) closes the sockets this call made.  asyncio leaves them
    # to the garbage collector ("ResourceWarning: unclosed <socket ...>") on
    # every version.  A socket passed as sock= stays open (the caller still
    # owns it after a failed call), only unregistered.

    async def create_server(self, protocol_factory: _ProtocolFactory,
                            host: str | Sequence[str] | None = None, port: int | None = None, *,
                            start_serving: bool = True, **kwargs: Any) -> _StdServer:
        server = await super().create_server(protocol_factory, host, port,
                                             start_serving=False, **kwargs)
        await self._start_server(server, start_serving, kwargs.get("sock") is None)
        return server

    if sys.version_info >= (3, 13):
        async def create_unix_server(self, protocol_factory: _ProtocolFactory,
                                     path: StrPath | None = None, *, start_serving: bool = True,
                                     **kwargs: Any) -> _StdServer:
            server = await super().create_unix_server(protocol_factory, path,
                                                      start_serving=False, **kwargs)
            await self._start_server(server, start_serving, kwargs.get("sock") is None)
            return server
    else:
        async def create_unix_server(self, protocol_factory: _ProtocolFactory,
                                     path: StrPath | None = None, *, start_serving: bool = True,
                                     cleanup_socket: bool = False, **kwargs: Any) -> _StdServer:
            """As asyncio's; ``cleanup_socket`` (Python 3.13's) is accepted
            here too, but is off by default, as these versions' asyncio
            leaves the socket file when the server closes."""
            server = await super().create_unix_server(protocol_factory, path,
                                                      start_serving=False, **kwargs)
            made = kwargs.get("sock") is None
            try:
                if cleanup_socket:
                    for sock in server._sockets:
                        name = sock.getsockname()
                        # Not for abstract sockets; str and bytes paths both.
                        if name and name[0] not in (0, "\x00"):
                            # 3.13 records os.stat(path).st_ino here; the
                            # same stat(), made in C (see _path_inode).
                            ino = _evloop._path_inode(name)
                            if ino is not None:
                                self._unix_server_sockets[sock] = ino
            except BaseException:
                self._abandon_server(server, made)
                raise
            await self._start_server(server, start_serving, made)
            return server

        def _stop_serving(self, sock: socket.socket) -> None:
            path = sock.getsockname() if sock in self._unix_server_sockets else None
            super()._stop_serving(sock)
            if path is not None:
                ino = self._unix_server_sockets.pop(sock)
                try:
                    # Only the file this server made (not a newer one).
                    _evloop._unlink_if_inode(path, ino)
                except OSError as err:
                    asyncio.log.logger.error(
                        "Unable to clean up listening UNIX socket %r: %r", path, err)

    async def _start_server(self, server: _StdServer, start_serving: bool, made: bool) -> None:
        try:
            if sys.version_info < (3, 13):
                # Python 3.13's Server.close_clients()/abort_clients().
                _adopt_server(server)
            if start_serving:
                server._start_serving()
                # As the stdlib: one pass, so that the accept events are on.
                await asyncio.sleep(0)
        except BaseException:
            self._abandon_server(server, made)
            raise

    def _abandon_server(self, server: _StdServer, made: bool) -> None:
        if made:
            server.close()      # unregistered, closed (and its file cleaned up)
            return
        for sock in server._sockets or ():
            self._remove_reader(sock.fileno())
            self._unix_server_sockets.pop(sock, None)

    if sys.version_info < (3, 13):
        # 3.13's Server tracks TLS clients too (see _Server).
        def _make_ssl_transport(self, rawsock: socket.socket, *args: Any,
                                server: _base_events.Server | None = None,
                                **kwargs: Any) -> asyncio.Transport:
            app = super()._make_ssl_transport(rawsock, *args, server=server, **kwargs)
            clients = getattr(server, "_clients", None)
            if clients is not None:
                # The stdlib's raw transport attaches without naming itself.
                raw = self._transports.get(rawsock.fileno())
                if raw is not None:
                    clients.add(raw)
            return app

    if sys.version_info < (3, 12):
        # 3.12's shutdown_default_executor(timeout) on 3.10 and 3.11.

        async def shutdown_default_executor(self, timeout: float | None = None) -> None:
            """Shut the default executor down; with ``timeout``, wait at most
            that long for its threads (then RuntimeWarning, as 3.12)."""
            self._executor_shutdown_called = True
            if self._default_executor is None:
                return
            future = self.create_future()
            thread = threading.Thread(target=self._do_shutdown, args=(future,))
            thread.start()
            try:
                await asyncio.wait_for(future, timeout)
            except asyncio.TimeoutError:
                warnings.warn("The executor did not finishing joining "
                              f"its threads within {timeout} seconds.",
                              RuntimeWarning, stacklevel=2)
                self._default_executor.shutdown(wait=False)
            else:
                thread.join()

        def _do_shutdown(self, future: asyncio.Future[None]) -> None:
            try:
                # (CPython's code: the caller checked it is not None.)
                self._default_executor.shutdown(wait=True)  # type: ignore[union-attr]
                if not self.is_closed():
                    self.call_soon_threadsafe(_set_result_unless_cancelled, future, None)
            except Exception as ex:
                if not self.is_closed() and not future.cancelled():
                    self.call_soon_threadsafe(future.set_exception, ex)

    # -- signals: EV_SIGNAL events of the base -------------------------

    def add_signal_handler(self, sig: int, callback: Callable[[Unpack[_Ts]], object],
                           *args: Unpack[_Ts]) -> None:
        """Run callback(*args) when signal ``sig`` arrives (main thread
        only; RuntimeError for signals that cannot be caught)."""
        if asyncio.iscoroutine(callback) or asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with add_signal_handler()")
        self._check_signal(sig)
        self._check_closed()
        old = self._signal_handlers.pop(sig, None)
        if old is not None:
            self._del_signal_watcher(old)
        try:
            watcher = self._add_signal_watcher(sig, callback, args)
        except OSError as exc:
            import errno
            if exc.errno == errno.EINVAL:
                raise RuntimeError(f"sig {sig:d} cannot be caught") from None
            raise
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None
        self._signal_handlers[sig] = watcher

    def remove_signal_handler(self, sig: int) -> bool:
        """Remove the handler of ``sig``; True if there was one."""
        self._check_signal(sig)
        watcher = self._signal_handlers.pop(sig, None)
        if watcher is None:
            return False
        self._del_signal_watcher(watcher)
        return True

    # -- DNS -----------------------------------------------------------

    async def getaddrinfo(self, host: bytes | str | None, port: bytes | str | int | None, *,
                          family: int = 0, type: int = 0, proto: int = 0,
                          flags: int = 0) -> _GetAddrInfoResult:
        res = _numeric_addrinfo(host, port, family, type, proto, flags)
        if res is not None:
            return res
        return await super().getaddrinfo(host, port, family=family, type=type,
                                         proto=proto, flags=flags)
