"""The app the end-to-end benchmark serves: an empty FluxLit in front of a synthetic upstream."""

from fluxlit import FluxLit

app = FluxLit(title="bench")
# The bare FastAPI object, for plain uvicorn (``uvicorn app:api``): the same routes without the gateway.
api = app.api


@app.api.get("/ping")
def ping() -> dict[str, str]:
    return {"pong": "ok"}
