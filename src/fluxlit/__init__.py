"""FluxLit: a FastAPI API and a Streamlit UI behind one port and one application object."""

from importlib.metadata import PackageNotFoundError, version

from .app import FluxLit
from .client import ApiClient
from .settings import FluxlitSettings

try:
    __version__ = version("fluxlit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["ApiClient", "FluxLit", "FluxlitSettings", "__version__"]
