"""GenericOIDCClient: one OpenID provider's discovery, PKCE authorization URL, code exchange and id-token check.

The OAuth parts are authlib's (``OAuth2Client`` builds the S256 challenge and authenticates at the token
endpoint); the id token goes through the same ``TokenVerifier`` and cached ``JWKSKeys`` as bearer tokens.
"""

import hmac
import logging
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

import authlib.deprecate  # noqa: F401  (installs authlib's own warning filter first, so the one below wins)
import httpx
from authlib.common.security import generate_token
from jwt.algorithms import get_default_algorithms

from ..settings import redact_value
from .config import HMAC_MIN_SECRET_BYTES, JWTAuthConfig
from .jwks import JWKSKeys, SigningKeysUnavailable
from .verify import InvalidToken, TokenVerifier

with warnings.catch_warnings():
    # authlib prefers the httpx2 fork over httpx and says so on import; it works with either, and FluxLit uses httpx.
    warnings.filterwarnings("ignore", "The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client, OAuthError

log = logging.getLogger("fluxlit.auth")

DISCOVERY_PATH = "/.well-known/openid-configuration"
ID_TOKEN_REQUIRED = ("sub", "iat")
"""Claims OIDC Core §2 requires on top of the ``exp``, ``iss`` and ``aud`` every verified token has."""


class OIDCError(RuntimeError):
    """Talking to the provider failed (discovery, token endpoint); the message is safe to show."""


class IdTokenInvalid(OIDCError):
    """The provider's id token was refused; ``description`` says why without quoting it."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class GenericOIDCClientConfig:
    """Who the provider is (``issuer``, discovery at ``{issuer}/.well-known/openid-configuration``) and who we are there."""

    issuer: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    http_timeout: float = 30.0
    token_endpoint_auth_method: str = "client_secret_basic"
    id_token_leeway_seconds: int = 60

    def __post_init__(self) -> None:
        if not self.issuer.startswith(("https://", "http://")):
            raise ValueError(f"OIDC issuer must be an https:// URL (http:// only for loopback tests), got {self.issuer!r}")
        if not self.client_id:
            raise ValueError("GenericOIDCClientConfig needs client_id: the id the provider gave this app")
        if self.token_endpoint_auth_method not in ("client_secret_basic", "client_secret_post", "none"):
            raise ValueError(
                f"token_endpoint_auth_method {self.token_endpoint_auth_method!r} is not supported; "
                "use client_secret_basic, client_secret_post or none (public client)"
            )
        if self.token_endpoint_auth_method != "none" and not self.client_secret:
            raise ValueError(f"{self.token_endpoint_auth_method} needs client_secret; for a public client pass token_endpoint_auth_method='none'")
        if self.http_timeout <= 0 or self.id_token_leeway_seconds < 0:
            raise ValueError("http_timeout must be more than 0 s and id_token_leeway_seconds 0 s or more")


@dataclass(frozen=True)
class AuthorizationRequest:
    """A login about to start: the provider URL to send the browser to, and the secrets to keep server-side."""

    url: str
    state: str
    nonce: str
    code_verifier: str = field(repr=False)


class GenericOIDCClient:
    """Discovery (fetched once, then cached), authorization URLs with PKCE S256, code exchange, id-token verification.

    Calls block on the network: use it from sync routes or worker threads.
    """

    def __init__(self, config: GenericOIDCClientConfig) -> None:
        self.config = config
        self.issuer = config.issuer.rstrip("/")
        self._metadata: dict[str, Any] | None = None
        self._verifier: TokenVerifier | None = None
        self._lock = threading.RLock()

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document; its ``issuer`` must be the configured one (OIDC Discovery §4.3)."""
        with self._lock:
            if self._metadata is None:
                self._metadata = self._discover()
            return self._metadata

    def authorization_request(self, redirect_uri: str, scope: str) -> AuthorizationRequest:
        """A fresh state, nonce and PKCE verifier, and the provider URL that carries state, nonce and the S256 challenge."""
        state, nonce, verifier = generate_token(43), generate_token(43), generate_token(64)
        with self._oauth(redirect_uri=redirect_uri, scope=scope) as oauth:
            url, _ = oauth.create_authorization_url(
                self._endpoint("authorization_endpoint"), state=state, code_verifier=verifier, nonce=nonce
            )
        return AuthorizationRequest(url, state, nonce, verifier)

    def exchange_code(self, code: str, *, redirect_uri: str, code_verifier: str) -> dict[str, Any]:
        """The provider's token response for ``code``; raises ``OIDCError`` when the provider refuses or cannot be reached."""
        endpoint = self._endpoint("token_endpoint")
        try:
            with self._oauth(redirect_uri=redirect_uri) as oauth:
                token = oauth.fetch_token(endpoint, grant_type="authorization_code", code=code, code_verifier=code_verifier)
        except OAuthError as exc:
            # The OAuth error code only: descriptions may echo what we sent.
            raise OIDCError(f"the provider's token endpoint refused the code: {exc.error}") from None
        except httpx.HTTPError as exc:
            raise OIDCError(f"the provider's token endpoint {redact_value('url', endpoint)} is unreachable: {type(exc).__name__}") from None
        if not token.get("id_token"):
            raise OIDCError("the provider's token response has no id_token; ask for the 'openid' scope")
        return dict(token)

    def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The id token's claims once signature (JWKS), ``iss``, ``aud`` = client id, ``exp``, ``iat``, ``sub`` and ``nonce`` check out."""
        try:
            claims = self._id_token_verifier().verify(id_token)
        except InvalidToken as exc:
            raise IdTokenInvalid(exc.description) from None
        except SigningKeysUnavailable as exc:
            raise OIDCError(str(exc)) from None
        values = claims.model_dump(exclude_none=True)
        missing = [name for name in ID_TOKEN_REQUIRED if name not in values]
        if missing:
            raise IdTokenInvalid(f"id token has no {', '.join(missing)} claim")
        audiences = [claims.aud] if isinstance(claims.aud, str) else list(claims.aud or [])
        # OIDC Core §3.1.3.7: with several audiences, the authorized party must be us.
        if len(audiences) > 1 and claims.claim("azp") != self.config.client_id:
            raise IdTokenInvalid("id token has several audiences and its azp is not this client")
        sent = claims.claim("nonce")
        if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
            raise IdTokenInvalid("id token nonce does not match this login")
        return values

    def _id_token_verifier(self) -> TokenVerifier:
        metadata = self.metadata()
        with self._lock:
            if self._verifier is None:
                offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
                known = get_default_algorithms()
                # Only public-key algorithms: a shared-secret id token would need the client secret as key.
                algorithms = tuple(alg for alg in offered if alg in known and alg != "none" and alg not in HMAC_MIN_SECRET_BYTES)
                if not algorithms:
                    raise OIDCError(f"the provider signs id tokens only with {offered}; FluxLit accepts RS/ES/PS/EdDSA algorithms")
                config = JWTAuthConfig(
                    issuer=metadata["issuer"],
                    audience=self.config.client_id,
                    algorithms=algorithms,
                    jwks_url=self._endpoint("jwks_uri"),
                    leeway_seconds=self.config.id_token_leeway_seconds,
                )
                self._verifier = TokenVerifier(config, JWKSKeys(config.jwks_url, timeout_seconds=self.config.http_timeout))
            return self._verifier

    def _oauth(self, **options: Any) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.config.client_id,
            client_secret=self.config.client_secret or None,
            token_endpoint_auth_method=self.config.token_endpoint_auth_method,
            code_challenge_method="S256",
            timeout=self.config.http_timeout,
            **options,
        )

    def _endpoint(self, name: str) -> str:
        url = self.metadata().get(name)
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise OIDCError(f"the provider's discovery document at {self.issuer}{DISCOVERY_PATH} has no valid {name}")
        return url

    def _discover(self) -> dict[str, Any]:
        url = self.issuer + DISCOVERY_PATH
        try:
            response = httpx.get(url, timeout=self.config.http_timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OIDCError(f"OIDC discovery at {url} failed ({type(exc).__name__}: {exc}); check FLUXLIT_OIDC_ISSUER") from None
        if not isinstance(document, dict):
            raise OIDCError(f"OIDC discovery at {url} did not return a JSON object")
        if document.get("issuer", "").rstrip("/") != self.issuer:
            raise OIDCError(f"the discovery document at {url} names issuer {document.get('issuer')!r}, not {self.issuer!r}")
        if "S256" not in document.get("code_challenge_methods_supported", ["S256"]):
            raise OIDCError(f"the provider at {self.issuer} does not offer PKCE S256")
        log.info("discovered OIDC provider %s", self.issuer)
        return document
