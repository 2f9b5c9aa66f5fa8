"""Page registration: every parameter is planned at ``@app.page``; what cannot be injected fails there."""

from typing import Annotated

import pytest
from pydantic import BaseModel

from fluxlit import ApiClient, Cookie, Depends, FluxLit, FluxLitPublicUrls, FluxlitSettings, Header, Query, SessionStore
from fluxlit.pages import PageError
from fluxlit.pages.plan import Call, Source


class Filters(BaseModel):
    team: str = "all"


class MemoryStore:
    def __init__(self) -> None:
        self.data: dict[str, dict] = {}

    def get(self, session_id: str) -> dict | None:
        return self.data.get(session_id)

    def set(self, session_id: str, data: dict, *, ttl_seconds: int | None = None) -> None:
        self.data[session_id] = data

    def delete(self, session_id: str) -> None:
        self.data.pop(session_id, None)


def db() -> str:
    return "db"


async def remote(conn: str = Depends(db)) -> str:
    return conn


def resource():
    yield "r"


async def aresource():
    yield "a"


def test_every_injectable_is_planned_by_name_annotation_or_marker() -> None:
    app = FluxLit(session_store=MemoryStore())

    @app.page("/")
    def home(
        st,
        client: ApiClient,
        user: Annotated[str | None, Header("X-Remote-User")],
        unmarked: Filters,
        theme: str = Cookie("theme", default="light"),
        conn: str = Depends(remote),
        r: str = Depends(resource),
        a: str = Depends(aresource, use_cache=False),
        filters: Filters = Query(),
        page: int = Query(1, alias="p"),
        tags: list[str] = Query([]),
        settings: FluxlitSettings = None,
        this: FluxLit = None,
        urls: FluxLitPublicUrls = None,
        store: SessionStore = None,
        kept: int = 3,
    ) -> None: ...

    plan = app.pages.get("/").plan
    sources = {p.name: (p.source, p.key) for p in plan.params}
    assert sources == {
        "st": (Source.ST, ""),
        "client": (Source.CLIENT, ""),
        "user": (Source.HEADER, "x-remote-user"),
        "theme": (Source.COOKIE, "theme"),
        "conn": (Source.DEPENDS, ""),
        "r": (Source.DEPENDS, ""),
        "a": (Source.DEPENDS, ""),
        "filters": (Source.QUERY_MODEL, ""),
        "unmarked": (Source.QUERY_MODEL, ""),
        "page": (Source.QUERY, "p"),
        "tags": (Source.QUERY, "tags"),
        "settings": (Source.SETTINGS, ""),
        "this": (Source.APP, ""),
        "urls": (Source.URLS, ""),
        "store": (Source.SESSION_STORE, ""),
    }, "kept has a default and nothing to inject, so the handler's default stays"
    by_name = {p.name: p for p in plan.params}
    assert by_name["user"].default is None and by_name["theme"].default == "light" and by_name["tags"].many
    assert [d.call for d in plan.dependencies()] == [remote, db, resource, aresource]
    assert [d.kind for d in plan.dependencies()] == [Call.ASYNC, Call.SYNC, Call.GENERATOR, Call.ASYNC_GENERATOR]
    assert by_name["a"].use_cache is False


def test_an_unknown_parameter_fails_at_registration_naming_page_parameter_and_choices() -> None:
    app = FluxLit()
    with pytest.raises(PageError) as caught:

        @app.page("/reports")
        def reports(st, user) -> None: ...

    message = str(caught.value)
    assert "page '/reports'" in message and "asks for 'user', which FluxLit cannot provide" in message
    assert "Depends(...)" in message and "Header(...)" in message and "give 'user' a default" in message


def test_an_unknown_parameter_of_a_nested_dependency_names_the_chain() -> None:
    app = FluxLit()

    def needs_mystery(mystery) -> str:
        return mystery

    def outer(inner: str = Depends(needs_mystery)) -> str:
        return inner

    with pytest.raises(PageError, match=r"page '/x', dependency outer\(\), dependency .*needs_mystery\(\): .* asks for 'mystery'"):
        app.page("/x")(lambda st, v=Depends(outer): None)


