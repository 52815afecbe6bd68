"""`benchfleet`: the command line and the one composition root of every process."""

from __future__ import annotations

import functools
import getpass
import logging
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from fleet.ops.alarms_cli import alarm_commands
from fleet.settings import Settings, SettingsError, load_settings, parse_mqtt_url
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


def _run_dashboard(
    runtime: Any,
    settings: Settings,
    secret: str,
    public_results: bool,
    simulated_speed: float | None = None,
    kiosk_urls: tuple[tuple[str, str], ...] = (),
) -> None:
    """Serve the dashboards until interrupted (imports dashboards only here: composition root rule)."""
    from dashboards.app import create_app
    from dashboards.config import DashboardConfig
    from fleet.auth.store import UserStore
    from fleet.ops.audit import AuditLog
    from fleet.reports.desk import ReportDesk
    from fleet.reports.publication import Publications

    config = DashboardConfig(
        secret_key=secret,
        public_results=public_results,
        tile_url=settings.tile_url or None,
        secure_cookies=settings.http_host not in ("127.0.0.1", "localhost"),
        socketio_message_queue=settings.redis_url or None,
        trusted_proxies=settings.trusted_proxies,
        # Several dashboards share one Redis: failed logins then count across all of them.
        login_limit_storage=settings.redis_url or "memory://",
        simulated_speed=simulated_speed,
        kiosk_urls=kiosk_urls,
    )
    publications = Publications(runtime.engine, runtime.clock, AuditLog(runtime.engine, runtime.clock))
    desk = ReportDesk(
        runtime.engine,
        runtime.tsdb,
        runtime.twins.list_twins,
        runtime.clock,
        settings.report_language_map,
        settings.chromium or None,
    )
    app = create_app(config, runtime.service, UserStore(runtime.engine), runtime.alarms, publications, desk)
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


def _check_tls(host: str, port: int, tls: bool, ca_file: Path | None, setting: str) -> None:
    """Stop with one line if the broker's TLS certificate is not trusted (see fleet.tls_check)."""
    from fleet.tls_check import TlsTrustError, check_broker_tls

    if not tls:
        return
    try:
        check_broker_tls(host, port, ca_file, setting)
    except TlsTrustError as err:
        raise click.ClickException(str(err)) from None


def _secret(settings: Settings) -> str:
    from fleet.secret_key import WeakSecretKey, load_or_create_secret_key

    if settings.secret_key:
        return settings.secret_key  # already checked by load_settings
    try:
        return load_or_create_secret_key(Path(settings.data_dir))
    except WeakSecretKey as err:
        raise click.ClickException(f"{err} (delete the file to have a new key generated)") from None


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


def _server_settings(ctx: click.Context, flags: dict[str, Any], role: str) -> Settings:
    """The start of every server role: checked settings, logging, a real broker (TLS checked), the role's client id."""
    settings = _settings(ctx, **flags)
    _configure_logging(settings.log_level)
    if settings.mqtt_url.embedded:
        raise click.ClickException(f"BENCHFLEET_MQTT=embedded is for `benchfleet demo`; {role} needs a broker URL")
    url = settings.mqtt_url
    _check_tls(url.host, url.port, url.tls, None, "BENCHFLEET_MQTT")
    # Dashboards compete for no scheduler slot and consume no shared subscription: one id per process.
    return _role_settings(settings, role, None if role == "dashboard" else settings.worker)


