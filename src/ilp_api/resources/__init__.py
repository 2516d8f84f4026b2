"""One module per resource type: its model, its domain rules and its search parameters."""


def load_resources() -> None:
    """Import every resource module so each registers its definition (idempotent)."""
    from ilp_api.resources import location, organization, patient, practitioner  # noqa: F401
