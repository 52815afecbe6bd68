"""The audit log (contract section 5): JSON, CSV export and a page with filters, all scoped like the benches."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template, request

from dashboards.access import login_required, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from dashboards.timeparams import TimeParamError, parse_instant
from fleet.ops.audit import MAX_ENTRIES, AuditEntry, AuditQuery, entries_csv

bp = Blueprint("audit", __name__)


def _query() -> AuditQuery:
    """Filters from ``?since=&actor=&bench_id=&limit=``; 400 naming a bad one."""
    args = request.args
    since = None
    if args.get("since"):
        try:
            since = parse_instant("since", args["since"], deps().fleet.now())
        except TimeParamError as err:
            raise ApiError(400, "bad_time", str(err)) from err
    limit_text = args.get("limit", "500")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_ENTRIES:
        raise ApiError(400, "bad_limit", f"limit={limit_text!r}: use a whole number from 1 to {MAX_ENTRIES}")
    return AuditQuery(since, args.get("actor") or None, args.get("bench_id") or None, int(limit_text))


def _entries(query: AuditQuery) -> list[AuditEntry]:
    return deps().fleet.audit_entries(query, scope())


@bp.get("/api/audit")
@login_required
def entries() -> Response:
    """Entries matching the filters, newest first (a municipality user sees only their benches' entries)."""
    return jsonify({"entries": [e.as_json() for e in _entries(_query())]})


@bp.get("/api/audit.csv")
@login_required
def export() -> Response:
    """The same entries as CSV (a download)."""
    body = entries_csv(_entries(_query()))
    return Response(
        body, mimetype="text/csv", headers={"Content-Disposition": 'attachment; filename="benchfleet-audit.csv"'}
    )


@bp.get("/audit")
@login_required
def page() -> str:
    """The audit log with filters and a CSV link."""
    try:
        query = _query()
        error = None
        found = _entries(query)
    except ApiError as err:
        error, found = err.message, []
    return render_template("audit.html", entries=found, args=request.args, error=error)
