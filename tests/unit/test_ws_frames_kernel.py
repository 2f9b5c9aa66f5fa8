"""WebSocket frame-inspector kernel over both twins, against frames built by the websockets library."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Close, Frame, Opcode

from fluxlit._speedups import FrameEvent, WebSocketProtocolError
from tests.conftest import twin

CLIENT, SERVER = True, False


def wire(frame: Frame, *, mask: bool) -> bytes:
    return frame.serialize(mask=mask, extensions=[])


def inspect(kernel, data: bytes, *, masked: bool, chunk: int | None = None, **limits) -> list[FrameEvent]:
    inspector = kernel.FrameInspector(masked=masked, **limits)
    if chunk is None:
        return inspector.feed(data)
    events = []
    for start in range(0, len(data), chunk):
        events += inspector.feed(data[start : start + chunk])
    return events


@pytest.fixture
def kernel(implementation: str):
    return twin("ws_frames", implementation)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
@pytest.mark.parametrize("opcode", [Opcode.TEXT, Opcode.BINARY])
@pytest.mark.parametrize("masked", [CLIENT, SERVER])
def test_data_frames_of_every_length_class(kernel, size: int, opcode: Opcode, masked: bool) -> None:
    data = wire(Frame(opcode, b"a" * size), mask=masked)
    for chunk in (None, 1, 7, 4096):
        assert inspect(kernel, data, masked=masked, chunk=chunk) == [FrameEvent(int(opcode), True, masked, size, None)]


@pytest.mark.parametrize("opcode", [Opcode.PING, Opcode.PONG])
def test_control_frames(kernel, opcode: Opcode) -> None:
    data = wire(Frame(opcode, b"x" * 125), mask=True)
    assert inspect(kernel, data, masked=CLIENT, chunk=1) == [FrameEvent(int(opcode), True, True, 125, None)]


@pytest.mark.parametrize("masked", [CLIENT, SERVER])
def test_close_code_is_read_through_the_mask(kernel, masked: bool) -> None:
    data = wire(Frame(Opcode.CLOSE, Close(4321, "bye").serialize()), mask=masked)
    assert inspect(kernel, data, masked=masked, chunk=1) == [FrameEvent(8, True, masked, 5, 4321)]
    empty = wire(Frame(Opcode.CLOSE, b""), mask=masked)
    assert inspect(kernel, empty, masked=masked) == [FrameEvent(8, True, masked, 0, None)]


def test_fragmented_message_with_interleaved_ping(kernel) -> None:
    frames = [
        Frame(Opcode.TEXT, b"he", fin=False),
        Frame(Opcode.PING, b"p"),
        Frame(Opcode.CONT, b"ll", fin=False),
        Frame(Opcode.CONT, b"o", fin=True),
        Frame(Opcode.BINARY, b"\x00" * 300),
    ]
    data = b"".join(wire(f, mask=True) for f in frames)
    expected = [FrameEvent(1, False, True, 2, None), FrameEvent(9, True, True, 1, None), FrameEvent(0, False, True, 2, None),
                FrameEvent(0, True, True, 1, None), FrameEvent(2, True, True, 300, None)]  # fmt: skip
    assert inspect(kernel, data, masked=CLIENT) == expected
    assert inspect(kernel, data, masked=CLIENT, chunk=1) == expected


@pytest.mark.parametrize(
    ("data", "masked", "code", "reason"),
    [
        (wire(Frame(Opcode.TEXT, b"hi"), mask=False), CLIENT, 1002, "unmasked client frame"),
        (wire(Frame(Opcode.TEXT, b"hi"), mask=True), SERVER, 1002, "masked server frame"),
        (b"\x83\x80abcd", CLIENT, 1002, "reserved opcode 0x3"),
        (b"\x8b\x80abcd", CLIENT, 1002, "reserved opcode 0xb"),
        (b"\xc1\x80abcd", CLIENT, 1002, "reserved bits"),
        (b"\x09\x80abcd", CLIENT, 1002, "fragmented control frame"),
        (b"\x89\xfeabcd", CLIENT, 1002, "control frame payload over 125"),
        (b"\x80\x80abcd", CLIENT, 1002, "continuation frame without a message"),
        (b"\x01\x80abcd\x01\x80abcd", CLIENT, 1002, "new message inside a fragmented message"),
        (b"\x88\x81abcdx", CLIENT, 1002, "close frame with a 1-byte payload"),
        (wire(Frame(Opcode.CLOSE, (1005).to_bytes(2, "big")), mask=True), CLIENT, 1002, "invalid close code 1005"),
        (b"\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00abcd", CLIENT, 1002, "most significant bit"),
    ],
)
def test_protocol_violations_fail_with_a_close_code(kernel, data: bytes, masked: bool, code: int, reason: str) -> None:
    for chunk in (None, 1):
        with pytest.raises(WebSocketProtocolError, match=reason) as caught:
            inspect(kernel, data, masked=masked, chunk=chunk)
        assert caught.value.code == code


def test_frame_and_message_size_limits_fail_with_1009(kernel) -> None:
    with pytest.raises(WebSocketProtocolError) as frame_error:
        inspect(kernel, wire(Frame(Opcode.BINARY, b"z" * 2000), mask=True), masked=CLIENT, max_frame=1000)
    parts = b"".join(wire(Frame(op, b"z" * 600, fin=fin), mask=True) for op, fin in ((Opcode.TEXT, False), (Opcode.CONT, True)))
    with pytest.raises(WebSocketProtocolError) as message_error:
        inspect(kernel, parts, masked=CLIENT, max_message=1000)
    assert frame_error.value.code == message_error.value.code == 1009


def test_rsv1_allowed_only_when_compression_was_negotiated(kernel) -> None:
    data = b"\xc1\x80abcd"
    assert inspect(kernel, data, masked=CLIENT, allow_rsv1=True) == [FrameEvent(1, True, True, 0, None)]


def test_a_failed_stream_stays_failed(kernel) -> None:
    inspector = kernel.FrameInspector(masked=True)
    with pytest.raises(WebSocketProtocolError):
        inspector.feed(b"\x83\x80abcd")
    with pytest.raises(WebSocketProtocolError, match="reserved opcode"):
        inspector.feed(wire(Frame(Opcode.TEXT, b"ok"), mask=True))


def text_stream(*parts: tuple[int, bytes, bool], compressed: bool = False) -> bytes:
    """Masked client frames (opcode, payload, fin); ``compressed`` sets RSV1 on the first."""
    data = b"".join(wire(Frame(Opcode(op), payload, fin=fin), mask=True) for op, payload, fin in parts)
    return bytes([data[0] | 0x40]) + data[1:] if compressed else data


SNOWMAN = "\u2603".encode()  # three bytes


@pytest.mark.parametrize(
    "data",
    [
        text_stream((1, "héllo ".encode() + SNOWMAN, True)),
        text_stream((1, SNOWMAN[:1], False), (9, b"\xff", True), (0, SNOWMAN[1:], True)),  # split character, ping between
        text_stream((1, b"", True)),
        text_stream((2, b"\xff\xfe", True)),  # binary is never decoded
        text_stream((1, b"\xff", True), compressed=True),  # the inflating end checks compressed text
    ],
    ids=["whole", "split-around-a-ping", "empty", "binary", "compressed"],
)
def test_valid_or_unchecked_text_passes_the_utf8_check(kernel, data: bytes) -> None:
    for chunk in (None, 1):
        inspect(kernel, data, masked=CLIENT, chunk=chunk, check_utf8=True, allow_rsv1=True)


@pytest.mark.parametrize(
    "data",
    [
        text_stream((1, b"ok \xff", True)),
        text_stream((1, b"\xed\xa0\x80", True)),  # a UTF-16 surrogate
        text_stream((1, b"\xc0\xaf", True)),  # overlong
        text_stream((1, b"\xf4\x90\x80\x80", True)),  # above U+10FFFF
        text_stream((1, SNOWMAN[:2], True)),  # truncated at the end of the message
        text_stream((1, SNOWMAN[:2], False), (0, b"a", True)),  # broken across fragments
    ],
    ids=["bad-byte", "surrogate", "overlong", "too-high", "truncated", "across-fragments"],
)
def test_text_that_is_not_utf8_fails_with_1007(kernel, data: bytes) -> None:
    for chunk in (None, 1):
        with pytest.raises(WebSocketProtocolError, match="not valid UTF-8") as caught:
            inspect(kernel, data, masked=CLIENT, chunk=chunk, check_utf8=True)
        assert caught.value.code == 1007
    inspect(kernel, data, masked=CLIENT)  # unchecked unless asked


@pytest.mark.parametrize(
    "frame",
    [
        Frame(Opcode.TEXT, b"hello"),
        Frame(Opcode.BINARY, b"b" * 300),
        Frame(Opcode.CLOSE, Close(1000, "bye").serialize()),
        Frame(Opcode.PING, b""),
    ],
    ids=["text", "extended-length", "close-code", "empty-ping"],
)
def test_at_boundary_only_between_frames(kernel, frame: Frame) -> None:
    first, second = wire(frame, mask=True), wire(Frame(Opcode.PONG, b"p"), mask=True)
    inspector = kernel.FrameInspector(masked=True)
    trail = [inspector.at_boundary]
    for byte in first + second:
        inspector.feed(bytes([byte]))
        trail.append(inspector.at_boundary)
    # Mid-header and mid-payload are never a boundary; the end of each frame is.
    assert [i for i, at in enumerate(trail) if at] == [0, len(first), len(first) + len(second)]


frames = st.builds(
    lambda op, payload, fin, mask: (op, payload, fin, mask),
    st.sampled_from([0, 1, 2, 3, 8, 9, 10, 11]),
    st.binary(max_size=300) | st.text(max_size=100).map(str.encode),
    st.booleans(),
    st.booleans(),
)


def encode(op: int, payload: bytes, fin: bool, mask: bool) -> bytes:
    first = (0x80 if fin else 0) | op
    length = len(payload)
    if length < 126:
        header = bytes([first, (0x80 if mask else 0) | length])
    elif length < 65536:
        header = bytes([first, (0x80 if mask else 0) | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([first, (0x80 if mask else 0) | 127]) + length.to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        return header + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return header + payload


def outcome(kernel_name: str, data: bytes, chunk: int | None, **options) -> tuple[list, tuple | None, list[bool]]:
    """Events, the violation if any, and ``at_boundary`` after each piece fed."""
    inspector = twin("ws_frames", kernel_name).FrameInspector(**options)
    events, error, boundaries = [], None, []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    try:
        for piece in pieces:
            events += inspector.feed(piece)
            boundaries.append(inspector.at_boundary)
    except WebSocketProtocolError as exc:
        error = (exc.code, exc.reason)
    return events, error, boundaries


@settings(max_examples=300)
@given(
    st.lists(frames, max_size=8).map(lambda fs: b"".join(encode(*f) for f in fs)) | st.binary(max_size=400),
    st.booleans(),
    st.sampled_from([None, 1, 3, 64]),
    st.sampled_from([0, 100]),
    st.booleans(),
)
def test_twins_agree_on_generated_streams(data: bytes, masked: bool, chunk: int | None, max_frame: int, check_utf8: bool) -> None:
    options = {"masked": masked, "max_frame": max_frame, "check_utf8": check_utf8}
    pure, compiled = outcome("pure", data, chunk, **options), outcome("compiled", data, chunk, **options)
    assert pure == compiled
    whole = {name: outcome(name, data, None, **options) for name in ("pure", "compiled")}
    assert whole["pure"] == whole["compiled"]
    whole_events, whole_error, whole_boundaries = whole["pure"]
    # Feeding in pieces finds the same frames and the same violation as feeding it whole, and ends
    # at a boundary exactly when the whole stream does.
    assert pure[1] == whole_error and pure[0][: len(whole_events)] == whole_events
    if whole_error is None and data:
        assert pure[2][-1] == whole_boundaries[-1]