@main.command()
@server_options
@_worker_option
@_share_option
@_redis_option
@click.pass_context
def serve(ctx: click.Context, /, **flags: Any) -> None:
    """Ingestion + dashboard + scheduler against the configured broker and stores."""
    from fleet.runtime import build_runtime

    settings = _server_settings(ctx, flags, "serve")
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

    settings = _server_settings(ctx, flags, "ingest")
    runtime = _build_checked(functools.partial(build_runtime, live=False), settings)
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

    settings = _server_settings(ctx, flags, "dashboard")
    if not settings.redis_url:
        log.warning("BENCHFLEET_REDIS is not set: this dashboard shows only its own changes live, not ingestion's")
    runtime = _build_checked(build_runtime, settings)
    relay = _start_relay(runtime, settings, "dashboard")
    runtime.cache.start()
    # As `serve` does once its twins are loaded: the collector no longer walks every cached twin each time
    # it reaches the old generation (3 s of a 100,000-bench fleet page's first build, docs/performance.md).
    from fleet.gc_policy import tune_gc

    tune_gc()
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
    from simulator.demo import DEMO_SCENARIO, demo_clock, start_demo_fleet, start_demo_kiosks

    try:
        history_span = parse_duration(history) if history not in ("0", "") else None
    except ValueError as err:
        raise click.ClickException(f"--history: {err}") from None
    # The demo's folder is BENCHFLEET_DATA_DIR (default var/benchfleet), where every other command looks too:
    # `benchfleet user add` run beside a demo reaches the demo's database.
    folder = (data_dir or Path(_settings(ctx).data_dir)).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    resumed = (folder / "series.db").exists()
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
    # A resumed demo goes on from its last simulated instant (ahead of the wall clock), never back in time.
    clock = demo_clock(1.0 if realtime else speed, _last_sample_time(settings.db) if resumed else None)
    settings = _role_settings(settings, "serve", settings.worker)
    runtime = build_runtime(settings, clock, auto_migrate=True)  # the demo's own database: just upgrade it
    runtime.start()
    initial_soc: dict[str, float] = {}
    history_votes: dict[str, Any] = {}
    if resumed:
        initial_soc = _last_soc(runtime)
        click.echo(f"history: kept from the earlier run in {folder}")
    elif history_span is not None:
        # The history ends where the live benches start, and each continues its own battery from there.
        initial_soc = _write_history(runtime, clock.start, history_span)
        # The benches collected the history's votes too: their own tallies start with what the fleet counted.
        history_votes = {t.bench_id: t.counted_votes for t in runtime.twins.list_twins()}
    seed_demo_polls(runtime.service)
    users = UserStore(runtime.engine)
    password = secrets.token_urlsafe(9)
    if users.get_user("admin") is None:
        users.add_user("admin", password, "admin", locale="en")
    else:
        password = "(unchanged from the earlier run in this folder; `benchfleet user passwd admin` sets a new one)"
    fleet = start_demo_fleet(
        broker.url,
        folder / "benches",
        speed=clock.speed,
        clock=clock,
        scenario=DEMO_SCENARIO,
        initial_soc=initial_soc,
        history_votes=history_votes,
    )
    click.echo(f"BenchFleet demo: {len(runtime.repo)} benches, embedded broker at {broker.url}, data in {folder}")
    click.echo(f"Dashboard: http://{settings.http}/  (login admin / {password})")
    click.echo(f"More users: BENCHFLEET_DATA_DIR={folder} benchfleet user add NAME --role ...")
    kiosks = start_demo_kiosks(fleet, settings.http_host)
    for bench_id, url in kiosks.urls():
        click.echo(f"Kiosk of {bench_id}: {url}/")
    try:
        if no_dashboard:
            _wait_for_signal()
        else:
            _run_dashboard(runtime, settings, _secret(settings), True, clock.speed, kiosks.urls())
    finally:
        kiosks.stop()
        fleet.stop()
        runtime.stop()
        broker.stop()


def _write_history(runtime: Any, end: Any, span: Any) -> dict[str, float]:
    """Simulated history of the 12 benches before the demo starts (telemetry, port sessions and the votes
    for the demo poll while it was open), so the charts and reports are not empty.

    Returns each bench's battery charge at the end of its history, where its live run continues."""
    from fleet.demo_seed import demo_poll
    from fleet.ingest.history import HistoryEventWriter
    from simulator.backfill_run import PollWindow, run_backfill
    from simulator.demo import DEMO_SEED
    from simulator.sites import seed_sites
    from twins.config import Poll

    sites = seed_sites()
    # The poll seed_demo_polls gives every bench next (open since yesterday): its votes of the last day.
    poll = PollWindow.of(Poll.model_validate(demo_poll(end), strict=False))
    events = HistoryEventWriter(runtime.engine, runtime.writer, runtime.clock)
    report = run_backfill(
        sites, DEMO_SEED, end, span, runtime.writer.write, progress=False,
        polls={s.bench_id: [poll] for s in sites}, write_events=events.write, prepare=runtime.writer.prepare,
    )  # fmt: skip
    click.echo(
        f"history: {report.samples} simulated samples, {report.port_sessions} port sessions and "
        f"{report.votes} votes before now written in {report.total_s:.1f} s"
    )
    return report.final_soc


