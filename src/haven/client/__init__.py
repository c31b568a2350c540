"""The Haven client SDK: encrypted profile state, the HTTP/WebSocket transport, and the
messenger that encrypts, sends, receives and decrypts. The server never sees plaintext."""
