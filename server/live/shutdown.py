"""How the server process tells the app's live connections that it is shutting down.

uvicorn asks every connection's protocol to shut down before it waits for them, and the
app's lifespan hears of it only afterwards. So the app offers `LiveSessions.close` in its
lifespan's state under CLOSE_LIVE (uvicorn hands that state to every protocol), and the
protocols of server.process.uvicorn_compat call it first: subscriptions end after the events
handed to them, event streams with `complete`, WebSockets with 1001.
"""

from __future__ import annotations

CLOSE_LIVE = "catalog.close_live"
