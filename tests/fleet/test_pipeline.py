"""The ingestion pipeline fed raw messages directly (no broker), with real PostgreSQL twins and a real TSDB."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fleet.event_bus import EventBus
from fleet.events import ConfigStatusChanged, FleetEvent, TwinChanged, TwinsMoved, VoteCounted
from fleet.ingest.pipeline import IngestPipeline, RawMessage
from fleet.state.cache import TwinCache
from fleet.state.desired import DesiredVersions
from fleet.state.poll_owners import claim_polls
from tests.fleet.ingest_kit import Kit, pipeline_kit
from tests.twins.samples import (
    EVENT_DATA,
    T0,
    battery,
    desired_doc,
    event_doc,
    payload,
    poll_doc,
    reported_doc,
    status_doc,
    telemetry_doc,
    vote_doc,
)
from twins.codec import MAX_PAYLOAD_BYTES, RejectReason
from twins.twin import Twin

S = timedelta(seconds=1)
MOSTAR = "benches/mostar-01"


@pytest.fixture
def kit(tmp_path: Path, db_url: str) -> Iterator[Kit]:
    with pipeline_kit(tmp_path, db_url) as k:
        yield k


def msg(kind: str, doc: object, bench: str = "mostar-01") -> RawMessage:
    return RawMessage(f"benches/{bench}/{kind}", payload(doc))


def twin(kit: Kit, bench_id: str = "mostar-01") -> Twin:
    found = kit.twins.get_twin(bench_id)
    assert found is not None
    return found


def twin_changes(kit: Kit) -> list[TwinChanged]:
    return [e for e in kit.events if isinstance(e, TwinChanged)]


def config_changes(kit: Kit) -> list[ConfigStatusChanged]:
    return [e for e in kit.events if isinstance(e, ConfigStatusChanged)]


def votes_counted(kit: Kit) -> list[VoteCounted]:
    return [e for e in kit.events if isinstance(e, VoteCounted)]


# --- telemetry -------------------------------------------------------------------------------------------


def test_accepted_telemetry_updates_twin_and_writes_points(kit: Kit) -> None:
    kit.pipeline.handle([msg("telemetry", telemetry_doc(seq=42))])
    t = twin(kit)
    assert t.telemetry is not None
    assert t.telemetry.seq == 42
    assert t.telemetry_meta.version == 1
    assert t.connectivity.last_seen == kit.clock.now()
    assert kit.series("telemetry", "seq", "mostar-01") == [42]
    assert kit.series("telemetry", "battery.soc_pct", "mostar-01") == [pytest.approx(81.2)]
    assert kit.series("telemetry", "ports.power_w", "mostar-01") == [pytest.approx(7.5)]  # sum over the 3 ports
    assert kit.series("telemetry", "ports.usb.active", "mostar-01") == [1]
    assert kit.counter("benchfleet_points_written") == 1  # one wide point per sample
    assert kit.counter("benchfleet_messages_in", {"kind": "telemetry"}) == 1
    assert kit.rejected_by_reason() == {}


def test_older_telemetry_is_stored_but_does_not_overwrite(kit: Kit) -> None:
    kit.pipeline.handle([msg("telemetry", telemetry_doc(when=T0, seq=10))])
    kit.clock.advance(60 * S)
    old = telemetry_doc(when=T0 - 300 * S, seq=99, battery=battery(soc_pct=5.0))
    kit.pipeline.handle([msg("telemetry", old)])
    t = twin(kit)
    assert t.telemetry is not None
    assert t.telemetry.seq == 10
    assert t.telemetry.battery.soc_pct == pytest.approx(81.2)
    assert t.telemetry_meta.version == 1
    assert t.connectivity.last_seen == kit.clock.now()  # it still shows the bench is alive
    assert sorted(kit.series("telemetry", "seq", "mostar-01")) == [10, 99]
    assert kit.counter("benchfleet_telemetry_out_of_order") == 1
    assert [e.section for e in twin_changes(kit)] == ["telemetry"]


def test_redelivered_telemetry_overwrites_its_point_not_the_series(kit: Kit) -> None:
    m = msg("telemetry", telemetry_doc(seq=7))
    kit.pipeline.handle([m])
    kit.pipeline.handle([m, m])
    assert kit.series("telemetry", "seq", "mostar-01") == [7]
    assert twin(kit).telemetry_meta.version == 1


def test_batch_of_many_benches(kit: Kit) -> None:
    benches = [r.bench_id for r in kit.twins.list_twins()]
    kit.pipeline.handle([msg("telemetry", telemetry_doc(bench_id=b, seq=i), bench=b) for i, b in enumerate(benches)])
    assert all(twin(kit, b).telemetry is not None for b in benches)
    changed = {e.twin.bench_id for e in twin_changes(kit)}
    assert changed == set(benches)


# --- rejections ---------------------------------------------------------------------------------------------

#: One message per reason, with the bench id the warning must name.
REJECTS: dict[RejectReason, tuple[RawMessage, str]] = {
    RejectReason.BAD_TOPIC: (RawMessage("benches/mostar-01/telemetry/extra", payload(telemetry_doc())), "mostar-01"),
    RejectReason.TOO_LARGE: (RawMessage(f"{MOSTAR}/telemetry", b" " * (MAX_PAYLOAD_BYTES + 1)), "mostar-01"),
    RejectReason.EMPTY: (RawMessage(f"{MOSTAR}/status", b""), "mostar-01"),
    RejectReason.INVALID_JSON: (RawMessage(f"{MOSTAR}/events", b'{"v":1,'), "mostar-01"),
    RejectReason.NOT_OBJECT: (RawMessage(f"{MOSTAR}/reported", b"[]"), "mostar-01"),
    RejectReason.UNSUPPORTED_VERSION: (msg("telemetry", telemetry_doc(v=2)), "mostar-01"),
    RejectReason.INVALID_PAYLOAD: (msg("telemetry", telemetry_doc(seq=-1)), "mostar-01"),
    RejectReason.BENCH_ID_MISMATCH: (msg("telemetry", telemetry_doc(bench_id="trebinje-01")), "mostar-01"),
    RejectReason.UNKNOWN_BENCH: (msg("telemetry", telemetry_doc(bench_id="nowhere-01"), "nowhere-01"), "nowhere-01"),
    RejectReason.WRONG_DIRECTION: (msg("desired", desired_doc()), "mostar-01"),
    RejectReason.TS_IN_FUTURE: (msg("telemetry", telemetry_doc(when=T0 + 3600 * S)), "mostar-01"),
    RejectReason.VOTE_UNKNOWN_POLL: (msg("events", vote_doc(poll_id="nope-2026")), "mostar-01"),
    RejectReason.VOTE_POLL_NOT_OPEN: (msg("events", vote_doc(when=datetime(2026, 10, 1, tzinfo=UTC))), "mostar-01"),
    RejectReason.VOTE_UNKNOWN_OPTION: (msg("events", vote_doc(option="maybe")), "mostar-01"),
    # park-2026 claimed by Trebinje (below): a Mostar bench carrying it cannot vote into it.
    RejectReason.POLL_NOT_OWNED: (msg("events", vote_doc()), "mostar-01"),
}


def test_every_reason_has_a_case() -> None:
    assert set(REJECTS) == set(RejectReason)


@pytest.mark.parametrize("reason", list(RejectReason))
def test_each_reject_reason_is_counted_and_logged(
    kit: Kit, caplog: pytest.LogCaptureFixture, reason: RejectReason
) -> None:
    raw, bench = REJECTS[reason]
    kit.carry_polls()
    claim_polls(kit.twins.engine, ["park-2026"], "Trebinje" if reason is RejectReason.POLL_NOT_OWNED else None, "t", T0)
    good = msg("telemetry", telemetry_doc(seq=5))
    with caplog.at_level(logging.WARNING, logger="fleet.ingest"):
        kit.pipeline.handle([raw, good])  # the bad message does not stop the batch
    assert kit.rejected_by_reason() == {reason.value: 1}
    assert kit.metrics.rejected_total() == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("fleet.ingest")]
    assert len(warnings) == 1
    text = warnings[0].getMessage()
    assert bench in text
    assert reason.value in text
    t = twin(kit)
    assert t.telemetry is not None
    assert t.telemetry.seq == 5
    assert kit.series("telemetry", "seq", "mostar-01") == [5]
    assert kit.twins.get_twin("nowhere-01") is None
    assert t.counted_votes == {}


def test_every_message_is_counted_in_messages_in(kit: Kit) -> None:
    kit.carry_polls()
    batch = [raw for raw, _ in REJECTS.values()] + [msg("telemetry", telemetry_doc())]
    claim_polls(kit.twins.engine, ["park-2026"], "Trebinje", "t", T0)
    kit.pipeline.handle(batch)
    assert kit.messages_in() == len(batch)
    assert kit.metrics.rejected_total() == len(REJECTS)


def test_rejection_detail_names_the_field_in_the_log(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    doc = telemetry_doc()
    doc["battery"]["soc_pct"] = "81.2"
    with caplog.at_level(logging.WARNING, logger="fleet.ingest"):
        kit.pipeline.handle([msg("telemetry", doc)])
    assert "battery.soc_pct" in caplog.text
    assert "invalid_payload" in caplog.text


def test_unknown_bench_is_auto_registered_with_the_flag(tmp_path: Path, db_url: str) -> None:
    with pipeline_kit(tmp_path, db_url, auto_register=True) as kit:
        kit.pipeline.handle([msg("telemetry", telemetry_doc(bench_id="novi-01", seq=3), bench="novi-01")])
        t = twin(kit, "novi-01")
        assert t.telemetry is not None
        assert t.telemetry.seq == 3
        assert t.attributes.municipality == "Unassigned"
        assert kit.rejected_by_reason() == {}
        assert "novi-01" in {r.bench_id for r in kit.store.list_benches()}
        assert kit.store.count_benches() == 13
        assert kit.series("telemetry", "seq", "novi-01") == [3]
        # Bad ids stay rejected even so.
        kit.pipeline.handle([RawMessage("benches/NOVI/telemetry", payload(telemetry_doc(bench_id="NOVI")))])
        assert kit.rejected_by_reason() == {"bad_topic": 1}


# --- votes --------------------------------------------------------------------------------------------------


def test_vote_delivered_twice_in_one_batch_and_again_later_counts_once(kit: Kit) -> None:
    kit.carry_polls()
    vote = msg("events", vote_doc(option="yes"))
    kit.pipeline.handle([vote, vote])
    kit.pipeline.handle([vote])
    kit.pipeline.handle([vote, msg("events", vote_doc(option="no"))])
    assert twin(kit).counted_votes == {"park-2026": {"yes": 1, "no": 1}}
    assert kit.store.vote_count() == 2
    assert kit.counter("benchfleet_votes_counted") == 2
    assert kit.counter("benchfleet_votes_duplicate") == 3
    assert len(votes_counted(kit)) == 2
    for option in ("yes", "no"):
        samples = kit.tsdb.query_series("vote", "count", {"bench_id": "mostar-01", "option": option}, T0 - S, T0 + S, S)
        assert [x.value for x in samples if x.value is not None] == [1]


def test_votes_tallied_per_municipality(kit: Kit) -> None:
    kit.carry_polls()
    kit.pipeline.handle(
        [msg("events", vote_doc(option="yes"))]
        + [msg("events", vote_doc(bench_id="trebinje-01", option="no"), bench="trebinje-01") for _ in range(2)]
    )
    tally = {(r.municipality, r.option): r.votes for r in kit.store.tally("park-2026")}
    assert tally == {("Mostar", "yes"): 1, ("Trebinje", "no"): 2}


def test_vote_mismatch_with_telemetry_counters(kit: Kit) -> None:
    kit.carry_polls()
    first = vote_doc(option="yes")
    kit.pipeline.handle([msg("events", first), msg("telemetry", telemetry_doc(votes={"park-2026": {"yes": 2}}))])
    assert twin(kit).votes_mismatch_since == kit.clock.now()
    since = kit.clock.now()
    kit.clock.advance(11 * 60 * S)
    kit.pipeline.handle([msg("telemetry", telemetry_doc(when=T0 + 600 * S, seq=2, votes={"park-2026": {"yes": 2}}))])
    t = twin(kit)
    assert t.votes_mismatch_since == since
    assert "vote_tally_mismatch" in {r.code for r in t.health(kit.clock.now()).reasons}
    # The missing event arrives late (outbox replay): the tallies agree again.
    kit.pipeline.handle([msg("events", vote_doc(option="yes"))])
    assert twin(kit).counted_votes == {"park-2026": {"yes": 2}}
    assert twin(kit).votes_mismatch_since is None


def test_other_events_are_stored_as_points_and_show_activity(kit: Kit) -> None:
    kit.pipeline.handle([msg("events", event_doc(kind, data)) for kind, data in EVENT_DATA.items() if kind != "vote"])
    assert twin(kit).connectivity.last_seen == kit.clock.now()
    assert kit.counter("benchfleet_points_written") == len(EVENT_DATA) - 1
    with sqlite3.connect(kit.tsdb.path) as db:
        stored = db.execute(
            "SELECT count(*) FROM points p JOIN series s ON s.id = p.series_id WHERE s.measurement = 'event'"
            " AND p.field = 'data'"
        ).fetchone()[0]
    assert stored == len(EVENT_DATA) - 1
    assert kit.rejected_by_reason() == {}


# --- reported, status, listeners ---------------------------------------------------------------------------------


def test_reported_config_report_emits_config_status_changed(kit: Kit) -> None:
    DesiredVersions(kit.twins).patch("mostar-01", {"telemetry_interval_s": 30}, None, "test", T0)
    applied = reported_doc(when=T0, config={"version": 1, "status": "applied"})
    kit.pipeline.handle([msg("reported", applied)])
    changes = config_changes(kit)
    assert changes == [ConfigStatusChanged("mostar-01", "Mostar", 1, "applied", None, kit.clock.now())]
    assert twin(kit).config_state() == "applied"
    # The same document again (retained redelivery) is no news.
    kit.pipeline.handle([msg("reported", applied)])
    assert len(config_changes(kit)) == 1
    assert [e.section for e in twin_changes(kit)] == ["reported"]
    assert twin(kit).reported_meta.version == 1
    DesiredVersions(kit.twins).patch("mostar-01", {"telemetry_interval_s": 40}, None, "test", T0)
    rejected = reported_doc(when=T0 + S, config={"version": 2, "status": "rejected", "error": "bad"})
    kit.pipeline.handle([msg("reported", rejected)])
    last = config_changes(kit)[-1]
    assert isinstance(last, ConfigStatusChanged)
    assert (last.version, last.state, last.error) == (2, "rejected", "bad")


def test_reported_without_config_report_emits_no_config_event(kit: Kit) -> None:
    kit.pipeline.handle([msg("reported", reported_doc())])
    assert config_changes(kit) == []
    assert twin(kit).reported is not None
    sections = [e.section for e in twin_changes(kit)]
    assert sections == ["reported"]


def test_status_and_stale_last_will(kit: Kit) -> None:
    kit.pipeline.handle([msg("status", status_doc(True, when=T0 + 60 * S))])
    assert twin(kit).connectivity.online is True
    kit.pipeline.handle([msg("status", status_doc(False, when=T0, reason="connection lost"))])
    assert twin(kit).connectivity.online is True  # older than the online status: ignored
    kit.pipeline.handle([msg("status", status_doc(False, when=T0 + 60 * S, reason="connection lost"))])
    assert twin(kit).connectivity.online is False
    sections = [e.section for e in twin_changes(kit)]
    assert sections == ["connectivity", "connectivity"]


def test_listeners_get_twin_changed_with_the_new_twin(kit: Kit) -> None:
    kit.pipeline.handle([msg("telemetry", telemetry_doc(seq=8))])
    changed, moved = kit.events  # the cache's TwinChanged is delivered within the TwinsMoved's delivery
    assert isinstance(changed, TwinChanged)
    assert changed.section == "telemetry"
    assert changed.twin == twin(kit)
    assert moved == TwinsMoved((("mostar-01", "telemetry"),))


def test_a_cache_without_pages_only_marks_moved_twins_and_reads_them_when_asked(kit: Kit) -> None:
    quiet = TwinCache(kit.twins)  # no notify: an ingest worker's
    quiet.reload()
    kit.pipeline.handle([msg("telemetry", telemetry_doc(seq=9))])
    [moved] = [e for e in kit.events if isinstance(e, TwinsMoved)]
    quiet.on_event(moved)
    held = quiet.get("mostar-01")
    assert held is not None
    assert held.telemetry is not None
    assert held.telemetry.seq == 9


def test_a_failing_listener_does_not_break_ingestion(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pipeline_kit(tmp_path, db_url, listen=False) as kit:
        kit.carry_polls()

        def broken(event: FleetEvent) -> None:
            raise RuntimeError("listener bug")

        seen: list[FleetEvent] = []
        bus = EventBus()
        bus.subscribe(broken)
        bus.subscribe(seen.append)
        pipeline = IngestPipeline(kit.twins, kit.writer, kit.metrics, kit.clock, bus.publish)
        with caplog.at_level(logging.ERROR):
            pipeline.handle([msg("telemetry", telemetry_doc(seq=1)), msg("events", vote_doc())])
            pipeline.handle([msg("telemetry", telemetry_doc(when=T0 + S, seq=2))])
        assert twin(kit).telemetry is not None
        assert twin(kit).telemetry.seq == 2  # type: ignore[union-attr]
        assert kit.store.vote_count() == 1
        assert kit.series("telemetry", "seq", "mostar-01") == [1, 2]
        assert {type(e) for e in seen} == {TwinsMoved, VoteCounted}
        assert "listener bug" in caplog.text


def test_events_carry_the_twin_as_committed_in_sql(kit: Kit) -> None:
    kit.carry_polls()
    kit.pipeline.handle([msg("telemetry", telemetry_doc(seq=11)), msg("events", vote_doc())])
    [changed] = twin_changes(kit)
    stored = twin(kit)
    assert changed.twin == stored
    assert stored.telemetry is not None
    assert stored.counted_votes == {"park-2026": {"yes": 1}}


def test_cache_reload_reads_counted_votes_from_sql(kit: Kit) -> None:
    kit.carry_polls()
    kit.pipeline.handle([msg("events", vote_doc()), msg("events", vote_doc(option="no"))])
    fresh = TwinCache(kit.twins)
    assert fresh.reload() == 12
    reloaded = fresh.get("mostar-01")
    assert reloaded is not None
    assert reloaded.counted_votes == {"park-2026": {"yes": 1, "no": 1}}


def test_metrics_text_lists_every_reject_reason_and_counts(kit: Kit) -> None:
    kit.pipeline.handle([msg("telemetry", telemetry_doc()), RawMessage(f"{MOSTAR}/status", b"")])
    text = kit.metrics.render().decode()
    for reason in RejectReason:
        expected = 1.0 if reason is RejectReason.EMPTY else 0.0
        assert f'benchfleet_messages_rejected_total{{reason="{reason.value}"}} {expected}' in text
    assert 'benchfleet_messages_in_total{kind="telemetry"} 1.0' in text
    assert 'benchfleet_messages_in_total{kind="status"} 1.0' in text
    assert "benchfleet_points_written_total 1.0" in text


# --- which polls are in force ---------------------------------------------------------------------------------


def test_without_an_applied_config_the_desired_version_reported_applied_is_in_force(kit: Kit) -> None:
    twin_after = DesiredVersions(kit.twins).patch("mostar-01", {"polls": [poll_doc()]}, None, "test", T0)
    version = twin_after.desired_version
    # Older firmware: it reports which version it applied, not the config itself.
    kit.pipeline.handle([msg("reported", reported_doc(config={"version": version, "status": "applied"}))])
    kit.pipeline.handle([msg("events", vote_doc(option="yes"))])
    assert twin(kit).counted_votes == {"park-2026": {"yes": 1}}
    # The same bench rejecting that version has no polls in force: its votes are refused.
    rejected = reported_doc(when=T0 + S, config={"version": version, "status": "rejected", "error": "x"})
    kit.pipeline.handle([msg("reported", rejected)])
    kit.pipeline.handle([msg("events", vote_doc(option="no"))])
    assert twin(kit).counted_votes == {"park-2026": {"yes": 1}}
    assert kit.rejected_by_reason() == {"vote_unknown_poll": 1}


def test_a_bench_that_reports_nothing_has_no_polls(kit: Kit) -> None:
    kit.pipeline.handle([msg("events", vote_doc())])
    assert twin(kit).counted_votes == {}
    assert kit.rejected_by_reason() == {"vote_unknown_poll": 1}
    assert kit.store.vote_count() == 0
