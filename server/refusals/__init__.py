"""Where a request is refused before it runs: who may call and run what (auth), how large
its body may be (body_limit), how long it may take (budget), the `Refusal` they raise and
the error body they answer with (refusal); and the outermost guard that answers whatever
escapes as a JSON error (errors)."""
