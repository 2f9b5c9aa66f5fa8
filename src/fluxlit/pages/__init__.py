"""Typed Streamlit pages: registry, discovery, dependency injection and the navigation the child runs."""

from .discovery import discover_pages
from .plan import PageError
from .registry import PageRegistry, PageSpec

__all__ = ["PageError", "PageRegistry", "PageSpec", "discover_pages"]
