"""Running the app under uvicorn (uvloop + httptools), with a clean shutdown on Ctrl-C."""

from __future__ import annotations

import uvicorn

from haven.core import limits
from haven.core.config import Config
from haven.server.app import create_app
from haven.server.httpguard import guarded_protocol
from haven.server.tls import server_tls


def uvicorn_config(config: Config) -> uvicorn.Config:
    tls = server_tls(config)
    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        loop="uvloop",
        # httptools, with a deadline and a size cap on request heads (slowloris, header floods)
        http=guarded_protocol(config.request_head_seconds),
        ws="websockets-sansio",
        ws_max_size=limits.MAX_WS_FRAME_BYTES,
        # Ciphertext does not compress, and compressing secrets beside attacker-chosen data
        # is how CRIME/BREACH-style attacks work: no permessage-deflate.
        ws_per_message_deflate=False,
        access_log=False,  # access logs would record client addresses; Haven keeps none
        log_level=config.log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
    )


def serve(config: Config) -> None:
    uvicorn.Server(uvicorn_config(config)).run()
