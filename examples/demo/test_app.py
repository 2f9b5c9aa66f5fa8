"""The demo's own tests: the API and every page, in-process, with fake dependencies (``pytest`` here)."""

from collections.abc import Iterator

import pytest

from app import TeamFilter, app, fetch_roster
from fluxlit.testing import FluxLitTestClient, assert_no_streamlit_exception

FAKE_ROSTER = [{"name": "Fake One", "team": "data", "score": 0.95}, {"name": "Fake Two", "team": "data", "score": 0.2}]


async def fake_roster(filters: TeamFilter) -> list[dict[str, object]]:
    """Stands in for the directory service (also used by the browser test via FLUXLIT_TEST_PAGE_OVERRIDES)."""
    return [member for member in FAKE_ROSTER if member["team"] == filters.team]


@pytest.fixture
def tc() -> Iterator[FluxLitTestClient]:
    with FluxLitTestClient(app) as client:
        yield client


def test_the_api_answers_under_its_mount_with_probes_and_request_ids(tc: FluxLitTestClient) -> None:
    response = tc.api.get("/api/hello", params={"name": "test"}, headers={"X-Request-ID": "demo-1"})
    assert response.json() == {"hello": "test"} and response.headers["x-request-id"] == "demo-1"
    assert tc.api.get("/api/healthz").json() == {"status": "ok"}


def test_home_shows_what_the_api_returned(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/")
    assert_no_streamlit_exception(at)
    assert "The API says hello to **page**." in [m.value for m in at.markdown]
    assert at.dataframe[0].value["name"].tolist() == ["alpha", "beta"]


def test_team_page_reads_the_user_the_url_and_the_faked_roster(tc: FluxLitTestClient) -> None:
    at = tc.streamlit(
        "/team",
        headers={"X-Remote-User": "alice"},
        query_params={"team": "data", "min_score": "0.5"},
        page_overrides={fetch_roster: fake_roster},
    )
    assert_no_streamlit_exception(at)
    assert at.title[0].value == "Team data"
    assert "Signed in as **alice**." in [m.value for m in at.markdown]
    assert at.dataframe[0].value["name"].tolist() == ["Fake One"]
    assert [c.value for c in at.caption] == ["Teams › data"]


def test_team_page_without_a_proxy_user_or_url_state_uses_the_defaults(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/team", page_overrides={fetch_roster: fake_roster})
    assert "Signed in as **anonymous**." in [m.value for m in at.markdown]
    assert at.title[0].value == "Team core" and at.dataframe[0].value.empty


def test_a_bad_team_in_the_url_is_reported_and_the_default_used(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/team", query_params={"team": "nope"})
    assert_no_streamlit_exception(at)
    assert "team" in at.error[0].value and at.title[0].value == "Team core"


def test_choosing_a_team_writes_it_into_the_url(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("/team", page_overrides={fetch_roster: fake_roster})
    at.selectbox[0].select("data").run()
    assert_no_streamlit_exception(at)
    assert at.query_params["team"] == "data" and at.title[0].value == "Team data"


def test_about_page(tc: FluxLitTestClient) -> None:
    at = tc.streamlit("about")
    assert "One port: FastAPI under /api, Streamlit everywhere else." in [m.value for m in at.markdown]
