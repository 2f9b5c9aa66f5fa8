# cython: language_level=3, boundscheck=False, wraparound=False
"""Header-policy kernel, compiled twin of ``_headers_py``.

Header names are classified with one dict lookup into bit flags built from ``header_names``, so
the per-header work is a flag test instead of several set lookups.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_GetItem
from cpython.ref cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeLatin1, PyUnicode_DecodeUTF8
from libc.string cimport memchr, memcmp

from ._request_id_c import request_id_for
from .constants import STATUS_LINES
from .header_names import (
    CLIENT_FORWARDING,
    HONOURED_FROM_TRUSTED,
    HOP_BY_HOP,
    OVERRIDE_AND_IDENTITY,
    REQUEST_ID,
    RESPONSE_OWNED,
    STREAMLIT_NEEDS,
    STREAMLIT_NEEDS_PREFIXES,
    WEBSOCKET_HANDSHAKE,
    WITHHELD_CREDENTIALS,
)

cdef enum:
    F_HOST = 1
    F_FORWARDING = 2
    F_XFF = 4
    F_HONOURED = 8
    F_HOP = 16
    F_WEBSOCKET = 32
    F_WITHHELD = 64
    F_NEEDED = 128
    F_RESPONSE_OWNED = 256
    F_CONNECTION = 512
    F_REQUEST_ID = 1024
    F_TRANSFER_ENCODING = 2048
    F_CONTENT_LENGTH = 4096
    F_HOP_OR_OWNED = F_HOP | F_RESPONSE_OWNED
    F_EXPECT = 8192
    F_FRAMING = F_CONTENT_LENGTH | F_TRANSFER_ENCODING | F_EXPECT


cdef dict _flags_by_name():
    cdef dict table = {}

    def mark(names, int flag):
        for name in names:
            table[name] = table.get(name, 0) | flag

    mark([b"host"], F_HOST)
    mark(CLIENT_FORWARDING, F_FORWARDING)
    mark([b"x-forwarded-for"], F_XFF)
    mark(HONOURED_FROM_TRUSTED, F_HONOURED)
    mark(HOP_BY_HOP, F_HOP)
    mark(WEBSOCKET_HANDSHAKE, F_WEBSOCKET)
    mark(WITHHELD_CREDENTIALS, F_WITHHELD)
    mark(OVERRIDE_AND_IDENTITY, F_WITHHELD)
    mark(STREAMLIT_NEEDS, F_NEEDED)
    mark(RESPONSE_OWNED, F_RESPONSE_OWNED)
    mark([b"connection"], F_CONNECTION)
    mark([REQUEST_ID], F_REQUEST_ID)
    mark([b"transfer-encoding"], F_TRANSFER_ENCODING)
    mark([b"content-length"], F_CONTENT_LENGTH)
    mark([b"expect"], F_EXPECT)
    return table


cdef dict FLAGS = _flags_by_name()
# Name -> (flags, name as text), for the known names and, up to a bound, the others seen:
# one lookup classifies a header and gives the text aiohttp needs.
cdef dict INFO = {name: (flags, name.decode("latin-1")) for name, flags in FLAGS.items()}
cdef Py_ssize_t INFO_MAX = 2048
cdef tuple NEEDED_PREFIXES = STREAMLIT_NEEDS_PREFIXES
cdef bytes REQUEST_ID_NAME = REQUEST_ID


cdef inline bint _has_upper(bytes name):
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(name)
    cdef Py_ssize_t i
    for i in range(PyBytes_GET_SIZE(name)):
        if 65 <= p[i] <= 90:
            return True
    return False


cdef dict LOWERED = {}
cdef Py_ssize_t LOWERED_MAX = 1024


cdef inline bytes _lower(bytes name):
    # Mixed-case names (aiohttp's raw response headers, non-ASGI callers) come from a small set:
    # remember their lower-case form rather than allocate it on every message.
    if not _has_upper(name):
        return name
    cdef PyObject* found = PyDict_GetItem(LOWERED, name)
    if found is not NULL:
        return <bytes>found
    cdef bytes lowered = name.lower()
    if len(LOWERED) < LOWERED_MAX:
        LOWERED[name] = lowered
    return lowered


cdef inline int _flags(bytes name):
    cdef PyObject* found = PyDict_GetItem(FLAGS, name)
    return 0 if found is NULL else <int><object>found


cdef tuple _info(bytes name):
    cdef PyObject* found = PyDict_GetItem(INFO, name)
    if found is not NULL:
        return <tuple>found
    cdef tuple info = (0, _text(name))
    if len(INFO) < INFO_MAX:
        INFO[name] = info
    return info


cdef str _text(bytes value):
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value)
    cdef Py_ssize_t i
    for i in range(n):
        if p[i] >= 0x80:
            try:
                return PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
            except UnicodeDecodeError:
                return PyUnicode_DecodeLatin1(<const char*>p, n, NULL)
    return PyUnicode_DecodeLatin1(<const char*>p, n, NULL)


cdef inline bytes _first(bytes value):
    return value.split(b",", 1)[0].strip()


def head_problem(bytes url, list headers, str http_version, Py_ssize_t max_bytes, Py_ssize_t max_count):
    """Status and reason for a request head that must not be served, or ``None``."""
    if len(headers) > max_count:
        return 431, f"more than {max_count} header fields (FLUXLIT_GATEWAY_MAX_HEADER_COUNT)"
    cdef Py_ssize_t size = PyBytes_GET_SIZE(url)
    cdef int hosts = 0
    cdef bytes host = b""
    cdef object transfer_encoding = None
    cdef object not_utf8 = None
    cdef bytes name, value
    for name, value in headers:
        size += PyBytes_GET_SIZE(name) + PyBytes_GET_SIZE(value) + 4
        if not_utf8 is None and not _utf8(value):
            not_utf8 = name
        if PyBytes_GET_SIZE(name) == 4 and memcmp(PyBytes_AS_STRING(name), b"host", 4) == 0:
            hosts += 1
            host = value
        elif PyBytes_GET_SIZE(name) == 17 and memcmp(PyBytes_AS_STRING(name), b"transfer-encoding", 17) == 0:
            transfer_encoding = value
    if size > max_bytes:
        return 431, f"header block over {max_bytes} bytes (FLUXLIT_GATEWAY_MAX_HEADER_BYTES)"
    if http_version != "1.1" and http_version != "1.0":
        return 400, f"unsupported HTTP version {http_version}"
    if hosts > 1:
        return 400, "more than one Host header"
    if hosts == 0 and http_version == "1.1":
        return 400, "HTTP/1.1 request without a Host header"
    if transfer_encoding is not None:
        if http_version == "1.0":
            return 400, "Transfer-Encoding on an HTTP/1.0 request"
        if transfer_encoding.strip().lower() != b"chunked":
            return 400, "Transfer-Encoding other than chunked"
    if not_utf8 is not None:
        return 400, f"the {not_utf8.decode('latin-1')} header's value is not UTF-8; send UTF-8 text"
    problem = target_problem(url)
    if problem is not None:
        return 400, problem
    problem = host_problem(host)
    if problem is not None:
        return 400, problem
    return None


cdef inline bint _utf8(bytes value):
    # ASCII (the usual case) by a byte scan; anything else by the UTF-8 decoder.
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef Py_ssize_t i, n = PyBytes_GET_SIZE(value)
    for i in range(n):
        if p[i] >= 0x80:
            try:
                PyUnicode_DecodeUTF8(<const char*>p, n, NULL)
            except UnicodeDecodeError:
                return False
            return True
    return True


cdef str FRAGMENT = "fragment (#) in the request target; a fragment stays in the browser"
cdef str NOT_A_PATH = "request target is not a path; send an origin-form target such as /page"
cdef str BACKSLASH = "backslash in the request path; use /"
cdef str LEADING_SLASHES = "request path starts with //"
cdef str ENCODED_NUL = "encoded NUL (%00) in the request path"
cdef str DOT_SEGMENT = "dot-segment (. or ..) in the request path, raw or percent-encoded; send the normalised path"


cpdef object target_problem(bytes url):
    """Why a request target must be refused, or ``None`` (see ``_headers_py.target_problem``)."""
    cdef bytes path = url
    if PyBytes_GET_SIZE(url) == 1 and PyBytes_AS_STRING(url)[0] == 42:
        return None
    if memchr(PyBytes_AS_STRING(url), 35, PyBytes_GET_SIZE(url)) != NULL:
        return FRAGMENT
    if PyBytes_GET_SIZE(url) == 0 or PyBytes_AS_STRING(url)[0] != 47:
        scheme, separator, rest = url.partition(b"://")
        if not separator or not scheme.isalpha():
            return NOT_A_PATH
        slash = rest.find(b"/")
        path = rest[slash:] if slash >= 0 else b"/"
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(path)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(path)
    cdef Py_ssize_t i, end = n
    cdef bint backslash = False, percent = False, dot = False
    for i in range(n):
        if p[i] == 63:  # ?: the path ends
            end = i
            break
        if p[i] == 92:
            backslash = True
        elif p[i] == 37:
            percent = True
        elif p[i] == 46:
            dot = True
    if backslash:
        return BACKSLASH
    if end >= 2 and p[0] == 47 and p[1] == 47:
        return LEADING_SLASHES
    if not (percent or dot):
        return None
    cdef bytes lowered = path[:end].lower()
    if percent and b"%00" in lowered:
        return ENCODED_NUL
    if not dot and b"%2e" not in lowered:
        return None
    segments = lowered.replace(b"%2e", b".").replace(b"%2f", b"/").replace(b"%5c", b"/").split(b"/")
    if b"." in segments or b".." in segments:
        return DOT_SEGMENT
    return None


cdef bytes HOST_NAME_TABLE = bytes([c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%" for c in range(256)])
cdef bytes IPV6_BYTES = b"0123456789abcdefABCDEF:."
cdef str NOT_HOST = "Host is not host[:port] (no path, userinfo, spaces or other characters)"
cdef str BAD_IPV6 = "Host is not a valid [IPv6] literal; send host[:port]"
cdef str BAD_PORT = "Host has a bad port; send a port from 1 to 65535"


cpdef object host_problem(bytes host):
    """Why a ``Host`` value is not ``host[:port]`` (path, userinfo, spaces, bad port), or ``None``."""
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(host)
    cdef const unsigned char* allowed = <const unsigned char*>PyBytes_AS_STRING(HOST_NAME_TABLE)
    cdef Py_ssize_t n = PyBytes_GET_SIZE(host)
    cdef Py_ssize_t i = 0, start
    cdef long port = 0
    if n == 0:
        return None
    if p[0] == 91:  # [
        end = host.find(b"]")
        literal, rest = (host[1:end], host[end + 1 :]) if end > 0 else (b"", b"")
        if not literal or literal.strip(IPV6_BYTES) or (rest and rest[:1] != b":"):
            return BAD_IPV6
        if not rest:
            return None
        i = end + 1
    else:
        while i < n and p[i] != 58:
            if not allowed[p[i]]:
                return NOT_HOST
            i += 1
        if i == n:
            return None
    start = i + 1  # after the colon
    if n - start == 0 or n - start > 5:
        return BAD_PORT
    for i in range(start, n):
        if not 48 <= p[i] <= 57:
            return BAD_PORT
        port = port * 10 + (p[i] - 48)
    if port == 0 or port > 65535:
        return BAD_PORT
    return None


def connection_tokens(headers):
    """Header names listed in ``Connection``: hop-by-hop by declaration."""
    cdef set tokens = set()
    for name, value in headers:
        if _flags(_lower(name)) & F_CONNECTION:
            tokens.update(t.strip().lower() for t in value.split(b",") if t.strip())
    tokens.discard(b"content-length")
    return tokens


cdef inline bint _is_connection(bytes name):
    return PyBytes_GET_SIZE(name) == 10 and _flags(_lower(name)) & F_CONNECTION


cdef set _extra_tokens(object headers):
    # Names in Connection beyond the standard hop-by-hop ones: usually none, so usually no set.
    cdef set extra = None
    cdef bytes name, token
    for name, value in headers:
        if _is_connection(name):
            extra = _add_tokens(value, extra)
    return extra


cdef set _add_tokens(bytes value, set extra):
    # The names a Connection value lists beyond the standard hop-by-hop ones, added to ``extra``.
    cdef bytes token
    for token in value.split(b","):
        token = token.strip().lower()
        # Content-Length is never hop-by-hop by declaration: see ``_headers_py.connection_tokens``.
        if token and not _flags(token) & (F_HOP | F_CONTENT_LENGTH):
            if extra is None:
                extra = set()
            extra.add(token)
    return extra


cdef class _Framing:
    cdef long long length
    cdef bint expect


cdef inline long long _digits(bytes value):
    cdef const char* p = PyBytes_AS_STRING(value)
    cdef Py_ssize_t i
    cdef long long n = 0
    for i in range(PyBytes_GET_SIZE(value)):
        if 48 <= p[i] <= 57 and n < (1LL << 58):
            n = n * 10 + (p[i] - 48)
    return n if n < (1LL << 60) else (1LL << 60)


cdef tuple _upstream_pairs(list headers, client_host, str scheme, int drop_flags, bint trusted, allowlist, bint underscores, bint handshake, _Framing framing=None):
    # The header pass both lanes share (see ``_headers_py._upstream_pairs``); with ``framing`` it
    # also notes the body's framing (see ``_headers_py._framing``).
    cdef set extra = _extra_tokens(headers)
    cdef list chain = []
    cdef dict claimed = {}
    cdef list out = []
    cdef object host = None
    cdef object incoming_id = None
    cdef bytes raw_name, name, value
    cdef int flags
    for raw_name, value in headers:
        name = _lower(raw_name)
        flags = _flags(name)
        if framing is not None and flags & F_FRAMING:
            if flags & F_CONTENT_LENGTH:
                framing.length = _digits(value)
            elif flags & F_TRANSFER_ENCODING:
                framing.length = -1
            elif not framing.expect:
                framing.expect = value.lower() == b"100-continue"
        if flags & F_HOST:
            if host is None:
                host = value
                out.append((b"Host", value))
        elif flags & F_FORWARDING:
            if flags & F_REQUEST_ID:
                if incoming_id is None:
                    incoming_id = value
            elif not trusted:
                continue
            elif flags & F_XFF:
                chain.extend([hop for part in value.split(b",") if (hop := part.strip())])
            elif flags & F_HONOURED and name not in claimed:
                claimed[name] = value
        elif flags & drop_flags or flags & F_WITHHELD:
            continue
        elif extra is not None and name in extra:
            continue
        elif PyBytes_GET_SIZE(name) >= 6 and memcmp(PyBytes_AS_STRING(name), b"proxy-", 6) == 0:
            continue
        elif not underscores and memchr(PyBytes_AS_STRING(name), 95, PyBytes_GET_SIZE(name)) != NULL:
            continue
        elif allowlist is None or flags & F_NEEDED or name.startswith(NEEDED_PREFIXES) or name in allowlist:
            out.append((name, value))
        elif handshake and flags & F_WEBSOCKET:
            out.append((name, value))
    if client_host:
        chain.append(client_host.encode())
    if chain:
        out.append((b"X-Forwarded-For", b", ".join(chain)))
    cdef bytes proto = _first(claimed[b"x-forwarded-proto"]).lower() if b"x-forwarded-proto" in claimed else b""
    if proto == b"http" or proto == b"https":
        out.append((b"X-Forwarded-Proto", proto))
    else:
        out.append((b"X-Forwarded-Proto", b"https" if scheme == "https" or scheme == "wss" else b"http"))
    forwarded_host = _first(claimed[b"x-forwarded-host"]) if b"x-forwarded-host" in claimed else host
    if forwarded_host:
        out.append((b"X-Forwarded-Host", forwarded_host))
    for key in (b"x-forwarded-port", b"x-forwarded-prefix"):
        if key in claimed:
            out.append((key, _first(claimed[key])))
    return out, host, incoming_id


def upstream_request_headers(
    list headers,
    client_host,
    str scheme,
    bytes request_id,
    bint websocket,
    bint trusted,
    allowlist,
    bint underscores=False,
):
    """Headers for the upstream request (see ``_headers_py.upstream_request_headers``)."""
    cdef list pairs = _upstream_pairs(headers, client_host, scheme, F_HOP | (F_WEBSOCKET if websocket else 0), trusted, allowlist, underscores, False)[0]
    cdef list out = []
    cdef bytes name, value
    for name, value in pairs:
        out.append((_info(name)[1], _text(value)))
    out.append(("X-Request-ID", request_id.decode("ascii")))
    return out


def upstream_head(
    bytes method,
    bytes target,
    list headers,
    client_host,
    str scheme,
    bint websocket,
    bint trusted,
    allowlist,
    bytes default_host,
    bint underscores=False,
):
    """The upstream request head, the request id, the body's framing and Expect (see ``_headers_py.upstream_head``)."""
    cdef _Framing framing = _Framing.__new__(_Framing)
    cdef tuple found = _upstream_pairs(headers, client_host, scheme, F_HOP, trusted, allowlist, underscores, websocket, framing)
    cdef bint chunked = framing.length < 0
    cdef bytes request_id = request_id_for(found[2])
    cdef list lines = [method, b" ", target, b" HTTP/1.1\r\n"]
    if found[1] is None:
        lines += [b"Host: ", default_host, b"\r\n"]
    cdef bytes name, value
    for name, value in <list>found[0]:
        lines += [name, b": ", value, b"\r\n"]
    lines += [b"X-Request-ID: ", request_id, b"\r\n"]
    if websocket:
        lines.append(b"Connection: Upgrade\r\nUpgrade: websocket\r\n")
    elif chunked:
        lines.append(b"Transfer-Encoding: chunked\r\n")
    lines.append(b"\r\n")
    return b"".join(lines), request_id, framing.length, framing.expect


