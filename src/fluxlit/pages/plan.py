"""Resolution plans: what each parameter of a page handler or dependency is, decided at registration.

A parameter FluxLit cannot provide fails here, when ``@app.page`` runs, naming the page and the
parameter, instead of at the first render.
"""

import dataclasses
import inspect
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic_settings import BaseSettings

from .markers import MISSING, Cookie, Depends, Header, Marker
from .query import is_sequence

INJECTABLE_HELP = (
    "st, client: ApiClient, Depends(...), Header(...), Cookie(...), Query(...), a pydantic query model, "
    "FluxlitSettings, FluxLit, FluxLitPublicUrls, SessionStore (when the app has one)"
)


class PageError(ValueError):
    """A page declaration FluxLit cannot serve; the message says which page and why."""


class Source(Enum):
    """Where a parameter's value comes from."""

    ST = "st"
    CLIENT = "client"
    APP = "app"
    SETTINGS = "settings"
    URLS = "urls"
    SESSION_STORE = "session_store"
    HEADER = "header"
    COOKIE = "cookie"
    QUERY = "query"
    QUERY_MODEL = "query_model"
    DEPENDS = "depends"


class Call(Enum):
    """How a dependency is called."""

    SYNC = "sync"
    ASYNC = "async"
    GENERATOR = "generator"
    ASYNC_GENERATOR = "async generator"


@dataclass(frozen=True)
class Param:
    """One parameter and how to fill it."""

    name: str
    source: Source
    key: str = ""
    """Header, cookie or query-parameter name."""
    default: Any = MISSING
    annotation: Any = Any
    adapter: TypeAdapter | None = None
    """Converts header, cookie and query text; ``None`` keeps the text."""
    many: bool = False
    """A query parameter given as a list (``?tag=a&tag=b``)."""
    depends: "Plan | None" = None
    use_cache: bool = True


@dataclass(frozen=True)
class Plan:
    """A callable and its parameters' sources; ``Depends`` parameters carry their own plans."""

    call: Callable[..., Any]
    params: tuple[Param, ...]
    kind: Call = Call.SYNC
    where: str = ""

    def dependencies(self) -> Iterator["Plan"]:
        """Every dependency plan below this one, depth first."""
        for param in self.params:
            if param.depends is not None:
                yield param.depends
                yield from param.depends.dependencies()

    def describe(self) -> list[dict[str, str]]:
        """Parameters as ``{name, source, key}`` rows, for manifests and ``doctor``."""
        return [{"name": p.name, "source": p.source.value, "key": callable_name(p.depends.call) if p.depends else p.key} for p in self.params]


@dataclass(frozen=True)
class PlanContext:
    """What the app can provide: its settings, whether it has a session store, and the header policy check."""

    header_refusal: Callable[[str], str | None] = lambda name: None
    """Why the gateway would never forward a header to Streamlit, or ``None``."""
    session_store: bool = False
    settings: object = None
    """The app's settings object (a page may declare its type or a base of it)."""
    _stack: tuple[Callable[..., Any], ...] = field(default=())


def plan_page(handler: Callable[..., Any], where: str, context: PlanContext) -> Plan:
    """The plan for a page handler; refuses ``async def`` pages and anything it cannot inject."""
    if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
        raise PageError(
            f"{where}: {callable_name(handler)}() is async, but pages run on Streamlit's script thread; "
            "make it a plain def and move the awaiting into an async Depends(...)"
        )
    return plan_callable(handler, where, context)


