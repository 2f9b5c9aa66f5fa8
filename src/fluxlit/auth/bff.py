"""The OIDC backend-for-frontend: the API logs users in at the provider and hands pages first-party tokens.

Provider tokens, the PKCE verifier and the nonce never leave the server. The browser only ever carries
the login ``state`` (to the provider and back), a one-time code in the page URL (``?auth_code=``, good
once for ``otc_ttl_seconds``), and an HttpOnly session cookie that lets a page that was reloaded get a
fresh first-party token without logging in again.
"""

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Body, Cookie, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..settings import FluxlitSettings, SettingsError, load_settings
from ..urls import FluxLitPublicUrls
from .config import check_secret
from .oidc_client import (
    GenericOIDCClient,
    GenericOIDCClientConfig,
    IdTokenInvalid,
    OIDCError,
)
from .token_store import (
    InMemoryOIDCBFFTokenStore,
    OIDCBFFTokenStore,
    TokenStoreUnavailable,
)
from .tokens import issue_hs256_access_token

log = logging.getLogger("fluxlit.auth")

AUTH_CODE_QUERY_KEY = "auth_code"
USER_CLAIMS = ("name", "preferred_username", "email")
"""Id-token claims copied into the first-party token, so the API can greet the user without another lookup."""
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# 43 characters of token_urlsafe(32); anything far longer is not one of ours and is refused before a store lookup.
MAX_HANDLE_LENGTH = 128


