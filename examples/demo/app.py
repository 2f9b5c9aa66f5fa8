"""FluxLit demo: an API route and a page that calls it, served on one port."""

from fluxlit import ApiClient, FluxLit

app = FluxLit(title="FluxLit demo")


@app.api.get("/hello")
def hello(name: str = "world") -> dict[str, str]:
    """Greets ``name``."""
    return {"hello": name}


@app.api.get("/items")
def items() -> list[dict[str, object]]:
    """A small data set for the page."""
    return [{"id": 1, "name": "alpha", "score": 0.9}, {"id": 2, "name": "beta", "score": 0.7}]


@app.page("/", title="Home", icon="🏠")
def home(st, client: ApiClient) -> None:
    st.title("FluxLit demo")
    greeting = client.get("/hello", params={"name": "page"}).json()
    st.write(f"The API says hello to **{greeting['hello']}**.")
    st.dataframe(client.get("/items").json())


@app.page("/about", title="About", icon="ℹ️")
def about(st) -> None:
    st.title("About")
    st.write("One port: FastAPI under /api, Streamlit everywhere else.")
