"""Who receives a municipality's monthly report: addresses in the ``report_recipients`` table."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Engine, delete, select

from fleet.reports.tables import report_recipients
from fleet.state.votes import dialect_insert

# Deliberately loose (RFC 5322 is not regular): one @, no spaces, a dot in the domain.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(address: str) -> str:
    """``address`` stripped; ValueError naming it when it is not an e-mail address."""
    address = address.strip()
    if not _EMAIL.match(address) or len(address) > 254:
        raise ValueError(f"recipient {address!r} is not an e-mail address (name@example.org)")
    return address


def add_recipient(engine: Engine, municipality: str, address: str, now: datetime) -> bool:
    """Add an address (True) or find it already there (False)."""
    row = {"municipality": municipality, "email": check_email(address), "added_at": now}
    with engine.begin() as conn:
        stmt = dialect_insert(conn, report_recipients).values(**row).on_conflict_do_nothing()
        # RETURNING tells a new row apart on both dialects (rowcount of ON CONFLICT is driver-dependent).
        return conn.execute(stmt.returning(report_recipients.c.email)).first() is not None


def remove_recipient(engine: Engine, municipality: str, address: str) -> bool:
    """Remove an address; False when it was not there."""
    stmt = delete(report_recipients).where(
        report_recipients.c.municipality == municipality, report_recipients.c.email == address.strip()
    )
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount == 1


def recipients(engine: Engine) -> dict[str, list[str]]:
    """Addresses per municipality, sorted."""
    q = select(report_recipients.c.municipality, report_recipients.c.email).order_by(
        report_recipients.c.municipality, report_recipients.c.email
    )
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for municipality, email in conn.execute(q):
            out.setdefault(municipality, []).append(email)
    return out