def downstream_response_headers(headers, bytes request_id):
    """Upstream response headers for the client: hop-by-hop out, the request id in."""
    cdef object pairs = headers if type(headers) is tuple or type(headers) is list else list(headers)
    cdef set extra = _extra_tokens(pairs)
    cdef list out = []
    cdef bytes name
    for raw_name, value in pairs:
        name = _lower(raw_name)
        if _flags(name) & (F_HOP | F_RESPONSE_OWNED) or (extra is not None and name in extra):
            continue
        out.append((name, value))
    out.append((REQUEST_ID_NAME, request_id))
    return out


cdef bytes CRLF = b"\r\n"
cdef bytes COLON = b": "
cdef dict STATUS = STATUS_LINES


cdef inline bint _is_ows(char c):
    return c == 32 or c == 9


cdef inline const char* _crlf(const char* p, const char* end):
    # The next CR LF at or after p, or NULL.
    while p < end - 1:
        p = <const char*>memchr(p, 13, end - 1 - p)
        if p == NULL:
            return NULL
        if p[1] == 10:
            return p
        p += 1
    return NULL


cdef bytes _lowered(const char* p, Py_ssize_t n):
    cdef bytes out = PyBytes_FromStringAndSize(NULL, n)
    cdef char* q = PyBytes_AS_STRING(out)
    cdef Py_ssize_t i
    cdef char c
    for i in range(n):
        c = p[i]
        q[i] = c + 32 if 65 <= c <= 90 else c
    return out


