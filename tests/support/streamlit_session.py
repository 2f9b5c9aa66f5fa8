"""Drive a real Streamlit session over its WebSocket, the way the browser does."""

from dataclasses import dataclass


@dataclass
class ScriptRun:
    """What one run of the main page sent back: ForwardMsg kinds, delta texts, handshake headers."""

    kinds: list[str]
    texts: list[str]
    headers: dict[str, str]


def run_streamlit_script(ws_url: str, origin: str | None = None, headers: dict[str, str] | None = None) -> ScriptRun:
    """Open a Streamlit session on ``ws_url`` (with extra handshake ``headers``) and run the main page once."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    kinds: list[str] = []
    texts: list[str] = []
    with connect(
        ws_url, subprotocols=["streamlit"], origin=origin, additional_headers=headers, max_size=None, open_timeout=30
    ) as ws:
        assert ws.subprotocol == "streamlit"
        response_headers = {name.lower(): value for name, value in ws.response.headers.raw_items()}
        rerun = BackMsg()
        rerun.rerun_script.query_string = ""
        ws.send(rerun.SerializeToString())
        while "script_finished" not in kinds:
            message = ForwardMsg()
            message.ParseFromString(ws.recv(timeout=60))
            kinds.append(message.WhichOneof("type"))
            if kinds[-1] == "delta":
                texts.append(str(message.delta))
    return ScriptRun(kinds, texts, response_headers)
