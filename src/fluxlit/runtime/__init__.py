"""Process runtime: Streamlit sidecar, import targets, lifespan, server."""

from .factory import create_unified_app

__all__ = ["create_unified_app"]
