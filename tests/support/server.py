"""Serve an ASGI app with uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support.anvil import free_port

START_TIMEOUT = 10.0


@contextmanager
def serving(app: Any, **config: Any) -> Iterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`) while the server runs; extra keyword
    arguments go to `uvicorn.Config` (for example `log_level="debug"`)."""
    options: dict[str, Any] = {"host": "127.0.0.1", "port": free_port(), "log_level": "warning"}
    options.update(config)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {options['port']}")
        time.sleep(0.01)
    try:
        yield f"http://{options['host']}:{options['port']}"
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT)
