"""The app the soak test serves: a few API routes and a Streamlit page that calls them."""

from collections.abc import Iterator
from contextlib import suppress

from fastapi import Request
from fastapi.responses import StreamingResponse
from starlette.requests import ClientDisconnect

from fluxlit import ApiClient, FluxLit

app = FluxLit(title="soak")
BLOB_CHUNK = b"x" * (64 * 1024)


@app.api.get("/ping")
def ping() -> dict[str, str]:
    """The smallest API answer."""
    return {"pong": "ok"}


@app.api.get("/items")
def items(n: int = 10) -> list[dict[str, object]]:
    """``n`` small records."""
    return [{"id": i, "name": f"item-{i}", "score": i / (n or 1)} for i in range(n)]


@app.api.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    """Read the body as a stream and say how many bytes arrived (to nobody, when the client hung up mid-body)."""
    received = 0
    with suppress(ClientDisconnect):
        async for chunk in request.stream():
            received += len(chunk)
    return {"received": received}


@app.api.get("/blob")
def blob(chunks: int = 16) -> StreamingResponse:
    """``chunks`` × 64 KiB, streamed: a download a client can abandon half-way."""

    def body() -> Iterator[bytes]:
        for _ in range(chunks):
            yield BLOB_CHUNK

    return StreamingResponse(body(), media_type="application/octet-stream")


@app.page("/", title="Soak")
def home(st, client: ApiClient) -> None:
    st.title("Soak")
    st.json(client.get("/ping").json())
    st.table(client.get("/items", params={"n": 5}).json())
