"""What every room on the request path shares, and so the lowest of them: the request's
state (its id, operation, outcome and refusals), a header read from the scope, and the
media type its answer is written in."""
