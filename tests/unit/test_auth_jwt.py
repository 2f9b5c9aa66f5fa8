"""fluxlit.auth without a network: config validation, settings, minted tokens, claims and guard names."""

import subprocess
import sys
import time

import jwt
import pytest

from fluxlit.auth import (
    InvalidToken,
    JWKSKeys,
    JWTAuthConfig,
    JWTBearer,
    RequireRoles,
    RequireScopes,
    StandardClaims,
    TokenVerifier,
    issue_hs256_access_token,
)
from fluxlit.auth.bearer import bearer_token
from fluxlit.settings import FluxlitSettings, SettingsError

SECRET = "0123456789abcdef" * 2
JWKS_URL = "https://issuer.example/.well-known/jwks.json"


def test_a_jwks_config_keeps_its_values_with_algorithms_as_a_tuple() -> None:
    config = JWTAuthConfig("https://issuer.example", "api", algorithms=["RS256", "ES256"], jwks_url=JWKS_URL, leeway_seconds=5)
    assert config.algorithms == ("RS256", "ES256") and config.leeway_seconds == 5
    assert JWTAuthConfig("iss", "api", jwks_url=JWKS_URL).algorithms == ("RS256",)
    assert JWTAuthConfig("iss", "api", algorithms="ES256", jwks_url=JWKS_URL).algorithms == ("ES256",)


def test_the_secret_never_shows_in_the_config_repr() -> None:
    assert SECRET not in repr(JWTAuthConfig("iss", "api", algorithms=("HS256",), hs256_secret=SECRET))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"issuer": ""}, "needs issuer"),
        ({"audience": ""}, "needs audience"),
        ({"jwks_url": None}, "needs a key source: jwks_url .* or hs256_secret"),
        ({"hs256_secret": SECRET}, "jwks_url or hs256_secret, not both"),
        ({"algorithms": ()}, "at least one signing algorithm"),
        ({"algorithms": ("none",)}, "'none' is never accepted"),
        ({"algorithms": ("RS256", "NONE")}, "'none' is never accepted"),
        ({"algorithms": ("RS999",)}, "unknown signing algorithm 'RS999'; PyJWT knows .*RS256"),
        ({"algorithms": ("RS256", "HS256")}, "HS256 needs hs256_secret: keys from a JWKS are public"),
        ({"jwks_url": "file:///etc/jwks.json"}, "jwks_url must be an http:// or https:// URL"),
        ({"leeway_seconds": -1}, "leeway_seconds must be 0 or more, got -1"),
        ({"jwks_url": None, "hs256_secret": SECRET}, r"hs256_secret verifies HMAC tokens only, not RS256: pass algorithms=\('HS256',\)"),
        ({"jwks_url": None, "hs256_secret": "short", "algorithms": ("HS256",)}, "hs256_secret is 5 bytes; HS256 needs at least 32 .*token_urlsafe"),
        ({"jwks_url": None, "hs256_secret": SECRET, "algorithms": ("HS512",)}, "HS512 needs at least 64"),
    ],
)
def test_configs_that_cannot_verify_safely_are_refused_with_the_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        JWTAuthConfig(**{"issuer": "iss", "audience": "api", "jwks_url": JWKS_URL, **kwargs})  # type: ignore[arg-type]


def settings(**values: object) -> FluxlitSettings:
    return FluxlitSettings(**{"jwt_issuer": "iss", "jwt_audience": "api", **values})  # type: ignore[arg-type]


def test_from_fluxlit_settings_defaults_to_hs256_when_only_a_secret_is_set() -> None:
    assert JWTBearer.from_fluxlit_settings(settings(jwt_hs256_secret=SECRET)).config.algorithms == ("HS256",)
    with pytest.raises(SettingsError, match="invalid FLUXLIT_JWT_\\* settings: hs256_secret verifies HMAC tokens only, not RS256"):
        JWTBearer.from_fluxlit_settings(settings(jwt_hs256_secret=SECRET, jwt_algorithms=["RS256"]))


