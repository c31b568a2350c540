"""Relay invite links (`haven.core.relaylink.parse`) and relay proofs (`check_proof`).

Links arrive from strangers (a QR code, a chat message, a web page), so the contract in
docs/relay.md is that a bad link is a `RelayLinkError` with a sentence and never any other
exception. Besides that, a link that parses must survive its own `to_url()` unchanged, and
its `repr()` must not show the secret (it reaches logs and tracebacks). The same text is
also tried as a relay proof token, which must be refused quietly (`None`), not raise.
"""

from __future__ import annotations

from haven.core import relaylink

# A fixed secret: random text must never pass for a proof made with it.
_SECRET = bytes(range(relaylink.SECRET_BYTES))
_NOW = 1_800_000_000.0


def _parsed(text: str) -> relaylink.RelayLink | str:
    """The link, or the sentence saying why it was refused."""
    try:
        return relaylink.parse(text)
    except relaylink.RelayLinkError as error:
        return str(error)


def TestOneInput(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    assert relaylink.check_proof(_SECRET, text, _NOW) is None
    link = _parsed(text)
    if isinstance(link, str):
        assert link, "a refused link must say what is wrong"
        return
    assert relaylink.parse(link.to_url()) == link
    shown = repr(link)
    assert relaylink.b64url_encode(link.secret) not in shown
    assert link.secret.hex() not in shown
