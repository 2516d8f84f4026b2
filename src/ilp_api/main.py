"""ASGI entry point for uvicorn: ``uvicorn ilp_api.main:app``."""

from ilp_api.app import create_app

app = create_app()
