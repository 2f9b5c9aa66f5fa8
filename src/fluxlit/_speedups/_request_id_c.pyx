# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Request-id kernel, compiled twin of ``_request_id_py``."""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from libc.string cimport memcpy
from os import register_at_fork, urandom

from .constants import MAX_REQUEST_ID_LENGTH, MINTED_REQUEST_ID_BYTES, RANDOM_BATCH_BYTES, REQUEST_ID_ALPHABET

cdef enum:
    BATCH = 4096
assert RANDOM_BATCH_BYTES == BATCH
cdef unsigned char _random[BATCH]
cdef Py_ssize_t _used = BATCH


def _forget_random():
    # A forked child must not mint the ids its parent will mint.
    global _used
    _used = BATCH


register_at_fork(after_in_child=_forget_random)

cdef Py_ssize_t _MAX_LENGTH = MAX_REQUEST_ID_LENGTH
cdef Py_ssize_t _MINTED = MINTED_REQUEST_ID_BYTES
cdef unsigned char _ALLOWED[256]
cdef const char* _HEX = b"0123456789abcdef"

cdef void _fill_table(bytes alphabet):
    cdef Py_ssize_t i
    for i in range(256):
        _ALLOWED[i] = 0
    for i in range(PyBytes_GET_SIZE(alphabet)):
        _ALLOWED[<unsigned char>PyBytes_AS_STRING(alphabet)[i]] = 1

_fill_table(REQUEST_ID_ALPHABET)


cdef inline bint _valid(bytes value):
    cdef Py_ssize_t n = PyBytes_GET_SIZE(value)
    cdef const unsigned char* p = <const unsigned char*>PyBytes_AS_STRING(value)
    cdef Py_ssize_t i
    if n == 0 or n > _MAX_LENGTH:
        return False
    for i in range(n):
        if not _ALLOWED[p[i]]:
            return False
    return True


def is_valid_request_id(value):
    """True when ``value`` is 1-128 bytes drawn from the safe alphabet."""
    if type(value) is not bytes:
        raise TypeError(f"request id must be bytes, not {type(value).__name__}")
    return _valid(value)


def mint_request_id():
    """A new request id: 32 lowercase hex digits from the OS random source (read in batches)."""
    global _used
    cdef bytes fresh
    if _used + _MINTED > BATCH:
        fresh = urandom(BATCH)
        memcpy(_random, PyBytes_AS_STRING(fresh), BATCH)
        _used = 0
    cdef const unsigned char* src = &_random[_used]
    _used += _MINTED
    cdef char out[64]
    cdef Py_ssize_t i
    for i in range(_MINTED):
        out[2 * i] = _HEX[src[i] >> 4]
        out[2 * i + 1] = _HEX[src[i] & 15]
    return PyBytes_FromStringAndSize(out, 2 * _MINTED)


def request_id_for(incoming):
    """Keep a valid incoming request id, otherwise mint a new one."""
    if incoming is not None:
        if type(incoming) is not bytes:
            raise TypeError(f"request id must be bytes, not {type(incoming).__name__}")
        if _valid(<bytes>incoming):
            return incoming
    return mint_request_id()
