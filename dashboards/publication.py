"""What citizens may see of a poll: open polls live, closed polls only once their results are published."""

from __future__ import annotations

from flask import current_app

from dashboards.deps import deps
from dashboards.errors import ApiError
from fleet.reports.publication import Publications
from fleet.service_api import EVERYTHING, PollInfo

EXTENSION = "benchfleet.publications"
#: The licence of the open-data export, stated in the files and on the public page.
LICENCE = {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"}


def publications() -> Publications | None:
    """The app's publication store (None: nothing is ever published)."""
    found: Publications | None = current_app.extensions.get(EXTENSION)
    return found


def published_ids() -> frozenset[str]:
    """Ids of the polls whose results are published."""
    store = publications()
    return frozenset(store.all()) if store else frozenset()


def is_closed(poll: PollInfo) -> bool:
    """Whether the poll has closed (by the fleet's clock)."""
    return deps().fleet.now() >= poll.closes


def public_polls() -> list[PollInfo]:
    """Polls citizens may see: every poll not yet closed, and the closed ones that were published."""
    published = published_ids()
    return [p for p in deps().fleet.polls(EVERYTHING) if not is_closed(p) or p.poll_id in published]


def public_poll(poll_id: str) -> PollInfo:
    """A poll citizens may see; one 404 for unknown and unpublished (the closed poll's existence stays hidden)."""
    for poll in public_polls():
        if poll.poll_id == poll_id:
            return poll
    raise ApiError(404, "unknown_poll", f"no public poll {poll_id!r}")


def published_polls() -> list[PollInfo]:
    """Polls whose results were published (the embed widget and the open-data export show only these)."""
    published = published_ids()
    return [p for p in deps().fleet.polls(EVERYTHING) if p.poll_id in published]


def published_poll(poll_id: str) -> PollInfo:
    """A published poll; 404 otherwise."""
    for poll in published_polls():
        if poll.poll_id == poll_id:
            return poll
    raise ApiError(404, "unknown_poll", f"no published poll {poll_id!r}")
