"""Page registry: the pages an app declares, in order, with what each handler asks for."""

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

PageHandler = Callable[..., object]

INJECTABLE = ("st", "client")


class PageError(ValueError):
    """A page declaration FluxLit cannot serve; the message says which page and why."""


@dataclass(frozen=True)
class PageSpec:
    """One page: public path, navigation title and icon, handler and the parameters to inject."""

    path: str
    title: str
    icon: str | None
    handler: PageHandler
    inject: tuple[str, ...]

    @property
    def slug(self) -> str:
        """Streamlit ``url_path`` for the page (``home`` for ``/``)."""
        return self.path.strip("/").replace("/", "-") or "home"

    @property
    def is_default(self) -> bool:
        """The page served at the app root."""
        return self.path == "/"


def injected_parameters(handler: PageHandler, path: str) -> tuple[str, ...]:
    """Names FluxLit will pass to ``handler``; anything else must have a default."""
    names = []
    for param in inspect.signature(handler).parameters.values():
        if param.name in INJECTABLE or _is_api_client(param.annotation):
            names.append(param.name)
        elif param.default is inspect.Parameter.empty and param.kind not in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise PageError(
                f"page {path!r}: {handler.__name__}() asks for {param.name!r}, which FluxLit cannot provide; "
                f"declare only {', '.join(INJECTABLE)} or give {param.name!r} a default"
            )
    return tuple(names)


def _is_api_client(annotation: object) -> bool:
    from ..client import ApiClient

    return annotation is ApiClient or annotation == "ApiClient"


def normalize_path(path: str) -> str:
    """``/reports`` form: one leading slash, none trailing."""
    return "/" + path.strip().strip("/")


class PageRegistry:
    """Pages in declaration order, unique by path and by slug."""

    def __init__(self) -> None:
        self._pages: dict[str, PageSpec] = {}

    def add(self, path: str, handler: PageHandler, *, title: str | None = None, icon: str | None = None) -> PageSpec:
        """Register a page; duplicate paths or slugs raise ``PageError``."""
        path = normalize_path(path)
        spec = PageSpec(path, title or handler.__name__.replace("_", " ").title(), icon, handler, injected_parameters(handler, path))
        if path in self._pages:
            raise PageError(f"page {path!r} is registered twice ({self._pages[path].handler.__name__} and {handler.__name__})")
        if any(p.slug == spec.slug for p in self._pages.values()):
            raise PageError(f"page {path!r} has the same Streamlit URL ({spec.slug!r}) as another page; rename one")
        self._pages[path] = spec
        return spec

    def __iter__(self) -> Iterator[PageSpec]:
        return iter(self._pages.values())

    def __len__(self) -> int:
        return len(self._pages)
