"""The project's own CodeSystems, published read-only at /fhir/CodeSystem under ILP_CANONICAL_BASE."""
