"""Exceptions and event types shared by both kernel twins; defined once, here."""

from typing import NamedTuple


class WebSocketProtocolError(ValueError):
    """A WebSocket byte stream broke the WebSocket protocol; ``code`` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{reason} (close code {code})")
        self.code = code
        self.reason = reason


class FrameEvent(NamedTuple):
    """One WebSocket frame header, reported as soon as it is known (payload never copied or unmasked)."""

    opcode: int
    fin: bool
    masked: bool
    length: int
    close_code: int | None
    """For close frames: the status code (``None`` when the frame has no payload); else ``None``."""