def _last_sample_time(db_url: str) -> Any:
    """The newest telemetry time of the demo's benches if it lies ahead of now (else None: start now)."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from fleet.db.engine import make_engine
    from fleet.state.twin_store import TwinStore

    engine = make_engine(db_url)
    try:
        stamps = [t.telemetry.ts for t in TwinStore(engine).list_twins() if t.telemetry is not None]
    except SQLAlchemyError:
        return None  # an older schema: the runtime upgrades it, and the demo starts from now
    finally:
        engine.dispose()
    latest = max(stamps, default=None)
    return latest.replace(microsecond=0) if latest is not None and latest > datetime.now(UTC) else None


def _last_soc(runtime: Any) -> dict[str, float]:
    """Each bench's last reported battery charge (a demo restarted on its folder continues from there)."""
    from fleet.service_api import EVERYTHING

    twins = runtime.service.list_twins(EVERYTHING)
    return {t.bench_id: t.telemetry.battery.soc_pct for t in twins if t.telemetry is not None}


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True}, add_help_option=False)
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
    broker = parse_mqtt_url(options.mqtt_url, "--mqtt")
    _check_tls(broker.host, broker.port, broker.tls, options.ca_certs, "--mqtt / --ca-certs")
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
@click.option("--step", default=None, help="--backfill's sample interval (default 15m; at least 60s, the benches').")
@click.option("--db", default=None, help="With --backfill: also count votes (for the benches' polls) in this database.")
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


def _migrated_engine(ctx: click.Context) -> Any:
    """The configured database, refused with `benchfleet migrate` named when its schema is old."""
    from fleet.db.engine import make_engine
    from fleet.db.migrate import SchemaOutdated, ensure_schema

    settings = _settings(ctx)
    _ensure_parent(settings.db)
    engine = make_engine(settings.db)
    try:
        ensure_schema(engine, auto_upgrade=False)
    except SchemaOutdated as err:
        raise click.ClickException(str(err)) from None
    return engine


main.add_command(alarm_commands(_migrated_engine))


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

    if municipality is not None:
        _check_municipality(ctx, municipality)
    password = _read_password()
    try:
        created = _user_store(ctx).add_user(name, password, role, municipality, locale)
    except UserError as err:
        raise click.ClickException(str(err)) from None
    _audit_cli(ctx, "user.add", f"user:{name}", None, {"role": created.role, "municipality": created.municipality})
    click.echo(f"user {created.name} ({created.role}{', ' + created.municipality if created.municipality else ''})")


def _check_municipality(ctx: click.Context, name: str) -> None:
    """Refuse a municipality without benches in the registry, suggesting the known names (a typo sees 0 benches)."""
    import difflib

    from fleet.state.twin_store import TwinStore

    known = sorted(set(TwinStore(_migrated_engine(ctx)).municipalities().values()))
    if name in known:
        return
    if not known:
        raise click.ClickException(
            f"--municipality {name!r}: the registry has no benches yet; run `benchfleet benches import` first"
        )
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    known_text = ", ".join(known)
    raise click.ClickException(f"--municipality {name!r} has no benches in the registry; {hint}known: {known_text}")


def _read_password() -> str:
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("passwords differ")
        return password
    return sys.stdin.readline().rstrip("\n")


@user.command("passwd")
@click.argument("name")
@click.pass_context
def user_passwd(ctx: click.Context, name: str) -> None:
    """Set a new password (from standard input, or prompted); every session of the user ends."""
    from fleet.auth.store import UserError

    password = _read_password()
    try:
        _user_store(ctx).set_password(name, password)
    except UserError as err:
        raise click.ClickException(str(err)) from None
    _audit_cli(ctx, "user.passwd", f"user:{name}")
    click.echo(f"password of {name} changed; their sessions have ended")