@dataclass(frozen=True)
class OIDCBFFConfig:
    """The BFF's provider, its first-party tokens, its routes (relative to the API mount) and its lifetimes."""

    oidc: GenericOIDCClientConfig
    first_party_secret: str = field(repr=False)
    token_issuer: str = "fluxlit-bff"
    token_audience: str = "fluxlit-app"
    access_token_ttl_seconds: int = 900
    scope: str = "openid profile email"
    login_path: str = "/auth/login"
    callback_path: str = "/auth/callback"
    logout_path: str = "/auth/logout"
    exchange_path: str = "/auth/exchange"
    resume_path: str = "/auth/resume"
    streamlit_redirect_path: str = "/"
    state_ttl_seconds: int = 600
    otc_ttl_seconds: int = 120
    session_ttl_seconds: int = 8 * 3600
    session_cookie_name: str = "fluxlit_bff_session"
    public_base_url: str | None = None
    token_store: OIDCBFFTokenStore | None = None

    def __post_init__(self) -> None:
        check_secret(self.first_party_secret, ("HS256",))
        if "openid" not in self.scope.split():
            raise ValueError(f"scope must include 'openid' to get an id token, got {self.scope!r}")
        for name in ("login_path", "callback_path", "logout_path", "exchange_path", "resume_path", "streamlit_redirect_path"):
            value = getattr(self, name)
            if not value.startswith("/") or value.startswith("//"):
                raise ValueError(f"{name} must be a path starting with one '/', got {value!r}")
        for name in ("access_token_ttl_seconds", "state_ttl_seconds", "otc_ttl_seconds", "session_ttl_seconds"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be 1 or more, got {getattr(self, name)}")

    @classmethod
    def from_fluxlit_settings(
        cls, settings: FluxlitSettings | None = None, *, client_options: dict[str, Any] | None = None, **options: Any
    ) -> "OIDCBFFConfig":
        """The config ``FLUXLIT_OIDC_*`` describe; ``options`` set the other fields (``token_store=``, paths, TTLs),
        ``client_options`` the other ``GenericOIDCClientConfig`` fields (``token_endpoint_auth_method=``...)."""
        settings = settings or load_settings()
        names = ("oidc_issuer", "oidc_client_id", "oidc_client_secret", "oidc_bff_secret")
        unset = ["FLUXLIT_" + name.upper() for name in names if not getattr(settings, name)]
        if unset:
            raise SettingsError(f"the OIDC login needs {', '.join(unset)} set")
        try:
            client = GenericOIDCClientConfig(settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, **(client_options or {}))
            options.setdefault("scope", settings.oidc_scopes)
            options.setdefault("public_base_url", settings.public_base_url or None)
            return cls(client, settings.oidc_bff_secret, **options)
        except ValueError as exc:
            raise SettingsError(f"invalid FLUXLIT_OIDC_* settings: {exc}") from None


class ExchangeRequest(BaseModel):
    """The one-time code from the page URL."""

    code: str = Field(min_length=1, max_length=MAX_HANDLE_LENGTH)


class ResumeRequest(BaseModel):
    """The session cookie's value, as the page read it from its request."""

    session: str = Field(min_length=1, max_length=MAX_HANDLE_LENGTH)


class FirstPartyToken(BaseModel):
    """A first-party access token for the app's own API."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class OIDCBFF:
    """The routes' logic, reachable from tests and apps: ``register_oidc_bff_routes`` returns one."""

    def __init__(self, config: OIDCBFFConfig, settings: FluxlitSettings) -> None:
        self.config = config
        self.settings = settings
        self.client = GenericOIDCClient(config.oidc)
        self.store: OIDCBFFTokenStore = config.token_store if config.token_store is not None else InMemoryOIDCBFFTokenStore()
        if config.public_base_url:
            self.settings = settings.model_validate({**settings.model_dump(), "public_base_url": config.public_base_url})

    def urls(self, request: Request) -> FluxLitPublicUrls:
        """Public URLs: ``FLUXLIT_PUBLIC_BASE_URL`` (plus root path and API mount), else the request's origin."""
        return FluxLitPublicUrls.for_request(request, self.settings)

    def callback_url(self, request: Request) -> str:
        """The redirect URI to register at the provider."""
        return self.urls(request).api_base + self.config.callback_path

    def login(self, request: Request) -> RedirectResponse:
        """Remember state, nonce and PKCE verifier under the state, and send the browser to the provider."""
        redirect_uri = self.callback_url(request)
        auth = self._provider_call(self.client.authorization_request, redirect_uri, self.config.scope)
        entry = {"nonce": auth.nonce, "code_verifier": auth.code_verifier, "redirect_uri": redirect_uri}
        self._store_call(self.store.put, "state:" + auth.state, entry, ttl_seconds=self.config.state_ttl_seconds)
        return RedirectResponse(auth.url, status_code=302, headers=NO_STORE)

    def callback(self, request: Request) -> RedirectResponse:
        """Check the state once, redeem the code, verify the id token, then send the page a one-time code."""
        params = request.query_params
        if params.get("error"):
            raise HTTPException(400, f"the identity provider did not log you in ({params['error']}); start again at {self._login_url(request)}")
        state, code = params.get("state", ""), params.get("code", "")
        if not state or not code:
            raise HTTPException(400, f"the login callback needs state and code from the identity provider; start again at {self._login_url(request)}")
        pending = self._store_call(self.store.take, "state:" + state) if len(state) <= MAX_HANDLE_LENGTH else None
        if pending is None:
            raise HTTPException(400, f"unknown, expired or already used login state; start again at {self._login_url(request)}")
        tokens = self._provider_call(self.client.exchange_code, code, redirect_uri=pending["redirect_uri"], code_verifier=pending["code_verifier"])
        try:
            claims = self.client.verify_id_token(tokens["id_token"], nonce=pending["nonce"])
        except IdTokenInvalid as exc:
            log.warning("OIDC login refused: %s", exc.description)
            raise HTTPException(401, f"the identity provider's id token was refused: {exc.description}") from None
        except OIDCError as exc:
            raise HTTPException(502, str(exc)) from None
        session = secrets.token_urlsafe(32)
        user = {name: claims[name] for name in USER_CLAIMS if isinstance(claims.get(name), str)}
        stored = {"sub": claims["sub"], "user": user, "id_token": tokens["id_token"], "provider_tokens": _provider_tokens(tokens)}
        self._store_call(self.store.put, "session:" + _digest(session), stored, ttl_seconds=self.config.session_ttl_seconds)
        one_time = secrets.token_urlsafe(32)
        self._store_call(self.store.put, "code:" + one_time, self._mint(stored, session), ttl_seconds=self.config.otc_ttl_seconds)
        log.info("OIDC login completed for subject %s", claims["sub"])
        urls = self.urls(request)
        response = RedirectResponse(urls.page_url(self.config.streamlit_redirect_path, {AUTH_CODE_QUERY_KEY: one_time}), 302, headers=NO_STORE)
        response.set_cookie(
            self.config.session_cookie_name,
            session,
            max_age=self.config.session_ttl_seconds,
            path=_cookie_path(urls),
            secure=urls.app_base.startswith("https://"),
            httponly=True,
            samesite="lax",
        )
        return response

    def exchange(self, code: str) -> JSONResponse:
        """Trade a one-time code for its first-party token; a second try with the same code gets 401."""
        minted = self._store_call(self.store.take, "code:" + code)
        if minted is None:
            raise HTTPException(401, "unknown, expired or already used one-time code; log in again")
        return self._token_response(minted)

    def resume(self, session: str) -> JSONResponse:
        """A fresh first-party token for a live session (a page reloaded in the same browser); 401 after logout or expiry."""
        stored = self._store_call(self.store.get, "session:" + _digest(session))
        if stored is None:
            raise HTTPException(401, "no live login session for this browser; log in again")
        return self._token_response(self._mint(stored, session))

    def logout(self, request: Request, session: str | None) -> RedirectResponse:
        """Drop the stored tokens of the browser's session and its cookie, then end the provider session if it offers that."""
        urls = self.urls(request)
        home = urls.page_url(self.config.streamlit_redirect_path)
        stored = self._store_call(self.store.take, "session:" + _digest(session)) if session else None
        target = home
        try:
            end_session = self.client.metadata().get("end_session_endpoint")
        except OIDCError as exc:
            # Logging out here must work while the provider is down; its session then ends on its own.
            log.warning("OIDC logout without the provider: %s", exc)
            end_session = None
        if isinstance(end_session, str) and end_session.startswith(("https://", "http://")):
            query = {"client_id": self.config.oidc.client_id, "post_logout_redirect_uri": home}
            if stored is not None:
                query["id_token_hint"] = stored["id_token"]
            target = end_session + ("&" if "?" in end_session else "?") + urlencode(query)
        if stored is not None:
            log.info("OIDC logout for subject %s", stored["sub"])
        response = RedirectResponse(target, 302, headers=NO_STORE)
        response.delete_cookie(self.config.session_cookie_name, path=_cookie_path(urls), httponly=True, samesite="lax")
        return response

    def _mint(self, stored: dict[str, Any], session: str) -> dict[str, Any]:
        ttl = self.config.access_token_ttl_seconds
        token = issue_hs256_access_token(
            stored["sub"],
            self.config.token_issuer,
            self.config.token_audience,
            self.config.first_party_secret,
            ttl,
            extra_claims={**stored["user"], "sid": _digest(session)},
        )
        return {"access_token": token, "expires_at": int(time.time()) + ttl}

    def _token_response(self, minted: dict[str, Any]) -> JSONResponse:
        body = FirstPartyToken(access_token=minted["access_token"], expires_in=max(0, minted["expires_at"] - int(time.time())))
        return JSONResponse(body.model_dump(), headers=NO_STORE)

    def _login_url(self, request: Request) -> str:
        return self.urls(request).api_base + self.config.login_path

    def _store_call(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except TokenStoreUnavailable as exc:
            log.warning("OIDC token store unavailable: %s", exc)
            raise HTTPException(503, "the login store is unavailable; try again shortly", {"Retry-After": "5"}) from None

    def _provider_call(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except OIDCError as exc:
            log.warning("OIDC provider call failed: %s", exc)
            raise HTTPException(502, str(exc)) from None


def register_oidc_bff_routes(app: Any, config: OIDCBFFConfig, *, settings: FluxlitSettings | None = None) -> OIDCBFF:
    """Add login, callback, exchange, resume and logout routes to the API of ``app`` (a ``FluxLit`` or a ``FastAPI``)."""
    api: FastAPI = getattr(app, "api", app)
    bff = OIDCBFF(config, settings or getattr(app, "settings", None) or load_settings())
    router = APIRouter(tags=["auth"])
    cookie = Annotated[str | None, Cookie(alias=config.session_cookie_name)]

    # Sync handlers: provider calls and store calls block, so FastAPI runs them in its thread pool.
    @router.get(config.login_path, status_code=302, summary="Start an OIDC login at the identity provider")
    def login(request: Request) -> RedirectResponse:
        return bff.login(request)

    @router.get(config.callback_path, status_code=302, summary="The identity provider's redirect back after login")
    def callback(request: Request) -> RedirectResponse:
        return bff.callback(request)

    @router.post(config.exchange_path, response_model=FirstPartyToken, summary="Trade a one-time code for a first-party token")
    def exchange(body: Annotated[ExchangeRequest, Body()]) -> JSONResponse:
        return bff.exchange(body.code)

    @router.post(config.resume_path, response_model=FirstPartyToken, summary="A fresh first-party token for a live login session")
    def resume(body: Annotated[ResumeRequest, Body()]) -> JSONResponse:
        return bff.resume(body.session)

    @router.api_route(config.logout_path, methods=["GET", "POST"], status_code=302, summary="Log out here and at the identity provider")
    def logout(request: Request, session: cookie = None) -> RedirectResponse:
        return bff.logout(request, session)

    api.include_router(router)
    return bff


def _digest(handle: str) -> str:
    """Session handles are stored hashed: a store dump (or a token's ``sid``) does not hand out live cookies."""
    return hashlib.sha256(handle.encode()).hexdigest()


def _cookie_path(urls: FluxLitPublicUrls) -> str:
    return urlsplit(urls.app_base).path or "/"


def _provider_tokens(tokens: dict[str, Any]) -> dict[str, Any]:
    return {name: tokens[name] for name in ("access_token", "refresh_token", "expires_at", "scope", "token_type") if name in tokens}
