"""Constants shared by both kernel twins; defined once, here."""

MAX_REQUEST_ID_LENGTH = 128
"""Longest incoming ``X-Request-ID`` that is kept; longer ones are replaced."""

REQUEST_ID_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"
"""Bytes an incoming request id may contain: nothing that could split a header or a log line."""

MINTED_REQUEST_ID_BYTES = 16
"""Random bytes in a minted request id (rendered as 32 lowercase hex digits)."""
