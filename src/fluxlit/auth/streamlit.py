"""Page side of the OIDC BFF: turn ``?auth_code=`` into a first-party token kept in ``st.session_state``.

Session State lives as long as the browser tab's Streamlit session; a reload starts a new one. Then
``resume_login_from_cookie`` asks the API for a new token with the HttpOnly session cookie the login
set, so the user stays logged in without a token ever appearing in a URL or in the browser's JavaScript.
"""

import time
from typing import Any

import httpx

from ..client import ApiClient
from ..pages.di import get_client
from .bff import AUTH_CODE_QUERY_KEY

SESSION_KEY = "fluxlit_access_token"
EXPIRES_SUFFIX = "_expires_at"
RESUME_TRIED_KEY = "_fluxlit_bff_resume_tried"
# A token this close to its expiry is treated as gone, so a page never starts a call with it.
EXPIRY_MARGIN_SECONDS = 10


def session_access_token(st: Any, session_key: str = SESSION_KEY) -> str | None:
    """The first-party token in Session State, or ``None`` when there is none or it is (about to be) expired."""
    token = st.session_state.get(session_key)
    expires_at = st.session_state.get(session_key + EXPIRES_SUFFIX, 0)
    return token if token and expires_at - EXPIRY_MARGIN_SECONDS > time.time() else None


def exchange_auth_code_from_query(
    st: Any,
    client: ApiClient,
    exchange_path: str = "/auth/exchange",
    query_key: str = AUTH_CODE_QUERY_KEY,
    session_key: str = SESSION_KEY,
) -> str | None:
    """Trade the URL's one-time code for a token (kept in ``st.session_state[session_key]``) and drop the code from the URL.

    Returns the session's token: the new one, the one it already had, or ``None``. A refused code shows
    ``st.error`` once; the code is removed from the URL either way, since it can never work twice.
    """
    code = st.query_params.get(query_key)
    if not code:
        return session_access_token(st, session_key)
    del st.query_params[query_key]
    token = _fetch_token(st, client, exchange_path, {"code": code}, session_key)
    if token is None:
        st.error("This login link has expired or was already used. Please log in again.")
    return token


def resume_login_from_cookie(
    st: Any,
    client: ApiClient,
    resume_path: str = "/auth/resume",
    cookie_name: str = "fluxlit_bff_session",
    session_key: str = SESSION_KEY,
) -> str | None:
    """The session's token, else a new one for the browser's login-session cookie (after a reload), else ``None``.

    A cookie the API refused (logged out, expired) is not tried again in this Streamlit session.
    """
    token = session_access_token(st, session_key)
    if token is not None:
        return token
    session = _cookies(st).get(cookie_name)
    if not session or st.session_state.get(RESUME_TRIED_KEY) == session:
        return None
    token = _fetch_token(st, client, resume_path, {"session": session}, session_key)
    if token is None:
        st.session_state[RESUME_TRIED_KEY] = session
    return token


def bearer_headers_from_session(st: Any, session_key: str = SESSION_KEY) -> dict[str, str]:
    """``{"Authorization": "Bearer <token>"}`` for the session's token, or ``{}``."""
    token = session_access_token(st, session_key)
    return {"Authorization": f"Bearer {token}"} if token else {}


def prepare_streamlit_api_client(st: Any, session_key: str = SESSION_KEY) -> ApiClient:
    """The page's ``ApiClient``, sending the session's token when there is one."""
    client = get_client()
    token = session_access_token(st, session_key)
    return client.with_bearer(token) if token else client


def forget_login(st: Any, session_key: str = SESSION_KEY) -> None:
    """Drop the token from Session State (the page's half of a logout; the API's logout route does the rest)."""
    for key in (session_key, session_key + EXPIRES_SUFFIX):
        st.session_state.pop(key, None)


def _fetch_token(st: Any, client: ApiClient, path: str, body: dict[str, str], session_key: str) -> str | None:
    try:
        response = client.post(path, json=body)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    answer = response.json()
    st.session_state[session_key] = answer["access_token"]
    st.session_state[session_key + EXPIRES_SUFFIX] = time.time() + int(answer["expires_in"])
    return answer["access_token"]


def _cookies(st: Any) -> dict[str, str]:
    try:
        return dict(st.context.cookies or {})
    except Exception:  # no script run context (bare mode): there is no browser request
        return {}
