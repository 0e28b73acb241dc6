"""A TCP proxy in front of a real server that fails on purpose, one fault per connection.

Faults, taken in order by each new connection (then every connection passes):
- `DROP_ANSWER`: the request goes to the server, which handles it; when its answer starts
  coming back, both connections are closed, so the client never sees it (a lost answer);
- `Answer(status, retry_after)`: the proxy answers itself, with `Connection: close`, and the
  server never sees the request (an overloaded front end).
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from tests.support.anvil import free_port

DROP_ANSWER = "drop-answer"
_CHUNK = 65536


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None = None


Fault = str | Answer


class FaultyProxy:
    def __init__(self, upstream: str, faults: list[Fault]) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._faults: deque[Fault] = deque(faults)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests_seen = 0  # requests that reached the proxy
        self.requests_forwarded = 0  # of them, those the server received
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                fault = self._faults.popleft() if self._faults else None
            threading.Thread(target=self._serve, args=(conn, fault), daemon=True).start()

    def _serve(self, conn: socket.socket, fault: Fault | None) -> None:
        with conn:
            if fault is None:
                self._pipe(conn)
                return
            request = _read_request(conn)
            with self._lock:
                self.requests_seen += 1
            if isinstance(fault, Answer):
                headers = f"Retry-After: {fault.retry_after}\r\n" if fault.retry_after else ""
                body = b'{"detail": "try again later", "error": "Overloaded"}'
                conn.sendall(
                    f"HTTP/1.1 {fault.status} Fault\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n".encode()
                    + body
                )
                return
            with socket.create_connection(self._upstream) as upstream:
                upstream.sendall(request)
                with self._lock:
                    self.requests_forwarded += 1
                upstream.recv(1)  # the server has answered: it handled the request
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    def _pipe(self, conn: socket.socket) -> None:
        """Pass bytes both ways until either side closes; counts the requests it forwards."""
        with socket.create_connection(self._upstream) as upstream:
            def back() -> None:
                try:
                    while data := upstream.recv(_CHUNK):
                        conn.sendall(data)
                except OSError:
                    pass
                finally:
                    conn.close()

            threading.Thread(target=back, daemon=True).start()
            try:
                while True:
                    request = _read_request(conn)
                    if not request:
                        return
                    with self._lock:
                        self.requests_seen += 1
                        self.requests_forwarded += 1
                    upstream.sendall(request)
            except OSError:
                return


def _read_request(conn: socket.socket) -> bytes:
    """One whole HTTP/1.1 request (headers and a Content-Length body); b"" at end of stream."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(_CHUNK)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(_CHUNK)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@contextmanager
def faulty_proxy(upstream: str, faults: list[Fault]) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream, faults)
    try:
        yield proxy
    finally:
        proxy.stop()
