"""What a refused request body is told: where the fault is and what was expected, never the
value that was sent (it could be patient data, and answers end up in logs)."""

import re

import msgspec

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def describe(error: msgspec.ValidationError | msgspec.DecodeError) -> str:
    """msgspec's message (``Expected `bool`, got `str` - at `$.features[0].enabled```) with
    any quoted value dropped."""
    return _QUOTED.sub("…", str(error))
