"""The ``loyalty`` command line: serve, migrate, run the demo, and small admin chores.

Every command reads its settings from the environment (``LOYALTY_*``, see the README), and
starts the embedded PostgreSQL when ``LOYALTY_DATABASE_URL`` is unset. Commands print what
a script needs on stdout (a key, a token, the SDL) and everything else on stderr, so
``TOKEN=$(loyalty token ...)`` works. Exit codes: 0 success, 1 the command failed, 2 usage.

Which database: every command that uses one takes ``--data-dir`` (else ``LOYALTY_DATA_DIR``,
else a folder in the user's data directory) and says on stderr which one it uses. Only
``serve``, ``migrate`` and ``demo`` create an embedded database where there is none; the
others refuse, naming the folder they looked in, since a new empty database is never what
``loyalty apikey create`` after ``loyalty demo --data-dir X`` meant.

Start-up: this module imports only what the parser needs. Each command imports the rest
(SQLAlchemy, the modules, the gateway) when it runs, so ``loyalty --help`` and ``loyalty
token`` answer at once instead of after the seconds the whole gateway takes to import
(``tests/test_cli.py`` keeps it so).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import uuid
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyalty_core.auth import Role, Scope
from loyalty_core.errors import LoyaltyError

from loyalty_gateway.tokens import DEFAULT_TTL, TOKEN_ROLES, DevTokensDisabled

if TYPE_CHECKING:
    from loyalty_core.db.engine import Database
    from loyalty_core.modules.manager import ModuleRegistry
    from loyalty_core.settings import Settings
    from loyalty_core.tenants.models import Tenant

    Commands = argparse._SubParsersAction[argparse.ArgumentParser]

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
    database = _database_options()
    _add_serve(commands, database)
    _add_migrate(commands, database)
    _add_demo(commands, database)
    _add_tenant(commands, database)
    _add_apikey(commands, database)
    _add_token(commands, database)
    _add_modules(commands)
    _add_module(commands)
    _add_schema(commands)
    _add_jobs(commands, database)
    return parser


# -- parsers -------------------------------------------------------------------------------


def _database_options() -> argparse.ArgumentParser:
    """``--data-dir``, shared by every command that uses the database."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help="folder of the embedded PostgreSQL (default: LOYALTY_DATA_DIR, else `loyalty` "
        "in the user data directory); unused when LOYALTY_DATABASE_URL is set",
    )
    return options


def _add_serve(commands: Commands, database: argparse.ArgumentParser) -> None:
    serve = commands.add_parser(
        "serve",
        parents=[database],
        help="serve the GraphQL API",
        description="Serve GraphQL over HTTP and WebSocket. Without LOYALTY_DATABASE_URL the "
        "embedded PostgreSQL is started (and migrated, in development).",
    )
    serve.add_argument("--host", help="address to bind (default: LOYALTY_HOST)")
    serve.add_argument("--port", type=int, help="port to bind (default: LOYALTY_PORT)")
    serve.set_defaults(handler=_serve)


def _add_migrate(commands: Commands, database: argparse.ArgumentParser) -> None:
    migrate = commands.add_parser(
        "migrate",
        parents=[database],
        help="upgrade the database schema and create the app role",
        description="Upgrade the core's and every installed module's migrations to head, "
        "and create or update the non-owner app role. Runs as the owner; safe to run again.",
    )
    migrate.set_defaults(handler=_migrate)


def _add_demo(commands: Commands, database: argparse.ArgumentParser) -> None:
    run = commands.add_parser(
        "demo",
        parents=[database],
        help="seed a demo programme, print credentials, serve",
        description="Start the embedded PostgreSQL, migrate, seed the demo tenant (once), "
        "print URLs and ready-to-use credentials, then serve until Ctrl-C.",
    )
    run.add_argument("--host", help="address to bind (default: LOYALTY_HOST)")
    run.add_argument("--port", type=int, help="port to bind (default: LOYALTY_PORT)")
    run.add_argument(
        "--no-serve",
        action="store_true",
        help="print the credentials and how to serve them, and exit (for scripts)",
    )
    run.set_defaults(handler=_demo)


def _add_tenant(commands: Commands, database: argparse.ArgumentParser) -> None:
    tenant = commands.add_parser("tenant", help="manage tenants")
    actions = tenant.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create", parents=[database], help="create a tenant with its `points` asset"
    )
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


