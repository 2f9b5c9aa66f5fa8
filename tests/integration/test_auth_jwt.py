"""JWT bearer auth against a real JWKS endpoint on loopback, through the whole gateway in-process."""

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.utils import base64url_encode

from fluxlit.auth import JWTAuthConfig, JWTBearer, issue_hs256_access_token
from fluxlit.testing import FluxLitTestClient
from tests.apps.auth_api import create_app
from tests.support.jwks_server import JWKSServer, SigningKey, claims_for
from tests.support.processes import free_port

if TYPE_CHECKING:
    from starlette.testclient import TestClient

pytestmark = pytest.mark.integration

ISSUER = "https://issuer.example"
AUDIENCE = "fluxlit-api"
SECRET = "s3cret-" * 8


@pytest.fixture(scope="module")
def signing_keys() -> dict[str, SigningKey]:
    """RSA keys made once per module: the published one, the next one a rotation adds, and a stranger's."""
    return {"current": SigningKey(), "next": SigningKey(), "stranger": SigningKey()}


@pytest.fixture
def jwks(signing_keys: dict[str, SigningKey]) -> Iterator[JWKSServer]:
    with JWKSServer() as server:
        server.publish(signing_keys["current"])
        yield server


def api_for(bearer: JWTBearer | None = None) -> "TestClient":
    """The protected app behind the whole gateway, in-process."""
    return FluxLitTestClient(create_app(bearer)).api


def jwks_bearer(jwks: JWKSServer, **options: Any) -> JWTBearer:
    leeway = options.pop("leeway_seconds", 0)
    return JWTBearer(JWTAuthConfig(ISSUER, AUDIENCE, jwks_url=jwks.url, leeway_seconds=leeway), **options)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def invalid_token_challenge(description: str) -> str:
    return f'Bearer realm="fluxlit", error="invalid_token", error_description="{description}"'