def plan_callable(call: Callable[..., Any], where: str, context: PlanContext) -> Plan:
    """The plan for ``call`` (a page handler or a dependency)."""
    if call in context._stack:
        raise PageError(f"{where}: dependencies form a cycle")
    inner = dataclasses.replace(context, _stack=(*context._stack, call))
    try:
        signature = inspect.signature(call)
    except (TypeError, ValueError) as exc:
        raise PageError(f"{where}: cannot read the signature of {call!r}: {exc}") from None
    hints = _hints(call)
    params = tuple(
        _param(p, hints.get(p.name, p.annotation), call, where, inner)
        for p in signature.parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    return Plan(call, tuple(p for p in params if p is not None), _kind(call), where)


def _param(p: inspect.Parameter, annotation: Any, owner: Callable[..., Any], where: str, context: PlanContext) -> Param | None:
    base, marker = _unwrap(annotation)
    default = p.default
    if isinstance(default, Marker):
        marker, default = default, MISSING
    elif default is inspect.Parameter.empty:
        default = MISSING
    if marker is not None:
        return _marked(p.name, base, marker, default, owner, where, context)
    if p.name == "st":
        return Param(p.name, Source.ST)
    if p.name == "client" or _is(base, "ApiClient"):
        return Param(p.name, Source.CLIENT)
    if _subclass(base, BaseSettings):
        if not isinstance(context.settings, base):
            raise PageError(
                f"{where}: {callable_name(owner)}() asks for {base.__name__} ({p.name!r}), but the app's settings are a "
                f"{type(context.settings).__name__}; declare that type, or build your own with Depends({base.__name__})"
            )
        return Param(p.name, Source.SETTINGS)
    if _is(base, "FluxLit"):
        return Param(p.name, Source.APP)
    if _is(base, "FluxLitPublicUrls"):
        return Param(p.name, Source.URLS)
    if _is(base, "SessionStore"):
        if not context.session_store:
            raise PageError(f"{where}: {callable_name(owner)}() asks for a SessionStore ({p.name!r}), but the app has none; pass FluxLit(session_store=...)")
        return Param(p.name, Source.SESSION_STORE)
    if _subclass(base, BaseModel):
        return Param(p.name, Source.QUERY_MODEL, annotation=base)
    if default is not MISSING:
        return None
    raise PageError(
        f"{where}: {callable_name(owner)}() asks for {p.name!r}, which FluxLit cannot provide; "
        f"declare one of {INJECTABLE_HELP}, or give {p.name!r} a default"
    )


def _marked(name: str, base: Any, marker: Marker, default: Any, owner: Callable[..., Any], where: str, context: PlanContext) -> Param:
    if isinstance(marker, Depends):
        dependency = marker.dependency if marker.dependency is not None else base
        if not callable(dependency) or dependency in (Any, inspect.Parameter.empty):
            raise PageError(f"{where}: {callable_name(owner)}() parameter {name!r} has Depends() with nothing to call; pass Depends(callable)")
        plan = plan_callable(dependency, f"{where}, dependency {callable_name(dependency)}()", context)
        return Param(name, Source.DEPENDS, depends=plan, use_cache=marker.use_cache)
    if marker.default is not MISSING:
        default = marker.default
    if default is MISSING and _optional(base):
        default = None
    if isinstance(marker, Header):
        key = marker.name.strip().lower()
        if reason := context.header_refusal(key):
            raise PageError(f"{where}: {callable_name(owner)}() asks for header {marker.name!r}, which never reaches pages: {reason}")
        return Param(name, Source.HEADER, key, default, base, _adapter(base, where, name))
    if isinstance(marker, Cookie):
        return Param(name, Source.COOKIE, marker.name, default, base, _adapter(base, where, name))
    if _subclass(base, BaseModel):
        return Param(name, Source.QUERY_MODEL, annotation=base)
    return Param(name, Source.QUERY, marker.alias or name, default, base, _adapter(base, where, name), is_sequence(base))


def _adapter(annotation: Any, where: str, name: str) -> TypeAdapter | None:
    if _strip_none(annotation) in (str, Any, inspect.Parameter.empty):
        return None
    try:
        return TypeAdapter(annotation)
    except Exception as exc:  # pydantic raises several error types for unusable annotations
        raise PageError(f"{where}: parameter {name!r} has a type FluxLit cannot parse text into ({annotation!r}): {exc}") from None


def _unwrap(annotation: Any) -> tuple[Any, Marker | None]:
    if typing.get_origin(annotation) is Annotated:
        base, *extras = typing.get_args(annotation)
        return base, next((e for e in extras if isinstance(e, Marker)), None)
    return annotation, None


def _hints(call: Callable[..., Any]) -> dict[str, Any]:
    target = call if inspect.isfunction(call) or inspect.ismethod(call) else getattr(call, "__init__", call) if isinstance(call, type) else getattr(call, "__call__", call)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception:  # unresolvable string annotations: fall back to what the signature shows
        return {}


def _kind(call: Callable[..., Any]) -> Call:
    target = call if inspect.isroutine(call) or isinstance(call, type) else getattr(call, "__call__", call)
    if inspect.isasyncgenfunction(target):
        return Call.ASYNC_GENERATOR
    if inspect.iscoroutinefunction(target):
        return Call.ASYNC
    if inspect.isgeneratorfunction(target):
        return Call.GENERATOR
    return Call.SYNC


def _strip_none(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _optional(annotation: Any) -> bool:
    return type(None) in typing.get_args(annotation)


def _subclass(annotation: Any, cls: type) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, cls)


def _is(annotation: Any, name: str) -> bool:
    """``annotation`` is FluxLit's class ``name`` (or the string annotation naming it)."""
    if annotation == name:
        return True
    return isinstance(annotation, type) and any(c.__name__ == name and c.__module__.startswith("fluxlit.") for c in annotation.__mro__)


def callable_name(call: Callable[..., Any]) -> str:
    """``qualname`` without the ``<locals>`` part, for messages."""
    name = getattr(call, "__qualname__", None) or getattr(call, "__name__", None) or type(call).__name__
    return name.rpartition("<locals>.")[2]
