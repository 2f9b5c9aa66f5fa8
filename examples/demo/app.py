"""FluxLit demo: API routes and pages that call them, served on one port."""

import asyncio
from typing import Annotated, Literal

from pydantic import BaseModel

from fluxlit import ApiClient, Depends, FluxLit, Header, PageMeta, Query, write_query_params

app = FluxLit(title="FluxLit demo")

TEAMS = ("core", "data", "design")
ROSTER = [
    {"name": "Ada", "team": "core", "score": 0.9},
    {"name": "Brian", "team": "core", "score": 0.4},
    {"name": "Chen", "team": "data", "score": 0.8},
    {"name": "Dana", "team": "data", "score": 0.6},
    {"name": "Eli", "team": "design", "score": 0.7},
]


class Greeting(BaseModel):
    hello: str


class TeamFilter(BaseModel):
    """The team page's state, kept in its URL: ``/team?team=data&min_score=0.5``."""

    team: Literal["core", "data", "design"] = "core"
    min_score: float = 0.0


@app.api.get("/hello")
def hello(name: str = "world") -> Greeting:
    """Greets ``name``."""
    return Greeting(hello=name)


@app.api.get("/items")
def items() -> list[dict[str, object]]:
    """A small data set for the page."""
    return [{"id": 1, "name": "alpha", "score": 0.9}, {"id": 2, "name": "beta", "score": 0.7}]


def current_user(user: Annotated[str | None, Header("x-remote-user")] = None) -> str:
    """Who the authenticating proxy in front says is signed in."""
    return user or "anonymous"


async def fetch_roster(filters: TeamFilter = Query()) -> list[dict[str, object]]:
    """The team's members from the directory service (here a pause stands for the network call)."""
    await asyncio.sleep(0.01)
    return [member for member in ROSTER if member["team"] == filters.team]


@app.page("/", title="Home", icon="🏠")
def home(st, client: ApiClient) -> None:
    st.title("FluxLit demo")
    greeting = client.get_model("/hello", Greeting, params={"name": "page"})
    st.write(f"The API says hello to **{greeting.hello}**.")
    st.dataframe(client.get("/items").json())


@app.page("/team", title="Team", icon="👥")
def team(
    st,
    user: str = Depends(current_user),
    filters: TeamFilter = Query(),
    roster: list[dict[str, object]] = Depends(fetch_roster),
) -> PageMeta:
    st.title(f"Team {filters.team}")
    st.write(f"Signed in as **{user}**.")
    chosen = TeamFilter(
        team=st.selectbox("Team", TEAMS, index=TEAMS.index(filters.team)),
        min_score=st.slider("Minimum score", 0.0, 1.0, filters.min_score, step=0.1),
    )
    if chosen != filters:
        write_query_params(st, chosen)
        st.rerun()
    shown = [member for member in roster if float(member["score"]) >= filters.min_score]
    st.write(f"{len(shown)} of {len(roster)} members")
    st.dataframe(shown)
    return PageMeta(page_title=f"Team {filters.team} · FluxLit demo", breadcrumb=("Teams", filters.team))


@app.page("/about", title="About", icon="ℹ️")
def about(st) -> None:
    st.title("About")
    st.write("One port: FastAPI under /api, Streamlit everywhere else.")
