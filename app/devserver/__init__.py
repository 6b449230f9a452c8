"""A local BigQuant-compatible server (app.devserver.server)."""
