"""All of Haven's cryptography, on the client: Olm/Megolm through vodozemac (audited Rust),
everything else through pyca/cryptography. No primitive is implemented here; this package
composes them and keeps their misuse hard. It is the only importer of vodozemac, and no
server-side package may import it (import-linter)."""
