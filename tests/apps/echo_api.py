"""An API-only app for ApiClient tests: echoes what each request carried."""

from fastapi import Request

from fluxlit import FluxLit

app = FluxLit(title="echo")


@app.api.api_route("/echo/{tail:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(tail: str, request: Request) -> dict[str, object]:
    return {
        "method": request.method,
        "path": "/" + tail,
        "query": str(request.url.query),
        "authorization": request.headers.get("authorization"),
        "x-extra": request.headers.get("x-extra"),
        "body": (await request.body()).decode(),
    }
