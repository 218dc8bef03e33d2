"""Logs an operator can use, and that never hold patient data.

- `scrub`: the one place that makes text safe to log or to send as analytics
  (`scrub_text`, `scrub_value`, and `ScrubFilter`, which every handler carries);
- `context`: the request a log line belongs to (request id, upload id, route), in a contextvar;
- `middleware`: `request_logging`, which times each request, gives it an ``X-Request-ID`` and
  writes one ``medpress.access`` line when it ends;
- `json_format`: `JsonFormatter`, one JSON object per line;
- `setup`: `configure_logging(settings)` for ``medpress serve`` (stderr, or a rotating file).
"""

from server.logs.middleware import request_logging
from server.logs.scrub import ScrubFilter, scrub_text, scrub_value
from server.logs.setup import configure_logging

__all__ = ["ScrubFilter", "configure_logging", "request_logging", "scrub_text", "scrub_value"]
