"""The ``loyalty`` command line: serve, migrate, run the demo, and small admin chores.

Every command reads its settings from the environment (``LOYALTY_*``, see the README), and
starts the embedded PostgreSQL when ``LOYALTY_DATABASE_URL`` is unset. Commands print what
a script needs on stdout (a key, a token, the SDL) and everything else on stderr, so
``TOKEN=$(loyalty token ...)`` works. Exit codes: 0 success, 1 the command failed, 2 usage.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loyalty_core.apikeys.service import create_api_key
from loyalty_core.auth import Role, Scope
from loyalty_core.db.engine import Database
from loyalty_core.errors import LoyaltyError
from loyalty_core.members import repository as members_repo
from loyalty_core.modules.manager import ModuleRegistry, build_registry
from loyalty_core.settings import Settings
from loyalty_core.tenants.models import Tenant
from loyalty_core.tenants.service import create_tenant

from loyalty_gateway import demo
from loyalty_gateway.bootstrap import (
    load_settings,
    migrate_database,
    open_database,
    prepare_database,
    resolve_database,
    serve_app,
    tenant_by_slug,
)
from loyalty_gateway.composition import export_sdl
from loyalty_gateway.jobs import run_jobs_once
from loyalty_gateway.tokens import (
    DEFAULT_TTL,
    TOKEN_ROLES,
    DevTokensDisabled,
    ensure_dev_tokens_allowed,
    mint_token,
)

CLI_ACTOR = "platform:cli"
"""How the audit log names changes made from the command line."""

_DURATION = re.compile(r"(\d+)([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

Handler = Callable[[argparse.Namespace], int]


class CommandError(Exception):
    """A command cannot do what it was asked; the message says why (exit code 1)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``loyalty`` command; the console script's entry point."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except (CommandError, DevTokensDisabled) as exc:
        _fail(str(exc))
    except LoyaltyError as exc:
        where = f" ({exc.field})" if exc.field else ""
        _fail(f"{exc.code.value}{where}: {exc.message}")
    except KeyboardInterrupt:
        return 130
    return 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of every subcommand (tests check that all of them exist)."""
    parser = argparse.ArgumentParser(
        prog="loyalty",
        description="Loyalty orchestrator: GraphQL gateway, migrations, demo and admin tools.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_serve(commands)
    _add_migrate(commands)
    _add_demo(commands)
    _add_tenant(commands)
    _add_apikey(commands)
    _add_token(commands)
    _add_modules(commands)
    _add_schema(commands)
    _add_jobs(commands)
    return parser


# -- parsers -------------------------------------------------------------------------------


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL API",
        description="Serve GraphQL over HTTP and WebSocket. Without LOYALTY_DATABASE_URL the "
        "embedded PostgreSQL is started (and migrated, in development).",
    )
    serve.add_argument("--host", help="address to bind (default: LOYALTY_HOST)")
    serve.add_argument("--port", type=int, help="port to bind (default: LOYALTY_PORT)")
    serve.set_defaults(handler=_serve)


def _add_migrate(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="upgrade the database schema and create the app role",
        description="Upgrade the core's and every installed module's migrations to head, "
        "and create or update the non-owner app role. Runs as the owner; safe to run again.",
    )
    migrate.set_defaults(handler=_migrate)


def _add_demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = commands.add_parser(
        "demo",
        help="seed a demo programme, print credentials, serve",
        description="Start the embedded PostgreSQL, migrate, seed the demo tenant (once), "
        "print URLs and ready-to-use credentials, then serve until Ctrl-C.",
    )
    run.add_argument(
        "--data-dir", type=Path, help="folder for the database and credentials (LOYALTY_DATA_DIR)"
    )
    run.add_argument("--host", help="address to bind (default: LOYALTY_HOST)")
    run.add_argument("--port", type=int, help="port to bind (default: LOYALTY_PORT)")
    run.add_argument(
        "--no-serve", action="store_true", help="print the credentials and exit (for scripts)"
    )
    run.set_defaults(handler=_demo)


def _add_tenant(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants")
    actions = tenant.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a tenant with its `points` asset")
    create.add_argument("--slug", required=True, help="short unique name, e.g. `demo`")
    create.add_argument("--name", required=True, help="display name of the programme")
    create.add_argument("--timezone", default="UTC", help="IANA time zone (default: UTC)")
    create.add_argument("--currency", default="EUR", help="default currency (default: EUR)")
    create.add_argument(
        "--earn-rate",
        action="append",
        default=[],
        metavar="CUR=RATE",
        help="points per currency unit, repeatable (default: 1 per default currency unit)",
    )
    create.add_argument("--expiry-days", type=int, help="points expire this many days after earn")
    create.add_argument("--pending-days", type=int, default=0, help="days before points count")
    create.set_defaults(handler=_tenant_create)


def _add_apikey(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    apikey = commands.add_parser("apikey", help="manage touchpoint API keys")
    actions = apikey.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", help="create an API key and print it (it is shown only once)"
    )
    create.add_argument("--tenant", required=True, metavar="SLUG", help="the tenant's slug")
    create.add_argument("--name", required=True, help="what the key is for, e.g. `POS Berlin`")
    create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=[s.value for s in Scope],
        help="a scope the key grants, repeatable",
    )
    create.set_defaults(handler=_apikey_create)


def _add_token(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = commands.add_parser(
        "token",
        help="mint a development JWT (refused in production)",
        description="Mint an HS256 token signed with LOYALTY_JWT_SECRET. Development only: "
        "refused when LOYALTY_ENVIRONMENT=production.",
    )
    token.add_argument("--role", required=True, choices=[r.value for r in TOKEN_ROLES])
    token.add_argument("--tenant", metavar="SLUG", help="the tenant (admin and member tokens)")
    token.add_argument("--member", metavar="ID", help="the member's id (member tokens)")
    token.add_argument("--subject", help="the `sub` claim of admin and platform tokens")
    token.add_argument(
        "--ttl", type=_duration, default=DEFAULT_TTL, help="lifetime, e.g. 3600, 45m, 12h, 30d"
    )
    token.set_defaults(handler=_token)


def _add_modules(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    modules = commands.add_parser(
        "modules", help="list installed modules, and the ones that failed to load"
    )
    modules.set_defaults(handler=_modules)


def _add_schema(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schema = commands.add_parser("schema", help="the composed GraphQL schema")
    actions = schema.add_subparsers(title="actions", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="print the SDL of core plus every installed module")
    export.add_argument("--output", "-o", type=Path, help="write to this file instead")
    export.set_defaults(handler=_schema_export)


def _add_jobs(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    jobs = commands.add_parser("jobs", help="periodic jobs (expiry, pending release, ...)")
    actions = jobs.add_subparsers(title="actions", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run every job once for every tenant, print counts")
    run.set_defaults(handler=_jobs_run)


# -- handlers ------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    settings = _with_address(load_settings(), args)
    registry = build_registry()
    resolved = resolve_database(settings)
    asyncio.run(prepare_database(resolved, registry))
    serve_app(resolved.settings, registry)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    registry = build_registry()
    resolved = resolve_database(load_settings())
    asyncio.run(migrate_database(resolved.settings, registry))
    print("migrations at head; app role ready", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    settings = _with_address(load_settings(data_dir=args.data_dir), args)
    return demo.run_demo(settings, serve=not args.no_serve)


def _tenant_create(args: argparse.Namespace) -> int:
    rates = dict(_earn_rate(value) for value in args.earn_rate) or None
    if args.expiry_days is not None and args.expiry_days <= 0:
        raise CommandError("--expiry-days must be positive")
    if args.pending_days < 0:
        raise CommandError("--pending-days must not be negative")

    async def create(settings: Settings) -> Tenant:
        async with open_database(settings) as database, database.platform_transaction() as conn:
            return await create_tenant(
                conn,
                slug=args.slug,
                name=args.name,
                timezone=args.timezone,
                default_currency=args.currency,
                earn_rates=rates,
                points_expiry_days=args.expiry_days,
                points_pending_days=args.pending_days,
            )

    tenant = asyncio.run(create(_ready_settings()))
    print(f"created tenant {tenant.slug}: {tenant.id}")
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    async def create(settings: Settings) -> str:
        async with open_database(settings) as database:
            tenant = await _require_tenant(database, args.tenant)
            async with database.tenant_transaction(tenant.id) as conn:
                issued = await create_api_key(
                    conn, tenant.id, name=args.name, scopes=args.scope, actor=CLI_ACTOR
                )
        return issued.secret

    secret = asyncio.run(create(_ready_settings()))
    print(secret)
    print(
        f"API key {args.name!r} for {args.tenant}; send it as `X-Api-Key`. "
        "It is not stored in clear and will not be shown again.",
        file=sys.stderr,
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    settings = load_settings()
    ensure_dev_tokens_allowed(settings)
    role = Role(args.role)
    if role is Role.PLATFORM:
        if args.tenant or args.member:
            raise CommandError("platform tokens take neither --tenant nor --member")
        subject = args.subject or "platform-admin"
        print(mint_token(settings, role=role, subject=subject, ttl=args.ttl))
        return 0
    if not args.tenant:
        raise CommandError(f"{role.value} tokens need --tenant SLUG")
    if role is Role.MEMBER and not args.member:
        raise CommandError("member tokens need --member ID")
    if role is Role.ADMIN and args.member:
        raise CommandError("admin tokens take no --member")
    tenant_id, subject = asyncio.run(_token_subject(_ready_settings(settings), args, role))
    print(mint_token(settings, role=role, subject=subject, tenant_id=tenant_id, ttl=args.ttl))
    return 0


def _modules(args: argparse.Namespace) -> int:
    registry = build_registry()
    width = max((len(name) for name in registry.modules), default=0)
    for name, module in sorted(registry.modules.items()):
        info = module.info
        print(f"{name:<{width}}  {info.version:<10} {info.description}")
    for failure in registry.failures:
        print(f"{failure.name}: FAILED to load: {failure.reason}")
    return 0


def _schema_export(args: argparse.Namespace) -> int:
    sdl = export_sdl(build_registry())
    if not sdl.endswith("\n"):
        sdl += "\n"
    if args.output is None:
        sys.stdout.write(sdl)
    else:
        args.output.write_text(sdl, encoding="utf-8")
    return 0


def _jobs_run(args: argparse.Namespace) -> int:
    registry = build_registry()
    settings = _ready_settings(registry=registry)

    async def run() -> dict[str, int]:
        async with open_database(settings) as database:
            return await run_jobs_once(database, registry, datetime.now(UTC))

    counts = asyncio.run(run())
    for name, count in sorted(counts.items()):
        print(f"{name}: {count}")
    return 0


# -- helpers -------------------------------------------------------------------------------


def _ready_settings(
    settings: Settings | None = None, *, registry: ModuleRegistry | None = None
) -> Settings:
    """Settings with a database URL, the database started and (embedded, development)
    migrated: what every command that reads or writes data starts with."""
    resolved = resolve_database(settings or load_settings())
    asyncio.run(prepare_database(resolved, registry or build_registry()))
    return resolved.settings


async def _require_tenant(database: Database, slug: str) -> Tenant:
    tenant = await tenant_by_slug(database, slug)
    if tenant is None:
        raise CommandError(f"no tenant with slug {slug!r}")
    return tenant


async def _token_subject(
    settings: Settings, args: argparse.Namespace, role: Role
) -> tuple[uuid.UUID, str]:
    """The tenant id, and the subject: for a member token, a member of that tenant."""
    async with open_database(settings) as database:
        tenant = await _require_tenant(database, args.tenant)
        if role is Role.ADMIN:
            return tenant.id, args.subject or "cli-admin"
        member_id = _member_id(args.member)
        async with database.tenant_transaction(tenant.id) as conn:
            member = await members_repo.get(conn, tenant.id, member_id)
        if member is None:
            raise CommandError(f"tenant {args.tenant} has no member {args.member}")
        return tenant.id, str(member.id)


def _member_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise CommandError(f"--member must be a member id, not {value!r}") from exc


def _with_address(settings: Settings, args: argparse.Namespace) -> Settings:
    """Command-line --host/--port win over LOYALTY_HOST/LOYALTY_PORT."""
    update: dict[str, object] = {}
    if args.host is not None:
        update["host"] = args.host
    if args.port is not None:
        update["port"] = args.port
    return settings.model_copy(update=update) if update else settings


def _earn_rate(value: str) -> tuple[str, str]:
    currency, sep, rate = value.partition("=")
    if not sep or not currency or not rate:
        raise CommandError(f"--earn-rate takes CUR=RATE, e.g. EUR=1, not {value!r}")
    return currency.strip().upper(), rate.strip()


def _duration(value: str) -> timedelta:
    """``3600``, ``90s``, ``45m``, ``12h`` or ``30d`` as a timedelta (argparse type)."""
    match = _DURATION.fullmatch(value.strip())
    if match is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"not a positive duration: {value!r} (e.g. 30d, 12h)")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _fail(message: str) -> None:
    print(f"loyalty: error: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["build_parser", "main"]
