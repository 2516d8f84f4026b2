"""The HTTP edge: routes over the FHIR machinery, wired with security and audit."""
