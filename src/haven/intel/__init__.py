"""Threat intelligence about surveillance-for-hire: importers, the normaliser, provenance
merge, STIX 2.1 / MISP sharing. Server side: it never sees message content."""
