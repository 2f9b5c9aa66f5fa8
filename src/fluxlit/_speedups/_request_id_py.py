"""Request-id kernel, pure twin: the readable specification."""

import os

from .constants import MAX_REQUEST_ID_LENGTH, MINTED_REQUEST_ID_BYTES, RANDOM_BATCH_BYTES, REQUEST_ID_ALPHABET

_random = b""
_used = 0


def _forget_random() -> None:
    # A forked child must not mint the ids its parent will mint.
    global _random, _used
    _random, _used = b"", 0


os.register_at_fork(after_in_child=_forget_random)


def is_valid_request_id(value: bytes) -> bool:
    """True when ``value`` is 1-128 bytes drawn from the safe alphabet."""
    if type(value) is not bytes:
        raise TypeError(f"request id must be bytes, not {type(value).__name__}")
    return 0 < len(value) <= MAX_REQUEST_ID_LENGTH and not value.translate(None, REQUEST_ID_ALPHABET)


def mint_request_id() -> bytes:
    """A new request id: 32 lowercase hex digits from the OS random source (read in batches)."""
    global _random, _used
    if _used + MINTED_REQUEST_ID_BYTES > len(_random):
        _random, _used = os.urandom(RANDOM_BATCH_BYTES), 0
    raw = _random[_used : _used + MINTED_REQUEST_ID_BYTES]
    _used += MINTED_REQUEST_ID_BYTES
    return raw.hex().encode("ascii")


def request_id_for(incoming: bytes | None) -> bytes:
    """Keep a valid incoming request id, otherwise mint a new one."""
    if incoming is not None and is_valid_request_id(incoming):
        return incoming
    return mint_request_id()
