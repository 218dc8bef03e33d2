"""Who is asking: principals, signed tokens and the dev session cookie."""
