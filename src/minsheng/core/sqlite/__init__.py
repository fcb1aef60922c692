"""Django's SQLite backend with writers queued (``settings.DATABASES``' engine on SQLite)."""
