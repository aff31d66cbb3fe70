"""The REST API's HTTP server: eventlet's WSGI server, bounded so that slow or idle clients cannot lock
others out (connections per client address, idle and read timeouts, a large connection pool)."""
from __future__ import annotations

import http.server
import json
import logging
import socket
import time
from collections import Counter
from http import HTTPStatus
from typing import Any, Callable

import eventlet
import eventlet.wsgi
import webob.exc

LOG = logging.getLogger(__name__)

MAX_CONNECTIONS = 8192       # greenthreads serving connections at once (each idle one costs a few KiB)
MAX_PER_CLIENT = 256         # connections one source address may hold; more are closed at once
IDLE_TIMEOUT = 10.0          # seconds a connection may wait before (or between) requests
READ_TIMEOUT = 10.0          # seconds a started request may go without sending a byte
MAX_REQUEST_LINE = 8192      # bytes of method, path and query (longer: 414)
LINGER = 1.0                 # seconds a closing connection keeps reading what the client still sends


class _Listener:
    """The listening socket; accept() closes the connections of a source address that holds too many."""

    def __init__(self, sock, per_client: int) -> None:
        self._sock, self._per_client = sock, per_client
        self._open: Counter[str] = Counter()

    def accept(self):
        while True:
            conn, addr = self._sock.accept()
            if self._open[addr[0]] < self._per_client:
                self._open[addr[0]] += 1
                return conn, addr
            conn.close()

    def released(self, addr) -> None:
        """A connection of `addr` is done."""
        self._open[addr[0]] -= 1
        if self._open[addr[0]] <= 0:
            del self._open[addr[0]]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def error_response(status: int, message: str) -> bytes:
    """A whole HTTP response carrying a NeutronError (for errors answered before the app sees a request)."""
    phrase = HTTPStatus(status).phrase
    body = json.dumps({"NeutronError": {"type": webob.exc.status_map[status].__name__, "message": message,
                                        "detail": ""}}).encode()
    return (f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


_CL_TE = b"Content-Length and Transfer-Encoding are not allowed together\n"
# eventlet's own answers, written before a request reaches the app, and what we answer instead
_EVENTLET_ERRORS = {
    eventlet.wsgi.RESPONSE_414: error_response(414, f"the request line exceeds {MAX_REQUEST_LINE} bytes"),
    b"HTTP/1.0 400 Header Line Too Long\r\nConnection: close\r\nContent-length: 0\r\n\r\n":
        error_response(400, "a header line is too long"),
    b"HTTP/1.0 400 Headers Too Large\r\nConnection: close\r\nContent-length: 0\r\n\r\n":
        error_response(400, "the headers are too large"),
    b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\nContent-length: 0\r\n\r\n":
        error_response(400, "Content-Length is not a non-negative integer"),
    b"HTTP/1.0 400 Bad Request\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_CL_TE), _CL_TE):
        error_response(400, _CL_TE.decode().strip()),
}


class _NeutronErrors:
    """The connection's output, where eventlet's plain error answers become NeutronError ones."""

    def __init__(self, wfile) -> None:
        self._wfile = wfile

    def write(self, data) -> int:
        return self._wfile.write(_EVENTLET_ERRORS.get(bytes(data), data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wfile, name)


class _Protocol(eventlet.wsgi.HttpProtocol):
    """eventlet's HTTP handler: errors as NeutronError bodies; tells the listener when its connection ends."""

    def setup(self) -> None:
        super().setup()
        self.wfile = _NeutronErrors(self.wfile)  # type: ignore[has-type]  # set by the base class's setup()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """A malformed request line (the standard library's error page otherwise)."""
        self.close_connection = True
        self.wfile.write(error_response(code, message or explain or HTTPStatus(code).phrase))

    def finish(self) -> None:
        """Flush the answer, then close lingering (eventlet closes at once)."""
        try:
            try:
                http.server.BaseHTTPRequestHandler.finish(self)
            except OSError:
                pass            # the client went away
            _lingering_close(self.connection)
        finally:
            self.server.socket.released(self.client_address)


def _lingering_close(sock) -> None:
    """Half-close, read what the client still sends (for LINGER seconds at most), then close: closing with
    unread input makes the kernel answer with a reset, which can destroy the response on its way (an error
    answered before the whole request was read, say); Apache closes the same way."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER)
        deadline = time.monotonic() + LINGER
        while time.monotonic() < deadline and sock.recv(65536):
            pass
    except OSError:
        pass                    # reset, or nothing more within LINGER
    finally:
        sock.close()


def serve(listen: tuple[str, int], app: Callable, per_client: int = MAX_PER_CLIENT) -> Callable[[], None]:
    """Bind `listen` now (OSError if it cannot) and return the loop that serves `app` there forever."""
    listener = _Listener(eventlet.listen(listen), per_client)

    def serve_forever() -> None:
        eventlet.wsgi.server(listener, app, log=LOG, protocol=_Protocol, max_size=MAX_CONNECTIONS,
                             keepalive=IDLE_TIMEOUT, socket_timeout=READ_TIMEOUT, url_length_limit=MAX_REQUEST_LINE,
                             log_output=False, debug=False)
    return serve_forever
