"""Every use of aiohttp's internals in the notifier, checked against one aiohttp version.

With `ML_NOTIFIER_SOCKETS=lean` a browser's connection leaves aiohttp after the WebSocket
handshake for a protocol of the notifier's own (`notifier.socket`). aiohttp has no public
way to give a connection away; this module relies on aiohttp 3.14 (`check_supported`
refuses any other version at startup) for:

- `request.protocol` being aiohttp's `RequestHandler`, whose `connection_lost(None)` lets go
  of the request, the HTTP parser and the keep-alive timer and takes the handler out of its
  server's connections (`RequestHandler._manager`, a `web.Server`);
- `RequestHandler._task_handler`: `connection_lost` cancels it when the server runs with
  `handler_cancellation` (aiohttp's TestServer does). The browser has not left and the
  handler still sends the first status, so the task is hidden from that call;
- `RequestHandler._message_tail`: bytes that arrived behind the upgrade request;
- `web.Server._connections`, which the runner's graceful shutdown walks (`pre_shutdown`,
  then `shutdown(timeout)`). A `Fence` stands in it for all connections taken over from that
  server, so the shutdown still closes them and waits for them, within its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

SUPPORTED = (3, 14)  # major, minor: the aiohttp whose internals are described above
# What this module reads or changes on a RequestHandler (its own slots and BaseProtocol's).
_HANDLER_SLOTS = frozenset({"_manager", "_task_handler", "_message_tail", "transport"})


class TakeoverUnsupported(RuntimeError):
    """The installed aiohttp, or the server a request came through, is not one the takeover
    was checked against."""


def check_supported() -> None:
    """Refuse to start the lean sockets on an aiohttp this module was not checked against."""
    version = aiohttp.__version__
    try:
        found = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:
        found = ()
    slots: set[str] = set()
    for cls in RequestHandler.__mro__:
        slots.update(getattr(cls, "__slots__", ()))
    if found != SUPPORTED or not slots >= _HANDLER_SLOTS:
        raise TakeoverUnsupported(
            f"ML_NOTIFIER_SOCKETS=lean takes WebSocket connections over from aiohttp's request "
            f"handler, which only aiohttp {SUPPORTED[0]}.{SUPPORTED[1]}.x is known to allow; "
            f"aiohttp {version} is installed. Set ML_NOTIFIER_SOCKETS=aiohttp (aiohttp's own "
            f"WebSocketResponse, about 20 KiB per waiting browser instead of 2) or install "
            f"aiohttp {SUPPORTED[0]}.{SUPPORTED[1]}.x."
        )


class Detached(asyncio.Protocol):
    """A protocol that takes a connection over: what its server's shutdown needs of it."""

    __slots__ = ()

    def going_away(self) -> None:
        """The server is stopping: begin closing (the connection ends by itself later)."""
        raise NotImplementedError

    def abort(self) -> None:
        """Drop the connection now."""
        raise NotImplementedError


class Fence:
    """All connections taken over from one `web.Server`, kept among its connections.

    The runner's graceful shutdown calls `close()` on each connection once the listening
    socket is closed, then awaits `shutdown(timeout)` on each, as it does for aiohttp's own
    request handlers."""

    __slots__ = ("__weakref__", "_drained", "_held")

    def __init__(self) -> None:
        self._held: set[Detached] = set()
        self._drained: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._held)

    def hold(self, conn: Detached) -> None:
        self._held.add(conn)

    def release(self, conn: Detached) -> None:
        """`conn`'s connection is gone."""
        self._held.discard(conn)
        if not self._held and self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def close(self) -> None:
        """Nothing yet: like a request still in progress, they are closed by `shutdown`."""

    async def shutdown(self, timeout: float | None = 15.0) -> None:  # noqa: ASYNC109  # aiohttp's call
        """Ask every connection to close, wait up to `timeout` for them, drop the rest."""
        for conn in list(self._held):
            conn.going_away()
        if self._held:
            self._drained = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained, timeout)
        for conn in list(self._held):
            conn.abort()


_fences: weakref.WeakKeyDictionary[web.Server, Fence] = weakref.WeakKeyDictionary()


def _server_fence(handler: RequestHandler) -> Fence:
    server = handler._manager
    connections: Any = getattr(server, "_connections", None)
    if type(handler) is not RequestHandler or not isinstance(connections, dict):
        raise TakeoverUnsupported(
            f"this connection came through {type(handler).__name__} of {type(server).__name__}, "
            "not aiohttp's own web.Server and RequestHandler, which the lean sockets take "
            "connections over from; set ML_NOTIFIER_SOCKETS=aiohttp"
        )
    assert server is not None  # the handler is connected: its server is set
    fence = _fences.get(server)
    if fence is None:
        fence = _fences[server] = Fence()
    # The server forgets it after a shutdown; the value is never read (keys are connections).
    connections.setdefault(fence, None)
    return fence


def take_over(request: web.Request, protocol: Detached, handshake: bytes) -> Fence:
    """Move `request`'s connection from aiohttp to `protocol` and write `handshake` on it.

    `protocol` gets `connection_made`, then any bytes that arrived behind the request; it
    must call `release` on the returned fence when its connection is lost. Raises
    ConnectionResetError if the browser already left."""
    handler = request.protocol
    fence = _server_fence(handler)
    transport = handler.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the browser left during the handshake")
    tail, handler._message_tail = handler._message_tail, b""
    transport.set_protocol(protocol)
    # aiohttp is told the connection is gone (for it, it is) once the transport is no longer
    # its to close. With the handler task hidden, connection_lost cannot cancel it (it would
    # under handler_cancellation) and the server drops the handler at once instead of when
    # the task ends; the response the handler then returns is dropped as a client disconnect.
    handler._task_handler = None
    handler.transport = None
    handler.connection_lost(None)
    try:
        protocol.connection_made(transport)
        fence.hold(protocol)
        transport.write(handshake)
        if not transport.is_reading():
            transport.resume_reading()  # aiohttp paused it for a buffer it no longer has
        if tail:
            protocol.data_received(tail)
    except BaseException:
        fence.release(protocol)
        transport.abort()  # neither aiohttp's nor the protocol's: nobody else would close it
        raise
    return fence
