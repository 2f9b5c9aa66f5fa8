"""Request-id kernel, pure twin: the readable specification."""

import os

from .constants import MAX_REQUEST_ID_LENGTH, MINTED_REQUEST_ID_BYTES, REQUEST_ID_ALPHABET


def is_valid_request_id(value: bytes) -> bool:
    """True when ``value`` is 1-128 bytes drawn from the safe alphabet."""
    if type(value) is not bytes:
        raise TypeError(f"request id must be bytes, not {type(value).__name__}")
    return 0 < len(value) <= MAX_REQUEST_ID_LENGTH and not value.translate(None, REQUEST_ID_ALPHABET)


def mint_request_id() -> bytes:
    """A new request id: 32 lowercase hex digits from the OS random source."""
    return os.urandom(MINTED_REQUEST_ID_BYTES).hex().encode("ascii")


def request_id_for(incoming: bytes | None) -> bytes:
    """Keep a valid incoming request id, otherwise mint a new one."""
    if incoming is not None and is_valid_request_id(incoming):
        return incoming
    return mint_request_id()
