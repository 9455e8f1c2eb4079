"""What is stored and the rules for changing it. Knows nothing of GraphQL or HTTP."""
