"""FHIR R4 REST machinery that knows no particular resource type: resources register themselves with it."""

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
