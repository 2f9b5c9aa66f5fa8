# cython: language_level=3
"""Body-limit kernel, compiled twin of ``_body_limit_py``."""


cdef class BodyLimit:
    """Counts body bytes (Content-Length or de-chunked); ``cap`` 0 means unlimited."""

    cdef public long long cap
    cdef public long long received

    def __init__(self, long long cap):
        if cap < 0:
            raise ValueError(f"body cap must be >= 0 (0 = unlimited), got {cap}")
        self.cap = cap
        self.received = 0

    cpdef bint over_declared(self, long long content_length):
        """True when a declared Content-Length is already past the cap."""
        return self.cap > 0 and content_length > self.cap

    cpdef bint feed(self, long long size) except -1:
        """Count ``size`` more bytes; True once the total is past the cap."""
        if size < 0:
            raise ValueError(f"chunk size must be >= 0, got {size}")
        self.received += size
        return self.cap > 0 and self.received > self.cap
