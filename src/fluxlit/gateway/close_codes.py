"""WebSocket close codes the gateway sends or maps, defined once for both lanes."""

from .._speedups.constants import WS_CLOSE_INVALID_DATA, WS_CLOSE_PROTOCOL_ERROR, WS_CLOSE_TOO_BIG

NORMAL = 1000
GOING_AWAY = 1001
"""Sent to every WebSocket on shutdown."""
PROTOCOL_ERROR = WS_CLOSE_PROTOCOL_ERROR
INVALID_DATA = WS_CLOSE_INVALID_DATA
"""A text message that is not UTF-8."""
POLICY_VIOLATION = 1008
"""A WebSocket on an HTTP-only path."""
TOO_BIG = WS_CLOSE_TOO_BIG
INTERNAL_ERROR = 1011
"""The upstream was lost or refused."""
NO_STATUS = 1005
ABNORMAL = 1006

# Codes that describe a close but may not be sent in a close frame.
_RESERVED = {NO_STATUS: NORMAL, ABNORMAL: GOING_AWAY, 1015: INTERNAL_ERROR}


def sendable_close_code(code: int | None) -> int:
    """A close code that may go on the wire for the one received (reserved codes mapped)."""
    if code is None:
        return NORMAL
    return _RESERVED.get(code, code if 1000 <= code <= 4999 else INTERNAL_ERROR)


def close_frame(code: int, reason: str = "", *, masked: bool = False) -> bytes:
    """One close frame; ``masked`` (client to server) uses an all-zero key, so the payload stays as is."""
    payload = code.to_bytes(2, "big") + reason.encode()[:123]
    mask = b"\x00\x00\x00\x00" if masked else b""
    return bytes((0x88, len(payload) | (0x80 if masked else 0))) + mask + payload
