"""The censorship-resistant relay: a TLS server that splices clients proving the invite
secret to its one upstream Haven server, and shows everyone else an ordinary web site.
See docs/relay.md."""