def parse_response_head(bytes raw):
    """Status and header fields of a response head, or ``None`` (see ``_headers_py.parse_response_head``)."""
    cdef const char* p = PyBytes_AS_STRING(raw)
    cdef const char* end = p + PyBytes_GET_SIZE(raw)
    cdef const char* eol = _crlf(p, end)
    cdef Py_ssize_t n = (eol if eol != NULL else end) - p
    if n < 12 or memcmp(p, b"HTTP/1.", 7) != 0 or (n > 12 and p[12] != 32):
        return None
    cdef int i, code = 0
    for i in range(9, 12):
        if not 48 <= p[i] <= 57:
            return None
        code = code * 10 + (p[i] - 48)
    cdef list headers = []
    cdef const char* line
    cdef const char* colon
    cdef const char* start
    cdef const char* stop
    while eol != NULL:
        line = eol + 2
        eol = _crlf(line, end)
        stop = eol if eol != NULL else end
        if stop == line:
            continue
        colon = <const char*>memchr(line, 58, stop - line)
        if colon == NULL or colon == line or _is_ows(line[0]) or _is_ows(colon[-1]):
            return None
        start = colon + 1
        while start < stop and _is_ows(start[0]):
            start += 1
        while stop > start and _is_ows(stop[-1]):
            stop -= 1
        headers.append((_lowered(line, colon - line), PyBytes_FromStringAndSize(start, stop - start)))
    return code, headers


