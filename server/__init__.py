"""The app shell: the process, the HTTP endpoint and everything around it.

`app.py` puts the rooms together (`create_app(settings)`). Each room is one job:

- `request/`: what every room on the request path shares: the request's state (filled in as
  it is answered, read by its log line and metrics), its headers, its answer's media type.
- `endpoint/`: where a /graphql request enters and is answered.
- `live/`: long-lived connections on /graphql (WebSocket and event streams): where a
  subscription is admitted, kept alive, and closed at shutdown.
- `refusals/`: where a request is refused (auth, body size, time budget), and where
  whatever escapes is answered as a JSON error.
- `caches/`: where a request is answered from a cache, and documents are found by hash.
- `observability/`: where a request is measured: its id, log line, metrics and traces.
- `config/`: the settings, read once from the environment.
- `process/`: the `catalog` command and the serving process: start-up check, uvicorn, heap.
- `playground/`: GraphiQL, served by the server itself.
"""
