"""``uvicorn fluxlit.runtime:create_unified_app --factory``: the app named by ``FLUXLIT_APP``."""

from typing import TYPE_CHECKING

from .target import TargetError, load_app, resolve_target

if TYPE_CHECKING:
    from ..app import FluxLit


def create_unified_app() -> "FluxLit":
    """Load the FluxLit app named by ``FLUXLIT_APP`` (or the project file, or ``app:app``)."""
    try:
        return load_app(resolve_target(None))
    except TargetError as exc:
        raise SystemExit(f"fluxlit: {exc}") from None
