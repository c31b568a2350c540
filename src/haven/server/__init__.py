"""The Haven server: ASGI app (routes -> services -> store), WebSocket delivery, rate limits."""
