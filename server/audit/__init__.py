"""The bypass audit trail: every original sent past compression on a clinician's say-so."""
