"""Body-limit kernel over both twins."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import twin


@pytest.fixture
def kernel(implementation: str):
    return twin("body_limit", implementation)


def test_declared_length_over_cap_is_refused_up_front(kernel) -> None:
    limit = kernel.BodyLimit(100)
    assert limit.over_declared(100) is False and limit.over_declared(101) is True


def test_first_byte_past_the_cap_is_reported(kernel) -> None:
    limit = kernel.BodyLimit(10)
    assert [limit.feed(n) for n in (4, 6, 0, 1)] == [False, False, False, True]
    assert limit.received == 11


def test_zero_cap_means_unlimited(kernel) -> None:
    limit = kernel.BodyLimit(0)
    assert limit.over_declared(10**15) is False and limit.feed(10**12) is False


def test_negative_values_are_refused(kernel) -> None:
    with pytest.raises(ValueError, match="body cap must be >= 0"):
        kernel.BodyLimit(-1)
    with pytest.raises(ValueError, match="chunk size must be >= 0"):
        kernel.BodyLimit(5).feed(-3)


@given(st.integers(0, 10_000), st.lists(st.integers(0, 3000), max_size=30), st.integers(0, 20_000))
def test_twins_agree(cap: int, chunks: list[int], declared: int) -> None:
    pure, compiled = twin("body_limit", "pure").BodyLimit(cap), twin("body_limit", "compiled").BodyLimit(cap)
    assert pure.over_declared(declared) == compiled.over_declared(declared)
    assert [pure.feed(n) for n in chunks] == [compiled.feed(n) for n in chunks]
    assert pure.received == compiled.received
