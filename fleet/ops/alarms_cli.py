"""``benchfleet alarms ...``: notification recipients, threshold overrides and the alarm list from the shell."""

from __future__ import annotations

import json
from collections.abc import Callable

import click
from sqlalchemy import Engine

from fleet.ops.alarms import ALARM_STATES, AlarmFilter, AlarmStore
from fleet.ops.notify import CHANNELS, RecipientStore
from twins.alarm_rules import SEVERITIES

EngineFor = Callable[[click.Context], Engine]


def alarm_commands(engine_for: EngineFor) -> click.Group:
    """The ``alarms`` command group; ``engine_for`` opens the fleet database named by the settings."""

    @click.group("alarms")
    def alarms() -> None:
        """Alarms: who is notified, thresholds, the current alarms."""

    @alarms.command("recipients")
    @click.pass_context
    def recipients(ctx: click.Context) -> None:
        """List notification recipients (one JSON object per line)."""
        for r in RecipientStore(engine_for(ctx)).all():
            click.echo(json.dumps(r.as_json()))

    @alarms.command("recipient-add")
    @click.argument("municipality")
    @click.argument("channel", type=click.Choice(CHANNELS))
    @click.argument("address")
    @click.option("--min-severity", type=click.Choice(SEVERITIES), default="warning", show_default=True)
    @click.option("--escalation", is_flag=True, help="Hears of alarms nobody acknowledged in time.")
    @click.pass_context
    def recipient_add(
        ctx: click.Context, municipality: str, channel: str, address: str, min_severity: str, escalation: bool
    ) -> None:
        """Route alarms of MUNICIPALITY ('*' for all) to ADDRESS by CHANNEL."""
        try:
            added = RecipientStore(engine_for(ctx)).add(
                municipality, min_severity, channel, address, escalation=escalation
            )
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        click.echo(json.dumps(added.as_json()))

    @alarms.command("recipient-remove")
    @click.argument("recipient_id", type=int)
    @click.pass_context
    def recipient_remove(ctx: click.Context, recipient_id: int) -> None:
        """Remove recipient RECIPIENT_ID."""
        if not RecipientStore(engine_for(ctx)).remove(recipient_id):
            raise click.ClickException(f"no recipient {recipient_id}")
        click.echo(f"removed recipient {recipient_id}")

    @alarms.command("threshold")
    @click.argument("scope", type=click.Choice(["municipality", "bench"]))
    @click.argument("target")
    @click.argument("name")
    @click.argument("value")
    @click.pass_context
    def threshold(ctx: click.Context, scope: str, target: str, name: str, value: str) -> None:
        """Override threshold NAME for a municipality or bench (VALUE 'none' drops the override)."""
        try:
            number = None if value.lower() == "none" else float(value)
        except ValueError:
            raise click.ClickException(f"VALUE {value!r}: give a number or 'none'") from None
        try:
            AlarmStore(engine_for(ctx)).set_threshold(scope, target, name, number)  # type: ignore[arg-type]
        except ValueError as err:
            raise click.ClickException(str(err)) from None
        click.echo(f"{scope} {target}: {name} = {'default' if number is None else number}")

    @alarms.command("list")
    @click.option("--state", type=click.Choice(ALARM_STATES))
    @click.option("--bench", "bench_id")
    @click.pass_context
    def list_alarms(ctx: click.Context, state: str | None, bench_id: str | None) -> None:
        """Alarms, newest first (one JSON object per line)."""
        for a in AlarmStore(engine_for(ctx)).search(AlarmFilter(state=state, bench_id=bench_id)):
            click.echo(json.dumps(a.as_json()))

    return alarms
