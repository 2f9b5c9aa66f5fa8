"""FluxLit behind an OpenID Connect login: the API runs the login (BFF), the page shows who is logged in.

Run it with the provider's details in the environment::

    FLUXLIT_OIDC_ISSUER=https://id.example.com FLUXLIT_OIDC_CLIENT_ID=... FLUXLIT_OIDC_CLIENT_SECRET=... \\
    FLUXLIT_OIDC_BFF_SECRET=$(python -c 'import secrets; print(secrets.token_urlsafe(32))') \\
    FLUXLIT_PUBLIC_BASE_URL=http://127.0.0.1:8000 fluxlit run

and register ``$FLUXLIT_PUBLIC_BASE_URL/api/auth/callback`` as the redirect URI at the provider.
"""

from typing import Annotated, Any

from fastapi import Depends

from fluxlit import FluxLit, FluxLitPublicUrls
from fluxlit.auth import (
    JWTAuthConfig,
    JWTBearer,
    OIDCBFFConfig,
    StandardClaims,
    exchange_auth_code_from_query,
    prepare_streamlit_api_client,
    register_oidc_bff_routes,
    resume_login_from_cookie,
    session_access_token,
)
from fluxlit.pages.di import get_client

app = FluxLit(title="FluxLit OIDC example")
login = OIDCBFFConfig.from_fluxlit_settings(app.settings)
register_oidc_bff_routes(app, login)
# The API accepts the first-party tokens the BFF mints: same secret, issuer and audience.
bearer = JWTBearer(JWTAuthConfig(login.token_issuer, login.token_audience, algorithms=("HS256",), hs256_secret=login.first_party_secret))


@app.api.get("/me")
def me(claims: Annotated[StandardClaims, Depends(bearer)]) -> dict[str, Any]:
    """Who the bearer token names."""
    return {"sub": claims.sub, "name": claims.claim("name") or claims.sub}


def link(st: Any, label: str, href: str) -> None:
    # target="_self": Streamlit opens plain markdown links in a new tab, and a login belongs in this one.
    st.markdown(f'<a href="{href}" target="_self">{label}</a>', unsafe_allow_html=True)


@app.page("/", title="Home", icon="🔐")
def home(st: Any, urls: FluxLitPublicUrls) -> None:
    client = get_client()
    # After the login: ?auth_code=... buys a token. After a reload: the HttpOnly login cookie buys a new one.
    exchange_auth_code_from_query(st, client)
    resume_login_from_cookie(st, client)
    if session_access_token(st) is None:
        st.title("You are not logged in")
        link(st, "Log in", urls.api_base + login.login_path)
        return
    user = prepare_streamlit_api_client(st).get("/me").json()
    st.title(f"Hello, {user['name']}")
    st.write(f"The API knows you as `{user['sub']}`.")
    link(st, "Log out", urls.api_base + login.logout_path)
