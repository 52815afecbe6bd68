"""``announcements`` in the desired config: absent from the document while empty (older firmware refuses
unknown keys), carried once published."""

from __future__ import annotations

import json

from twins.config import DEFAULT_CONFIG_DOC, BenchConfig

ANNOUNCEMENT = {
    "id": "clean-up",
    "text": {"bs": "Sutra čistimo park", "hr": "Sutra čistimo park", "sr": "Сутра чистимо парк"},
    "starts": "2026-12-01T00:00:00Z",
    "ends": "2026-12-08T00:00:00Z",
}


def test_empty_announcements_stay_out_of_the_document() -> None:
    config = BenchConfig.model_validate(DEFAULT_CONFIG_DOC)
    assert config.announcements == []
    assert "announcements" not in json.loads(config.model_dump_json())


def test_published_announcements_round_trip() -> None:
    config = BenchConfig.model_validate({**DEFAULT_CONFIG_DOC, "announcements": [ANNOUNCEMENT]}, strict=False)
    doc = json.loads(config.model_dump_json())
    assert [a["text"] for a in doc["announcements"]] == [ANNOUNCEMENT["text"]]
    assert doc["announcements"][0]["ends"].startswith("2026-12-08T00:00:00")
    assert BenchConfig.model_validate(doc, strict=False) == config
