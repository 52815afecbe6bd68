"""`benchfleet`: the command line and the one composition root of every process."""

from __future__ import annotations

import getpass
import logging
import secrets
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from fleet.settings import Settings, SettingsError, load_settings
from twins.clock import SystemClock
from twins.durations import parse_duration

log = logging.getLogger("benchfleet")


#: Libraries that narrate every connection at INFO: an operator wants their warnings only.
_CHATTY_LOGGERS = ("amqtt", "transitions", "werkzeug", "apscheduler", "engineio", "socketio")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if level.upper() != "DEBUG":
        for name in _CHATTY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def _settings(ctx: click.Context, **flags: Any) -> Settings:
    try:
        settings = load_settings(
            {k: v for k, v in flags.items() if v is not None},
            config_file=ctx.obj.get("config") if ctx.obj else None,
        )
        settings.mqtt_url  # noqa: B018 - parse now so a bad URL stops the start
    except (SettingsError, ValueError) as err:
        raise click.ClickException(str(err)) from None
    return settings


@click.group()
@click.option("--config", type=click.Path(dir_okay=False, path_type=Path), help="TOML settings file ([benchfleet]).")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """BenchFleet: fleet management with digital twins for solar smart benches."""
    ctx.ensure_object(dict)
    if config is not None and not config.exists():
        raise click.ClickException(f"--config: file {config} does not exist")
    ctx.obj["config"] = config


_server_options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    click.option("--mqtt", help="Broker URL (BENCHFLEET_MQTT): mqtt://user:pass@host:1883, mqtts://..., embedded."),
    click.option("--tsdb", help="Time-series store (BENCHFLEET_TSDB): influxdb://host:8086/db or sqlite:///path."),
    click.option("--db", help="Database (BENCHFLEET_DB): sqlite:///path or postgresql://..."),
    click.option("--http", help="Dashboard address host:port (BENCHFLEET_HTTP)."),
    click.option("--auto-register/--no-auto-register", default=None, help="Accept unknown bench ids."),
    click.option("--data-dir", help="Folder for spools and local files (BENCHFLEET_DATA_DIR)."),
]


def server_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The settings flags shared by serve and demo."""
    for option in reversed(_server_options):
        fn = option(fn)
    return fn


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _run_dashboard(runtime: Any, settings: Settings, secret: str, public_results: bool) -> None:
    """Serve the dashboards until interrupted (imports dashboards only here: composition root rule)."""
    from dashboards.app import create_app
    from dashboards.config import DashboardConfig
    from fleet.auth.store import UserStore

    config = DashboardConfig(
        secret_key=secret,
        public_results=public_results,
        tile_url=settings.tile_url or None,
        secure_cookies=settings.http_host not in ("127.0.0.1", "localhost"),
        socketio_message_queue=settings.redis_url or None,
    )
    app = create_app(config, runtime.service, UserStore(runtime.engine))
    live = app.extensions["benchfleet"].live
    runtime.bus.subscribe(live.on_event)  # the one fan-out: the bridge hears the bus, nothing else
    live.start()
    try:
        live.socketio.run(
            app, host=settings.http_host, port=settings.http_port, allow_unsafe_werkzeug=True, log_output=False
        )
    finally:
        live.stop()


def _role_settings(settings: Settings, role: str, slot: int | None) -> Settings:
    """Settings with this process's MQTT client id (see fleet.client_ids) and deprecations logged."""
    from fleet.client_ids import server_client_id

    for line in settings.deprecations():
        log.warning("%s", line)
    client_id = server_client_id(settings.ingest_client_id, Path(settings.data_dir), role, slot)
    return replace(settings, ingest_client_id=client_id)


def _start_relay(runtime: Any, settings: Settings, role: str) -> Any:
    """Cross-process events through BENCHFLEET_REDIS, or None (one process alone needs none)."""
    if not settings.redis_url:
        return None
    from fleet.event_relay import RedisEventRelay, new_origin

    # After an outage the process may have missed events: its cache reloads what SQL holds.
    relay = RedisEventRelay(settings.redis_url, runtime.bus, origin=new_origin(role), on_resync=runtime.cache.reload)
    relay.start()
    return relay


