"""Long-lived connections on /graphql: subscriptions over WebSocket (graphql-transport-ws)
and over Server-Sent Events (graphql-sse, distinct connections), beside the request path
and sharing its limits, its tokens and its plans."""
