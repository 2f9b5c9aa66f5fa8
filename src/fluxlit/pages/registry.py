"""Page registry: the pages an app declares, in order, each with its resolution plan."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .plan import PageError, Plan

PageHandler = Callable[..., object]


@dataclass(frozen=True)
class PageSpec:
    """One page: public path, navigation title and icon, handler and how its parameters are filled."""

    path: str
    title: str
    icon: str | None
    plan: Plan

    @property
    def handler(self) -> PageHandler:
        """The function the page runs."""
        return self.plan.call

    @property
    def slug(self) -> str:
        """Streamlit ``url_path`` for the page (``home`` for ``/``)."""
        return slug_for(self.path)

    @property
    def is_default(self) -> bool:
        """The page served at the app root."""
        return self.path == "/"

    @property
    def inject(self) -> tuple[str, ...]:
        """Names of the parameters FluxLit fills (the rest keep their defaults)."""
        return tuple(p.name for p in self.plan.params)


def normalize_path(path: str) -> str:
    """``/reports`` form: one leading slash, none trailing."""
    return "/" + path.strip().strip("/")


def slug_for(path: str) -> str:
    """Streamlit ``url_path`` of the page at ``path`` (``/reports/monthly`` → ``reports-monthly``, ``/`` → ``home``)."""
    return normalize_path(path).strip("/").replace("/", "-") or "home"


class PageRegistry:
    """Pages in declaration order, unique by path and by slug."""

    def __init__(self) -> None:
        self._pages: dict[str, PageSpec] = {}

    def add(self, path: str, plan: Plan, *, title: str | None = None, icon: str | None = None) -> PageSpec:
        """Register a page; duplicate paths or slugs raise ``PageError``."""
        path = normalize_path(path)
        name = getattr(plan.call, "__name__", "page")
        spec = PageSpec(path, title or name.replace("_", " ").title(), icon, plan)
        if path in self._pages:
            raise PageError(f"page {path!r} is registered twice ({self._pages[path].handler.__name__} and {name})")
        if any(p.slug == spec.slug for p in self._pages.values()):
            raise PageError(f"page {path!r} has the same Streamlit URL ({spec.slug!r}) as another page; rename one")
        self._pages[path] = spec
        return spec

    def get(self, page: str) -> PageSpec:
        """The page with this path, slug or title; ``PageError`` lists the pages when none matches."""
        for spec in self._pages.values():
            if page in (spec.path, spec.slug, spec.title) or normalize_path(page) == spec.path:
                return spec
        known = ", ".join(spec.path for spec in self._pages.values()) or "none"
        raise PageError(f"no page {page!r}; the app has: {known}")

    def __iter__(self) -> Iterator[PageSpec]:
        return iter(self._pages.values())

    def __len__(self) -> int:
        return len(self._pages)
