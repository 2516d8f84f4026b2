"""A local SATUSEHAT for development and tests (``ilp satusehat simulator``; mounted under
``/simulator/satusehat`` by ``ilp serve`` in development)."""

from fastapi import FastAPI

from ilp_api.integrations.satusehat.simulator.app import AUTH, FHIR, create_simulator_app

MOUNT_PATH = "/simulator/satusehat"


def mount_simulator(app: FastAPI) -> None:
    """The simulator inside ``app``, under MOUNT_PATH: a mounted application stays out of ``app``'s OpenAPI
    document and its exception handlers, so it answers as SATUSEHAT does."""
    app.mount(MOUNT_PATH, create_simulator_app())


def mounted_urls(server: str) -> tuple[str, str]:
    """The OAuth and FHIR base URLs of the simulator mounted in the API at ``server`` (e.g. http://127.0.0.1:8000)."""
    return server + MOUNT_PATH + AUTH, server + MOUNT_PATH + FHIR
