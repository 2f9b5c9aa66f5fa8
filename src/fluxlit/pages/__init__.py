"""Typed Streamlit pages: registry, discovery and the navigation the Streamlit child runs."""

from .discovery import discover_pages
from .registry import PageError, PageRegistry, PageSpec

__all__ = ["PageError", "PageRegistry", "PageSpec", "discover_pages"]
