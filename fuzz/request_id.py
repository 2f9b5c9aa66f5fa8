"""Fuzz target: both request-id twins on one incoming id (raw bytes, or mapped onto the safe alphabet)."""

import re

import atheris

from fluxlit._speedups.constants import REQUEST_ID_ALPHABET
from fuzz.twins import agree, fuzz, twins

MINTED = re.compile(rb"[0-9a-f]{32}")


def kept_or_minted(incoming: bytes | None, result: bytes) -> bytes:
    """``result`` when it is the incoming id, else a marker for a well-formed minted one (random by design)."""
    if result == incoming:
        return result
    return b"<minted>" if MINTED.fullmatch(result) else b"<malformed minted id> " + result


def check(data: bytes) -> None:
    """Both twins judge, keep and mint alike."""
    fdp = atheris.FuzzedDataProvider(data)
    safe = fdp.PickValueInList([False, True])
    value = fdp.ConsumeBytes(fdp.remaining_bytes())
    if safe:
        value = bytes(REQUEST_ID_ALPHABET[byte % len(REQUEST_ID_ALPHABET)] for byte in value)
    pure, compiled = twins("request_id")
    agree(f"is_valid_request_id({value!r})", pure.is_valid_request_id(value), compiled.is_valid_request_id(value))
    for incoming in (value, None):
        agree(
            f"request_id_for({incoming!r})",
            kept_or_minted(incoming, pure.request_id_for(incoming)),
            kept_or_minted(incoming, compiled.request_id_for(incoming)),
        )
    agree("mint_request_id()", kept_or_minted(None, pure.mint_request_id()), kept_or_minted(None, compiled.mint_request_id()))


if __name__ == "__main__":
    fuzz("request_id", check)