def _stop(*parts: Any) -> None:
    for part in parts:
        if part is not None:
            part.stop()


def _secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key


_worker_option = click.option(
    "--worker",
    type=click.IntRange(0, 9999),
    default=None,
    help="This worker's slot (BENCHFLEET_WORKER, default 0): keep it across restarts so the worker resumes its "
    "MQTT session; give each worker of a share group its own.",
)
_share_option = click.option("--share-group", help="MQTT shared-subscription group (BENCHFLEET_SHARE_GROUP).")
_redis_option = click.option("--redis", help="Redis for events across processes (BENCHFLEET_REDIS).")


def _build_checked(build: Callable[..., Any], settings: Settings) -> Any:
    """Build a runtime; an older database schema stops the start with one line naming `benchfleet migrate`."""
    from fleet.db.migrate import SchemaOutdated

    try:
        return build(settings, SystemClock())
    except SchemaOutdated as err:
        raise click.ClickException(str(err)) from None


@main.command()
@click.option("--db", help="Database (BENCHFLEET_DB): sqlite:///path or postgresql://...")
@click.pass_context
def migrate(ctx: click.Context, /, **flags: Any) -> None:
    """Upgrade the database schema to this version's (a wave-1 database included)."""
    from fleet.db.engine import make_engine
    from fleet.db.migrate import upgrade

    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    _ensure_parent(settings.db)
    engine = make_engine(settings.db)
    try:
        done = upgrade(engine)
    finally:
        engine.dispose()
    click.echo(f"database schema: {done.before or 'none (wave 1 or empty)'} -> {done.after}")


@main.command()
@server_options
@_worker_option
@_share_option
@_redis_option
@click.pass_context
def serve(ctx: click.Context, /, **flags: Any) -> None:
    """Ingestion + dashboard + scheduler against the configured broker and stores."""
    from fleet.runtime import build_runtime

    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    if settings.mqtt_url.embedded:
        raise click.ClickException("BENCHFLEET_MQTT=embedded is for `benchfleet demo`; serve needs a real broker URL")
    settings = _role_settings(settings, "serve", settings.worker)
    runtime = _build_checked(build_runtime, settings)
    relay = _start_relay(runtime, settings, "serve")
    runtime.start()
    runtime.republish_desired()
    click.echo(f"BenchFleet dashboard: http://{settings.http}/")
    try:
        _run_dashboard(runtime, settings, _secret(settings), settings.public_results)
    finally:
        _stop(relay, runtime)


@main.command()
@server_options
@_worker_option
@_share_option
@_redis_option
@click.pass_context
def ingest(ctx: click.Context, /, **flags: Any) -> None:
    """Ingestion only (no dashboard): one of several workers sharing the bench topics."""
    from fleet.runtime import build_runtime

    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    if settings.mqtt_url.embedded:
        raise click.ClickException("BENCHFLEET_MQTT=embedded is for `benchfleet demo`; ingest needs a broker URL")
    settings = _role_settings(settings, "ingest", settings.worker)
    runtime = _build_checked(build_runtime, settings)
    relay = _start_relay(runtime, settings, "ingest")
    if relay is None:
        log.warning("BENCHFLEET_REDIS is not set: dashboards of other processes won't show this worker's changes live")
    runtime.start()
    group = f" in share group {settings.share_group}" if settings.share_group else ""
    click.echo(f"ingesting from {settings.mqtt_url.redacted()} as {settings.ingest_client_id}{group}", err=True)
    try:
        _wait_for_signal()
    finally:
        _stop(relay, runtime)


