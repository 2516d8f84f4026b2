"""API clients, OAuth 2.0 client-credentials tokens, SMART scopes, authentication and rate limiting."""
