"""Body-limit kernel, pure twin: counts streamed request-body bytes against a cap."""


class BodyLimit:
    """Counts body bytes (Content-Length or de-chunked); ``cap`` 0 means unlimited.

    ``over_declared`` answers up front for a declared length; ``feed`` reports ``True`` at the
    first chunk that carries a byte past the cap, so a 413 goes out before anything is buffered.
    """

    __slots__ = ("cap", "received")

    def __init__(self, cap: int) -> None:
        if cap < 0:
            raise ValueError(f"body cap must be >= 0 (0 = unlimited), got {cap}")
        self.cap = cap
        self.received = 0

    def over_declared(self, content_length: int) -> bool:
        """True when a declared Content-Length is already past the cap."""
        return self.cap > 0 and content_length > self.cap

    def feed(self, size: int) -> bool:
        """Count ``size`` more bytes; True once the total is past the cap."""
        if size < 0:
            raise ValueError(f"chunk size must be >= 0, got {size}")
        self.received += size
        return self.cap > 0 and self.received > self.cap
