"""Where a request is measured: its id and one log line (tracking), Prometheus metrics, the
JSON log format, and optional OpenTelemetry tracing."""
