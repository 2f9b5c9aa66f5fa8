"""The OIDC BFF against a real OpenID provider on loopback: FluxLit in-process, the provider over real HTTP.

The "browser" is an ``httpx.Client`` for the provider (it keeps the provider's cookie) and the in-process
``TestClient`` for FluxLit; redirects are followed by hand so each hop can be checked.
"""

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from fluxlit.auth import (
    InMemoryOIDCBFFTokenStore,
    OIDCBFFTokenStore,
    RedisOIDCBFFTokenStore,
    TrustedProxyUser,
    TrustedProxyUserConfig,
    bearer_headers_from_session,
    exchange_auth_code_from_query,
    issue_hs256_access_token,
    resume_login_from_cookie,
)
from fluxlit.testing import FluxLitTestClient
from tests.apps.oidc_api import create_app
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, OIDCProvider
from tests.support.redis_server import redis_server

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

BFF_SECRET = "bff-secret-" * 4
ORIGIN = "http://testserver"
CALLBACK = ORIGIN + "/api/auth/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[OIDCProvider]:
    with OIDCProvider() as running:
        running.register(CALLBACK, ORIGIN + "/")
        yield running


@pytest.fixture(autouse=True)
def well_behaved(provider: OIDCProvider) -> Iterator[None]:
    yield
    provider.misbehave = None


