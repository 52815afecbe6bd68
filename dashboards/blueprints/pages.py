"""Fleet and bench pages (HTML) and the JSON their scripts load."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response as WerkzeugResponse

from dashboards.access import login_required, scope, visible_twin
from dashboards.bench_data import bench_figures
from dashboards.config_form import compare_rows
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.figures.bench_charts import LIVE_TRACES, RANGES
from dashboards.figures.fleet_map import fleet_map
from dashboards.fleet_data import COLUMNS, FleetRows
from dashboards.labels import attribute_labels, health_labels
from dashboards.reason_text import reason_text
from dashboards.views_model import PAGE_KEYS, config_rows, twin_document

bp = Blueprint("pages", __name__)


@bp.get("/")
def index() -> WerkzeugResponse:
    """Start at the fleet page."""
    return redirect(url_for("pages.fleet"))


@bp.get("/fleet")
@login_required
def fleet() -> str:
    """The fleet map and table."""
    return render_template("fleet.html", keys=PAGE_KEYS)


@bp.get("/fleet/data.json")
@login_required
def fleet_data() -> Response:
    """Every visible bench as compact columns (dashboards/fleet_data.py) plus the map figure without points."""
    f = deps().fleet
    rows: FleetRows = current_app.extensions.setdefault("benchfleet.fleet_rows", FleetRows())
    user_scope = scope()
    twins = f.list_twins(user_scope)
    # Health reasons in the viewer's language, written once per bench, language and health evaluation.
    doc = rows.columns(twins, f.now(), user_scope.municipalities is None, reason_text, str(get_locale()))
    cfg = deps().config
    # The bench markers are filled in by the page from the columns (the same code applies live updates),
    # so the 100,000-bench answer carries each value once.
    empty: dict[str, list[object]] = {c: [] for c in COLUMNS}
    doc["figure"] = fleet_map(empty, health_labels(), cfg.tile_url, cfg.tile_attribution, include_points=False)
    doc["labels"] = health_labels()
    return jsonify(doc)


@bp.get("/benches/<bench_id>")
@login_required
def bench(bench_id: str) -> str:
    """One bench: twin and charts."""
    twin = visible_twin(bench_id)
    doc = twin_document(twin, deps().fleet.now())
    return render_template(
        "bench.html",
        twin=twin,
        doc=doc,
        rows=compare_rows(config_rows(twin)),
        ranges=list(RANGES),
        live_traces=LIVE_TRACES,
        keys=PAGE_KEYS,
        health_text=health_labels(),
        attribute_text=attribute_labels(),
    )


@bp.get("/benches/<bench_id>/twin.json")
@login_required
def bench_twin(bench_id: str) -> Response:
    """The twin document plus the desired/reported rows (the page redraws its config table from it)."""
    twin = visible_twin(bench_id)
    doc = twin_document(twin, deps().fleet.now())
    doc["compare"] = compare_rows(config_rows(twin))
    return jsonify(doc)


@bp.get("/benches/<bench_id>/charts.json")
@login_required
def bench_charts(bench_id: str) -> Response:
    """Every chart of the bench page for ``?range=24h|7d|30d``."""
    twin = visible_twin(bench_id)
    key = request.args.get("range", "24h")
    if key not in RANGES:
        raise ApiError(400, "bad_range", f"range={key!r}: use one of {', '.join(RANGES)}")
    return jsonify({"range": key, "figures": bench_figures(deps().fleet, twin, RANGES[key])})
