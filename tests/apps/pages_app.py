"""An app whose pages declare every injectable, for AppTest and browser tests of page injection."""

import asyncio
import contextvars
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel

from fluxlit import ApiClient, Cookie, Depends, FluxLit, FluxLitPublicUrls, FluxlitSettings, Header, PageMeta, Query, SessionStore

calls: list[str] = []
"""What the dependencies did, in order (tests read and clear it)."""

tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="none")


class DictStore:
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {"s1": {"visits": 3}}

    def get(self, session_id: str) -> dict[str, Any] | None:
        return self.data.get(session_id)

    def set(self, session_id: str, data: dict[str, Any], *, ttl_seconds: int | None = None) -> None:
        self.data[session_id] = data

    def delete(self, session_id: str) -> None:
        self.data.pop(session_id, None)


app = FluxLit(title="Pages under test", session_store=DictStore())


class Item(BaseModel):
    id: int
    name: str


class Filters(BaseModel):
    team: str = "all"
    limit: int = 10
    tags: list[str] = []


@app.api.get("/seen")
def seen(request: Request) -> dict[str, str | None]:
    """The tracing headers a page's API call carried."""
    return {name: request.headers.get(name) for name in ("x-request-id", "traceparent", "tracestate")}


@app.api.get("/items/{item_id}")
def item(item_id: int) -> Item:
    return Item(id=item_id, name=f"item-{item_id}")


def database() -> str:
    calls.append("database")
    return "real-db"


def counter() -> int:
    calls.append("counter")
    return len(calls)


async def remote(db: str = Depends(database)) -> str:
    await asyncio.sleep(0.001)
    calls.append(f"remote:{tenant.get()}")
    return f"remote({db})"


def opened():
    calls.append("open")
    yield "resource"
    calls.append("close")


async def opened_async():
    calls.append("aopen")
    yield "async-resource"
    calls.append("aclose")


def current_user(user: Annotated[str | None, Header("x-remote-user")] = None) -> str:
    return user or "anonymous"


@app.page("/", title="Deps")
def deps(
    st,
    a: str = Depends(remote),
    b: str = Depends(database),
    g: str = Depends(opened),
    ag: str = Depends(opened_async),
    n1: int = Depends(counter, use_cache=False),
    n2: int = Depends(counter, use_cache=False),
    client: ApiClient = None,
) -> PageMeta:
    tenant.set("page")
    st.write(f"a={a} b={b} g={g} ag={ag} fresh={n1 != n2}")
    st.write("seen " + " ".join(f"{name}={value}" for name, value in client.get("/seen").json().items()))
    return PageMeta(page_title="Deps page", breadcrumb=("Root", "Deps"))


@app.page("/request", title="Request")
def request_page(
    st,
    user: str = Depends(current_user),
    agent: str | None = Header("user-agent"),
    theme: str = Cookie("theme", default="light"),
    quota: int | None = Header("x-quota"),
) -> None:
    st.write(f"user={user} agent={agent} theme={theme} quota={quota}")


@app.page("/query", title="Query")
def query_page(
    st,
    filters: Filters,
    page: int = Query(1, alias="p"),
    ids: list[int] = Query([]),
    debug: bool = Query(False),
) -> None:
    st.write(f"team={filters.team} limit={filters.limit} tags={filters.tags} page={page} ids={ids} debug={debug}")


@app.page("/needs", title="Needs")
def needs(st, token: Annotated[str, Header("x-tenant")], order: int = Query()) -> None:
    st.write(f"order={order} token={token}")


@app.page("/app", title="App")
def app_page(
    st,
    client: ApiClient,
    settings: FluxlitSettings,
    this: FluxLit,
    urls: FluxLitPublicUrls,
    store: SessionStore,
) -> None:
    fetched = client.get_model("/items/7", Item)
    st.write(f"item={fetched.name} title={settings.title} same_app={this is app} visits={store.get('s1')['visits']}")
    st.write(f"page_url={urls.page_url('/query', {'team': 'red'})} api={urls.api_base} docs={urls.docs_url}")
