"""A JSON-RPC node whose connection breaks on chosen methods: an HTTP proxy in front of anvil
that forwards every request, except that it resets the connection, without answering, on a
request for one of the `broken` methods. A connection reset in the middle of a transaction's
preparation, as a flaky network or a restarting node gives one."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from tests.support.anvil import free_port


@contextmanager
def flaky_node(upstream: str, broken: set[str]) -> Iterator[str]:
    """Yields the proxy's URL; requests for `broken` JSON-RPC methods get a connection reset.
    `broken` is read at each request: a test may change it while the proxy runs."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            calls = json.loads(body)
            methods = {c.get("method") for c in (calls if isinstance(calls, list) else [calls])}
            if methods & broken:
                # SO_LINGER 0: closing sends a TCP reset, as a node that crashed does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            answer = requests.post(upstream, data=body, timeout=30,
                                   headers={"Content-Type": "application/json"})
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, name="flaky-node", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
