"""The twin: ordering of telemetry, reported and status; delta; versions; desired patches; config state;
vote reconciliation."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.twins.samples import T0, reported_doc, status_doc, telemetry_doc
from twins.config import DEFAULT_CONFIG_DOC
from twins.messages import Reported, Status, Telemetry
from twins.twin import (
    Attributes,
    InvalidConfig,
    Twin,
    VersionConflict,
    apply_activity,
    apply_reported,
    apply_status,
    apply_telemetry,
    count_vote,
    new_twin,
    patch_desired,
    validate_config,
)

ATTRS = Attributes(name="Mostar", municipality="Mostar", lat=43.34, lon=17.81, altitude_m=60)
S = timedelta(seconds=1)


def fresh() -> Twin:
    return new_twin("mostar-01", ATTRS)


def sample(when: datetime = T0, seq: int = 1, **over: Any) -> Telemetry:
    return Telemetry.model_validate_json(json.dumps(telemetry_doc(when=when, seq=seq, **over)))


def status(online: bool, when: datetime = T0, reason: str | None = None) -> Status:
    return Status.model_validate_json(json.dumps(status_doc(online, when=when, reason=reason)))


def reported(when: datetime = T0, **kw: Any) -> Reported:
    return Reported.model_validate_json(json.dumps(reported_doc(when=when, **kw)))


def with_telemetry(*samples: Telemetry) -> Twin:
    twin = fresh()
    for s in samples:
        twin, _ = apply_telemetry(twin, s, s.ts + S)
    return twin


# --- telemetry ordering ------------------------------------------------------------------------------


def test_first_sample_applies_and_bumps_version() -> None:
    twin, changed = apply_telemetry(fresh(), sample(seq=5), T0 + S)
    assert changed
    assert twin.telemetry is not None
    assert twin.telemetry.seq == 5
    assert twin.telemetry_meta.version == 1
    assert twin.telemetry_meta.last_updated == T0
    assert twin.connectivity.last_seen == T0 + S


@pytest.mark.parametrize(
    ("later_ts", "later_seq", "applies"),
    [
        (T0 + 60 * S, 11, True),  # newer ts, higher seq
        (T0, 11, True),  # same ts, higher seq breaks the tie
        (T0, 10, False),  # exact duplicate (redelivery)
        (T0, 9, False),  # same ts, lower seq
        (T0 - 60 * S, 11, False),  # older ts, even with a higher seq
        (T0 - 60 * S, 9, False),  # older in every way (outbox replay)
        (T0 + 60 * S, 0, True),  # reboot: seq restarts, ts is newer
    ],
)
def test_telemetry_is_ordered_by_ts_then_seq(later_ts: datetime, later_seq: int, applies: bool) -> None:
    twin = with_telemetry(sample(T0, 10))
    updated, changed = apply_telemetry(
        twin, sample(later_ts, later_seq, wifi={"clients": 1, "sessions_today": 2}), T0 + 120 * S
    )
    assert changed is applies
    assert updated.telemetry is not None
    assert (updated.telemetry.ts, updated.telemetry.seq) == ((later_ts, later_seq) if applies else (T0, 10))
    assert updated.telemetry_meta.version == (2 if applies else 1)
    # Either way the message proves the bench is alive.
    assert updated.connectivity.last_seen == T0 + 120 * S


def test_reboot_with_lower_seq_and_newer_ts_applies_then_old_boot_samples_do_not() -> None:
    before_reboot = sample(T0, 5000)
    after_reboot = sample(T0 + 300 * S, 1)
    twin = with_telemetry(before_reboot, after_reboot)
    assert twin.telemetry == after_reboot
    # A late replay from before the reboot with a big seq must not win.
    twin, changed = apply_telemetry(twin, sample(T0 + 10 * S, 5001), T0 + 400 * S)
    assert not changed
    assert twin.telemetry == after_reboot


def test_last_seen_never_goes_back() -> None:
    twin, _ = apply_telemetry(fresh(), sample(T0, 1), T0 + 100 * S)
    twin, _ = apply_telemetry(twin, sample(T0 + S, 2), T0 + 50 * S)
    assert twin.connectivity.last_seen == T0 + 100 * S
    twin = apply_activity(twin, T0 + 200 * S)
    assert twin.connectivity.last_seen == T0 + 200 * S
    assert apply_activity(twin, T0).connectivity.last_seen == T0 + 200 * S


def test_twin_is_immutable_and_apply_returns_a_new_twin() -> None:
    twin = fresh()
    updated, _ = apply_telemetry(twin, sample(), T0)
    assert twin.telemetry is None
    assert updated is not twin
    with pytest.raises(Exception, match="frozen"):
        twin.desired_version = 3  # type: ignore[misc]


# --- reported -------------------------------------------------------------------------------------------


def test_reported_newer_applies_older_is_ignored() -> None:
    twin, changed = apply_reported(fresh(), reported(T0 + 10 * S), T0 + 11 * S)
    assert changed
    assert twin.reported_meta.version == 1
    assert twin.reported_meta.last_updated == T0 + 10 * S
    old, changed = apply_reported(twin, reported(T0), T0 + 20 * S)
    assert not changed
    assert old.reported == twin.reported
    assert old.reported_meta.version == 1
    assert old.connectivity.last_seen == T0 + 20 * S
    newer, changed = apply_reported(twin, reported(T0 + 30 * S), T0 + 31 * S)
    assert changed
    assert newer.reported_meta.version == 2


def test_redelivered_reported_document_is_not_a_new_version() -> None:
    doc = reported(T0, config={"version": 0, "status": "applied"})
    twin, _ = apply_reported(fresh(), doc, T0 + S)
    again, changed = apply_reported(twin, doc, T0 + 60 * S)  # retained, re-sent on every subscribe
    assert not changed
    assert again.reported_meta == twin.reported_meta
    assert again.connectivity.last_seen == T0 + 60 * S
    # Same ts but different content (a second document within one second) still applies.
    other, changed = apply_reported(twin, reported(T0, config={"version": 0, "status": "rejected"}), T0 + 61 * S)
    assert changed
    assert other.reported_meta.version == 2


# --- status / connectivity ---------------------------------------------------------------------------------


def test_status_online_then_last_will() -> None:
    twin, changed = apply_status(fresh(), status(True, T0), T0 + S)
    assert changed
    assert (twin.connectivity.online, twin.connectivity.status_ts, twin.connectivity.last_seen) == (True, T0, T0 + S)
    assert twin.connectivity_meta.version == 1
    # The last will carries the connect-time ts (same as the online status): it applies.
    twin, changed = apply_status(twin, status(False, T0, "connection lost"), T0 + 600 * S)
    assert changed
    assert twin.connectivity.online is False
    assert twin.connectivity.reason == "connection lost"
    # Online-ness is kept apart from activity: the will does not count as the bench being seen.
    assert twin.connectivity.last_seen == T0 + S
    assert twin.connectivity_meta.version == 2
    assert twin.connectivity_meta.last_updated == T0


def test_stale_retained_last_will_is_ignored() -> None:
    twin, _ = apply_status(fresh(), status(True, T0 + 3600 * S), T0 + 3600 * S)
    # A will registered at an earlier connection, delivered late: older than the online status.
    updated, changed = apply_status(twin, status(False, T0, "connection lost"), T0 + 3700 * S)
    assert not changed
    assert updated == twin
    assert updated.connectivity.online is True


def test_repeated_status_is_not_a_change() -> None:
    twin, _ = apply_status(fresh(), status(False, T0), T0)
    again, changed = apply_status(twin, status(False, T0), T0 + S)
    assert not changed
    assert again.connectivity_meta.version == twin.connectivity_meta.version


def test_activity_alone_does_not_make_a_bench_online() -> None:
    twin = apply_activity(fresh(), T0)
    assert twin.connectivity.online is None
    assert twin.connectivity.last_seen == T0


# --- delta --------------------------------------------------------------------------------------------------


def test_delta_without_report_is_the_whole_desired_config() -> None:
    twin = fresh()
    assert twin.delta() == twin.desired.model_dump(mode="json")


def test_delta_against_applied_config() -> None:
    twin, _ = apply_reported(fresh(), reported(applied_config=DEFAULT_CONFIG_DOC), T0)
    assert twin.delta() == {}
    twin = patch_desired(twin, {"wifi": {"max_clients": 30}, "display": {"brightness_pct": 50}}, T0)
    assert twin.delta() == {"wifi": {"max_clients": 30}, "display": {"brightness_pct": 50}}


# --- desired patches -------------------------------------------------------------------------------------------


def test_patch_desired_bumps_version_and_last_updated() -> None:
    twin = patch_desired(fresh(), {"telemetry_interval_s": 30}, T0 + S)
    assert twin.desired.telemetry_interval_s == 30
    assert twin.desired.wifi.ssid == DEFAULT_CONFIG_DOC["wifi"]["ssid"]
    assert twin.desired_version == 1
    assert twin.desired_meta.version == 1
    assert twin.desired_meta.last_updated == T0 + S
    twin = patch_desired(twin, {"wifi": {"ssid": "Klupa"}}, T0 + 2 * S, if_match=1)
    assert (twin.desired_version, twin.desired.wifi.ssid, twin.desired.telemetry_interval_s) == (2, "Klupa", 30)
    assert twin.versions() == {"telemetry": 0, "reported": 0, "desired": 2, "connectivity": 0}


@pytest.mark.parametrize("stale", [0, 2, 7])
def test_patch_desired_if_match_conflict(stale: int) -> None:
    twin = patch_desired(fresh(), {"telemetry_interval_s": 30}, T0)
    with pytest.raises(VersionConflict) as info:
        patch_desired(twin, {"telemetry_interval_s": 40}, T0, if_match=stale)
    assert (info.value.expected, info.value.current) == (stale, 1)
    assert "desired version is 1" in str(info.value)


@pytest.mark.parametrize(
    ("patch", "fields"),
    [
        ({"telemetry_interval_s": 1}, {"telemetry_interval_s"}),
        ({"wifi": {"max_clients": 0, "session_minutes": "60"}}, {"wifi.max_clients", "wifi.session_minutes"}),
        ({"wifi": {"ssid": None}}, {"wifi.ssid"}),  # null deletes the key, which is required
        ({"load_shedding": {"usb_below_pct": 90}}, {"load_shedding"}),
        ({"colour": "red"}, {"colour"}),
    ],
)
def test_patch_desired_invalid_config_names_fields(patch: dict[str, Any], fields: set[str]) -> None:
    twin = fresh()
    with pytest.raises(InvalidConfig) as info:
        patch_desired(twin, patch, T0)
    assert set(info.value.errors) == fields
    assert all(info.value.errors.values())
    assert twin.desired_version == 0


def test_patch_must_be_an_object() -> None:
    with pytest.raises(InvalidConfig) as info:
        patch_desired(fresh(), ["telemetry_interval_s"], T0)
    assert set(info.value.errors) == {"config"}


def test_validate_config_rejects_non_json() -> None:
    with pytest.raises(InvalidConfig) as info:
        validate_config({"x": object()})
    assert set(info.value.errors) == {"config"}


# --- config state ------------------------------------------------------------------------------------------------


def test_config_state_pending_applied_rejected() -> None:
    twin = fresh()
    assert twin.config_state() == "applied"  # nothing desired beyond the default yet
    twin = patch_desired(twin, {"telemetry_interval_s": 30}, T0)
    assert twin.config_state() == "pending"
    twin, _ = apply_reported(twin, reported(T0 + S), T0 + S)
    assert twin.config_state() == "pending"  # reported without a config answer
    twin, _ = apply_reported(twin, reported(T0 + 2 * S, config={"version": 0, "status": "applied"}), T0 + 2 * S)
    assert twin.config_state() == "pending"  # answer to an older version
    twin, _ = apply_reported(twin, reported(T0 + 3 * S, config={"version": 1, "status": "applied"}), T0 + 3 * S)
    assert twin.config_state() == "applied"
    twin = patch_desired(twin, {"telemetry_interval_s": 40}, T0 + 4 * S)
    assert twin.config_state() == "pending"
    rejected = {"version": 2, "status": "rejected", "error": "ssid too long"}
    twin, _ = apply_reported(twin, reported(T0 + 5 * S, config=rejected), T0 + 5 * S)
    assert twin.config_state() == "rejected"


# --- votes --------------------------------------------------------------------------------------------------------


def test_vote_counting_and_reconciliation_with_bench_counters() -> None:
    twin = fresh()
    twin = count_vote(twin, "park-2026", "yes", T0)
    assert twin.counted_votes == {"park-2026": {"yes": 1}}
    assert twin.votes_mismatch_since is None  # no bench counters yet
    twin, _ = apply_telemetry(twin, sample(T0, 1, votes={"park-2026": {"yes": 2, "no": 0}}), T0 + S)
    assert twin.votes_mismatch_since == T0 + S
    # Still different: the first moment of the mismatch is kept (the health grace runs from it).
    twin, _ = apply_telemetry(twin, sample(T0 + 60 * S, 2, votes={"park-2026": {"yes": 2}}), T0 + 61 * S)
    assert twin.votes_mismatch_since == T0 + S
    twin = count_vote(twin, "park-2026", "yes", T0 + 62 * S)
    assert twin.counted_votes == {"park-2026": {"yes": 2}}
    assert twin.votes_mismatch_since is None  # zero counters do not count as a difference


def test_older_telemetry_does_not_change_reconciliation() -> None:
    twin = with_telemetry(sample(T0 + 60 * S, 2, votes={}))
    twin, changed = apply_telemetry(twin, sample(T0, 1, votes={"park-2026": {"yes": 9}}), T0 + 120 * S)
    assert not changed
    assert twin.votes_mismatch_since is None


def test_twin_json_round_trip() -> None:
    twin = with_telemetry(sample())
    twin, _ = apply_status(twin, status(True), T0)
    twin, _ = apply_reported(twin, reported(config={"version": 0, "status": "applied"}), T0)
    twin = patch_desired(count_vote(twin, "park-2026", "no", T0), {"telemetry_interval_s": 30}, T0)
    assert Twin.model_validate_json(twin.model_dump_json()) == twin
