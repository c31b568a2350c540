"""HTTP and WebSocket routes under /v1: thin, they validate and hand over to services."""