@user.command("logout")
@click.argument("name")
@click.pass_context
def user_logout(ctx: click.Context, name: str) -> None:
    """Log a user out everywhere: every session cookie of theirs stops working (tokens are kept)."""
    if not _user_store(ctx).end_sessions(name):
        raise click.ClickException(f"no user {name!r}")
    _audit_cli(ctx, "user.logout", f"user:{name}")
    click.echo(f"every session of {name} has ended")


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
@click.option("--days", type=int, default=90, show_default=True, help="Lifetime in days (0: until revoked).")
@click.pass_context
def token_create(ctx: click.Context, name: str, label: str, days: int) -> None:
    """Print a new API token for user NAME (shown once; only its hash is stored)."""
    from fleet.auth.store import UserError

    try:
        click.echo(_user_store(ctx).create_token(name, label, days=days or None))
    except UserError as err:
        raise click.ClickException(str(err)) from None
    _audit_cli(ctx, "token.create", f"user:{name}", None, {"label": label, "days": days})


@token.command("list")
@click.option("--user", "name", default=None, help="Only this user's tokens.")
@click.pass_context
def token_list(ctx: click.Context, name: str | None) -> None:
    """List API tokens: id, user, label, created, expires (the tokens themselves are not stored)."""
    store = _user_store(ctx)
    now = store.clock.now()
    for t in store.list_tokens(name):
        expires = t.expires_at.isoformat(timespec="seconds") if t.expires_at else "never"
        state = "expired" if t.expired(now) else "active"
        created = t.created_at.isoformat(timespec="seconds")
        click.echo(f"{t.id}\t{t.user}\t{t.label or '-'}\t{created}\t{expires}\t{state}")


@token.command("revoke")
@click.argument("token_id", type=int)
@click.pass_context
def token_revoke(ctx: click.Context, token_id: int) -> None:
    """Revoke an API token by its id (see token list); it stops working at once."""
    if not _user_store(ctx).revoke_token(token_id):
        raise click.ClickException(f"no token with id {token_id}: see benchfleet token list")
    _audit_cli(ctx, "token.revoke", f"token:{token_id}")
    click.echo(f"revoked token {token_id}")


_broker_dir_option = click.option(
    "--broker-dir",
    envvar="BENCHFLEET_BROKER_DIR",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of Mosquitto's passwd, acl and mosquitto.conf (BENCHFLEET_BROKER_DIR).",
)
_broker_public_option = click.option(
    "--broker",
    "public_url",
    envvar="BENCHFLEET_BROKER_PUBLIC_URL",
    default="mqtts://localhost:8883",
    show_default=True,
    help="The broker as benches reach it (BENCHFLEET_BROKER_PUBLIC_URL).",
)


