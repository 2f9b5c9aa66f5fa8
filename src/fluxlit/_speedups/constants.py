"""Constants shared by both kernel twins; defined once, here."""

from http import HTTPStatus

MAX_REQUEST_ID_LENGTH = 128
"""Longest incoming ``X-Request-ID`` that is kept; longer ones are replaced."""

REQUEST_ID_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
"""Bytes an incoming request id may contain: nothing that could split a header or a log line."""

MINTED_REQUEST_ID_BYTES = 16
"""Random bytes in a minted request id (rendered as 32 lowercase hex digits)."""

RANDOM_BATCH_BYTES = 4096
"""Bytes read from the OS random source at once for minting ids: one system call per 256 ids."""

WS_MAX_CONTROL_PAYLOAD = 125
"""WebSocket control frames carry at most 125 payload bytes."""

WS_OPCODES = frozenset({0x0, 0x1, 0x2, 0x8, 0x9, 0xA})
"""Continuation, text, binary, close, ping, pong."""

WS_CLOSE_PROTOCOL_ERROR = 1002
WS_CLOSE_INVALID_DATA = 1007
WS_CLOSE_TOO_BIG = 1009


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode()


STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}
"""The status line the gateway writes for each status (standard reason phrases)."""