def _add_apikey(commands: Commands, database: argparse.ArgumentParser) -> None:
    apikey = commands.add_parser("apikey", help="manage touchpoint API keys")
    actions = apikey.add_subparsers(title="actions", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create",
        parents=[database],
        help="create an API key and print it (it is shown only once)",
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


def _add_token(commands: Commands, database: argparse.ArgumentParser) -> None:
    token = commands.add_parser(
        "token",
        parents=[database],
        help="mint a development JWT (refused in production)",
        description="Mint an HS256 token signed with LOYALTY_JWT_SECRET. Development only: "
        "refused when LOYALTY_ENVIRONMENT=production. Admin and member tokens look the "
        "tenant (and member) up in the database.",
    )
    token.add_argument("--role", required=True, choices=[r.value for r in TOKEN_ROLES])
    token.add_argument("--tenant", metavar="SLUG", help="the tenant (admin and member tokens)")
    token.add_argument("--member", metavar="ID", help="the member's id (member tokens)")
    token.add_argument("--subject", help="the `sub` claim of admin and platform tokens")
    token.add_argument(
        "--ttl", type=_duration, default=DEFAULT_TTL, help="lifetime, e.g. 3600, 45m, 12h, 30d"
    )
    token.set_defaults(handler=_token)


def _add_modules(commands: Commands) -> None:
    modules = commands.add_parser(
        "modules", help="list installed modules, and the ones that failed to load"
    )
    modules.set_defaults(handler=_modules)


def _add_module(commands: Commands) -> None:
    module = commands.add_parser("module", help="write a module of your own")
    actions = module.add_subparsers(title="actions", metavar="ACTION", required=True)
    new = actions.add_parser("new", help="write a module distribution that works as generated")
    new.add_argument("name", help="lowercase identifier: tables' prefix, package loyalty_NAME")
    new.add_argument("--dir", type=Path, help="where to write it (default: ./loyalty-NAME)")
    new.set_defaults(handler=_module_new)


def _add_schema(commands: Commands) -> None:
    schema = commands.add_parser("schema", help="the composed GraphQL schema")
    actions = schema.add_subparsers(title="actions", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="print the SDL of core plus every installed module")
    export.add_argument("--output", "-o", type=Path, help="write to this file instead")
    export.set_defaults(handler=_schema_export)


def _add_jobs(commands: Commands, database: argparse.ArgumentParser) -> None:
    jobs = commands.add_parser("jobs", help="periodic jobs (expiry, pending release, ...)")
    actions = jobs.add_subparsers(title="actions", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", parents=[database], help="run every job once for every tenant, print counts"
    )
    run.add_argument("--tenant", metavar="SLUG", help="run them for this tenant only")
    run.set_defaults(handler=_jobs_run)


# -- handlers ------------------------------------------------------------------------------
# Each handler imports what it uses: see the module's docstring.


def _serve(args: argparse.Namespace) -> int:
    settings, registry = _ready_database(args, create=True)
    from loyalty_gateway.bootstrap import serve_app

    serve_app(_with_address(settings, args), registry)
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from loyalty_core.modules.manager import build_registry

    from loyalty_gateway.bootstrap import migrate_database, resolve_database

    registry = build_registry()
    resolved = resolve_database(_chosen_database(args, create=True))
    _migrating(migrate_database(resolved.settings, registry))
    print("migrations at head; app role ready", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    from loyalty_gateway import demo

    settings = _with_address(_settings(args), args)
    _announce_database(settings, args)
    return demo.run_demo(settings, serve=not args.no_serve)


def _tenant_create(args: argparse.Namespace) -> int:
    rates = dict(_earn_rate(value) for value in args.earn_rate) or None
    if args.expiry_days is not None and args.expiry_days <= 0:
        raise CommandError("--expiry-days must be positive")
    if args.pending_days < 0:
        raise CommandError("--pending-days must not be negative")

    async def create(settings: Settings) -> Tenant:
        from loyalty_core.tenants.service import create_tenant

        from loyalty_gateway.bootstrap import open_database

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

    settings, _ = _ready_database(args, create=False)
    tenant = asyncio.run(create(settings))
    print(f"created tenant {tenant.slug}: {tenant.id}")
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    async def create(settings: Settings) -> str:
        from loyalty_core.apikeys.service import create_api_key

        from loyalty_gateway.bootstrap import open_database

        async with open_database(settings) as database:
            tenant = await _require_tenant(database, args.tenant)
            async with database.tenant_transaction(tenant.id) as conn:
                issued = await create_api_key(
                    conn, tenant.id, name=args.name, scopes=args.scope, actor=CLI_ACTOR
                )
        return issued.secret

    settings, _ = _ready_database(args, create=False)
    secret = asyncio.run(create(settings))
    print(secret)
    print(
        f"API key {args.name!r} for {args.tenant}; send it as `X-Api-Key`. "
        "It is not stored in clear and will not be shown again.",
        file=sys.stderr,
    )
    return 0


def _token(args: argparse.Namespace) -> int:
    from loyalty_gateway.tokens import ensure_dev_tokens_allowed, mint_token

    settings = _settings(args)
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
    database_settings, _ = _ready_database(args, create=False)
    tenant_id, subject = asyncio.run(_token_subject(database_settings, args, role))
    print(mint_token(settings, role=role, subject=subject, tenant_id=tenant_id, ttl=args.ttl))
    return 0


def _modules(args: argparse.Namespace) -> int:
    from loyalty_core.modules.manager import build_registry

    registry = build_registry()
    width = max((len(name) for name in registry.modules), default=0)
    for name, module in sorted(registry.modules.items()):
        info = module.info
        print(f"{name:<{width}}  {info.version:<10} {info.description}")
        print(f"{'':<{width}}  from {module.origin or 'an import (not installed)'}")
    for failure in registry.failures:
        print(f"{failure.name}: FAILED to load: {failure.reason}")
    return 0


def _module_new(args: argparse.Namespace) -> int:
    from loyalty_gateway.scaffold import (  # imported here: start-up stays light
        ScaffoldError,
        new_module,
    )

    try:
        path = new_module(args.name, args.dir)
    except ScaffoldError as exc:
        raise CommandError(str(exc)) from exc
    print(f"wrote module {args.name!r} to {path}; see its README.md to test and install it")
    return 0


def _schema_export(args: argparse.Namespace) -> int:
    from loyalty_core.modules.manager import build_registry

    from loyalty_gateway.composition import export_sdl

    sdl = export_sdl(build_registry())
    if not sdl.endswith("\n"):
        sdl += "\n"
    if args.output is None:
        sys.stdout.write(sdl)
    else:
        args.output.write_text(sdl, encoding="utf-8")
    return 0


def _jobs_run(args: argparse.Namespace) -> int:
    settings, registry = _ready_database(args, create=False)

    async def run() -> dict[str, int]:
        from datetime import UTC, datetime

        from loyalty_gateway.bootstrap import open_database
        from loyalty_gateway.jobs import run_jobs_once

        async with open_database(settings) as database:
            only = None if args.tenant is None else [await _require_tenant(database, args.tenant)]
            return await run_jobs_once(database, registry, datetime.now(UTC), tenants=only)

    counts = asyncio.run(run())
    for name, count in sorted(counts.items()):
        print(f"{name}: {count}")
    return 0


# -- the database a command uses -------------------------------------------------------------


def _settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment; ``--data-dir`` wins over ``LOYALTY_DATA_DIR``."""
    from loyalty_core.settings import Settings

    settings = Settings()
    if getattr(args, "data_dir", None) is not None:
        data_dir = args.data_dir.expanduser().resolve()
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings


def _ready_database(args: argparse.Namespace, *, create: bool) -> tuple[Settings, ModuleRegistry]:
    """Settings with a database URL, the database started and (embedded, development)
    migrated, and the modules it was migrated for: what every command that reads or
    writes data starts with."""
    chosen = _chosen_database(args, create=create)
    from loyalty_core.modules.manager import build_registry

    from loyalty_gateway.bootstrap import prepare_database, resolve_database

    registry = build_registry()
    resolved = resolve_database(chosen)
    _migrating(prepare_database(resolved, registry))
    return resolved.settings, registry


def _migrating(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work``, which may migrate: a revision of a module no longer installed is then
    this command's error, in one line, instead of a traceback."""
    from loyalty_core.db.migrate import UninstalledModuleRevisions

    try:
        asyncio.run(work)
    except UninstalledModuleRevisions as exc:
        raise CommandError(str(exc)) from exc


def _chosen_database(args: argparse.Namespace, *, create: bool) -> Settings:
    """The settings, once stderr says which database they name. Unless ``create``, an
    embedded database that does not exist yet is refused rather than initialised."""
    from loyalty_core.db.embedded import embedded_exists

    settings = _settings(args)
    if not create and settings.database_url is None and not embedded_exists(settings.data_dir):
        raise CommandError(
            f"no database in {settings.data_dir} ({_data_dir_origin(args)}), and this "
            "command does not create one. Create it with `loyalty demo` or `loyalty migrate`, "
            "or choose the database with --data-dir PATH, LOYALTY_DATA_DIR or "
            "LOYALTY_DATABASE_URL."
        )
    _announce_database(settings, args)
    return settings


def _announce_database(settings: Settings, args: argparse.Namespace) -> None:
    """Say on stderr which database the command uses, and how to choose another."""
    if settings.database_url is not None:
        where = settings.owner_url.render_as_string(hide_password=True)
        print(f"loyalty: database {where} (LOYALTY_DATABASE_URL)", file=sys.stderr)
        return
    origin = _data_dir_origin(args)
    choose = "; choose another with --data-dir or LOYALTY_DATA_DIR" if "default" in origin else ""
    print(
        f"loyalty: embedded database in {settings.data_dir} ({origin}{choose})",
        file=sys.stderr,
    )


def _data_dir_origin(args: argparse.Namespace) -> str:
    if getattr(args, "data_dir", None) is not None:
        return "from --data-dir"
    if "LOYALTY_DATA_DIR" in os.environ:
        return "from LOYALTY_DATA_DIR"
    return "the default folder"


# -- helpers -------------------------------------------------------------------------------


async def _require_tenant(database: Database, slug: str) -> Tenant:
    from loyalty_gateway.bootstrap import tenant_by_slug

    tenant = await tenant_by_slug(database, slug)
    if tenant is None:
        raise CommandError(f"no tenant with slug {slug!r}")
    return tenant


async def _token_subject(
    settings: Settings, args: argparse.Namespace, role: Role
) -> tuple[uuid.UUID, str]:
    """The tenant id, and the subject: for a member token, a member of that tenant."""
    from loyalty_core.members import repository as members_repo

    from loyalty_gateway.bootstrap import open_database

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
