"""Defaults the schema advertises to clients."""

DEFAULT_FIRST = 20  # page size when `first` is not given (or null)
