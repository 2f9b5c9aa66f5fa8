"""What every fuzz target shares: a kernel's two twins, comparing their outcomes, and the atheris entry point."""

import importlib
import shlex
import sys
from collections.abc import Callable
from types import ModuleType

import atheris

from fluxlit._speedups import load_twin


class TwinsDisagree(AssertionError):
    """The pure and the compiled twin of a kernel answered the same input differently."""


def twins(kernel: str) -> tuple[ModuleType, ModuleType]:
    """The pure and the compiled twin of ``kernel``, looked up on each call so the fuzzer's instrumented copy is used."""
    return load_twin(kernel, "pure"), load_twin(kernel, "compiled")


def outcome(call: Callable[..., object], *args: object, expected: tuple[type[Exception], ...] = ()) -> object:
    """What ``call(*args)`` returned, or the type and message of an ``expected`` exception; any other propagates."""
    try:
        return call(*args)
    except expected as exc:
        return type(exc).__name__, str(exc)


def agree(what: str, pure: object, compiled: object) -> None:
    """Raise ``TwinsDisagree`` unless both twins' outcomes are equal and of one type."""
    if pure != compiled or type(pure) is not type(compiled):
        raise TwinsDisagree(f"{what}\n  pure:     {pure!r}\n  compiled: {compiled!r}")


def fuzz(kernel: str, check: Callable[[bytes], None]) -> None:
    """Run libFuzzer (arguments from ``sys.argv``) on ``check``, with coverage from the instrumented pure twin."""
    name = f"fluxlit._speedups._{kernel}_py"
    sys.modules.pop(name, None)  # imported earlier, it would run uninstrumented and guide nothing
    with atheris.instrument_imports(include=[name]):
        importlib.import_module(name)
    # libFuzzer re-runs argv[0] through the shell for -merge and -fork; make that re-run this module.
    atheris.Setup([f"{shlex.quote(sys.executable)} -m fuzz.{kernel}", *sys.argv[1:]], check)
    atheris.Fuzz()