@main.command()
@server_options
@_redis_option
@click.pass_context
def dashboard(ctx: click.Context, /, **flags: Any) -> None:
    """Web and Socket.IO only: no ingestion, no scheduler; live events come from the other processes."""
    from fleet.runtime import build_runtime

    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    if settings.mqtt_url.embedded:
        raise click.ClickException("BENCHFLEET_MQTT=embedded is for `benchfleet demo`; dashboard needs a broker URL")
    if not settings.redis_url:
        log.warning("BENCHFLEET_REDIS is not set: this dashboard shows only its own changes live, not ingestion's")
    settings = _role_settings(settings, "dashboard", None)
    runtime = _build_checked(build_runtime, settings)
    relay = _start_relay(runtime, settings, "dashboard")
    runtime.cache.start()
    runtime.publisher.start()  # desired configs after a PATCH are still published (retained)
    click.echo(f"BenchFleet dashboard: http://{settings.http}/", err=True)
    try:
        _run_dashboard(runtime, settings, _secret(settings), settings.public_results)
    finally:
        _stop(relay, runtime.publisher, runtime.cache)
        runtime.writer.close()
        runtime.tsdb.close()
        runtime.engine.dispose()


@main.command()
@click.option("--http", default=None, help="Dashboard address host:port (default 127.0.0.1:5000).")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="Keep the demo's data here.")
@click.option("--speed", type=float, default=60.0, show_default=True, help="Simulated seconds per real second.")
@click.option("--realtime", is_flag=True, help="Run the simulated benches in real time (same as --speed 1).")
@click.option("--history", default="7d", show_default=True, help="Simulated history written first (0 for none).")
@click.option("--no-dashboard", is_flag=True, help="Run without the web dashboard (for scripts and tests).")
@click.pass_context
def demo(
    ctx: click.Context,
    http: str | None,
    data_dir: Path | None,
    speed: float,
    realtime: bool,
    history: str,
    no_dashboard: bool,
) -> None:
    """The whole system on one machine: embedded broker and stores, ingestion, dashboard, 12 simulated benches."""
    from fleet.auth.store import UserStore
    from fleet.demo_seed import seed_demo_polls
    from fleet.embedded_broker import EmbeddedBroker
    from fleet.runtime import build_runtime
    from simulator.demo import demo_clock, start_demo_fleet

    try:
        history_span = parse_duration(history) if history not in ("0", "") else None
    except ValueError as err:
        raise click.ClickException(f"--history: {err}") from None
    folder = data_dir or Path(tempfile.mkdtemp(prefix="benchfleet-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    broker = EmbeddedBroker()
    broker.start()
    flags = {
        "mqtt": broker.url,
        "tsdb": f"sqlite:///{folder / 'series.db'}",
        "db": f"sqlite:///{folder / 'fleet.db'}",
        "data_dir": str(folder),
        "http": http,
        "public_results": "1",
    }
    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    # One simulated clock for benches and fleet: accelerated benches stamp simulated time, which a fleet on
    # the wall clock would reject as ts_in_future.
    clock = demo_clock(1.0 if realtime else speed)
    settings = _role_settings(settings, "serve", settings.worker)
    runtime = build_runtime(settings, clock, auto_migrate=True)  # the demo's own database: just upgrade it
    runtime.start()
    if history_span is not None:
        _write_history(runtime, clock.now(), history_span)
    seed_demo_polls(runtime.service)
    users = UserStore(runtime.engine)
    password = secrets.token_urlsafe(9)
    if users.get_user("admin") is None:
        users.add_user("admin", password, "admin", locale="en")
    else:
        password = "(unchanged from the earlier run in this data folder)"
    fleet = start_demo_fleet(broker.url, folder / "benches", speed=clock.speed, clock=clock)
    click.echo(f"BenchFleet demo: {len(runtime.repo)} benches, embedded broker at {broker.url}, data in {folder}")
    click.echo(f"Dashboard: http://{settings.http}/  (login admin / {password})")
    try:
        if no_dashboard:
            _wait_for_signal()
        else:
            _run_dashboard(runtime, settings, _secret(settings), True)
    finally:
        fleet.stop()
        runtime.stop()
        broker.stop()


def _write_history(runtime: Any, end: Any, span: Any) -> None:
    """Simulated history of the 12 benches before the demo starts, so the charts are not empty."""
    from simulator.backfill_run import run_backfill
    from simulator.sites import seed_sites

    report = run_backfill(seed_sites(), 2023, end, span, runtime.writer.write, progress=False)
    click.echo(f"history: {report.samples} simulated samples before now written in {report.total_s:.1f} s")


@main.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def agent(args: tuple[str, ...]) -> None:
    """The bench agent (real or simulated hardware); `benchfleet agent --help` lists its flags."""
    # The flags are defined once, in firmware_agent/flags.py, and shared with `python -m firmware_agent`.
    from firmware_agent.flags import parse_agent_args
    from firmware_agent.main import run_agent

    try:
        options = parse_agent_args(list(args), prog="benchfleet agent")
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    _configure_logging("INFO")
    sys.exit(run_agent(options))


@main.command()
@click.option("--mqtt", "mqtt_url", envvar="BENCHFLEET_MQTT", default="mqtt://127.0.0.1:1883", show_default=True)
@click.option("--benches", type=int, default=12, show_default=True, help="How many benches (the 12 real ones first).")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per real second.")
@click.option("--seed", type=int, default=2023, show_default=True)
@click.option(
    "--scenario", type=click.Path(dir_okay=False, path_type=Path), help="Scenario TOML with scheduled faults."
)
@click.option("--backfill", default=None, help="Write this much history (e.g. 365d) straight into --tsdb, then exit.")
@click.option("--tsdb", envvar="BENCHFLEET_TSDB", default=None, help="Time-series store for --backfill.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None)
@click.option("--duration", type=float, default=None, help="Stop after this many real seconds.")
def simulate(**kwargs: Any) -> None:
    """N simulated benches against a broker (or a backfill of history into the TSDB)."""
    from simulator.cli import run_simulate

    try:
        code = run_simulate(**kwargs)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    sys.exit(code)


def _user_store(ctx: click.Context) -> Any:
    from fleet.auth.store import UserStore
    from fleet.db.engine import make_engine

    settings = _settings(ctx)
    _ensure_parent(settings.db)
    return UserStore(make_engine(settings.db))


def _audit_cli(ctx: click.Context, action: str, target: str, before: Any = None, after: Any = None) -> None:
    """Append a user/token change to the audit log (fleet.ops.audit)."""
    from fleet.db.engine import make_engine
    from fleet.ops.audit import record_cli

    record_cli(make_engine(_settings(ctx).db), action, target, before, after)


def _ensure_parent(db_url: str) -> None:
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


@main.group()
def user() -> None:
    """Dashboard users."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "maintenance", "municipality"]), required=True)
@click.option("--municipality", default=None, help="Required for role municipality.")
@click.option("--locale", default="bs", show_default=True)
@click.pass_context
def user_add(ctx: click.Context, name: str, role: str, municipality: str | None, locale: str) -> None:
    """Create a user; the password is read from standard input (or prompted)."""
    from fleet.auth.store import UserError

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        created = _user_store(ctx).add_user(name, password, role, municipality, locale)
    except UserError as err:
        raise click.ClickException(str(err)) from None
    _audit_cli(ctx, "user.add", f"user:{name}", None, {"role": created.role, "municipality": created.municipality})
    click.echo(f"user {created.name} ({created.role}{', ' + created.municipality if created.municipality else ''})")


@user.command("list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List users."""
    for u in _user_store(ctx).list_users():
        click.echo(f"{u.name}\t{u.role}\t{u.municipality or '-'}\t{u.locale}")


@user.command("remove")
@click.argument("name")
@click.pass_context
def user_remove(ctx: click.Context, name: str) -> None:
    """Remove a user and their tokens."""
    if not _user_store(ctx).remove_user(name):
        raise click.ClickException(f"no user {name!r}")
    _audit_cli(ctx, "user.remove", f"user:{name}", {"name": name}, None)
    click.echo(f"removed {name}")


@main.group()
def token() -> None:
    """API tokens for scripts."""


@token.command("create")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@click.pass_context
def token_create(ctx: click.Context, name: str, label: str) -> None:
    """Print a new API token for user NAME (shown once; only its hash is stored)."""
    from fleet.auth.store import UserError

    try:
        click.echo(_user_store(ctx).create_token(name, label))
        _audit_cli(ctx, "token.create", f"user:{name}", None, {"label": label})
    except UserError as err:
        raise click.ClickException(str(err)) from None


@main.group()
def benches() -> None:
    """The bench registry."""


@benches.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def benches_import(ctx: click.Context, csv_file: Path) -> None:
    """Add or update benches from a CSV with the columns of benches.csv."""
    from fleet.db.engine import make_engine
    from fleet.db.migrate import SchemaOutdated, ensure_schema
    from fleet.db.store import SqlStore
    from fleet.registry import RegistryCsvError, load_csv
    from fleet.state.twin_store import TwinStore

    settings = _settings(ctx)
    try:
        records = load_csv(csv_file)
    except RegistryCsvError as err:
        raise click.ClickException(str(err)) from None
    _ensure_parent(settings.db)
    engine = make_engine(settings.db)
    try:
        ensure_schema(engine, auto_upgrade=False)
    except SchemaOutdated as err:
        raise click.ClickException(str(err)) from None
    store = SqlStore(engine)
    twins = TwinStore(engine)
    twins.register(records, SystemClock().now())  # registry rows and, for new benches, their twin rows
    click.echo(f"imported {len(records)} benches; registry has {store.count_benches()}")
    _announce_benches(settings, list(twins.get_twins([r.bench_id for r in records]).values()))


def _announce_benches(settings: Settings, twins: list[Any]) -> None:
    """Tell running processes about added or changed benches (through BENCHFLEET_REDIS), so no restart is needed."""
    if not settings.redis_url or not twins:
        return
    import redis

    from fleet.event_relay import new_origin, publish_events
    from fleet.events import TwinChanged

    try:
        sent = publish_events(settings.redis_url, [TwinChanged(t, "attributes") for t in twins], new_origin("import"))
    except (redis.RedisError, OSError) as err:
        click.echo(
            f"warning: Redis unreachable ({err}); running processes see these benches after a resync or restart",
            err=True,
        )
        return
    click.echo(f"announced {sent} benches to running processes", err=True)


@benches.command("list")
@click.pass_context
def benches_list(ctx: click.Context) -> None:
    """List registered benches."""
    from fleet.db.engine import make_engine
    from fleet.db.store import SqlStore

    settings = _settings(ctx)
    _ensure_parent(settings.db)
    store = SqlStore(make_engine(settings.db))
    store.create_schema()
    for rec in store.list_benches():
        a = rec.attributes
        click.echo(f"{rec.bench_id}\t{a.municipality}\t{a.lat:.4f}\t{a.lon:.4f}")


# -- backup and restore of the SQL database (fleet/backup.py, docs/backup.md) -------------------------------
@main.command()
@click.option("--db", help="Database (BENCHFLEET_DB) to back up.")
@click.option("--folder", type=click.Path(file_okay=False, path_type=Path), help="Default: BENCHFLEET_BACKUP_DIR.")
@click.option("--keep", type=click.IntRange(min=1), default=None, help="Backups kept (BENCHFLEET_BACKUP_KEEP).")
@click.pass_context
def backup(ctx: click.Context, db: str | None, folder: Path | None, keep: int | None) -> None:
    """Back up the SQL database now (pg_dump or SQLite's backup API) and keep the newest backups."""
    from fleet.backup import BackupError, BackupJob

    settings = _settings(ctx, db=db)
    default = BackupJob.from_settings(settings, SystemClock())
    job = BackupJob(settings.db, folder or default.folder, keep or default.keep, SystemClock())
    try:
        path = job.backup_now()
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(str(path))


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", help="Database (BENCHFLEET_DB) to restore into; created if it does not exist.")
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's content.")
@click.pass_context
def restore(ctx: click.Context, file: Path, db: str | None, yes: bool) -> None:
    """Replace the SQL database's content with the backup FILE (stop the servers first)."""
    from fleet.backup import BackupError, redacted, restore_database

    settings = _settings(ctx, db=db)
    if not yes:
        click.confirm(f"Replace everything in {redacted(settings.db)} with {file}?", abort=True)
    try:
        restore_database(settings.db, file)
    except BackupError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"restored {file} into {redacted(settings.db)}")


if __name__ == "__main__":
    main()