def downstream_head(bytes raw, bytes request_id, bytes defaults, bint keep_alive, bint http11, bint bodiless):
    """The client's response head, built from the upstream's raw one (see ``_headers_py.downstream_head``)."""
    parsed = parse_response_head(raw)
    if parsed is None:
        return 0, b"", False, False
    cdef int status = parsed[0]
    cdef list headers = parsed[1]
    cdef set extra = None
    cdef bint upstream_chunked = False, has_length = False, chunked = False
    cdef list kept = []
    cdef bytes name, value
    cdef int flags
    for name, value in headers:
        flags = _flags(name)
        if flags & F_CONNECTION:
            extra = _add_tokens(value, extra)
        if flags & F_HOP_OR_OWNED:
            if flags & F_TRANSFER_ENCODING:
                upstream_chunked = value.lower().endswith(b"chunked")
            continue
        if flags & F_CONTENT_LENGTH:
            has_length = True
        kept.append((name, value))
    cdef list fields = []
    for name, value in kept:
        if extra is None or name not in extra:
            fields += [name, COLON, value, CRLF]
    if not (bodiless or status == 204 or status == 304 or status < 200) and (upstream_chunked or not has_length):
        chunked = http11
        keep_alive = keep_alive and http11
    cdef object line = STATUS.get(status)
    cdef list lines = [line if line is not None else b"HTTP/1.1 %d \r\n" % status, defaults]
    lines += fields
    lines += [REQUEST_ID_NAME, COLON, request_id, CRLF]
    if status == 101:
        lines.append(b"connection: upgrade\r\nupgrade: websocket\r\n")
    elif chunked:
        lines.append(b"transfer-encoding: chunked\r\n")
    if not keep_alive and status != 101:
        lines.append(b"connection: close\r\n")
    lines.append(CRLF)
    return status, b"".join(lines), chunked, keep_alive
