"""The shapes of the hashes, keyed references and addresses the API takes and answers, as the
OpenAPI document states them for every such field: 32 bytes and 20 bytes in 0x-hex."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

BYTES32 = r"^0x[0-9a-fA-F]{64}$"
# Any letter case here: the routes check an address's EIP-55 checksum and say so when it fails.
ADDRESS = r"^0x[0-9a-fA-F]{40}$"

Bytes32 = Annotated[str, Field(pattern=BYTES32)]
Address = Annotated[str, Field(pattern=ADDRESS)]
