"""Running the app under uvicorn (uvloop + httptools), with a clean shutdown on Ctrl-C."""

from __future__ import annotations

import uvicorn

from haven.core import limits
from haven.core.config import Config
from haven.server.app import create_app


def uvicorn_config(config: Config) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_max_size=limits.MAX_WS_FRAME_BYTES,
        # Ciphertext does not compress, and compressing secrets beside attacker-chosen data
        # is how CRIME/BREACH-style attacks work: no permessage-deflate.
        ws_per_message_deflate=False,
        access_log=False,  # access logs would record client addresses; Haven keeps none
        log_level=config.log_level,
        timeout_graceful_shutdown=5,
        server_header=False,
    )


def serve(config: Config) -> None:
    uvicorn.Server(uvicorn_config(config)).run()
