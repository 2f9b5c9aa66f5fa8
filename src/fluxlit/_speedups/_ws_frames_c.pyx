# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""WebSocket frame-inspector kernel, compiled twin of ``_ws_frames_py``."""

from libc.string cimport memcpy

from .constants import WS_CLOSE_INVALID_DATA, WS_CLOSE_PROTOCOL_ERROR, WS_CLOSE_TOO_BIG, WS_MAX_CONTROL_PAYLOAD
from .errors import FrameEvent, WebSocketProtocolError

cdef enum State:
    HEADER = 0
    CLOSE_CODE = 1
    PAYLOAD = 2

cdef int PROTOCOL_ERROR = WS_CLOSE_PROTOCOL_ERROR
cdef int INVALID_DATA = WS_CLOSE_INVALID_DATA
cdef str NOT_UTF8 = "text message is not valid UTF-8"
cdef int TOO_BIG = WS_CLOSE_TOO_BIG
cdef int MAX_CONTROL = WS_MAX_CONTROL_PAYLOAD
cdef int CLOSE = 0x8


cpdef bint valid_close_code(int code):
    """Close codes a peer may send: the defined ones (1000-1003, 1007-1014) and the registered and private ranges (3000-4999)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


cdef inline bint _known_opcode(int opcode):
    return opcode <= 0x2 or 0x8 <= opcode <= 0xA


cdef class FrameInspector:
    """Incremental frame parser for one direction; ``masked`` says whether frames must be masked."""

    cdef readonly bint masked
    cdef readonly unsigned long long max_frame
    cdef readonly unsigned long long max_message
    cdef readonly bint allow_rsv1
    cdef readonly bint check_utf8
    cdef bint _text
    cdef bint _checking
    cdef bint _last
    cdef unsigned char _mask[4]
    cdef bint _has_mask
    cdef unsigned long long _offset
    # UTF-8 decoding state: continuation bytes still due, and the range the next one must be in.
    cdef int _utf8_need
    cdef unsigned char _utf8_lo
    cdef unsigned char _utf8_hi
    cdef State _state
    cdef unsigned char _header[16]
    cdef int _have
    cdef int _need
    cdef unsigned long long _remaining
    cdef bint _in_message
    cdef unsigned long long _message_size
    cdef object _error

    def __init__(self, *, bint masked, unsigned long long max_frame=0, unsigned long long max_message=0, bint allow_rsv1=False,
                 bint check_utf8=False):
        self.masked = masked
        self.max_frame = max_frame
        self.max_message = max_message
        self.allow_rsv1 = allow_rsv1
        self.check_utf8 = check_utf8
        self._text = self._checking = self._last = self._has_mask = False
        self._offset = 0
        self._utf8_need = 0
        self._state = HEADER
        self._have = 0
        self._need = 2
        self._remaining = 0
        self._in_message = False
        self._message_size = 0
        self._error = None

    def feed(self, data):
        """Consume ``data``; return the frames whose header (or close code) completed in it."""
        if self._error is not None:
            raise self._error
        cdef const unsigned char[::1] view = data
        try:
            return self._feed(&view[0] if view.shape[0] else NULL, view.shape[0])
        except WebSocketProtocolError as exc:
            self._error = exc
            raise

    @property
    def at_boundary(self):
        """True between frames: everything fed so far ended a frame."""
        return self._state == HEADER and self._have == 0

    cdef inline int _extended_length(self):
        cdef int length7 = self._header[1] & 0x7F
        return 2 if length7 == 126 else (8 if length7 == 127 else 0)

    cdef inline int _mask_length(self):
        return 4 if self._header[1] & 0x80 else 0

    cdef list _feed(self, const unsigned char* data, Py_ssize_t end):
        cdef list events = []
        cdef Py_ssize_t pos = 0
        cdef Py_ssize_t take
        cdef unsigned long long step
        cdef object event
        while pos < end:
            if self._state == PAYLOAD:
                step = <unsigned long long>(end - pos)
                if self._remaining < step:
                    step = self._remaining
                if self._checking:
                    self._check(data + pos, <Py_ssize_t>step)
                self._remaining -= step
                pos += <Py_ssize_t>step
                if self._remaining == 0:
                    self._state = HEADER
                    if self._checking and self._last:
                        self._finish_text()
                continue
            take = self._need - self._have
            if take > end - pos:
                take = end - pos
            memcpy(&self._header[self._have], data + pos, take)
            self._have += <int>take
            pos += take
            if self._have < self._need:
                continue
            if self._state == CLOSE_CODE:
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

    cdef int _start_checks(self) except -1:
        cdef int first = self._header[0]
        cdef int second = self._header[1]
        cdef int opcode = first & 0x0F
        cdef int rsv = first & 0x70
        if not _known_opcode(opcode):
            raise WebSocketProtocolError(PROTOCOL_ERROR, f"reserved opcode {opcode:#x}")
        if rsv and not (rsv == 0x40 and self.allow_rsv1 and (opcode == 0x1 or opcode == 0x2)):
            raise WebSocketProtocolError(PROTOCOL_ERROR, "reserved bits set without an extension")
        if (second & 0x80 != 0) != self.masked:
            raise WebSocketProtocolError(PROTOCOL_ERROR, "unmasked client frame" if self.masked else "masked server frame")
        if opcode >= 0x8:
            if not first & 0x80:
                raise WebSocketProtocolError(PROTOCOL_ERROR, "fragmented control frame")
            if second & 0x7F > MAX_CONTROL:
                raise WebSocketProtocolError(PROTOCOL_ERROR, "control frame payload over 125 bytes")
        elif opcode == 0x0 and not self._in_message:
            raise WebSocketProtocolError(PROTOCOL_ERROR, "continuation frame without a message")
        elif opcode != 0x0 and self._in_message:
            raise WebSocketProtocolError(PROTOCOL_ERROR, "new message inside a fragmented message")
        return 0

    cdef object _frame(self):
        cdef bint fin = self._header[0] & 0x80
        cdef int opcode = self._header[0] & 0x0F
        cdef int extended = self._extended_length()
        cdef unsigned long long length = self._header[1] & 0x7F
        cdef int i
        if extended:
            length = 0
            for i in range(extended):
                length = (length << 8) | self._header[2 + i]
        if extended == 8 and length >> 63:
            raise WebSocketProtocolError(PROTOCOL_ERROR, "payload length has its most significant bit set")
        if self.max_frame and length > self.max_frame:
            raise WebSocketProtocolError(TOO_BIG, f"frame of {length} bytes is over the {self.max_frame}-byte limit")
        cdef bint masked = self._header[1] & 0x80
        self._checking = False
        if opcode < 0x8:
            self._message_size = length if opcode else self._message_size + length
            if self.max_message and self._message_size > self.max_message:
                raise WebSocketProtocolError(TOO_BIG, f"message over the {self.max_message}-byte limit")
            self._in_message = not fin
            if opcode:
                self._text = self.check_utf8 and opcode == 0x1 and not self._header[0] & 0x40
            if self._text:
                self._checking = True
                self._last = fin
                self._offset = 0
                self._has_mask = masked
                if masked:
                    memcpy(self._mask, &self._header[self._have - 4], 4)
                if fin and length == 0:
                    self._finish_text()
        if opcode == CLOSE and length == 1:
            raise WebSocketProtocolError(PROTOCOL_ERROR, "close frame with a 1-byte payload")
        if opcode == CLOSE and length >= 2:
            self._state = CLOSE_CODE
            self._remaining = length
            self._need = self._have + 2
            return None
        self._next(length)
        return FrameEvent(opcode, fin, masked, length, None)

    cdef object _close_code(self):
        cdef int a = self._header[self._have - 2]
        cdef int b = self._header[self._have - 1]
        cdef bint masked = self._header[1] & 0x80
        if masked:
            a ^= self._header[self._have - 6]
            b ^= self._header[self._have - 5]
        cdef int code = (a << 8) | b
        if not valid_close_code(code):
            raise WebSocketProtocolError(PROTOCOL_ERROR, f"invalid close code {code}")
        cdef unsigned long long length = self._remaining
        self._next(length - 2)
        return FrameEvent(CLOSE, True, masked, length, code)

    cdef int _check(self, const unsigned char* data, Py_ssize_t n) except -1:
        cdef Py_ssize_t i
        cdef unsigned char c
        cdef int need = self._utf8_need
        cdef unsigned char lo = self._utf8_lo, hi = self._utf8_hi
        for i in range(n):
            c = data[i]
            if self._has_mask:
                c ^= self._mask[(self._offset + <unsigned long long>i) & 3]
            if need:
                if c < lo or c > hi:
                    self._utf8_need = 0
                    raise WebSocketProtocolError(INVALID_DATA, NOT_UTF8)
                need -= 1
                lo, hi = 0x80, 0xBF
            elif c < 0x80:
                continue
            elif 0xC2 <= c <= 0xDF:
                need, lo, hi = 1, 0x80, 0xBF
            elif c == 0xE0:
                need, lo, hi = 2, 0xA0, 0xBF
            elif c == 0xED:
                need, lo, hi = 2, 0x80, 0x9F  # no UTF-16 surrogates
            elif 0xE1 <= c <= 0xEF:
                need, lo, hi = 2, 0x80, 0xBF
            elif c == 0xF0:
                need, lo, hi = 3, 0x90, 0xBF
            elif 0xF1 <= c <= 0xF3:
                need, lo, hi = 3, 0x80, 0xBF
            elif c == 0xF4:
                need, lo, hi = 3, 0x80, 0x8F  # nothing above U+10FFFF
            else:
                self._utf8_need = 0
                raise WebSocketProtocolError(INVALID_DATA, NOT_UTF8)
        self._utf8_need, self._utf8_lo, self._utf8_hi = need, lo, hi
        self._offset += <unsigned long long>n
        return 0

    cdef int _finish_text(self) except -1:
        self._text = False
        if self._utf8_need:
            self._utf8_need = 0
            raise WebSocketProtocolError(INVALID_DATA, NOT_UTF8)
        return 0

    cdef inline void _next(self, unsigned long long payload_left):
        self._have = 0
        self._need = 2
        self._remaining = payload_left
        self._state = PAYLOAD if payload_left else HEADER
