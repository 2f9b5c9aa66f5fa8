"""The app the end-to-end benchmark serves: an empty FluxLit in front of a synthetic upstream."""

from fluxlit import FluxLit

app = FluxLit(title="bench")


@app.api.get("/ping")
def ping() -> dict[str, str]:
    return {"pong": "ok"}
