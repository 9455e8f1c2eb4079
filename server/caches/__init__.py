"""Where a request is answered without executing it: the response cache, and the documents
named by their hash (automatic persisted queries and trusted documents)."""
