"""Type stub for the compiled body-limit kernel; the surface is ``_body_limit_py``'s."""

class BodyLimit:
    """Counts body bytes (Content-Length or de-chunked); ``cap`` 0 means unlimited."""

    cap: int
    received: int

    def __init__(self, cap: int) -> None: ...
    def over_declared(self, content_length: int) -> bool:
        """True when a declared Content-Length is already past the cap."""

    def feed(self, size: int) -> bool:
        """Count ``size`` more bytes; True once the total is past the cap."""
