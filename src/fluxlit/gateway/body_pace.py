"""The pace a proxied request body must keep: no pause longer than the body read timeout and, once
the first window has passed, an average of at least ``FLUXLIT_GATEWAY_MIN_BODY_RATE_BPS`` per window.

A trickling upload would otherwise hold an upstream connection for as long as it likes. Both lanes
ask the same object; time is passed in, so it holds no clock and no timer.
"""

HELD_BODY_BYTES = 64 * 1024
"""Body bytes read before an upstream connection is taken: a body that trickles in holds none until
it is complete or this big."""

RATE_WINDOW_S = 10.0
"""The window a body's rate is averaged over; the first window is grace (a slow start is allowed)."""


def stalled_reason(timeout_s: float) -> str:
    """Why a proxied body was cut off for a pause (408)."""
    return f"no request body bytes for {timeout_s:g}s (FLUXLIT_GATEWAY_BODY_READ_TIMEOUT_S)"


def slow_reason(min_rate: int) -> str:
    """Why a proxied body was cut off for its rate (408)."""
    return f"request body slower than {min_rate} bytes/s over {RATE_WINDOW_S:g}s (FLUXLIT_GATEWAY_MIN_BODY_RATE_BPS)"


class BodyPace:
    """Watches one body: ``fed`` on each arrival, ``verdict`` when ``next_check`` says one is due."""

    __slots__ = ("last_byte", "min_rate", "started", "stall_s", "window_bytes", "window_start")

    def __init__(self, now: float, *, stall_s: float, min_rate: int) -> None:
        self.stall_s = stall_s
        self.min_rate = min_rate
        self.started = self.window_start = self.last_byte = now
        self.window_bytes = 0

    def fed(self, size: int, now: float) -> None:
        """``size`` body bytes arrived."""
        self.window_bytes += size
        self.last_byte = now

    def paused(self, now: float) -> None:
        """The gateway itself stopped reading (upstream backpressure): the client is not the slow one."""
        self.window_start = self.last_byte = now
        self.window_bytes = 0

    def verdict(self, now: float) -> str | None:
        """Why the body is too slow (a pause, or a rate under the minimum over a whole window after the grace one), or ``None``."""
        if now - self.last_byte >= self.stall_s:
            return stalled_reason(self.stall_s)
        if self.min_rate and now - self.window_start >= RATE_WINDOW_S:
            judged = self.window_start - self.started >= RATE_WINDOW_S
            if judged and self.window_bytes < self.min_rate * (now - self.window_start):
                return slow_reason(self.min_rate)
            self.window_start, self.window_bytes = now, 0
        return None

    def next_check(self, now: float) -> float:
        """Seconds until a verdict is next due."""
        due = self.last_byte + self.stall_s
        if self.min_rate:
            due = min(due, self.window_start + RATE_WINDOW_S)
        return max(due - now, 0.0)
