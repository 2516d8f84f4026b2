"""The ``ilp`` command: thin wrappers that call services; long work prints progress."""

import asyncio
import json
import signal
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from ilp_api.audit.tables import APPEND_ONLY_TABLES
from ilp_api.db.base import utc_now
from ilp_api.db.engine import Database, create_database_engine
from ilp_api.db.migrate import SchemaNotCurrent, prepare_schema, upgrade
from ilp_api.db.privileges import RoleNotUsable, grant_service_role
from ilp_api.demo.load import DemoCredential, LoadReport, create_demo_credentials, load_demo
from ilp_api.fhir.outcome import FhirError
from ilp_api.fhir.registry import registry
from ilp_api.integrations.bpjs.cli import bpjs_app
from ilp_api.integrations.outbox.registry import destinations
from ilp_api.integrations.outbox.service import UnknownDestination, build_worker, outbox_status, status_table
from ilp_api.integrations.outbox.tables import STATUSES
from ilp_api.integrations.outbox.worker import Worker
from ilp_api.integrations.satusehat.cli import satusehat_app
from ilp_api.integrations.satusehat.demo import connect_demo_to_simulator
from ilp_api.logging import configure_logging
from ilp_api.screening.episodes import close_every_ended_episode
from ilp_api.security.clients import list_clients, register_client, revoke_client
from ilp_api.settings import get_settings
from ilp_api.wilayah.importer import parse_wilayah_csv
from ilp_api.wilayah.repository import WilayahDirectory
from ilp_api.wiring import build_pipeline, load_definitions, resource_service

app = typer.Typer(help="ILP API: FHIR R4 backend for Integrasi Layanan Primer.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
wilayah_app = typer.Typer(help="Kemendagri wilayah reference list.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(wilayah_app, name="wilayah")
app.add_typer(satusehat_app, name="satusehat")
app.add_typer(bpjs_app, name="bpjs")


def _database() -> Database:
    return Database(create_database_engine(get_settings().database_url))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes")] = 1,
) -> None:
    """Serve the API: first apply pending migrations (ILP_MIGRATE_ON_START, on by default for SQLite), or check
    that the database schema is current and refuse to start if it is not."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        # Once here, so that several workers do not migrate at once (each worker then finds it current).
        prepare_schema(settings.database_url, migrate=settings.migrates_on_start)
    except SchemaNotCurrent as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"ILP API on http://{host}:{port}  (FHIR base /fhir, docs /docs)", err=True)
    uvicorn.run("ilp_api.main:app", host=host, port=port, workers=workers, log_config=None, access_log=False)


@app.command()
def worker(
    until_idle: Annotated[
        bool, typer.Option("--until-idle", help="Deliver what is queued (waiting out retries) and exit")
    ] = False,
    destination: Annotated[
        list[str] | None, typer.Option(help="Only this destination (repeatable); default: every registered one")
    ] = None,
) -> None:
    """Deliver the outbox to its destinations, in order per ordering key, with retries; runs until SIGTERM or
    Ctrl-C (the deliveries in flight finish first), or with --until-idle until nothing is left to deliver."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        prepare_schema(settings.database_url, migrate=settings.migrates_on_start)
    except SchemaNotCurrent as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    load_definitions()
    database = Database(
        create_database_engine(settings.database_url, connect_timeout_seconds=settings.database_connect_timeout_seconds)
    )
    try:
        delivering = build_worker(
            database, settings, resource_service(registry, settings), destinations, destination or ()
        )
        typer.echo(f"worker {delivering.name} delivering to {', '.join(delivering.destinations)}", err=True)
        asyncio.run(_run_until_stopped(delivering, until_idle))
    except UnknownDestination as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    finally:
        database.engine.dispose()
    tally = ", ".join(f"{count} {how}" for how, count in sorted(delivering.tally.items())) or "nothing"
    typer.echo(f"attempts: {tally}")


@satusehat_app.command("status")
def satusehat_status(
    status: Annotated[str | None, typer.Option(help="Only items of this status: " + ", ".join(STATUSES))] = None,
    count: Annotated[int, typer.Option(min=0, max=1000, help="How many items to list, newest first")] = 20,
) -> None:
    """What the outbox holds for SATUSEHAT: counts per status, and the latest items with their last error and
    RuleNumbers (the same as GET /api/v1/satusehat/outbox)."""
    print_outbox_status("satusehat", status, count)


def print_outbox_status(destination: str, status: str | None, count: int) -> None:
    if status is not None and status not in STATUSES:
        typer.echo(f"--status is one of {', '.join(STATUSES)}", err=True)
        raise typer.Exit(code=2)
    upgrade(get_settings().database_url)
    database = _database()
    try:
        with database.session(write=False) as session:
            outbox = outbox_status(session, destination, status, count, 0)
    finally:
        database.engine.dispose()
    for line in status_table(outbox, utc_now()):
        typer.echo(line)


async def _run_until_stopped(delivering: Worker, until_idle: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stopping, stop.set)
    await delivering.run(until_idle=until_idle, stop=stop)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Apply the Alembic migrations up to REVISION."""
    upgrade(get_settings().database_url, revision)
    typer.echo(f"database at {revision}")


@db_app.command("grant-service-role")
def db_grant_service_role(
    role: Annotated[str, typer.Argument(help="The existing PostgreSQL role the service connects as")],
) -> None:
    """Give ROLE the service's privileges and no more (audit tables: read and insert only). Run as the tables'
    owner, with the owner's ILP_DATABASE_URL, after each `ilp db upgrade`."""
    database = _database()
    try:
        if database.dialect != "postgresql":
            typer.echo("Roles exist on PostgreSQL only; SQLite has no privileges to grant", err=True)
            raise typer.Exit(code=1)
        granted = grant_service_role(database.engine, role, APPEND_ONLY_TABLES)
    except RoleNotUsable as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from None
    finally:
        database.engine.dispose()
    for table, privileges in granted.items():
        typer.echo(f"{table}: {privileges}")


@wilayah_app.command("import")
def wilayah_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV of code,name (dots allowed)")],
) -> None:
    """Load the Kemendagri wilayah list: names are then shown and unknown codes rejected."""
    with file.open(encoding="utf-8-sig") as lines:
        entries, problems = parse_wilayah_csv(lines)
    if problems:
        for problem in problems[:20]:
            typer.echo(f"line {problem.line}: {problem.message}", err=True)
        typer.echo(f"{len(problems)} problem(s); nothing imported", err=True)
        raise typer.Exit(code=1)
    upgrade(get_settings().database_url)
    with _database().session(write=True) as session:
        WilayahDirectory(session).replace_all(entries)
    typer.echo(f"imported {len(entries)} wilayah codes")


