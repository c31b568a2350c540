"""The operator web console under /admin: server-rendered pages (Jinja2, autoescaped), a
little progressive enhancement in one bundled script, sign-in with an Argon2id password and
optional TOTP, session cookies and CSRF tokens. Mounted by `haven.server.app`."""
