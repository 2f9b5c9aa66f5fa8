"""Every injectable reaches a real page run: Streamlit's AppTest over the FluxLit entry script."""

from collections.abc import Iterator

import pytest

from fluxlit import FluxLit, FluxlitSettings, set_page_cookie_context, set_page_header_context
from fluxlit.pages.di import PageRun
from fluxlit.pages.navigation import env_overrides
from fluxlit.pages.request import PageRequest, reset_page_cookie_context, reset_page_header_context
from fluxlit.testing import FluxLitTestClient, assert_no_streamlit_exception, select_page
from tests.apps import pages_app
from tests.conftest import running_gateway
from tests.support.processes import ROOT
from tests.support.streamlit_session import run_streamlit_script
from tests.apps.pages_app import app

pytestmark = pytest.mark.integration

APPS = ROOT / "tests" / "apps"


@pytest.fixture
def tc() -> Iterator[FluxLitTestClient]:
    pages_app.calls.clear()
    with FluxLitTestClient(app) as client:
        yield client


def texts(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_dependencies_are_cached_per_run_nested_async_and_torn_down_after_the_page(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/")
    assert_no_streamlit_exception(at)
    assert texts(at)[0] == "a=remote(real-db) b=real-db g=resource ag=async-resource fresh=True"
    # database() ran once for remote() and the page; counter() twice (use_cache=False); teardown after rendering.
    assert pages_app.calls.count("database") == 1 and pages_app.calls.count("counter") == 2
    assert pages_app.calls[-2:] == ["aclose", "close"]
    assert [c.value for c in at.caption] == ["Root › Deps"]
    at.run()
    assert pages_app.calls.count("database") == 2, "a new script run resolves again"


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "no-debug"])
def test_a_real_childs_page_calls_carry_the_trace_context_and_in_debug_mode_the_request_id(debug: bool, lane: str) -> None:
    trace = {"x-request-id": "page-run-1", "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate": "k=v"}
    with running_gateway(APPS, "pages_app:app", env={"FLUXLIT_DEBUG": "1" if debug else "0"}, lane=lane) as gateway:
        run = run_streamlit_script(gateway.ws_url + "/_stcore/stream", headers=trace)
    seen = next(text for text in run.texts if "seen x-request-id=" in text)
    assert f"traceparent={trace['traceparent']} tracestate=k=v" in seen
    assert ("x-request-id=page-run-1 " in seen) is debug, seen


def test_async_dependencies_run_in_a_copy_of_the_callers_context(tc: FluxLitTestClient) -> None:
    remote_plan = next(p.depends for p in app.pages.get("/").plan.params if p.name == "a")
    token = pages_app.tenant.set("acme")
    try:
        with PageRun(app, None, request=PageRequest({}, {})) as run:
            assert run.call(remote_plan) == "remote(real-db)"
    finally:
        pages_app.tenant.reset(token)
    assert "remote:acme" in pages_app.calls


