"""Commands: ``rapport serve`` and ``rapport db upgrade``."""

from __future__ import annotations

import ipaddress
import logging

import typer

from app.cli.base import cli
from app.config import Settings

db_cli = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
cli.add_typer(db_cli, name="db")


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(2)


@cli.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, min=0, max=65535, help="port to listen on"),
    workers: int = typer.Option(1, min=1, max=64, help="worker processes"),
    reload: bool = typer.Option(False, help="restart when the code changes (development)"),
    insecure: bool = typer.Option(
        False, help="listen on a non-loopback address even without RAPPORT_API_KEYS"
    ),
    access_log: bool = typer.Option(False, help="log every request line"),
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    from app.api.auth import parse_api_keys
    from app.interview.errors import RapportError
    from app.store.db import is_sqlite, make_engine
    from app.store.migrations import upgrade

    settings = Settings()
    try:
        keys = parse_api_keys(settings.api_keys)
    except RapportError as error:
        raise _fail(f"RAPPORT_API_KEYS: {error.message}") from None
    if not keys and not is_loopback(host) and not insecure:
        raise _fail(
            f"Refusing to listen on {host} with no API keys: anyone who can reach it could "
            "read every interview. Set RAPPORT_API_KEYS (key=user,key=user or a file), "
            "listen on 127.0.0.1, or pass --insecure."
        )
    try:
        engine = make_engine(settings.database_url)
    except ValueError as error:
        raise _fail(str(error)) from None
    if is_sqlite(engine.url):
        # Once here, before the workers start, so they never race to migrate the same file.
        upgrade(engine)
    engine.dispose()
    who = f"{len(keys)} API key(s)" if keys else "a single local user (no keys)"
    typer.echo(f"Rapport on http://{host}:{port} with {who}.")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        access_log=access_log,
        log_level=settings.log_level.lower(),
    )


@db_cli.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("head", help="the revision to upgrade to"),
) -> None:
    """Run the migrations on RAPPORT_DATABASE_URL (or DATABASE_URL)."""
    from app.store.db import make_engine
    from app.store.migrations import current_revision, upgrade

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = Settings()
    try:
        engine = make_engine(settings.database_url)
    except ValueError as error:
        raise _fail(str(error)) from None
    try:
        upgrade(engine, revision)
        with engine.connect() as connection:
            now = current_revision(connection)
    finally:
        engine.dispose()
    typer.echo(f"Database schema at revision {now} ({engine.url.get_backend_name()}).")
