"""A local BigQuant-compatible server (app.devserver.server).

The fault names live here, light to import: the command line lists them without loading the server.
"""

FAULTS: dict[str, str] = {
    "http500": "HTTP 500 (a temporary server failure)",
    "http429": "HTTP 429 (too many requests)",
    "slow": "a slow answer (longer than the client's timeout)",
    "html": "an HTML page instead of JSON (e.g. a proxy's error page)",
    "truncated": "JSON cut off in the middle",
    "auth": "an authentication failure (as with a wrong key)",
    "page_missing": "page 2 and later answer no items although the total says there are more",
}

__all__ = ["FAULTS"]
