"""Where a /graphql request enters and is answered: its operations read once, each executed
on Strawberry's `Schema.execute`, and the results shaped for the client with their error codes."""
