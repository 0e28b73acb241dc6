"""Keep JSON-RPC URLs out of everything people or clients read.

Node providers put API keys in the URL's path, query or user info
(`https://mainnet.example/v3/<key>`, `https://node.example/?apikey=<key>`,
`https://user:pass@node.example`). BindLedger shows a node only as scheme, host and port:
in errors, logs, API answers and command-line output.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

# What stands for a URL that has no recognisable scheme and host.
UNPARSABLE_URL = "[redacted URL]"

# A URL inside free text: a scheme, "://", then everything up to white space or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")

# The loggers of the libraries that talk to the node and name its URL (at DEBUG level).
_LIBRARY_LOGGERS = (
    "web3.providers.HTTPProvider",
    "web3._utils.http_session_manager.HTTPSessionManager",
    "urllib3.connectionpool",
)


def redact_url(url: str) -> str:
    """Requires nothing. Returns the URL reduced to `scheme://host[:port]`: no user info, path,
    query or fragment. "embedded" stays "embedded"; text that is not a URL with a scheme and a
    host becomes UNPARSABLE_URL, since it may be a secret itself."""
    if url == "embedded":
        return url
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:  # a malformed port or IPv6 literal
        return UNPARSABLE_URL
    if not parts.scheme or not host:
        return UNPARSABLE_URL
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def redact_text(text: str, *urls: str) -> str:
    """Requires nothing. Returns `text` with every URL in it redacted (see redact_url), and with
    what would betray any of `urls` even out of a URL's context (its path with the query, or its
    user info, as an HTTP library names them in its messages) replaced by "[redacted]"."""
    secrets: list[str] = []
    for url in urls:
        try:
            parts = urlsplit(url.strip())
        except ValueError:
            secrets.append(url)
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if path not in ("", "/"):
            secrets.append(path)
        if parts.username or parts.password:
            secrets.append(parts.netloc.rpartition("@")[0])
    text = _URL_IN_TEXT.sub(lambda m: redact_url(m.group(0)), text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "[redacted]")
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts URLs (and the secret parts of known node URLs) in every
    message it sees; it never drops a record."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message, *self.urls)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_FILTER = RedactingFilter()


def redact_library_logs(url: str) -> None:
    """Requires nothing. From now on, the messages of the HTTP and web3 libraries' loggers
    (which name the node's URL at DEBUG level) are redacted, including `url`'s path and query
    wherever they appear alone."""
    _FILTER.urls.add(url)
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
