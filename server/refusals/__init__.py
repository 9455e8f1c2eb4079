"""Where a request is refused before it runs: who may call and run what (auth), how large
its body may be, how long it may take (budget); and the outermost guard that answers
whatever escapes as a JSON error."""
