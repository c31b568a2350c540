"""Keep client addresses and credentials out of logs, whatever the libraries underneath
would write. Haven keeps no access log; uvicorn's WebSocket handler still logs each
accepted stream with the client's address, and at debug level the websockets protocol
dumps handshake headers, bearer tokens included. Those records are dropped here."""

from __future__ import annotations

import logging

_ADDRESS_LINES = ('%s - "WebSocket', '%s:%d - "WebSocket')
_HEADER_DUMPS = ("< ", "> ")
_SECRETS = ("authorization", "bearer ", "cookie")


class PrivacyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        template = record.msg if isinstance(record.msg, str) else ""
        if template.startswith(_ADDRESS_LINES) or template.startswith(_HEADER_DUMPS):
            return False
        try:
            text = record.getMessage().lower()
        except (TypeError, ValueError):
            return False  # a record that cannot even be formatted is not worth the risk
        return not any(secret in text for secret in _SECRETS)


_FILTER = PrivacyFilter()


def protect(*names: str) -> None:
    """Attach the filter to these loggers (records are filtered where they are logged)."""
    for name in names:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