def test_from_fluxlit_settings_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLUXLIT_JWT_ISSUER", "https://issuer.example")
    monkeypatch.setenv("FLUXLIT_JWT_AUDIENCE", "api")
    monkeypatch.setenv("FLUXLIT_JWT_JWKS_URL", JWKS_URL)
    monkeypatch.setenv("FLUXLIT_JWT_ALGORITHMS", "RS256,PS256")
    monkeypatch.setenv("FLUXLIT_JWT_LEEWAY_SECONDS", "30")
    bearer = JWTBearer.from_fluxlit_settings(jwks_refetch_interval_seconds=5)
    assert bearer.config == JWTAuthConfig("https://issuer.example", "api", ("RS256", "PS256"), JWKS_URL, None, 30)
    assert bearer.keys is not None and bearer.keys.refetch_interval_seconds == 5


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"jwt_issuer": "", "jwt_jwks_url": JWKS_URL}, "needs FLUXLIT_JWT_ISSUER and FLUXLIT_JWT_AUDIENCE; unset: FLUXLIT_JWT_ISSUER$"),
        ({"jwt_issuer": "", "jwt_audience": ""}, "unset: FLUXLIT_JWT_ISSUER, FLUXLIT_JWT_AUDIENCE$"),
        ({}, "needs FLUXLIT_JWT_JWKS_URL .* or FLUXLIT_JWT_HS256_SECRET .*; neither is set"),
        ({"jwt_jwks_url": JWKS_URL, "jwt_hs256_secret": SECRET}, "both are set, keep one"),
    ],
)
def test_from_fluxlit_settings_names_the_missing_variables(values: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        JWTBearer.from_fluxlit_settings(settings(**values))


def test_minted_tokens_carry_the_registered_claims_and_extras() -> None:
    before = int(time.time())
    token = issue_hs256_access_token("alice", "fluxlit-bff", "fluxlit-app", SECRET, 120, {"roles": ["admin"], "scope": "read"})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="fluxlit-app", issuer="fluxlit-bff")
    assert (claims["sub"], claims["roles"], claims["scope"]) == ("alice", ["admin"], "read")
    assert claims["exp"] - claims["iat"] == 120 and claims["iat"] >= before
    assert claims["jti"] != jwt.decode(issue_hs256_access_token("alice", "i", "a", SECRET, 1), options={"verify_signature": False})["jti"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "iss", "aud", SECRET, 60, None), "non-empty subject, issuer and audience"),
        (("alice", "iss", "aud", SECRET, 0, None), "ttl_seconds must be more than 0, got 0"),
        (("alice", "iss", "aud", "short", 60, None), "hs256_secret is 5 bytes"),
        (("alice", "iss", "aud", SECRET, 60, {"exp": 1, "sub": "bob"}), "extra_claims may not set exp, sub"),
    ],
)
def test_minting_refuses_what_would_make_a_weak_or_confusing_token(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        issue_hs256_access_token(*args)  # type: ignore[arg-type]


def test_a_secret_mode_verifier_accepts_minted_tokens_with_extra_claims_reachable() -> None:
    verifier = TokenVerifier(JWTAuthConfig("fluxlit-bff", "fluxlit-app", ("HS256",), hs256_secret=SECRET))
    claims = verifier.verify(issue_hs256_access_token("alice", "fluxlit-bff", "fluxlit-app", SECRET, 60, {"roles": "admin ops", "tier": 2}))
    assert claims.sub == "alice" and claims.aud == "fluxlit-app"
    assert claims.claim("tier") == 2 and claims.model_extra == {"roles": "admin ops", "tier": 2}
    assert claims.words("roles") == {"admin", "ops"}
    with pytest.raises(InvalidToken, match="^token is meant for another audience$"):
        verifier.verify(issue_hs256_access_token("alice", "fluxlit-bff", "other-app", SECRET, 60))


@pytest.mark.parametrize(
    ("value", "words"),
    [("a b  c", {"a", "b", "c"}), (["a", "b", 3], {"a", "b"}), (None, set()), ({"a": 1}, set()), (7, set())],
)
def test_claim_words_read_strings_and_lists(value: object, words: set[str]) -> None:
    assert StandardClaims.model_validate({"groups": value}).words("groups") == words


@pytest.mark.parametrize(
    ("authorization", "token"),
    [(None, None), ("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  abc ", "abc"), ("Basic dXNlcg==", None), ("Bearer", "")],
)
def test_bearer_credentials_come_only_from_the_bearer_scheme(authorization: str | None, token: str | None) -> None:
    assert bearer_token(authorization) == token


@pytest.mark.parametrize(("names", "message"), [((), "name at least one scope"), (("read write",), "'read write' is not a valid scope"), (('a"b',), "not a valid scope")])
def test_scope_names_must_fit_in_a_challenge(names: tuple[str, ...], message: str) -> None:
    bearer = JWTBearer(JWTAuthConfig("iss", "api", jwks_url=JWKS_URL))
    with pytest.raises(ValueError, match=message):
        RequireScopes(*names, bearer=bearer)
    with pytest.raises(ValueError, match=message.replace("scope", "role")):
        RequireRoles(*names, bearer=bearer)


def test_jwks_cache_timings_are_checked() -> None:
    with pytest.raises(ValueError, match="refetch_interval_seconds=-1"):
        JWKSKeys(JWKS_URL, refetch_interval_seconds=-1)


def test_importing_without_pyjwt_names_the_extra() -> None:
    code = "import sys; sys.modules['jwt'] = None\ntry:\n import fluxlit.auth\nexcept ImportError as exc:\n print(exc)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip() == "fluxlit.auth needs the auth extra: pip install 'fluxlit[auth]'"
