"""One module per resource type: its model, its domain rules and its search parameters."""


def load_resources() -> None:
    """Import every resource module so each registers its definition, and its operations (idempotent)."""
    from ilp_api.resources import (  # noqa: F401
        condition,
        coverage,
        coverage_eligibility_request,
        coverage_eligibility_response,
        encounter,
        episode_of_care,
        immunization,
        location,
        observation,
        organization,
        patient,
        pindah_masuk,
        practitioner,
        provenance,
        questionnaire_response,
        questionnaires,
        rujuk_balik,
        service_request,
        task,
    )
