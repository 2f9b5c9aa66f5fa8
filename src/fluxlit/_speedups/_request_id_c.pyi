"""Type stub for the compiled request-id kernel; the surface is ``_request_id_py``'s."""

def is_valid_request_id(value: bytes) -> bool:
    """True when ``value`` is 1-128 bytes drawn from the safe alphabet."""

def mint_request_id() -> bytes:
    """A new request id: 32 lowercase hex digits from the OS random source."""

def request_id_for(incoming: bytes | None) -> bytes:
    """Keep a valid incoming request id, otherwise mint a new one."""
