"""What type checkers see: the compiled twins' stubs and the selector name exactly the pure twins' surface."""

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import fluxlit._speedups as speedups
from tests.conftest import twin

SPEEDUPS = Path(speedups.__file__).parent


def public(names) -> set[str]:
    return {name for name in names if not name.startswith("_")}


def defined_in(module: ModuleType) -> set[str]:
    """Public functions and classes the module defines itself, not the helpers it imports."""
    return public(
        name
        for name, value in vars(module).items()
        if (inspect.isfunction(value) or inspect.isclass(value)) and value.__module__ == module.__name__
    )


def classes(tree: ast.Module) -> dict[str, ast.ClassDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def members(cls: ast.ClassDef) -> set[str]:
    """Public methods, properties and attributes of a class, declared in its body or set on ``self``."""
    names = {node.name for node in cls.body if isinstance(node, ast.FunctionDef)}
    names |= {node.target.id for node in cls.body if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
    names |= {
        node.attr
        for node in ast.walk(cls)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and isinstance(node.value, ast.Name) and node.value.id == "self"
    }
    return public(names)


def stub(kernel: str) -> ast.Module:
    return ast.parse((SPEEDUPS / f"_{kernel}_c.pyi").read_text())


def source(module: ModuleType) -> ast.Module:
    return ast.parse(inspect.getsource(module))


@pytest.mark.parametrize("kernel", speedups.KERNELS)
def test_stub_names_exactly_what_the_pure_twin_defines(kernel: str) -> None:
    tree = stub(kernel)
    declared = public(node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)))
    assert declared == defined_in(twin(kernel, "pure"))


@pytest.mark.parametrize("kernel", speedups.KERNELS)
def test_stub_classes_list_the_pure_twins_members(kernel: str) -> None:
    pure = classes(source(twin(kernel, "pure")))
    for name, cls in classes(stub(kernel)).items():
        assert members(cls) == members(pure[name]), name


@pytest.mark.parametrize("kernel", speedups.KERNELS)
def test_compiled_twin_has_everything_its_stub_declares(kernel: str) -> None:
    compiled = twin(kernel, "compiled")
    tree = stub(kernel)
    missing = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not hasattr(compiled, node.name)}
    missing |= {f"{name}.{member}" for name, cls in classes(tree).items() for member in members(cls) if not hasattr(getattr(compiled, name), member)}
    assert missing == set()


def test_type_checkers_see_the_pure_twin_of_every_name_the_selector_picks() -> None:
    tree = ast.parse(inspect.getsource(speedups))
    branch = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    static = {(alias.name, node.module, alias.name) for node in branch.body for alias in node.names}
    # At run time each name is bound as ``name = _modules["<kernel>"].name``.
    runtime = {(node.targets[0].id, f"_{ast.literal_eval(node.value.value.slice)}_py", node.value.attr) for node in branch.orelse}
    assert static == runtime
