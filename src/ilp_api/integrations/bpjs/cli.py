"""``ilp bpjs …``: the PCare credentials of a puskesmas, and the local PCare simulator."""

from typing import Annotated

import typer
import uvicorn

from ilp_api.integrations.bpjs.config import save_credentials
from ilp_api.integrations.bpjs.protocol import DEFAULT_KD_APLIKASI, Credentials
from ilp_api.integrations.bpjs.simulator.app import create_simulator, simulator_state
from ilp_api.integrations.commands import OrganizationOption, organization_session
from ilp_api.integrations.credentials import CredentialCipher, CredentialStore
from ilp_api.settings import get_settings

bpjs_app = typer.Typer(help="BPJS Kesehatan PCare: credentials, the local simulator.", no_args_is_help=True)
credentials_app = typer.Typer(help="PCare credentials per puskesmas (secrets encrypted at rest).")
bpjs_app.add_typer(credentials_app, name="credentials", no_args_is_help=True)


def _secret(help_text: str) -> object:
    return typer.Option(help=f"{help_text} (stored encrypted)", prompt=True, hide_input=True)


@credentials_app.command("set")
def credentials_set(
    organization: OrganizationOption,
    cons_id: Annotated[str, typer.Option(help="The PCare consumer id (X-cons-id)")],
    secret: Annotated[str, _secret("The consumer secret")],
    user_key: Annotated[str, _secret("The PCare user_key")],
    username: Annotated[str, typer.Option(help="The puskesmas' PCare user name")],
    password: Annotated[str, _secret("The puskesmas' PCare password")],
    kd_aplikasi: Annotated[str, typer.Option(help="kdAplikasi of X-authorization")] = DEFAULT_KD_APLIKASI,
) -> None:
    """Store (or replace) the PCare credentials of a puskesmas: eligibility checks by its clients, and by those of
    the pustu and posyandu below it, are signed with them."""
    settings = get_settings()
    with organization_session(settings, organization) as session:
        store = CredentialStore(session, CredentialCipher.from_settings(settings))
        save_credentials(store, organization, Credentials(cons_id, secret, user_key, username, password, kd_aplikasi))
    typer.echo(f"PCare credentials of Organization/{organization} stored (cons id {cons_id}, user {username})")


@bpjs_app.command("simulator")
def bpjs_simulator(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8090,
) -> None:
    """Serve a local PCare simulator (members, faults over /_simulator; see the README's BPJS section). It accepts
    the ILP_BPJS_* credentials when set, else its own development ones."""
    typer.echo(f"PCare simulator on http://{host}:{port}  (set ILP_BPJS_PCARE_URL to it)", err=True)
    uvicorn.run(create_simulator(simulator_state(get_settings())), host=host, port=port, log_config=None)