@main.command()
@click.argument("bench_id")
@_broker_dir_option
@_broker_public_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Bundle folder (default ./BENCH_ID).")
@click.option("--ca", "ca_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="CA for mqtts.")
@click.option("--ota-public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="OTA key (PEM).")
@click.option("--rotate", is_flag=True, help="Replace the credentials of a provisioned bench.")
def provision(
    bench_id: str,
    broker_dir: Path,
    public_url: str,
    out: Path | None,
    ca_file: Path | None,
    ota_public_key: Path | None,
    rotate: bool,
) -> None:
    """A bench's broker credentials and agent bundle; reload Mosquitto (SIGHUP) afterwards."""
    from fleet.provision import BrokerDir, ProvisionError, provision_bench

    try:
        bundle = provision_bench(
            BrokerDir(broker_dir),
            bench_id,
            public_url,
            out or Path(bench_id),
            ca_file=ca_file,
            ota_public_key=ota_public_key,
            rotate=rotate,
        )
    except ProvisionError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{'rotated' if rotate else 'provisioned'} {bench_id}: bundle in {bundle.folder}; reload Mosquitto")


@main.command("provision-server")
@_broker_dir_option
@_broker_public_option
@click.option("--name", default=None, help="User name (default: benchfleet- and a random part).")
def provision_server(broker_dir: Path, public_url: str, name: str | None) -> None:
    """A broker user for the fleet's own processes; prints its BENCHFLEET_MQTT URL (keep it secret)."""
    from fleet.provision import BrokerDir, ProvisionError, provision_server_user

    try:
        click.echo(provision_server_user(BrokerDir(broker_dir), public_url, name))
    except ProvisionError as err:
        raise click.ClickException(str(err)) from None


@main.command()
@click.argument("bench_id")
@_broker_dir_option
def decommission(bench_id: str, broker_dir: Path) -> None:
    """Retire a bench: its broker user is removed; reload Mosquitto (SIGHUP) afterwards."""
    from fleet.provision import BrokerDir, ProvisionError, decommission_bench

    try:
        decommission_bench(BrokerDir(broker_dir), bench_id)
    except ProvisionError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"decommissioned {bench_id}; reload Mosquitto")


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


# --- report (fleet/reports; owned by the reports helper) ------------------------------------------


@main.command()
@click.option("--municipality", help="Municipality name as in the registry; omit for the fleet report.")
@click.option("--period", "period_text", required=True, help="YYYY-MM (a month) or YYYY-MM-DD..YYYY-MM-DD.")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html", "csv"]), default="pdf", show_default=True)
@click.option("--language", help="bs, hr, sr-Latn, sr-Cyrl or en (default: the municipality's setting).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@click.option("--db", help="Database (BENCHFLEET_DB).")
@click.option("--tsdb", help="Time-series store (BENCHFLEET_TSDB).")
@click.pass_context
def report(
    ctx: click.Context,
    municipality: str | None,
    period_text: str,
    fmt: str,
    language: str | None,
    out: Path,
    db: str | None,
    tsdb: str | None,
) -> None:
    """One participation and service report on demand (contract section 5)."""
    from fleet.db.engine import make_engine
    from fleet.reports.build import ReportSources, UnknownMunicipality
    from fleet.reports.output import make_report, render
    from fleet.reports.period import PeriodError, parse_period
    from fleet.reports.render_pdf import PdfError
    from fleet.reports.texts import check_language
    from fleet.state.twin_store import TwinStore
    from fleet.tsdb import open_tsdb

    settings = _settings(ctx, db=db, tsdb=tsdb)
    try:
        period = parse_period(period_text)
        languages = settings.report_language_map
        chosen = check_language(language) if language else None
        series = open_tsdb(settings.tsdb)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    engine = make_engine(settings.db)
    try:
        sources = ReportSources(engine, series, TwinStore(engine).list_twins())
        built = make_report(sources, municipality, period, SystemClock().now(), languages, chosen)
        data = render(built, fmt, settings.chromium or None)
    except (UnknownMunicipality, PeriodError, PdfError) as err:
        raise click.ClickException(str(err)) from None
    finally:
        series.close()
        engine.dispose()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes, {built.language})")


@main.group("report-recipients")
def report_recipients() -> None:
    """Who receives each municipality's monthly report by e-mail (`_fleet`: the fleet report)."""


@report_recipients.command("add")
@click.argument("municipality")
@click.argument("email")
@click.pass_context
def report_recipients_add(ctx: click.Context, municipality: str, email: str) -> None:
    """Add EMAIL to MUNICIPALITY's recipients."""
    from fleet.reports.recipients import add_recipient

    try:
        added = add_recipient(_migrated_engine(ctx), municipality, email, SystemClock().now())
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{'added' if added else 'already there'}: {municipality} {email.strip()}")


@report_recipients.command("remove")
@click.argument("municipality")
@click.argument("email")
@click.pass_context
def report_recipients_remove(ctx: click.Context, municipality: str, email: str) -> None:
    """Remove EMAIL from MUNICIPALITY's recipients."""
    from fleet.reports.recipients import remove_recipient

    if not remove_recipient(_migrated_engine(ctx), municipality, email):
        raise click.ClickException(f"{email.strip()} is not a recipient of {municipality}")
    click.echo(f"removed: {municipality} {email.strip()}")


@report_recipients.command("list")
@click.pass_context
def report_recipients_list(ctx: click.Context) -> None:
    """List every municipality's recipients."""
    from fleet.reports.recipients import recipients

    for municipality, addresses in recipients(_migrated_engine(ctx)).items():
        for address in addresses:
            click.echo(f"{municipality}\t{address}")


if __name__ == "__main__":
    main()
