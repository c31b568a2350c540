"""Use cases between the routes (HTTP/WebSocket) and the stores."""
