"""What every room on the request path shares: a header read from the scope, and the media
type its answer is written in."""
