"""``ilp satusehat …``: the simulator, and the credentials and supervising nakes of facilities."""

from typing import Annotated

import typer
import uvicorn

from ilp_api.integrations.satusehat.simulator.app import create_simulator_app

satusehat_app = typer.Typer(
    help="SATUSEHAT: credentials, supervising nakes, the local simulator.", no_args_is_help=True
)


@satusehat_app.command("simulator")
def simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8001,
) -> None:
    """Serve a local SATUSEHAT (in memory; seeded client ilp-simulator / ilp-simulator-secret, organization
    100011). Point ILP_SATUSEHAT_AUTH_URL at http://HOST:PORT/oauth2/v1 and ILP_SATUSEHAT_FHIR_URL at
    http://HOST:PORT/fhir-r4/v1."""
    typer.echo(f"SATUSEHAT simulator on http://{host}:{port}  (oauth2/v1, fhir-r4/v1, admin)", err=True)
    uvicorn.run(create_simulator_app(), host=host, port=port, log_config=None, access_log=False)
