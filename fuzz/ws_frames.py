"""Fuzz target: both WebSocket frame-inspector twins on one byte stream, fed in fuzzer-chosen pieces.

Input layout: the options and two piece sizes are taken from the end of the input; the rest is
the stream, so seeds are real frames.
"""

from types import ModuleType

import atheris

from fluxlit._speedups import FrameEvent, WebSocketProtocolError
from fuzz.twins import agree, fuzz, twins

Trace = tuple[list[tuple[list[FrameEvent], bool]], tuple[int, str] | None, tuple[int, str] | None]


def pieces(stream: bytes, sizes: tuple[int, int]) -> list[bytes]:
    """``stream`` cut into pieces of the two sizes in turn; a size of 0 means the rest of the stream."""
    out, start, turn = [], 0, 0
    while start < len(stream):
        size = sizes[turn % 2] or len(stream)
        out.append(stream[start : start + size])
        start, turn = start + size, turn + 1
    return out


def trace(kernel: ModuleType, options: dict[str, object], chunks: list[bytes]) -> Trace:
    """Events and ``at_boundary`` after each piece, the violation if any, and what a later feed raises."""
    inspector = kernel.FrameInspector(**options)
    fed: list[tuple[list[FrameEvent], bool]] = []
    try:
        for chunk in chunks:
            fed.append((inspector.feed(chunk), inspector.at_boundary))
    except WebSocketProtocolError as exc:
        try:
            inspector.feed(b"\x81\x00")
        except WebSocketProtocolError as again:
            return fed, (exc.code, exc.reason), (again.code, again.reason)
        return fed, (exc.code, exc.reason), None
    return fed, None, None


def settled(result: Trace) -> object:
    """What must not depend on how the stream was cut: the violation, or else every event and the final boundary."""
    fed, error, again = result
    if error is not None:
        return error, again
    return [event for events, _ in fed for event in events], fed[-1][1] if fed else True


def check(data: bytes) -> None:
    """Both twins report the same frames, boundaries and violation; fed whole, the stream settles as fed in pieces."""
    fdp = atheris.FuzzedDataProvider(data)
    options = {
        "masked": fdp.PickValueInList([False, True]),
        "allow_rsv1": fdp.PickValueInList([False, True]),
        "check_utf8": fdp.PickValueInList([False, True]),
        "max_frame": fdp.ConsumeIntInRange(0, 2**64 - 1),
        "max_message": fdp.ConsumeIntInRange(0, 2**64 - 1),
    }
    sizes = (fdp.ConsumeIntInRange(0, 255), fdp.ConsumeIntInRange(0, 255))
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    chunks = pieces(stream, sizes)
    pure, compiled = twins("ws_frames")
    fed, whole = trace(pure, options, chunks), trace(pure, options, [stream])
    agree(f"FrameInspector(**{options!r}) fed {chunks!r}", fed, trace(compiled, options, chunks))
    agree(f"FrameInspector(**{options!r}) fed {stream!r}", whole, trace(compiled, options, [stream]))
    agree(f"FrameInspector(**{options!r}) fed {stream!r} whole, then in pieces {chunks!r}", settled(whole), settled(fed))


if __name__ == "__main__":
    fuzz("ws_frames", check)
