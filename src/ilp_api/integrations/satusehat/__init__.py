"""SATUSEHAT (Kemenkes' national FHIR platform): client, mapping of stored visits, destination of the outbox, and
a local simulator. Protocol facts: shared/reference/satusehat.md."""
