"""WebSocket frame-inspector kernel, pure twin: the readable specification.

Fed the raw bytes of one direction of a WebSocket connection in chunks of any size, it
reports each frame header as soon as it is complete and enforces the WebSocket framing rules,
without copying payloads. Only a close frame's two status bytes are unmasked, and, when asked, the
payload of uncompressed text messages, to check that it is UTF-8.
"""

from .constants import WS_CLOSE_INVALID_DATA, WS_CLOSE_PROTOCOL_ERROR, WS_CLOSE_TOO_BIG, WS_MAX_CONTROL_PAYLOAD, WS_OPCODES
from .errors import FrameEvent, WebSocketProtocolError

_HEADER, _CLOSE_CODE, _PAYLOAD = 0, 1, 2

_UTF8_LEADS: dict[int, tuple[int, int, int]] = {
    **{lead: (1, 0x80, 0xBF) for lead in range(0xC2, 0xE0)},
    0xE0: (2, 0xA0, 0xBF),  # no overlong three-byte forms
    **{lead: (2, 0x80, 0xBF) for lead in (*range(0xE1, 0xED), 0xEE, 0xEF)},
    0xED: (2, 0x80, 0x9F),  # no UTF-16 surrogates
    0xF0: (3, 0x90, 0xBF),  # no overlong four-byte forms
    **{lead: (3, 0x80, 0xBF) for lead in range(0xF1, 0xF4)},
    0xF4: (3, 0x80, 0x8F),  # nothing above U+10FFFF
}
"""Lead byte -> (continuation bytes due, range of the first one): RFC 3629's table, every other lead is invalid."""
CLOSE = 0x8


