"""``ilp satusehat …``: the simulator, and the credentials and supervising nakes of facilities."""

from typing import Annotated

import typer
import uvicorn

from ilp_api.integrations.commands import OrganizationOption, organization_session
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.integrations.satusehat.client import SatusehatCredential
from ilp_api.integrations.satusehat.config import save_credential, status
from ilp_api.integrations.satusehat.repository import set_supervisor
from ilp_api.integrations.satusehat.simulator.app import create_simulator_app
from ilp_api.settings import get_settings

satusehat_app = typer.Typer(
    help="SATUSEHAT: credentials, supervising nakes, the local simulator.", no_args_is_help=True
)
credentials_app = typer.Typer(help="SATUSEHAT client credentials per puskesmas (secrets encrypted at rest).")
supervisor_app = typer.Typer(help="The nakes who answers for a posyandu's kader-only visits.")
satusehat_app.add_typer(credentials_app, name="credentials", no_args_is_help=True)
satusehat_app.add_typer(supervisor_app, name="supervisor", no_args_is_help=True)


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


@credentials_app.command("set")
def credentials_set(
    organization: OrganizationOption,
    client_id: Annotated[str, typer.Option(help="The SATUSEHAT client id of the facility")],
    client_secret: Annotated[
        str, typer.Option(help="Its client secret (stored encrypted)", prompt=True, hide_input=True)
    ],
    org_id: Annotated[str, typer.Option(help="The facility's SATUSEHAT Organization id")],
) -> None:
    """Store (or replace) the SATUSEHAT credentials of a puskesmas: its visits, and those of the pustu and posyandu
    below it, go out with them."""
    settings = get_settings()
    with organization_session(settings, organization) as session:
        store = CredentialStore(session, CredentialCipher.from_settings(settings))
        save_credential(store, organization, SatusehatCredential(client_id, client_secret, org_id))
    typer.echo(f"SATUSEHAT credentials of Organization/{organization} stored (client {client_id}, org {org_id})")
    typer.echo(status(settings))


@supervisor_app.command("set")
def supervisor_set(
    organization: OrganizationOption,
    practitioner_ihs: Annotated[str, typer.Option(help="The supervising nakes' SATUSEHAT IHS number")],
) -> None:
    """Name the nakes who answers in SATUSEHAT for the kader-only visits of a posyandu (or of every posyandu
    below a pustu)."""
    with organization_session(get_settings(), organization) as session:
        set_supervisor(session, organization, practitioner_ihs)
    typer.echo(f"Organization/{organization}: kader-only visits go out with Practitioner/{practitioner_ihs}")