@pytest.fixture(autouse=True)
def oidc_env(provider: OIDCProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a deployment sets: the provider and client, the BFF secret, and a bearer for the first-party tokens."""
    env = {
        "FLUXLIT_OIDC_ISSUER": provider.issuer,
        "FLUXLIT_OIDC_CLIENT_ID": CLIENT_ID,
        "FLUXLIT_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "FLUXLIT_OIDC_BFF_SECRET": BFF_SECRET,
        "FLUXLIT_PUBLIC_BASE_URL": ORIGIN,
        "FLUXLIT_JWT_ISSUER": "fluxlit-bff",
        "FLUXLIT_JWT_AUDIENCE": "fluxlit-app",
        "FLUXLIT_JWT_HS256_SECRET": BFF_SECRET,
        "FLUXLIT_ENABLE_GATEWAY_ACCESS_LOG": "1",
        "FLUXLIT_ENABLE_REQUEST_LOGGING": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[OIDCBFFTokenStore]:
    """Each flow test runs with the in-process store and with Redis."""
    if request.param == "memory":
        yield InMemoryOIDCBFFTokenStore()
        return
    redis_store = RedisOIDCBFFTokenStore(request.getfixturevalue("redis_url"), prefix=f"test:{request.node.name}:")
    yield redis_store
    redis_store.close()


@dataclass
class Login:
    """One login's hops: where FluxLit sent the browser, the provider's answer, and FluxLit's callback answer."""

    authorize_url: str
    provider_redirect: str
    callback: httpx.Response

    @property
    def auth_code(self) -> str:
        return query_of(self.callback.headers["location"])["auth_code"]


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def start_login(api: "TestClient") -> str:
    started = api.get("/api/auth/login", follow_redirects=False)
    assert started.status_code == 302, started.text
    return started.headers["location"]


def sign_in_at_provider(provider: OIDCProvider, authorize_url: str) -> str:
    """The login form, filled in as a user would; returns where the provider redirects back to."""
    with httpx.Client(timeout=10) as browser:
        form = browser.get(authorize_url)
        assert form.status_code == 200 and 'name="password"' in form.text
        signed_in = browser.post(provider.issuer + "/authorize", data={**query_of(authorize_url), "username": "alice", "password": "wonderland"})
    assert signed_in.status_code == 302, signed_in.text
    return signed_in.headers["location"]


def log_in(api: "TestClient", provider: OIDCProvider) -> Login:
    authorize_url = start_login(api)
    redirect = sign_in_at_provider(provider, authorize_url)
    return Login(authorize_url, redirect, api.get(redirect, follow_redirects=False))


def exchange(api: "TestClient", code: str) -> httpx.Response:
    return api.post("/api/auth/exchange", json={"code": code})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post"])
def test_login_gives_the_page_a_one_time_code_that_buys_a_token_for_protected_routes(
    provider: OIDCProvider, store: OIDCBFFTokenStore, auth_method: str
) -> None:
    provider.token_auth_methods.clear()
    api = FluxLitTestClient(create_app(token_store=store, client_options={"token_endpoint_auth_method": auth_method})).api

    login = log_in(api, provider)

    asked = query_of(login.authorize_url)
    assert login.authorize_url.startswith(provider.issuer + "/authorize?")
    assert asked["redirect_uri"] == CALLBACK and asked["client_id"] == CLIENT_ID and asked["response_type"] == "code"
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and "code_verifier" not in asked
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert login.provider_redirect.startswith(CALLBACK + "?")
    assert login.callback.status_code == 302, login.callback.text
    assert login.callback.headers["location"] == f"{ORIGIN}/?auth_code={login.auth_code}"
    assert login.callback.headers["cache-control"] == "no-store"
    cookie = login.callback.headers["set-cookie"]
    assert cookie.startswith("fluxlit_bff_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert provider.token_auth_methods == [auth_method]

    issued = exchange(api, login.auth_code)
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["token_type"] == "bearer" and 0 < body["expires_in"] <= 900
    me = api.get("/api/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    claims = me.json()
    assert (claims["sub"], claims["iss"], claims["aud"]) == ("alice-0001", "fluxlit-bff", "fluxlit-app")
    assert (claims["name"], claims["preferred_username"], claims["email"]) == ("Alice Liddell", "alice", "alice@example.test")
    assert api.get("/api/me").status_code == 401


def test_a_second_login_at_the_provider_needs_no_password(provider: OIDCProvider) -> None:
    api = FluxLitTestClient(create_app()).api
    with httpx.Client(timeout=10) as browser:
        first = start_login(api)
        browser.post(provider.issuer + "/authorize", data={**query_of(first), "username": "alice", "password": "wonderland"})
        again = browser.get(start_login(api))
    assert again.status_code == 302 and again.headers["location"].startswith(CALLBACK + "?")


def test_a_tampered_state_is_refused(provider: OIDCProvider, store: OIDCBFFTokenStore) -> None:
    api = FluxLitTestClient(create_app(token_store=store)).api
    redirect = sign_in_at_provider(provider, start_login(api))
    params = query_of(redirect)
    state = params["state"]
    tampered = state[:-1] + ("y" if state.endswith("x") else "x")  # one character changed, whatever it was
    refused = api.get("/api/auth/callback", params={**params, "state": tampered}, follow_redirects=False)
    assert refused.status_code == 400
    assert "unknown, expired or already used login state" in refused.json()["detail"]
    assert "set-cookie" not in refused.headers


def test_a_replayed_state_is_refused(provider: OIDCProvider, store: OIDCBFFTokenStore) -> None:
    api = FluxLitTestClient(create_app(token_store=store)).api
    login = log_in(api, provider)
    assert login.callback.status_code == 302
    replayed = api.get(login.provider_redirect, follow_redirects=False)
    assert replayed.status_code == 400
    assert "already used login state" in replayed.json()["detail"]


def test_a_callback_without_state_or_code_is_refused() -> None:
    api = FluxLitTestClient(create_app()).api
    assert api.get("/api/auth/callback", params={"code": "x"}, follow_redirects=False).status_code == 400
    denied = api.get("/api/auth/callback", params={"error": "access_denied", "state": "s"}, follow_redirects=False)
    assert denied.status_code == 400 and "access_denied" in denied.json()["detail"]


def test_a_replayed_one_time_code_is_refused(provider: OIDCProvider, store: OIDCBFFTokenStore) -> None:
    api = FluxLitTestClient(create_app(token_store=store)).api
    code = log_in(api, provider).auth_code
    assert exchange(api, code).status_code == 200
    again = exchange(api, code)
    assert again.status_code == 401
    assert again.json() == {"detail": "unknown, expired or already used one-time code; log in again"}
    assert exchange(api, "made-up").status_code == 401


def test_replicas_sharing_redis_share_logins(provider: OIDCProvider, redis_url: str) -> None:
    """The login starts on one replica, the provider returns to another, and a third exchanges the code."""
    replicas = [FluxLitTestClient(create_app(token_store=RedisOIDCBFFTokenStore(redis_url, prefix="shared:"))).api for _ in range(3)]
    redirect = sign_in_at_provider(provider, start_login(replicas[0]))
    callback = replicas[1].get(redirect, follow_redirects=False)
    assert callback.status_code == 302, callback.text
    issued = exchange(replicas[2], query_of(callback.headers["location"])["auth_code"])
    assert issued.status_code == 200
    assert replicas[0].get("/api/me", headers=bearer(issued.json()["access_token"])).json()["sub"] == "alice-0001"


@pytest.mark.parametrize(
    ("misbehaviour", "reason"),
    [("wrong_nonce", "id token nonce does not match this login"), ("wrong_audience", "token is meant for another audience")],
)
def test_an_id_token_for_another_login_or_client_is_refused(provider: OIDCProvider, misbehaviour: str, reason: str) -> None:
    api = FluxLitTestClient(create_app()).api
    provider.misbehave = misbehaviour  # type: ignore[assignment]
    login = log_in(api, provider)
    assert login.callback.status_code == 401
    assert login.callback.json()["detail"] == f"the identity provider's id token was refused: {reason}"
    assert "location" not in login.callback.headers and "set-cookie" not in login.callback.headers


def first_party(**changes: Any) -> str:
    claims = {"sub": "alice-0001", "iss": "fluxlit-bff", "aud": "fluxlit-app", "iat": int(time.time()), "exp": int(time.time()) + 60, **changes}
    return jwt.encode(claims, BFF_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: first_party(exp=int(time.time()) - 30), "token has expired"),
        (lambda: first_party(aud="another-app"), "token is meant for another audience"),
        (lambda: issue_hs256_access_token("alice-0001", "fluxlit-bff", "fluxlit-app", "another-secret-" * 3, 60), "token signature does not verify"),
    ],
    ids=["expired", "wrong audience", "other secret"],
)
def test_first_party_tokens_that_do_not_fit_are_refused(token: Any, reason: str) -> None:
    api = FluxLitTestClient(create_app()).api
    refused = api.get("/api/me", headers=bearer(token()))
    assert refused.status_code == 401
    assert refused.json() == {"detail": reason}
    assert api.get("/api/me", headers=bearer(first_party())).status_code == 200


def test_a_reloaded_page_resumes_with_the_session_cookie_until_logout(provider: OIDCProvider, store: OIDCBFFTokenStore) -> None:
    api = FluxLitTestClient(create_app(token_store=store)).api
    login = log_in(api, provider)
    session = api.cookies["fluxlit_bff_session"]

    resumed = api.post("/api/auth/resume", json={"session": session})
    assert resumed.status_code == 200
    assert api.get("/api/me", headers=bearer(resumed.json()["access_token"])).json()["name"] == "Alice Liddell"
    assert api.post("/api/auth/resume", json={"session": session + "x"}).status_code == 401

    logout = api.get("/api/auth/logout", follow_redirects=False)
    assert logout.status_code == 302
    target = logout.headers["location"]
    assert target.startswith(provider.issuer + "/end_session?")
    hint = query_of(target)
    assert hint["post_logout_redirect_uri"] == ORIGIN + "/" and hint["client_id"] == CLIENT_ID
    assert jwt.decode(hint["id_token_hint"], options={"verify_signature": False})["sub"] == "alice-0001"
    assert 'fluxlit_bff_session=""' in logout.headers["set-cookie"]
    assert api.post("/api/auth/resume", json={"session": session}).status_code == 401
    with httpx.Client(timeout=10) as browser:
        assert browser.get(target).headers["location"] == ORIGIN + "/"
    assert exchange(api, login.auth_code).status_code == 200, "a code issued before logout still works once (it expires in 120 s)"


def test_logout_without_a_session_still_ends_the_provider_session() -> None:
    api = FluxLitTestClient(create_app()).api
    logout = api.get("/api/auth/logout", follow_redirects=False)
    assert logout.status_code == 302
    assert "id_token_hint" not in query_of(logout.headers["location"])


def test_tokens_codes_and_states_stay_out_of_the_logs(
    provider: OIDCProvider, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    api = FluxLitTestClient(create_app()).api
    login = log_in(api, provider)
    token = exchange(api, login.auth_code).json()["access_token"]
    api.get("/api/me", headers=bearer(token))
    api.get(login.provider_redirect, follow_redirects=False)  # a replay, refused and logged
    session = api.cookies["fluxlit_bff_session"]
    api.post("/api/auth/resume", json={"session": session})
    api.get("/api/auth/logout", follow_redirects=False)

    provider_redirect = query_of(login.provider_redirect)
    secrets_seen = {
        "state": provider_redirect["state"],
        "provider code": provider_redirect["code"],
        "nonce": query_of(login.authorize_url)["nonce"],
        "one-time code": login.auth_code,
        "first-party token": token,
        "session cookie": session,
    }
    out, err = capfd.readouterr()
    # httpx logs every URL it requests. The test's "browser" requests run on the main thread; FluxLit's
    # handlers (and their calls to the provider) run on the gateway's threads, and those are the logs checked.
    records = [r for r in caplog.records if not (r.name.startswith(("httpx", "httpcore")) and r.threadName == "MainThread")]
    logs = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in records) + out + err
    assert '"GET /api/auth/callback?code=***&state=***" 302' in logs, "the access log ran and redacted the callback"
    assert "OIDC login completed for subject alice-0001" in caplog.text
    leaked = [name for name, value in secrets_seen.items() if value in logs]
    assert leaked == []


def test_exchange_auth_code_from_query_keeps_the_token_in_session_state_and_clears_the_url(provider: OIDCProvider) -> None:
    tc = FluxLitTestClient(create_app())
    code = log_in(tc.api, provider).auth_code
    st = SimpleNamespace(query_params={"auth_code": code, "tab": "1"}, session_state={}, errors=[])
    st.error = st.errors.append
    client = tc.page_client()

    token = exchange_auth_code_from_query(st, client)

    assert token and st.session_state["fluxlit_access_token"] == token
    assert st.query_params == {"tab": "1"}
    assert bearer_headers_from_session(st) == bearer(token)
    assert client.with_bearer(token).get("/me").json()["sub"] == "alice-0001"
    assert exchange_auth_code_from_query(st, client) == token, "no code in the URL: the session's token"

    st.query_params["auth_code"] = code
    st.session_state.clear()
    assert exchange_auth_code_from_query(st, client) is None
    assert st.errors == ["This login link has expired or was already used. Please log in again."]
    assert "auth_code" not in st.query_params


def test_resume_login_from_cookie_tries_a_refused_cookie_once(provider: OIDCProvider) -> None:
    tc = FluxLitTestClient(create_app())
    log_in(tc.api, provider)
    session = tc.api.cookies["fluxlit_bff_session"]
    client = tc.page_client()
    st = SimpleNamespace(query_params={}, session_state={}, context=SimpleNamespace(cookies={"fluxlit_bff_session": session}))

    token = resume_login_from_cookie(st, client)
    assert token and client.with_bearer(token).get("/me").status_code == 200

    st.session_state.clear()
    st.context.cookies["fluxlit_bff_session"] = "not-a-live-session"
    assert resume_login_from_cookie(st, client) is None
    assert st.session_state["_fluxlit_bff_resume_tried"] == "not-a-live-session"


def proxy_api(config: TrustedProxyUserConfig) -> FastAPI:
    api = FastAPI()
    user = TrustedProxyUser(config)

    @api.get("/whoami")
    def whoami(name: str | None = Depends(user)) -> dict[str, str | None]:
        return {"user": name}

    return api


@pytest.mark.parametrize(
    ("peer", "headers", "status", "answer"),
    [
        ("10.1.2.3", {"X-Remote-User": "alice"}, 200, {"user": "alice"}),
        ("127.0.0.1", {"X-Remote-User": "bob"}, 200, {"user": "bob"}),
        ("192.0.2.9", {"X-Remote-User": "mallory"}, 403, None),
        ("10.1.2.3", {}, 401, None),
        ("10.1.2.3", {"X-Remote-User": "  "}, 401, None),
    ],
    ids=["trusted network", "trusted address", "other peer", "no user", "blank user"],
)
def test_trusted_proxy_user_only_believes_the_trusted_peer(peer: str, headers: dict[str, str], status: int, answer: Any) -> None:
    from starlette.testclient import TestClient

    api = proxy_api(TrustedProxyUserConfig(trusted_client_hosts=("127.0.0.1", "10.1.0.0/16")))
    response = TestClient(api, client=(peer, 4711)).get("/whoami", headers=headers)
    assert response.status_code == status, response.text
    if answer is not None:
        assert response.json() == answer


def test_trusted_proxy_user_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError, match="'10.0.0.300' is not an IP address or CIDR"):
        TrustedProxyUser(TrustedProxyUserConfig(trusted_client_hosts=("10.0.0.300",)))
    with pytest.raises(ValueError, match="needs trusted_client_hosts"):
        TrustedProxyUserConfig(trusted_client_hosts=())


def test_missing_settings_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from fluxlit.settings import SettingsError

    monkeypatch.delenv("FLUXLIT_OIDC_CLIENT_SECRET")
    monkeypatch.delenv("FLUXLIT_OIDC_BFF_SECRET")
    with pytest.raises(SettingsError, match="FLUXLIT_OIDC_CLIENT_SECRET, FLUXLIT_OIDC_BFF_SECRET"):
        create_app()
