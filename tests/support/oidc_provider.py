"""A small OpenID provider for tests only, built on authlib's server grants and served by uvicorn on loopback.

It knows one confidential client and one user (alice / wonderland), and offers discovery, JWKS, a login
form, the authorization code grant with PKCE S256 (required) and OIDC id tokens with the nonce, a token
endpoint that takes client_secret_basic or client_secret_post, and end_session. ``provider.misbehave``
makes the next id tokens carry a wrong nonce or audience, for tests of what the client refuses.
"""

import html
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "fluxlit-test-client"
CLIENT_SECRET = "client-secret-" + "x" * 24
USERS = {"alice": {"password": "wonderland", "sub": "alice-0001", "name": "Alice Liddell", "email": "alice@example.test"}}
SESSION_COOKIE = "op_session"
Misbehaviour = Literal["wrong_nonce", "wrong_audience"] | None


@dataclass
class Client(ClientMixin):
    """The one registered client: confidential, code flow only, redirect URIs added by the test."""

    client_id: str
    client_secret: str
    redirect_uris: set[str] = field(default_factory=set)
    post_logout_redirect_uris: set[str] = field(default_factory=set)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return next(iter(self.redirect_uris), None)

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(word for word in (scope or "").split() if word in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class AuthorizationCode:
    """A code the provider issued, with what the token request must match."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class ProviderRequest(OAuth2Request):
    """An authlib request over what Starlette parsed (query for the authorization endpoint, form for the token endpoint)."""

    def __init__(self, method: str, uri: str, headers: Headers, params: dict[str, str]) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = BasicOAuth2Payload(params)
        self._params = params

    @property
    def args(self) -> dict[str, str]:
        return self._params

    @property
    def form(self) -> dict[str, str]:
        return self._params


class OIDCProvider:
    """``with OIDCProvider() as provider:`` serves ``provider.issuer`` on a loopback port until the block ends."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"}, private=True)
        self.client = Client(CLIENT_ID, CLIENT_SECRET)
        self.codes: dict[str, AuthorizationCode] = {}
        self.sessions: dict[str, str] = {}
        self.misbehave: Misbehaviour = None
        self.token_auth_methods: list[str] = []
        self.end_sessions: list[dict[str, str]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.issuer = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.server = self._authorization_server()
        config = uvicorn.Config(self._app(), log_level="warning", lifespan="off", access_log=False)
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._uvicorn.run, kwargs={"sockets": [self._sock]}, name="oidc-provider", daemon=True)

    def register(self, redirect_uri: str, post_logout_redirect_uri: str) -> None:
        """Allow a callback URL and a post-logout URL (known once the app's port is)."""
        self.client.redirect_uris.add(redirect_uri)
        self.client.post_logout_redirect_uris.add(post_logout_redirect_uri)

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider Metadata document."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "jwks_uri": self.issuer + "/jwks",
            "end_session_endpoint": self.issuer + "/end_session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
        }

    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):
            def query_client(self, client_id: str) -> Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
                provider.token_auth_methods.append(request.auth_method)

            def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
                return request

            def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
                if isinstance(body, dict):
                    return JSONResponse(body, status, dict(headers))
                return Response(body or b"", status, dict(headers))

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                pass

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
                data = request.payload.data
                provider.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.scope,
                    username=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
                found = provider.codes.get(code)
                return found if found is not None and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> str:
                return authorization_code.username

        class IdToken(OpenIDCode):
            def resolve_client_private_key(self, client: Client) -> RSAKey:
                return provider.key

            def get_client_algorithm(self, client: Client) -> str:
                return "RS256"

            def get_encode_header(self, client: Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_client_claims(self, client: Client) -> dict[str, Any]:
                audience = "someone-else" if provider.misbehave == "wrong_audience" else client.client_id
                return {"iss": provider.issuer, "aud": [audience], "exp": int(time.time()) + 300}

            def get_authorization_code_claims(self, authorization_code: AuthorizationCode) -> dict[str, Any]:
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.misbehave == "wrong_nonce":
                    claims["nonce"] = "a-nonce-from-another-login"
                return claims

            def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
                return any(code.nonce == nonce for code in provider.codes.values())

            def generate_user_info(self, user: str, scope: str) -> UserInfo:
                record = USERS[user]
                info = UserInfo(sub=record["sub"])
                if "profile" in scope.split():
                    info.update(name=record["name"], preferred_username=user)
                if "email" in scope.split():
                    info["email"] = record["email"]
                return info

        server = Server(scopes_supported=["openid", "profile", "email"])
        server.register_token_generator("default", BearerTokenGenerator(lambda *args, **kwargs: secrets.token_urlsafe(32)))
        server.register_grant(CodeGrant, [CodeChallenge(required=True), IdToken(require_nonce=True)])
        return server

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", lambda request: JSONResponse(self.discovery())),
                Route("/jwks", lambda request: JSONResponse({"keys": [self.key.as_dict(private=False)]})),
                Route("/authorize", self._authorize, methods=["GET", "POST"]),
                Route("/token", self._token, methods=["POST"]),
                Route("/end_session", self._end_session),
            ]
        )

    async def _authorize(self, request: Request) -> Response:
        params = dict(request.query_params)
        user = self.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        new_session = None
        if request.method == "POST":
            form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
            username, password = form.pop("username", ""), form.pop("password", "")
            params = form
            record = USERS.get(username)
            if record is None or not secrets.compare_digest(password, record["password"]):
                return self._login_form(params, error="Wrong username or password.")
            user, new_session = username, secrets.token_urlsafe(24)
        oauth = ProviderRequest(request.method, str(request.url), request.headers, params)
        try:
            grant = self.server.get_consent_grant(oauth, end_user=user)
        except OAuth2Error as error:
            return PlainTextResponse(f"authorization request refused: {error.error}: {error.description}", 400)
        if user is None:
            return self._login_form(params)
        response = self.server.create_authorization_response(oauth, grant_user=user, grant=grant)
        if new_session:
            self.sessions[new_session] = user
            response.set_cookie(SESSION_COOKIE, new_session, httponly=True, samesite="lax")
        return response

    async def _token(self, request: Request) -> Response:
        form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
        return self.server.create_token_response(ProviderRequest("POST", str(request.url), request.headers, form))

    async def _end_session(self, request: Request) -> Response:
        self.end_sessions.append(dict(request.query_params))
        self.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        target = request.query_params.get("post_logout_redirect_uri")
        response: Response = (
            RedirectResponse(target, 302)
            if target in self.client.post_logout_redirect_uris
            else HTMLResponse("<p>You are logged out of the test provider.</p>")
        )
        response.delete_cookie(SESSION_COOKIE)
        return response

    def _login_form(self, params: dict[str, str], error: str = "") -> HTMLResponse:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items())
        message = f'<p role="alert">{html.escape(error)}</p>' if error else ""
        page = (
            "<!doctype html><title>Test provider login</title><h1>Test provider login</h1>"
            f'{message}<form method="post" action="/authorize">{hidden}'
            '<label>Username <input name="username" autocomplete="username"></label>'
            '<label>Password <input name="password" type="password" autocomplete="current-password"></label>'
            '<button type="submit">Sign in</button></form>'
        )
        return HTMLResponse(page, 401 if error else 200)

    def __enter__(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise AssertionError("the test OIDC provider did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._uvicorn.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