@app.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write the document")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document (committed under openapi/; a test fails when it is stale)."""
    from ilp_api.openapi_document import openapi_document

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    typer.echo(f"wrote {output}")


@app.command()
def demo(
    residents: Annotated[int, typer.Option(min=0, help="How many residents (Patients) to register")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same people")] = 3374,
) -> None:
    """Apply pending migrations, load a demo kota network with nakes, kader, residents and a month of their posyandu
    visits, evaluated as they are stored (once), and print credentials of demo API clients for a dinkes, a
    puskesmas and a posyandu (new ones on every run)."""
    settings = get_settings()
    upgrade(settings.database_url)

    def progress(what: str, done: int, total: int) -> None:
        if done % 50 == 0 or done == total:
            typer.echo(f"{what} {done}/{total}", err=True)

    database = _database()
    try:
        report = load_demo(database, settings, residents=residents, seed=seed, progress=progress)
        credentials = create_demo_credentials(database, report)
        simulated = connect_demo_to_simulator(database, settings, [i for _, i in report.facilities("puskesmas")])
    finally:
        database.engine.dispose()
    print_demo_summary(report, credentials)
    if simulated:
        typer.echo(
            "SATUSEHAT: the demo's puskesmas deliver to the simulator `ilp serve` mounts under /simulator/satusehat "
            "(its seeded client; kader-only visits with its seeded nakes)"
        )


DEMO_SERVER = "http://127.0.0.1:8000"  # where `ilp serve` listens by default


def print_demo_summary(report: LoadReport, credentials: list[DemoCredential]) -> None:
    """What was loaded, the demo clients' credentials and how to use them (the one place the demo prints)."""
    if report.already_loaded:
        typer.echo(f"demo already loaded (dinkes Organization/{report.dinkes_id}); no resources created")
    else:
        typer.echo("created: " + ", ".join(f"{count} {kind}" for kind, count in sorted(report.created.items())))
        typer.echo("residents: " + ", ".join(f"{count} {group}" for group, count in report.resident_groups()))
        typer.echo(f"  {len(report.network.nik_mismatches)} with a NIK that disagrees with the record (tagged)")
        print_visit_summary(report)
    for kind in ("dinkes", "puskesmas", "posyandu"):
        for name, organization_id in report.facilities(kind):
            typer.echo(f"{kind:<10} Organization/{organization_id}  {name}")
    if not credentials:
        return
    # Secrets are stored hashed, so this is the only time they can be shown; a rerun replaces these clients.
    typer.echo(
        f"demo API clients, scope {credentials[0].scope} within their organization (shown once; rerun for new ones):"
    )
    for credential in credentials:
        typer.echo(
            f"  {credential.label:<10} Organization/{credential.organization_id}  "
            f"client_id {credential.client_id}  client_secret {credential.client_secret}"
        )
    example = next((c for c in credentials if c.label == "posyandu"), credentials[-1])
    name = next((n for n, i in report.facilities(example.label) if i == example.organization_id), example.label)
    typer.echo(f"get a token as the {example.label} client (it expires: ask again), then read the residents of {name}:")
    # python3 extracts the token because it is the one tool a fresh set-up is sure to have (jq may be missing).
    typer.echo(
        f"  TOKEN=$(curl -s -X POST {DEMO_SERVER}/oauth2/token -u {example.client_id}:{example.client_secret} "
        "-d grant_type=client_credentials "
        "| python3 -c \"import json,sys; print(json.load(sys.stdin)['access_token'])\")"
    )
    typer.echo(
        f"  curl -s '{DEMO_SERVER}/fhir/Patient?organization=Organization/{example.organization_id}&_count=50' "
        "-H \"Authorization: Bearer $TOKEN\" -H 'Accept: application/fhir+json'"
    )
    typer.echo("and its worklist (who is due or overdue, for what, and why):")
    typer.echo(
        f"  curl -s '{DEMO_SERVER}/api/v1/worklists?organization=Organization/{example.organization_id}' "
        '-H "Authorization: Bearer $TOKEN"'
    )


def print_visit_summary(report: LoadReport) -> None:
    """How many visits the demo recorded, and what their evaluation derived and the puskesmas answered."""
    if not report.visits:
        return
    tally = report.tally
    first, last = report.visits[0].day.isoformat(), report.visits[-1].day.isoformat()
    stages = ", ".join(f"{count} {stage}" for stage, count in tally.visits.most_common())
    typer.echo(f"visits: {sum(tally.visits.values())} from {first} to {last} ({stages})")
    answers = ", ".join(f"{count} {status}" for status, count in sorted(tally.answers.items()))
    typer.echo(
        f"  evaluated on write: {tally.findings} findings (classifications outside the normal range), "
        f"{tally.referrals} referrals, {tally.follow_ups} follow-ups; "
        f"{sum(tally.answers.values())} referrals answered by the puskesmas ({answers or 'none'})"
    )


episodes_app = typer.Typer(help="Klaster and pregnancy episodes (EpisodeOfCare).", no_args_is_help=True)
app.add_typer(episodes_app, name="episodes")


@episodes_app.command("close")
def episodes_close(
    today: Annotated[
        str | None, typer.Option(help="The day to close by (YYYY-MM-DD); default: today at the site")
    ] = None,
) -> None:
    """Close every active episode whose closing rule says so (a pregnancy 42 days after delivery, a child's klaster-2
    episode at 18, any after 12 months without a visit): for a daily job, as these end by time alone."""
    settings = get_settings()
    upgrade(settings.database_url)
    database = _database()
    day = date.fromisoformat(today) if today else settings.site_today()

    def progress(examined: int, closed: int) -> None:
        typer.echo(f"episodes examined {examined}, closed {closed}", err=True)

    try:
        load_definitions()
        closed = close_every_ended_episode(build_pipeline(database, registry, settings), day, progress)
    finally:
        database.engine.dispose()
    typer.echo(f"closed {closed} episode(s) ended by {day.isoformat()}")


clients_app = typer.Typer(help="API clients (OAuth 2.0 client credentials).", no_args_is_help=True)
app.add_typer(clients_app, name="clients")


@clients_app.command("add")
def clients_add(
    name: Annotated[str, typer.Option(help="Who uses it, e.g. 'SIMPUS Puskesmas Sukamaju'")],
    scopes: Annotated[str, typer.Option(help="Space-separated SMART scopes, e.g. 'system/*.cruds'")],
    organization: Annotated[
        str | None, typer.Option(help="Id of the client's Organization; omit only for an 'ilp/admin' client")
    ] = None,
) -> None:
    """Register a client; prints its client_id and client_secret as JSON, once (only a hash is stored)."""
    upgrade(get_settings().database_url)
    try:
        with _database().session(write=True) as session:
            new = register_client(session, name, organization, scopes)
    except FhirError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(new.to_json(), ensure_ascii=False, indent=2))


@clients_app.command("list")
def clients_list() -> None:
    """List the clients as JSON (without secrets)."""
    upgrade(get_settings().database_url)
    with _database().session(write=False) as session:
        clients = list_clients(session)
    typer.echo(json.dumps([client.to_json() for client in clients], ensure_ascii=False, indent=2))


@clients_app.command("revoke")
def clients_revoke(client_id: Annotated[str, typer.Argument(help="The client_id to revoke")]) -> None:
    """Revoke a client: no new tokens, and its current tokens stop working within ILP_CLIENT_STATUS_CACHE_SECONDS."""
    upgrade(get_settings().database_url)
    try:
        with _database().session(write=True) as session:
            revoked = revoke_client(session, client_id)
    except FhirError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps(revoked.to_json(), ensure_ascii=False, indent=2))
