"""The report archive: past reports to download, a report on demand, and who receives the monthly mail.

A municipality user sees and manages only their municipality's; admin and maintenance see all, the fleet
report (``_fleet``) included. Recipients are changed by those who may edit polls (admin, municipality).
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from dashboards.access import login_required, me, require, scope
from dashboards.deps import deps
from dashboards.errors import ApiError
from fleet.reports.archive import FLEET_KEY
from fleet.reports.desk import ReportDesk
from fleet.reports.output import FORMATS
from fleet.reports.render_pdf import PdfError

bp = Blueprint("reports", __name__)
EXTENSION = "benchfleet.reports"


def desk() -> ReportDesk:
    """The app's report desk; 503 when the server has none."""
    found: ReportDesk | None = current_app.extensions.get(EXTENSION)
    if found is None:
        raise ApiError(503, "unavailable", "reports are not set up on this server")
    return found


def _municipalities() -> list[str]:
    """The municipalities the user may report on (``_fleet`` too for the whole-fleet roles)."""
    names = sorted({t.attributes.municipality for t in deps().fleet.list_twins(scope())})
    return names if scope().municipalities is not None else [FLEET_KEY, *names]


def _allowed(municipality: str) -> str:
    """``municipality`` if the user may see it; 404 naming it otherwise (another town's stays unknown)."""
    if municipality not in _municipalities():
        raise ApiError(404, "unknown_municipality", f"no municipality {municipality!r} among yours")
    return municipality


@bp.get("/reports")
@login_required
def page() -> str:
    """The archive, the on-demand form and the recipients."""
    mine = scope().municipalities
    return render_template(
        "reports.html",
        archive=desk().archive(mine),
        municipalities=_municipalities(),
        formats=list(FORMATS),
        recipients=desk().recipients(mine),
        can_manage=me().can("edit_polls"),
        period=f"{deps().fleet.now():%Y-%m}",
    )


@bp.get("/reports/archive/<int:report_id>")
@login_required
def download(report_id: int) -> Response:
    """One archived report file."""
    found = desk().archived_file(report_id, scope().municipalities)
    if found is None or not found.path.is_file():
        raise ApiError(404, "unknown_report", f"no archived report {report_id}")
    return send_file(found.path, mimetype=FORMATS[found.format].media_type, as_attachment=True)


@bp.get("/reports/make")
@login_required
def make() -> Response:
    """A report on demand: ``?municipality=&period=YYYY-MM|range&format=html|pdf|csv`` (a download)."""
    municipality = _allowed(request.args.get("municipality", ""))
    try:
        made = desk().make(
            None if municipality == FLEET_KEY else municipality,
            request.args.get("period", ""),
            request.args.get("format", "pdf"),
        )
    except ValueError as err:
        raise ApiError(400, "bad_report_request", str(err)) from err
    except PdfError as err:
        raise ApiError(503, "pdf_unavailable", str(err)) from err
    return Response(
        made.data, mimetype=made.media_type, headers={"Content-Disposition": f'attachment; filename="{made.filename}"'}
    )


@bp.post("/reports/recipients")
@login_required
@require("edit_polls")
def add_recipient() -> ResponseReturnValue:
    """Add an address: form or JSON ``{municipality, email}``."""
    body = request.get_json(silent=True) or request.form
    municipality = _allowed(str(body.get("municipality", "")))
    try:
        added = desk().add_recipient(municipality, str(body.get("email", "")))
    except ValueError as err:
        raise ApiError(422, "bad_email", str(err)) from err
    return _recipients_answer(added)


@bp.post("/reports/recipients/remove")
@login_required
@require("edit_polls")
def remove_recipient() -> ResponseReturnValue:
    """Remove an address: form or JSON ``{municipality, email}``."""
    body = request.get_json(silent=True) or request.form
    municipality = _allowed(str(body.get("municipality", "")))
    return _recipients_answer(desk().remove_recipient(municipality, str(body.get("email", ""))))


def _recipients_answer(changed: bool) -> ResponseReturnValue:
    if request.is_json:
        return jsonify({"changed": changed, "recipients": desk().recipients(scope().municipalities)})
    return redirect(url_for("reports.page"))
