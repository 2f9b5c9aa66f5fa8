"""Every checked-in fuzz input (seeds, coverage finds and past failures) replayed through its target's twin comparison."""

import importlib
from pathlib import Path

import pytest

from fluxlit._speedups import KERNELS
from tests.conftest import twin
from tests.support.processes import ROOT

CORPUS = ROOT / "fuzz" / "corpus"
INPUTS = sorted(CORPUS.glob("*/*"))


@pytest.mark.parametrize("kernel", KERNELS)
def test_every_kernel_has_a_fuzz_target_and_a_corpus(kernel: str) -> None:
    assert callable(importlib.import_module(f"fuzz.{kernel}").check)
    assert sorted((CORPUS / kernel).glob("*")), f"fuzz/corpus/{kernel}/ is empty: seed it, then run `python -m fuzz --merge {kernel}`"


@pytest.mark.parametrize("path", INPUTS, ids=[f"{path.parent.name}/{path.name}" for path in INPUTS])
def test_both_twins_agree_on_a_corpus_input(path: Path) -> None:
    twin(path.parent.name, "compiled")  # a missing build fails with how to fix it
    importlib.import_module(f"fuzz.{path.parent.name}").check(path.read_bytes())