def test_async_pages_and_dependency_cycles_are_refused() -> None:
    app = FluxLit()

    async def page(st) -> None: ...

    with pytest.raises(PageError, match="is async, but pages run on Streamlit's script thread"):
        app.page("/a")(page)

    def a(x=None) -> None: ...

    def b(y=Depends(a)) -> None: ...

    a.__defaults__ = (Depends(b),)
    with pytest.raises(PageError, match=r"page '/c', dependency a\(\), dependency b\(\), dependency a\(\): dependencies form a cycle$"):
        app.page("/c")(lambda st, v=Depends(a): None)


def test_headers_the_gateway_never_forwards_cannot_be_declared() -> None:
    app = FluxLit()
    with pytest.raises(PageError, match="header 'Authorization', which never reaches pages: the gateway never forwards it"):
        app.page("/a")(lambda st, auth=Header("Authorization"): None)
    with pytest.raises(PageError, match=r"header 'Connection', which never reaches pages: .*hop-by-hop"):
        app.page("/b")(lambda st, c=Header("Connection"): None)


def test_headers_only_the_current_settings_drop_are_accepted_and_explained() -> None:
    """Settings differ per deployment: registration accepts them, ``doctor --check-pages`` warns."""
    allowlisted = FluxLit(settings=FluxlitSettings(gateway_forward_client_headers_to_streamlit=["x-tenant"]))
    allowlisted.page("/c")(lambda st, t=Header("x-tenant"), u=Header("x-remote-user", default=None), x=Header("x_user", default=None): None)
    assert allowlisted.header_refusal("x-tenant") is None
    assert allowlisted.header_refusal("x-remote-user") == "it is not on FLUXLIT_GATEWAY_FORWARD_CLIENT_HEADERS_TO_STREAMLIT; add it there"
    assert "underscore; set FLUXLIT_GATEWAY_ALLOW_UNDERSCORE_HEADERS=1" in FluxLit().header_refusal("x_user")
    assert FluxLit(settings=FluxlitSettings(gateway_allow_underscore_headers=True)).header_refusal("x_user") is None


def test_a_session_store_needs_an_app_that_has_one() -> None:
    def page(st, store: SessionStore) -> None: ...

    with pytest.raises(PageError, match=r"asks for a SessionStore \('store'\), but the app has none; pass FluxLit\(session_store=...\)"):
        FluxLit().page("/")(page)
    assert FluxLit(session_store=MemoryStore()).page("/")(page) is page


def test_a_type_text_cannot_become_is_refused() -> None:
    class Opaque:
        pass

    def page(st, o: Opaque = Query()) -> None: ...

    with pytest.raises(PageError, match="parameter 'o' has a type FluxLit cannot parse text into"):
        FluxLit().page("/")(page)


def test_depends_without_anything_to_call_is_refused() -> None:
    with pytest.raises(PageError, match=r"parameter 'v' has Depends\(\) with nothing to call"):
        FluxLit().page("/")(lambda st, v=Depends(): None)


def test_only_the_apps_own_settings_type_is_injected() -> None:
    from pydantic_settings import BaseSettings

    class OtherSettings(BaseSettings):
        colour: str = "red"

    class MySettings(FluxlitSettings):
        colour: str = "blue"

    def page(st, cfg: OtherSettings) -> None: ...

    with pytest.raises(PageError, match=r"asks for OtherSettings \('cfg'\), but the app's settings are a FluxlitSettings; .*Depends\(OtherSettings\)"):
        FluxLit().page("/")(page)

    def mine(st, cfg: MySettings, base: FluxlitSettings) -> None: ...

    app = FluxLit(settings=MySettings())
    app.page("/")(mine)
    assert [p.source for p in app.pages.get("/").plan.params[1:]] == [Source.SETTINGS, Source.SETTINGS]
