"""Request-id kernel: both twins, and their agreement on generated input."""

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fluxlit._speedups.constants import MAX_REQUEST_ID_LENGTH, REQUEST_ID_ALPHABET
from tests.conftest import twin

SAFE = st.binary().map(lambda b: bytes(REQUEST_ID_ALPHABET[x % len(REQUEST_ID_ALPHABET)] for x in b))
ANY_ID = st.one_of(st.binary(max_size=200), SAFE, st.binary(min_size=120, max_size=140).map(lambda b: b"a" * len(b)))


@pytest.fixture
def kernel(implementation: str):
    return twin("request_id", implementation)


@pytest.mark.parametrize("value", [b"a", b"req-1", b"A.b_c:d-9", b"x" * MAX_REQUEST_ID_LENGTH])
def test_safe_ids_are_valid(kernel, value: bytes) -> None:
    assert kernel.is_valid_request_id(value) is True


@pytest.mark.parametrize(
    "value", [b"", b"x" * (MAX_REQUEST_ID_LENGTH + 1), b"a b", b"a\r\nX-Evil: 1", b"caf\xc3\xa9", b"a/b", b"a\x00", b'"q"']
)
def test_unsafe_ids_are_invalid(kernel, value: bytes) -> None:
    assert kernel.is_valid_request_id(value) is False


def test_minted_ids_are_32_lowercase_hex_and_unique(kernel) -> None:
    minted = {kernel.mint_request_id() for _ in range(1000)}
    assert len(minted) == 1000
    for value in minted:
        assert len(value) == 32 and set(value) <= set(b"0123456789abcdef")
        assert kernel.is_valid_request_id(value)


def test_valid_incoming_id_is_kept(kernel) -> None:
    assert kernel.request_id_for(b"client-42") == b"client-42"


@pytest.mark.parametrize("incoming", [None, b"", b"bad id", b"z" * 129])
def test_missing_or_invalid_incoming_id_is_replaced(kernel, incoming) -> None:
    minted = kernel.request_id_for(incoming)
    assert minted != incoming and len(minted) == 32


@pytest.mark.parametrize("call", ["is_valid_request_id", "request_id_for"])
def test_text_is_refused_with_type_error(kernel, call: str) -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        getattr(kernel, call)("abc")


@given(ANY_ID)
def test_twins_agree_on_validity(value: bytes) -> None:
    pure, compiled = twin("request_id", "pure"), twin("request_id", "compiled")
    assert pure.is_valid_request_id(value) == compiled.is_valid_request_id(value)
    kept_pure, kept_compiled = pure.request_id_for(value), compiled.request_id_for(value)
    assert (kept_pure == value) == (kept_compiled == value)


def test_minted_ids_stay_unique_across_random_batches(kernel) -> None:
    ids = {kernel.mint_request_id() for _ in range(3 * 256 + 7)}
    assert len(ids) == 3 * 256 + 7


def test_a_forked_child_does_not_mint_its_parents_next_ids(kernel) -> None:
    kernel.mint_request_id()  # a batch is loaded in the parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write, kernel.mint_request_id())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64)
    os.close(read)
    os.close(write)
    assert child != kernel.mint_request_id()
