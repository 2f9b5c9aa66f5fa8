"""What a page parameter asks for: ``Depends``, ``Header``, ``Cookie`` and ``Query`` markers.

Each is written as the parameter's default (``user: str | None = Header("x-remote-user")``) or
inside ``Annotated`` (``user: Annotated[str | None, Header("x-remote-user")] = None``).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()
"""A marker's default when it has none: the value is then required."""


@dataclass(frozen=True)
class Depends:
    """The parameter is what ``dependency`` returns (called once per script run unless ``use_cache=False``).

    ``dependency`` may be sync or async, a generator (code after ``yield`` runs when the page has
    rendered) and may itself declare anything a page can. ``Depends()`` calls the annotation.
    """

    dependency: Callable[..., Any] | None = None
    use_cache: bool = True


@dataclass(frozen=True)
class Header:
    """A header of the browser request that opened the Streamlit session, as the gateway forwarded it."""

    name: str
    default: Any = MISSING


@dataclass(frozen=True)
class Cookie:
    """A cookie of the browser request that opened the Streamlit session."""

    name: str
    default: Any = MISSING


@dataclass(frozen=True)
class Query:
    """A URL query parameter (``alias`` when the URL name differs from the parameter's); a
    pydantic model parameter reads the whole query string instead."""

    default: Any = MISSING
    alias: str | None = None
    description: str | None = None


Marker = Depends | Header | Cookie | Query
