"""ApiClient against a real gateway: paths relative to the mount, methods, bearer and header factory."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel, ValidationError

from fluxlit import ApiClient
from tests.conftest import Gateway, running_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def echo_gateway(recording_upstream: str) -> Iterator[Gateway]:
    with running_gateway(Path(__file__).parents[1] / "apps", "echo_api:app", env={"FLUXLIT_STREAMLIT_UPSTREAM": recording_upstream}) as gateway:
        yield gateway


@pytest.fixture
def client(echo_gateway: Gateway) -> Iterator[ApiClient]:
    with ApiClient(echo_gateway.url + "/api") as client:
        yield client


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_every_method_reaches_the_mount_relative_route(client: ApiClient, method: str) -> None:
    response = getattr(client, method)("/echo/items/7", params={"q": "x"})
    assert response.status_code == 200
    assert response.json()["method"] == method.upper() and response.json()["path"] == "/items/7"
    assert response.json()["query"] == "q=x"


def test_json_body(client: ApiClient) -> None:
    assert client.post("/echo/x", json={"a": 1}).json()["body"] == '{"a":1}'


def test_with_bearer_adds_authorization_without_changing_the_original(client: ApiClient) -> None:
    authed = client.with_bearer("t0k")
    assert authed.get("/echo/me").json()["authorization"] == "Bearer t0k"
    assert client.get("/echo/me").json()["authorization"] is None
    authed.close()


def test_auth_header_factory_runs_per_request(echo_gateway: Gateway) -> None:
    calls = iter(range(100))
    with ApiClient(echo_gateway.url + "/api", auth_header_factory=lambda: {"X-Extra": f"call-{next(calls)}"}) as client:
        assert client.get("/echo/a").json()["x-extra"] == "call-0"
        assert client.get("/echo/a").json()["x-extra"] == "call-1"


@pytest.mark.parametrize("path", ["echo/x", "//evil.example/x", "http://evil.example/x"])
def test_paths_must_be_mount_relative(client: ApiClient, path: str) -> None:
    with pytest.raises(ValueError, match="relative to the API mount"):
        client.get(path)


def test_default_base_comes_from_the_internal_api_base(monkeypatch: pytest.MonkeyPatch, echo_gateway: Gateway) -> None:
    monkeypatch.setenv("FLUXLIT_INTERNAL_API_BASE", echo_gateway.url + "/api")
    with ApiClient() as client:
        assert client.get("/echo/env").json()["path"] == "/env"


class Echo(BaseModel):
    method: str
    path: str
    body: str


class Note(BaseModel):
    text: str
    stars: int


@pytest.mark.parametrize("path", ["/api/echo/x", "/api"])
def test_a_path_that_repeats_the_mount_is_refused_with_the_path_to_use(client: ApiClient, path: str) -> None:
    suggestion = path.removeprefix("/api") or "/"
    with pytest.raises(ValueError, match=f"relative to the API mount '/api': call '{suggestion}' instead of '{path}'"):
        client.get(path)


def test_models_are_parsed_from_answers_and_sent_as_json(client: ApiClient) -> None:
    assert client.get_model("/echo/items/3", Echo) == Echo(method="GET", path="/items/3", body="")
    sent = client.post_model("/echo/notes", Note(text="hi", stars=5), Echo)
    assert sent.method == "POST" and Note.model_validate_json(sent.body) == Note(text="hi", stars=5)
    assert client.get_model("/echo/list", dict[str, object])["path"] == "/list"


def test_model_helpers_raise_on_error_statuses_and_on_bodies_that_do_not_fit(client: ApiClient) -> None:
    with pytest.raises(httpx.HTTPStatusError, match="404"):
        client.get_model("/no-such-route", Echo)
    with pytest.raises(ValidationError, match="stars"):
        client.get_model("/echo/x", Note)


def test_for_fluxlit_authenticates_against_the_internal_api_base(monkeypatch: pytest.MonkeyPatch, echo_gateway: Gateway) -> None:
    monkeypatch.setenv("FLUXLIT_INTERNAL_API_BASE", echo_gateway.url + "/api")
    with ApiClient.for_fluxlit(bearer_token="abc") as client:
        assert client.get("/echo/me").json()["authorization"] == "Bearer abc"
    with ApiClient.for_fluxlit(auth_header_factory=lambda: {"Authorization": "Token xyz"}) as client:
        assert client.get("/echo/me").json()["authorization"] == "Token xyz"
    with pytest.raises(ValueError, match="bearer_token or auth_header_factory, not both"):
        ApiClient.for_fluxlit(bearer_token="a", auth_header_factory=dict)


def test_an_app_mount_set_in_code_reaches_the_childs_client_and_its_bearer_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    from fluxlit import FluxlitSettings
    from fluxlit.runtime.sidecar import StreamlitSidecar
    from fluxlit.runtime.target import Target

    settings = FluxlitSettings(api_mount_path="/v1", gateway_port=8123)
    child_env = StreamlitSidecar.for_app(Target("app", "app", "/srv"), settings).environment()
    assert (child_env["FLUXLIT_API_MOUNT_PATH"], child_env["FLUXLIT_INTERNAL_API_BASE"]) == ("/v1", "http://127.0.0.1:8123/v1")
    for name in ("FLUXLIT_API_MOUNT_PATH", "FLUXLIT_INTERNAL_API_BASE"):
        monkeypatch.setenv(name, child_env[name])
    with ApiClient() as client:
        for checked in (client, client.with_bearer("t")):
            assert checked.mount == "/v1"
            with pytest.raises(ValueError, match="call '/x' instead of '/v1/x'"):
                checked.get("/v1/x")
