"""URL sessions in real page runs (AppTest over the multi-replica example): the id in the URL, state
hydrated in a new session, shared through Redis, lost with memory stores, and a page that survives Redis going down."""

import importlib.util
from collections.abc import Iterator

import pytest

from fluxlit.redis_store import RedisSessionStore
from fluxlit.testing import FluxLitTestClient, assert_no_streamlit_exception, select_page
from fluxlit.url_session import InMemorySessionStore
from tests.support.processes import ROOT, free_port
from tests.support.redis_server import redis_server

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "examples" / "multi-replica" / "app.py"


def load_example(name: str):
    """A fresh import of the example: each one stands for a replica with its own memory."""
    spec = importlib.util.spec_from_file_location(name, EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


def fill_order(app, name: str, cups: int):
    at = FluxLitTestClient(app).streamlit("/")
    assert_no_streamlit_exception(at)
    at.text_input(key="name").input(name).run()
    at.number_input(key="cups").set_value(cups).run()
    return at


def test_a_new_session_gets_an_unguessable_id_in_its_url() -> None:
    replica = load_example("replica_one")
    at = FluxLitTestClient(replica.app).streamlit("/")
    sid = at.query_params["fluxlit_sid"]
    assert len(sid) == 43 and replica.app.session_store.get(sid) == {"name": "", "cups": 0}


def test_state_follows_the_url_into_a_new_session_on_another_replica_through_redis(redis_url: str) -> None:
    replica_a, replica_b = load_example("replica_a"), load_example("replica_b")
    replica_a.app.session_store = RedisSessionStore(redis_url)
    replica_b.app.session_store = RedisSessionStore(redis_url)
    at = fill_order(replica_a.app, "Ada", 3)
    sid = at.query_params["fluxlit_sid"]
    elsewhere = FluxLitTestClient(replica_b.app).streamlit("/", query_params={"fluxlit_sid": sid})
    assert elsewhere.text_input(key="name").value == "Ada" and elsewhere.number_input(key="cups").value == 3
    select_page(elsewhere, "/summary")
    assert [m.value for m in elsewhere.markdown] == ["Ada ordered 3 cups."]
    assert elsewhere.query_params["fluxlit_sid"] == sid, "the id survives a page switch"


def test_with_memory_stores_another_replica_starts_empty() -> None:
    replica_a, replica_b = load_example("mem_a"), load_example("mem_b")
    replica_a.app.session_store, replica_b.app.session_store = InMemorySessionStore(), InMemorySessionStore()
    sid = fill_order(replica_a.app, "Ada", 3).query_params["fluxlit_sid"]
    same = FluxLitTestClient(replica_a.app).streamlit("/", query_params={"fluxlit_sid": sid})
    assert same.text_input(key="name").value == "Ada"
    other = FluxLitTestClient(replica_b.app).streamlit("/", query_params={"fluxlit_sid": sid})
    assert other.text_input(key="name").value == ""


def test_switching_pages_keeps_widget_state_the_store_holds() -> None:
    replica = load_example("switcher")
    at = fill_order(replica.app, "Bo", 2)
    select_page(at, "/summary")
    assert [m.value for m in at.markdown] == ["Bo ordered 2 cups."]
    select_page(at, "/")
    assert at.text_input(key="name").value == "Bo", "Streamlit dropped the widget key on the summary page; the stored default restored it"


def test_hydrate_puts_stored_values_into_session_state_once_and_restores_lost_keys() -> None:
    from fluxlit import FluxLit, SessionStore
    from fluxlit.url_session import hydrate_url_session, persist_url_session

    app = FluxLit(session_store=InMemorySessionStore())

    @app.page("/")
    def visits(st, store: SessionStore) -> None:
        hydrate_url_session(st, store)
        st.session_state["visits"] = st.session_state.get("visits", 0) + 1
        persist_url_session(st, store, keys=["visits"])
        st.write(f"visits={st.session_state['visits']}")

    tc = FluxLitTestClient(app)
    at = tc.streamlit()
    at.run()
    assert [m.value for m in at.markdown] == ["visits=2"]
    again = tc.streamlit(query_params={"fluxlit_sid": at.query_params["fluxlit_sid"]})
    assert [m.value for m in again.markdown] == ["visits=3"], "a new session with the id continues from the store"
    fresh = tc.streamlit()
    assert [m.value for m in fresh.markdown] == ["visits=1"]


def test_a_page_keeps_working_with_a_warning_when_redis_is_down() -> None:
    replica = load_example("no_redis")
    replica.app.session_store = RedisSessionStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout_s=0.5)
    at = FluxLitTestClient(replica.app).streamlit("/")
    assert_no_streamlit_exception(at)
    assert len(at.warning) == 1 and "Saved state is unavailable right now (Redis at redis://127.0.0.1:" in at.warning[0].value
    at.text_input(key="name").input("Cy").run()
    assert at.text_input(key="name").value == "Cy" and len(at.warning) == 0, "warned once per session"


def test_typed_hydration_validates_the_stored_state_and_falls_back_to_defaults() -> None:
    from pydantic import BaseModel

    from fluxlit import FluxLit, SessionStore
    from fluxlit.url_session import hydrate_url_session_typed

    class Order(BaseModel):
        name: str = "nobody"
        cups: int = 0

    store = InMemorySessionStore()
    app = FluxLit(session_store=store)

    @app.page("/")
    def page(st, store: SessionStore) -> None:
        order = hydrate_url_session_typed(st, store, Order)
        st.write(f"{order.name}:{order.cups}")

    store.set("a" * 43, {"name": "Ada", "cups": 2})
    store.set("b" * 43, {"name": "Bo", "cups": "many"})
    tc = FluxLitTestClient(app)
    assert [m.value for m in tc.streamlit(query_params={"fluxlit_sid": "a" * 43}).markdown] == ["Ada:2"]
    broken = tc.streamlit(query_params={"fluxlit_sid": "b" * 43})
    assert [m.value for m in broken.markdown] == ["nobody:0"]
    assert broken.warning[0].value == "The saved state of this page no longer fits it; starting from the defaults."
