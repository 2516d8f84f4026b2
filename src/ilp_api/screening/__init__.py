"""The screening application service: ``POST /api/v1/screening/evaluate`` over the pure ILP engine."""
