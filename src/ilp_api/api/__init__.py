"""The HTTP edge: the FHIR routes over the pipeline, and the routes of operations and read-only types."""
