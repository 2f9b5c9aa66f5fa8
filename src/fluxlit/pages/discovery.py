"""``discover_pages``: import every module of a package and let each register its pages."""

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING

from .plan import PageError

if TYPE_CHECKING:
    from ..app import FluxLit


def discover_pages(app: "FluxLit", package: str | ModuleType) -> list[str]:
    """Call ``register(app)`` in each non-underscore module of ``package``; returns their names."""
    pkg = importlib.import_module(package) if isinstance(package, str) else package
    if not hasattr(pkg, "__path__"):
        raise PageError(f"discover_pages needs a package, and {pkg.__name__!r} is a module")
    found = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if not callable(register):
            raise PageError(f"page module {module.__name__!r} has no register(app) function")
        register(app)
        found.append(module.__name__)
    return found
