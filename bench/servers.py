"""The servers a bench measures, each a child process of the bench script, started and awaited the same way."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

import httpx
import uvicorn
from fastapi import FastAPI

from ilp_api.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    script: str, kind: str, database_url: str, env: dict[str, str], liveness: str, arguments: Sequence[str] = ()
) -> tuple[subprocess.Popen[bytes], str]:
    """Run ``script --serve kind [arguments]`` on a free port; returns the process and its base URL once
    ``liveness`` answers."""
    port = free_port()
    command = [sys.executable, script, "--serve", kind, "--port", str(port), "--database-url", database_url]
    command += arguments
    process = subprocess.Popen(command, env=os.environ | env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {kind} server exited with {process.returncode}")
        try:
            if httpx.get(base_url + liveness, timeout=1).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"the {kind} server did not answer {liveness} within 60 s")


def serve(kind: str, port: int, database_url: str, bare_app: Callable[[], FastAPI]) -> None:
    """In the child process: the product (``create_app``) or the bench's bare app, under the same uvicorn settings."""
    from ilp_api.logging import configure_logging

    configure_logging("WARNING", json_output=True)
    if kind == "product":
        from ilp_api.app import create_app

        app = create_app(Settings(database_url=database_url))
    else:
        app = bare_app()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, workers=1, access_log=False, log_config=None, log_level="warning"
    )
    uvicorn.Server(config).run()
