"""GraphiQL, served by the server itself: the page, its files (`graphiql/`, vendored builds
in `graphiql/vendor/`) and their routes."""
