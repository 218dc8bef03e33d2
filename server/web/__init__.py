"""The web side: the static site, security headers, health probes, method override."""
