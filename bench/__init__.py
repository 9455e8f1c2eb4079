"""The benchmark behind `make bench`: the GraphQL server under load, next to a raw-SQL floor."""
