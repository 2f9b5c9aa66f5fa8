"""Type stub for the compiled WebSocket frame-inspector kernel; the surface is ``_ws_frames_py``'s."""

from .errors import FrameEvent

def valid_close_code(code: int) -> bool:
    """Close codes a peer may send: the defined ones (1000-1003, 1007-1014) and the registered and private ranges (3000-4999)."""

class FrameInspector:
    """Incremental frame parser for one direction; ``masked`` says whether frames must be masked."""

    def __init__(self, *, masked: bool, max_frame: int = 0, max_message: int = 0, allow_rsv1: bool = False, check_utf8: bool = False) -> None: ...
    @property
    def masked(self) -> bool: ...
    @property
    def max_frame(self) -> int: ...
    @property
    def max_message(self) -> int: ...
    @property
    def allow_rsv1(self) -> bool: ...
    @property
    def check_utf8(self) -> bool: ...
    @property
    def at_boundary(self) -> bool:
        """True between frames: everything fed so far ended a frame."""

    def feed(self, data: bytes) -> list[FrameEvent]:
        """Consume ``data``; return the frames whose header (or close code) completed in it."""