def valid_close_code(code: int) -> bool:
    """Close codes a peer may send: the defined ones (1000-1003, 1007-1014) and the registered and private ranges (3000-4999)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


class FrameInspector:
    """Incremental frame parser for one direction; ``masked`` says whether frames must be masked.

    ``max_frame``/``max_message`` (0 = unlimited) fail with 1009; framing violations with 1002.
    ``allow_rsv1`` permits RSV1 on data frames (permessage-deflate negotiated). ``check_utf8`` fails
    an uncompressed text message that is not UTF-8 with 1007 (a compressed one is the inflating
    end's to check).
    """

    def __init__(self, *, masked: bool, max_frame: int = 0, max_message: int = 0, allow_rsv1: bool = False, check_utf8: bool = False) -> None:  # fmt: skip
        self.masked = masked
        self.max_frame = max_frame
        self.max_message = max_message
        self.allow_rsv1 = allow_rsv1
        self.check_utf8 = check_utf8
        self._text = False  # the current message is text to check
        self._checking = False  # the current frame's payload is checked
        self._last = False  # the current frame ends its message
        self._mask = b""
        self._offset = 0
        # UTF-8 decoding state: continuation bytes still due, and the range the next one must be in.
        self._utf8_need = 0
        self._utf8_range = (0x80, 0xBF)
        self._state = _HEADER
        self._header = bytearray()
        self._need = 2
        self._remaining = 0
        self._in_message = False
        self._message_size = 0
        self._error: WebSocketProtocolError | None = None

    def feed(self, data: bytes) -> list[FrameEvent]:
        """Consume ``data``; return the frames whose header (or close code) completed in it."""
        if self._error is not None:
            raise self._error
        try:
            return self._feed(memoryview(data))
        except WebSocketProtocolError as exc:
            self._error = exc
            raise

    @property
    def at_boundary(self) -> bool:
        """True between frames: everything fed so far ended a frame."""
        return self._state == _HEADER and not self._header

    def _feed(self, data: memoryview) -> list[FrameEvent]:
        events: list[FrameEvent] = []
        pos, end = 0, len(data)
        while pos < end:
            if self._state == _PAYLOAD:
                step = min(self._remaining, end - pos)
                if self._checking:
                    self._check(data[pos : pos + step])
                self._remaining -= step
                pos += step
                if self._remaining == 0:
                    self._state = _HEADER
                    if self._checking and self._last:
                        self._finish_text()
                continue
            take = min(self._need - len(self._header), end - pos)
            self._header += data[pos : pos + take]
            pos += take
            if len(self._header) < self._need:
                continue
            if self._state == _CLOSE_CODE:
                events.append(self._close_code())
            elif self._need == 2 and self._extended_length() + self._mask_length():
                self._start_checks()
                self._need = 2 + self._extended_length() + self._mask_length()
            else:
                if self._need == 2:
                    self._start_checks()
                event = self._frame()
                if event is not None:
                    events.append(event)
        return events

    def _extended_length(self) -> int:
        length7 = self._header[1] & 0x7F
        return 2 if length7 == 126 else 8 if length7 == 127 else 0

    def _mask_length(self) -> int:
        return 4 if self._header[1] & 0x80 else 0

    def _start_checks(self) -> None:
        first, second = self._header[0], self._header[1]
        opcode = first & 0x0F
        if opcode not in WS_OPCODES:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
        rsv = first & 0x70
        if rsv and not (rsv == 0x40 and self.allow_rsv1 and opcode in (0x1, 0x2)):
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "reserved bits set without an extension")
        if bool(second & 0x80) != self.masked:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "unmasked client frame" if self.masked else "masked server frame")
        if opcode >= 0x8:
            if not first & 0x80:
                raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "fragmented control frame")
            if second & 0x7F > WS_MAX_CONTROL_PAYLOAD:
                raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "control frame payload over 125 bytes")
        elif opcode == 0x0 and not self._in_message:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "continuation frame without a message")
        elif opcode != 0x0 and self._in_message:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "new message inside a fragmented message")

    def _frame(self) -> FrameEvent | None:
        header = self._header
        fin, opcode = bool(header[0] & 0x80), header[0] & 0x0F
        extended = self._extended_length()
        length = int.from_bytes(header[2 : 2 + extended], "big") if extended else header[1] & 0x7F
        if extended == 8 and length >> 63:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "payload length has its most significant bit set")
        if self.max_frame and length > self.max_frame:
            raise WebSocketProtocolError(WS_CLOSE_TOO_BIG, f"frame of {length} bytes is over the {self.max_frame}-byte limit")
        masked = bool(header[1] & 0x80)
        self._checking = False
        if opcode < 0x8:
            self._message_size = length if opcode else self._message_size + length
            if self.max_message and self._message_size > self.max_message:
                raise WebSocketProtocolError(WS_CLOSE_TOO_BIG, f"message over the {self.max_message}-byte limit")
            self._in_message = not fin
            if opcode:
                self._text = self.check_utf8 and opcode == 0x1 and not header[0] & 0x40
            if self._text:
                self._checking, self._last, self._offset = True, fin, 0
                self._mask = bytes(header[-4:]) if masked else b""
                if fin and length == 0:
                    self._finish_text()
        if opcode == CLOSE and length == 1:
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, "close frame with a 1-byte payload")
        if opcode == CLOSE and length >= 2:
            self._state, self._remaining = _CLOSE_CODE, length
            self._need = len(header) + 2
            return None
        self._next(length)
        return FrameEvent(opcode, fin, masked, length, None)

    def _close_code(self) -> FrameEvent:
        header = self._header
        high, low = header[-2], header[-1]
        if header[1] & 0x80:
            high, low = high ^ header[-6], low ^ header[-5]
        code = high << 8 | low
        if not valid_close_code(code):
            raise WebSocketProtocolError(WS_CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
        length = self._remaining
        self._next(length - 2)
        return FrameEvent(CLOSE, True, bool(header[1] & 0x80), length, code)

    def _check(self, chunk: memoryview) -> None:
        payload = bytes(chunk)
        if self._mask:
            turn = self._offset % 4
            mask = self._mask[turn:] + self._mask[:turn]
            key = (mask * (len(payload) // 4 + 1))[: len(payload)]
            payload = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")
        self._offset += len(payload)
        need, (low, high) = self._utf8_need, self._utf8_range
        for byte in payload:
            if need:
                if not low <= byte <= high:
                    raise WebSocketProtocolError(WS_CLOSE_INVALID_DATA, "text message is not valid UTF-8")
                need, low, high = need - 1, 0x80, 0xBF
            elif byte >= 0x80:
                # Each byte is judged as it arrives, so a message fails at its first impossible byte.
                if (lead := _UTF8_LEADS.get(byte)) is None:
                    raise WebSocketProtocolError(WS_CLOSE_INVALID_DATA, "text message is not valid UTF-8")
                need, low, high = lead
        self._utf8_need, self._utf8_range = need, (low, high)

    def _finish_text(self) -> None:
        self._text = False
        if self._utf8_need:
            self._utf8_need = 0
            raise WebSocketProtocolError(WS_CLOSE_INVALID_DATA, "text message is not valid UTF-8")

    def _next(self, payload_left: int) -> None:
        self._header = bytearray()
        self._need = 2
        self._remaining = payload_left
        self._state = _PAYLOAD if payload_left else _HEADER
