"""Feature flags: definitions in Unleash's client-features shape, their sources (a file in
the data dir, or an Unleash server), and the API that serves and edits them."""