def test_overrides_replace_a_dependency_everywhere_it_is_used(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/", page_overrides={pages_app.database: lambda: "fake-db"})
    assert texts(at)[0].startswith("a=remote(fake-db) b=fake-db")
    assert "database" not in pages_app.calls


def test_overrides_from_settings_are_imported_by_dotted_name() -> None:
    overrides = env_overrides((("tests.apps.pages_app.database", "tests.apps.pages_app:counter"),))
    assert overrides == {pages_app.database: pages_app.counter}
    with pytest.raises(ValueError, match="FLUXLIT_TEST_PAGE_OVERRIDES names the fake 'tests.apps.nowhere.fake', which cannot be imported"):
        env_overrides((("tests.apps.pages_app.database", "tests.apps.nowhere.fake"),))


def test_headers_and_cookies_come_from_the_request_through_the_gateway_policy(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/request", headers={"X-Remote-User": "alice", "User-Agent": "probe/1", "X-Quota": "8443"}, cookies={"theme": "dark"})
    assert texts(at) == ["user=alice agent=probe/1 theme=dark quota=8443"]
    at = tc.streamlit("/request")
    assert texts(at) == ["user=anonymous agent=None theme=light quota=None"]


def test_test_headers_the_gateway_would_drop_never_reach_a_page() -> None:
    strict = FluxLit(settings=FluxlitSettings(gateway_forward_client_headers_to_streamlit=["x-tenant"]))
    seen: list[dict[str, str]] = []

    sent = {"X-Tenant": "t1", "X-Remote-User": "eve", "Authorization": "Bearer s", "X_Under": "u"}

    @strict.page("/")
    def page(st, tenant: str | None = pages_app.Header("x-tenant")) -> None:
        seen.append(dict(PageRequest.current(st, headers=sent, reaches_pages=strict.header_reaches_pages).headers))
        st.write(f"tenant={tenant}")

    at = FluxLitTestClient(strict).streamlit(headers=sent)
    assert texts(at) == ["tenant=t1"]
    assert seen == [{"x-tenant": "t1"}], "not allowlisted, a credential and an underscore name are all dropped"


def test_header_and_cookie_contexts_set_in_the_test_reach_the_page(tc: FluxLitTestClient) -> None:
    headers, cookies = set_page_header_context({"x-remote-user": "carol"}), set_page_cookie_context({"theme": "sepia"})
    try:
        at = tc.streamlit("/request")
    finally:
        reset_page_header_context(headers)
        reset_page_cookie_context(cookies)
    assert texts(at) == ["user=carol agent=None theme=sepia quota=None"]


def test_query_parameters_and_models_are_parsed_from_the_url(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/query", query_params={"team": "red", "limit": "5", "tags": ["a", "b"], "p": "3", "ids": ["1", "2"], "debug": "true"})
    assert_no_streamlit_exception(at)
    assert texts(at) == ["team=red limit=5 tags=['a', 'b'] page=3 ids=[1, 2] debug=True"]


def test_invalid_query_values_are_reported_and_fall_back_to_defaults(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/query", query_params={"team": "red", "limit": "many", "p": "x"})
    assert_no_streamlit_exception(at)
    assert texts(at) == ["team=red limit=10 tags=[] page=1 ids=[] debug=False"]
    errors = [e.value for e in at.error]
    assert any("limit" in e and "'many'" in e for e in errors) and any("'p' = 'x'" in e for e in errors)


def test_a_required_value_the_request_lacks_is_shown_not_raised(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/needs", headers={"x-tenant": "t"})
    assert_no_streamlit_exception(at)
    assert [e.value for e in at.error] == ["This page needs the URL parameter 'order', and the request that opened it did not carry it."]
    at = tc.streamlit("/needs", query_params={"order": "4"})
    assert "the 'x-tenant' header" in at.error[0].value
    at = tc.streamlit("/needs", headers={"x-tenant": "t"}, query_params={"order": "4"})
    assert texts(at) == ["order=4 token=t"]


def test_client_settings_app_urls_and_session_store_are_injected(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/app")
    assert_no_streamlit_exception(at)
    assert texts(at)[0] == "item=item-7 title=Pages under test same_app=True visits=3"
    assert texts(at)[1] == "page_url=http://127.0.0.1:8000/query?team=red api=http://127.0.0.1:8000/api docs=http://127.0.0.1:8000/api/docs"


def test_public_urls_in_a_page_follow_the_origin_the_gateway_forwarded(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/app", headers={"Host": "apps.example.com", "X-Forwarded-Proto": "https"})
    assert texts(at)[1].startswith("page_url=https://apps.example.com/query?team=red api=https://apps.example.com/api ")


def test_select_page_switches_an_apptest_to_another_page(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/request", headers={"X-Remote-User": "dan"})
    select_page(at, "Query")
    assert texts(at) == ["team=all limit=10 tags=[] page=1 ids=[] debug=False"]
    tc.select_page(at, "/request")
    assert texts(at) == ["user=dan agent=None theme=light quota=None"]
    with pytest.raises(ValueError, match="no page '/missing'; the app has: /, /request, /query, /needs, /app"):
        select_page(at, "/missing")


def test_assert_no_streamlit_exception_reports_the_pages_error() -> None:
    broken = FluxLit()

    @broken.page("/")
    def page(st) -> None:
        raise RuntimeError("the page broke")

    at = FluxLitTestClient(broken).streamlit()
    with pytest.raises(AssertionError, match="the page raised 1 exception"):
        assert_no_streamlit_exception(at)
