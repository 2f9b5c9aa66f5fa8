"""Fuzz target: both body-limit twins on one cap, one declared length and a run of chunk sizes (all from the fuzzer)."""

from types import ModuleType

import atheris

from fuzz.twins import agree, fuzz, outcome, twins


def size(fdp: atheris.FuzzedDataProvider, bits: int) -> int:
    """A byte count from -1 (refused) up to ``2**bits``, small ones as likely as large ones."""
    return fdp.ConsumeIntInRange(-1, 1 << fdp.ConsumeIntInRange(0, bits))


def run(kernel: ModuleType, cap: int, declared: int, chunks: list[int]) -> list[object]:
    """What each call answered, with ``received`` after each chunk."""
    limit = outcome(kernel.BodyLimit, cap, expected=(ValueError,))
    if not isinstance(limit, kernel.BodyLimit):
        return [limit]
    steps: list[object] = [limit.cap, outcome(limit.over_declared, declared)]
    for chunk in chunks:
        steps += [outcome(limit.feed, chunk, expected=(ValueError,)), limit.received]
    return steps


def check(data: bytes) -> None:
    """Both twins refuse, count and report the same."""
    fdp = atheris.FuzzedDataProvider(data)
    # Caps and declared lengths reach 2**62; chunks stay small enough that no total can pass 2**63.
    cap, declared = size(fdp, 62), size(fdp, 62)
    chunks = [size(fdp, 40) for _ in range(fdp.ConsumeIntInRange(0, 64))]
    pure, compiled = twins("body_limit")
    agree(f"BodyLimit({cap}).over_declared({declared}), feed {chunks}", run(pure, cap, declared, chunks), run(compiled, cap, declared, chunks))


if __name__ == "__main__":
    fuzz("body_limit", check)
