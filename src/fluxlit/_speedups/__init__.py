"""Hot-path kernels: picks the compiled twin unless ``FLUXLIT_PURE_PYTHON`` asks for the pure one.

Each kernel has one public surface implemented twice: ``_<name>_py`` (the readable spec)
and ``_<name>_c`` (Cython, described to type checkers by its ``.pyi`` stub). The choice is made
once, at import time, for every kernel; type checkers and IDEs always see the pure twins' names.
"""

import importlib
import logging
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Literal

from .errors import FrameEvent, WebSocketProtocolError

KERNELS = ("request_id", "body_limit", "ws_frames", "headers")
PURE_PYTHON_ENV = "FLUXLIT_PURE_PYTHON"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}

_log = logging.getLogger("fluxlit.speedups")


def pure_python_requested(raw: str | None) -> bool:
    """Parse ``FLUXLIT_PURE_PYTHON``: 1/true/yes/on select pure; 0/false/no/off/empty do not."""
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(
        f"{PURE_PYTHON_ENV}={raw!r} is not a boolean; use 1/true/yes/on for the pure-Python kernels "
        "or 0/false/no/off (or leave it unset) for the compiled ones"
    )


def load_twin(kernel: str, implementation: Literal["compiled", "pure"]) -> ModuleType:
    """Import one twin of a kernel (``ImportError`` when the compiled one was not built)."""
    suffix = "c" if implementation == "compiled" else "py"
    return importlib.import_module(f"{__name__}._{kernel}_{suffix}")


def _select() -> tuple[Literal["compiled", "pure"], dict[str, ModuleType]]:
    # Read once at import: the kernels are chosen before any settings object exists.
    if pure_python_requested(os.environ.get(PURE_PYTHON_ENV)):
        return "pure", {k: load_twin(k, "pure") for k in KERNELS}
    try:
        return "compiled", {k: load_twin(k, "compiled") for k in KERNELS}
    except ImportError as exc:
        _log.debug("compiled kernels unavailable (%s); using the pure twins", exc)
        return "pure", {k: load_twin(k, "pure") for k in KERNELS}


def _running_the_cli() -> bool:
    """``fluxlit ...`` or ``python -m fluxlit ...``."""
    argv = getattr(sys, "orig_argv", sys.argv)
    script = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return script == "fluxlit" or any(a == "-m" and b == "fluxlit" for a, b in zip(argv, argv[1:], strict=False))


try:
    IMPLEMENTATION, _modules = _select()
    """``"compiled"`` or ``"pure"``: which twin of every kernel is in use."""
except ValueError as exc:
    if not _running_the_cli():
        raise
    # Kernels are chosen while the CLI is still being imported, before it can report errors itself.
    sys.stderr.write(f"fluxlit: {exc}\n")
    raise SystemExit(2) from None

if TYPE_CHECKING:
    # Static tools see the readable twins' signatures; both twins share one surface.
    from ._body_limit_py import BodyLimit
    from ._headers_py import (
        connection_tokens,
        downstream_head,
        downstream_response_headers,
        head_problem,
        host_problem,
        target_problem,
        upstream_head,
        upstream_request_headers,
    )
    from ._request_id_py import is_valid_request_id, mint_request_id, request_id_for
    from ._ws_frames_py import FrameInspector
else:
    is_valid_request_id = _modules["request_id"].is_valid_request_id
    mint_request_id = _modules["request_id"].mint_request_id
    request_id_for = _modules["request_id"].request_id_for
    BodyLimit = _modules["body_limit"].BodyLimit
    FrameInspector = _modules["ws_frames"].FrameInspector
    head_problem = _modules["headers"].head_problem
    target_problem = _modules["headers"].target_problem
    host_problem = _modules["headers"].host_problem
    connection_tokens = _modules["headers"].connection_tokens
    upstream_request_headers = _modules["headers"].upstream_request_headers
    downstream_response_headers = _modules["headers"].downstream_response_headers
    upstream_head = _modules["headers"].upstream_head
    downstream_head = _modules["headers"].downstream_head

__all__ = [
    "IMPLEMENTATION",
    "BodyLimit",
    "FrameEvent",
    "FrameInspector",
    "WebSocketProtocolError",
    "connection_tokens",
    "downstream_head",
    "downstream_response_headers",
    "head_problem",
    "host_problem",
    "KERNELS",
    "is_valid_request_id",
    "load_twin",
    "mint_request_id",
    "pure_python_requested",
    "request_id_for",
    "target_problem",
    "upstream_head",
    "upstream_request_headers",
]