def forged_hs256(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token whose HMAC key is ``secret``: how an attacker would abuse a public key as a shared secret."""
    header = base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = base64url_encode(json.dumps(claims).encode())
    signature = hmac.new(secret, header + b"." + payload, hashlib.sha256).digest()
    return (header + b"." + payload + b"." + base64url_encode(signature)).decode()


def public_pem(key: SigningKey) -> bytes:
    return key.private_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


REFUSED: dict[str, tuple[Callable[[dict[str, SigningKey]], str], str]] = {
    "expired": (lambda k: k["current"].sign(claims_for(ISSUER, AUDIENCE, ttl_seconds=-30)), "token has expired"),
    "wrong audience": (lambda k: k["current"].sign(claims_for(ISSUER, "another-api")), "token is meant for another audience"),
    "wrong issuer": (lambda k: k["current"].sign(claims_for("https://evil.example", AUDIENCE)), "token is from another issuer"),
    "signed by another key": (
        lambda k: k["stranger"].sign(claims_for(ISSUER, AUDIENCE), kid=k["current"].kid),
        "token signature does not verify",
    ),
    "without exp": (lambda k: k["current"].sign({"sub": "u", "iss": ISSUER, "aud": AUDIENCE}), "token has no exp claim"),
    "malformed": (lambda k: "not-a-jwt", "token is not a well-formed JWT"),
    "three garbage segments": (lambda k: "abc.def.ghi", "token is not a well-formed JWT"),
    "header without alg": (lambda k: "e30.e30.e30", "token is signed with an algorithm this API does not accept"),
    "alg none": (
        lambda k: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + base64url_encode(json.dumps(claims_for(ISSUER, AUDIENCE)).encode()).decode() + ".",
        "token is signed with an algorithm this API does not accept",
    ),
    "HS256 keyed with the public key": (
        lambda k: forged_hs256(claims_for(ISSUER, AUDIENCE), public_pem(k["current"]), k["current"].kid),
        "token is signed with an algorithm this API does not accept",
    ),
    "wrong claim types": (
        lambda k: k["current"].sign(claims_for(ISSUER, AUDIENCE, scope=42)),
        "token claims have the wrong types (sub, iss, jti and scope are strings, times are numbers)",
    ),
}


def test_a_valid_token_gives_the_route_its_claims_extra_claims_included(jwks: JWKSServer, signing_keys: dict[str, SigningKey]) -> None:
    api = api_for(jwks_bearer(jwks))
    token = signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE, jti="j-1", team="blue"))
    answer = api.get("/api/me", headers=auth(token))
    assert answer.status_code == 200
    claims = answer.json()
    assert (claims["sub"], claims["iss"], claims["aud"], claims["jti"], claims["team"]) == ("user-1", ISSUER, AUDIENCE, "j-1", "blue")
    assert api.get("/api/public").json() == {"public": True}


@pytest.mark.parametrize("authorization", [None, "Basic dXNlcjpwdw==", "Bearer", "Bearer   "])
def test_no_bearer_token_gets_401_with_a_bare_challenge(jwks: JWKSServer, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    answer = api_for(jwks_bearer(jwks)).get("/api/me", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="fluxlit"'
    assert jwks.fetches == 0, "no token, no reason to fetch keys"


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_tokens_get_401_invalid_token_and_never_reach_logs_or_answers(
    jwks: JWKSServer, signing_keys: dict[str, SigningKey], case: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLUXLIT_ENABLE_GATEWAY_ACCESS_LOG", "1")
    monkeypatch.setenv("FLUXLIT_ENABLE_REQUEST_LOGGING", "1")
    caplog.set_level(logging.DEBUG, logger="fluxlit")
    make_token, description = REFUSED[case]
    token = make_token(signing_keys)
    answer = api_for(jwks_bearer(jwks)).get("/api/me", headers=auth(token))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == invalid_token_challenge(description)
    assert answer.json()["detail"] == description
    assert "bearer token refused" in caplog.text, "the refusal is logged, with its reason"
    for text in (caplog.text, answer.text, str(answer.headers)):
        assert token not in text


def test_leeway_accepts_a_token_that_expired_moments_ago(jwks: JWKSServer, signing_keys: dict[str, SigningKey]) -> None:
    token = signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE, ttl_seconds=-10))
    assert api_for(jwks_bearer(jwks, leeway_seconds=60)).get("/api/me", headers=auth(token)).status_code == 200
    assert api_for(jwks_bearer(jwks)).get("/api/me", headers=auth(token)).status_code == 401


def test_keys_are_fetched_once_then_a_rotated_kid_triggers_exactly_one_refetch(
    jwks: JWKSServer, signing_keys: dict[str, SigningKey]
) -> None:
    api = api_for(jwks_bearer(jwks))
    assert jwks.fetches == 0, "keys are fetched lazily"
    for _ in range(3):
        assert api.get("/api/me", headers=auth(signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE)))).status_code == 200
    assert jwks.fetches == 1
    jwks.publish(signing_keys["next"])
    rotated = signing_keys["next"].sign(claims_for(ISSUER, AUDIENCE))
    assert api.get("/api/me", headers=auth(rotated)).status_code == 200
    assert api.get("/api/me", headers=auth(rotated)).status_code == 200
    assert jwks.fetches == 2


def test_a_flood_of_unknown_kids_causes_one_refetch_per_interval(jwks: JWKSServer, signing_keys: dict[str, SigningKey]) -> None:
    bearer = jwks_bearer(jwks)
    app = create_app(bearer)
    assert api_for(bearer).get("/api/me", headers=auth(signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE)))).status_code == 200

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            tokens = [signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE), kid=uuid.uuid4().hex) for _ in range(40)]
            return await asyncio.gather(*(client.get("/api/me", headers=auth(token)) for token in tokens))

    # A thread of its own: in the full suite the Playwright fixture owns this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        answers = pool.submit(asyncio.run, flood()).result()
    assert {answer.status_code for answer in answers} == {401}
    assert {answer.json()["detail"] for answer in answers} == {"token is signed with a key the issuer does not publish"}
    assert jwks.fetches == 2, "one refetch for the whole flood"
    jwks.publish(signing_keys["next"])
    rotated = auth(signing_keys["next"].sign(claims_for(ISSUER, AUDIENCE)))
    assert api_for(bearer).get("/api/me", headers=rotated).status_code == 401, "within the interval even a real new key waits"
    assert jwks.fetches == 2
    assert api_for(jwks_bearer(jwks, jwks_refetch_interval_seconds=0)).get("/api/me", headers=rotated).status_code == 200


def test_scopes_and_roles_guard_routes_with_403(jwks: JWKSServer, signing_keys: dict[str, SigningKey]) -> None:
    api = api_for(jwks_bearer(jwks))
    sign = signing_keys["current"].sign
    for scope in ("openid reports:read", ["reports:read", "x"]):
        answer = api.get("/api/reports", headers=auth(sign(claims_for(ISSUER, AUDIENCE, scope=scope))))
        assert answer.status_code == 200 and answer.json() == {"reports_for": "user-1"}
    refused = api.get("/api/reports", headers=auth(sign(claims_for(ISSUER, AUDIENCE, scope="openid"))))
    assert refused.status_code == 403
    assert refused.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="reports:read"'
    assert refused.json()["detail"] == "token lacks scope(s): reports:read"
    assert api.get("/api/reports").status_code == 401, "a guard still asks for a token first"

    admin = api.get("/api/admin", headers=auth(sign(claims_for(ISSUER, AUDIENCE, roles=["admin", "user"]))))
    assert admin.status_code == 200 and admin.json() == {"admin": "user-1", "verified_once": True}
    user = api.get("/api/admin", headers=auth(sign(claims_for(ISSUER, AUDIENCE, roles="user"))))
    assert user.status_code == 403 and user.json()["detail"] == "token lacks role(s): admin"
    assert user.headers["www-authenticate"] == 'Bearer error="insufficient_scope", error_description="requires role(s): admin"'


def test_secret_mode_from_settings_accepts_minted_tokens_only(monkeypatch: pytest.MonkeyPatch, signing_keys: dict[str, SigningKey]) -> None:
    monkeypatch.setenv("FLUXLIT_JWT_ISSUER", "fluxlit-bff")
    monkeypatch.setenv("FLUXLIT_JWT_AUDIENCE", "fluxlit-app")
    monkeypatch.setenv("FLUXLIT_JWT_HS256_SECRET", SECRET)
    api = api_for()
    minted = issue_hs256_access_token("alice", "fluxlit-bff", "fluxlit-app", SECRET, 60, {"roles": ["admin"]})
    assert api.get("/api/me", headers=auth(minted)).json()["sub"] == "alice"
    assert api.get("/api/admin", headers=auth(minted)).status_code == 200
    other_secret = issue_hs256_access_token("alice", "fluxlit-bff", "fluxlit-app", SECRET.upper(), 60)
    assert api.get("/api/me", headers=auth(other_secret)).json()["detail"] == "token signature does not verify"
    rs256 = signing_keys["current"].sign(claims_for("fluxlit-bff", "fluxlit-app"))
    assert api.get("/api/me", headers=auth(rs256)).json()["detail"] == "token is signed with an algorithm this API does not accept"


def test_jwks_mode_from_settings(monkeypatch: pytest.MonkeyPatch, jwks: JWKSServer, signing_keys: dict[str, SigningKey]) -> None:
    monkeypatch.setenv("FLUXLIT_JWT_ISSUER", ISSUER)
    monkeypatch.setenv("FLUXLIT_JWT_AUDIENCE", AUDIENCE)
    monkeypatch.setenv("FLUXLIT_JWT_JWKS_URL", jwks.url)
    token = signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE))
    assert api_for().get("/api/me", headers=auth(token)).status_code == 200


def test_an_unreachable_jwks_gets_503_and_is_not_retried_at_once(
    signing_keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fluxlit")
    url = f"http://127.0.0.1:{free_port()}/jwks.json"
    api = api_for(JWTBearer(JWTAuthConfig(ISSUER, AUDIENCE, jwks_url=url)))
    token = signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE))
    for _ in range(3):
        answer = api.get("/api/me", headers=auth(token))
        assert answer.status_code == 503 and answer.headers["retry-after"] == "30"
    assert caplog.text.count("could not fetch signing keys") == 1
    assert token not in caplog.text


def test_known_keys_keep_serving_when_a_refresh_fails(signing_keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture) -> None:
    token = auth(signing_keys["current"].sign(claims_for(ISSUER, AUDIENCE)))
    with JWKSServer() as server:
        server.publish(signing_keys["current"])
        api = api_for(jwks_bearer(server, jwks_max_age_seconds=1e-6))
        assert api.get("/api/me", headers=token).status_code == 200
    assert api.get("/api/me", headers=token).status_code == 200
    assert "could not fetch signing keys" in caplog.text and "keeping 1 known key(s)" in caplog.text
