"""The process: the `catalog` command, the entry point uvicorn imports, the start-up check
of the database, what the server needs from uvicorn, and the garbage collector's settings."""
