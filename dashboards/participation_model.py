"""Polls and their tallies as the dashboards show them: localised text, JSON documents and CSV rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from dashboards.deps import deps
from dashboards.errors import ApiError
from fleet.service_api import PollInfo, PollResults, Scope
from twins.clock import to_rfc3339

#: Viewer locale → language of the poll texts (bench kiosks carry bs, hr, sr, en).
POLL_LANGUAGE: dict[str, str] = {"bs": "bs", "hr": "hr", "sr_Latn": "sr", "sr_Cyrl": "sr", "en": "en"}

# Serbian Latin → Cyrillic is one-to-one (digraphs first); poll texts are entered in Latin.
_DIGRAPHS = {"Lj": "Љ", "LJ": "Љ", "lj": "љ", "Nj": "Њ", "NJ": "Њ", "nj": "њ", "Dž": "Џ", "DŽ": "Џ", "dž": "џ"}
_LETTERS = dict(
    zip(
        "ABVGDĐEŽZIJKLMNOPRSTĆUFHCČŠabvgdđežzijklmnoprstćufhcčš",
        "АБВГДЂЕЖЗИЈКЛМНОПРСТЋУФХЦЧШабвгдђежзијклмнопрстћуфхцчш",
        strict=True,
    )
)


def to_cyrillic(text: str) -> str:
    """Transliterate Serbian Latin to Cyrillic (other characters unchanged)."""
    out: list[str] = []
    i = 0
    while i < len(text):
        pair = text[i : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        out.append(_LETTERS.get(text[i], text[i]))
        i += 1
    return "".join(out)


def localised(labels: Mapping[str, str], locale: str) -> str:
    """The label in the viewer's language (English, then any, as fallbacks)."""
    lang = POLL_LANGUAGE.get(locale, "en")
    text = labels.get(lang) or labels.get("en") or next(iter(labels.values()), "")
    return to_cyrillic(text) if locale == "sr_Cyrl" else text


def poll_doc(poll: PollInfo, locale: str | None = None) -> dict[str, Any]:
    """JSON form of a poll; with ``locale`` also the texts in that language."""
    doc: dict[str, Any] = {
        "id": poll.poll_id,
        "question": dict(poll.question),
        "options": [o.model_dump(mode="json") for o in poll.options],
        "opens": to_rfc3339(poll.opens),
        "closes": to_rfc3339(poll.closes),
        "bench_ids": list(poll.bench_ids),
        "municipalities": list(poll.municipalities),
    }
    if locale:
        doc["text"] = localised(poll.question, locale)
        doc["option_text"] = {o.id: localised(o.labels, locale) for o in poll.options}
    return doc


def results_doc(results: PollResults) -> dict[str, Any]:
    """JSON form of poll tallies."""
    return {
        "poll_id": results.poll_id,
        "total": results.total,
        "votes": sum(results.total.values()),
        "by_bench": results.by_bench,
        "by_municipality": results.by_municipality,
    }


def public_results_doc(results: PollResults) -> dict[str, Any]:
    """Aggregate-only tallies for citizens: total and per municipality, no bench detail."""
    return {
        "poll_id": results.poll_id,
        "total": results.total,
        "votes": sum(results.total.values()),
        "by_municipality": results.by_municipality,
    }


def visible_poll(poll_id: str, scope: Scope) -> PollInfo:
    """The poll if it runs on a bench within ``scope``; 404 otherwise (its existence is not revealed)."""
    for poll in deps().fleet.polls(scope):
        if poll.poll_id == poll_id:
            return poll
    raise ApiError(404, "unknown_poll", f"no poll {poll_id!r} on the benches you may see")


def results_csv(poll: PollInfo, results: PollResults, municipality_of: Mapping[str, str]) -> str:
    """CSV of the tallies: one row per bench and option."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["poll_id", "bench_id", "municipality", "option", "votes"])
    options = [o.id for o in poll.options]
    for bench_id in sorted(results.by_bench):
        tally = results.by_bench[bench_id]
        for option in options:
            writer.writerow([poll.poll_id, bench_id, municipality_of.get(bench_id, ""), option, tally.get(option, 0)])
    return buffer.getvalue()
