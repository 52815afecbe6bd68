"""JSON Merge Patch (RFC 7386, the examples of its Appendix A) and the desired/reported delta."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from twins.merge_patch import delta, merge_patch

# RFC 7386 Appendix A: (original, patch, result), verbatim.
RFC_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_EXAMPLES)
def test_rfc7386_appendix_a(original: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(original, patch) == expected


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_EXAMPLES)
def test_inputs_are_not_modified(original: Any, patch: Any, expected: Any) -> None:
    before_o, before_p = copy.deepcopy(original), copy.deepcopy(patch)
    merge_patch(original, patch)
    assert original == before_o
    assert patch == before_p


def test_rfc7386_section_3_example() -> None:
    target = {
        "title": "Goodbye!",
        "author": {"givenName": "John", "familyName": "Doe"},
        "tags": ["example", "sample"],
        "content": "This will be unchanged",
    }
    patch = {"title": "Hello!", "phoneNumber": "+01-123-456-7890", "author": {"familyName": None}, "tags": ["example"]}
    assert merge_patch(target, patch) == {
        "title": "Hello!",
        "author": {"givenName": "John"},
        "tags": ["example"],
        "content": "This will be unchanged",
        "phoneNumber": "+01-123-456-7890",
    }


def test_delta_lists_only_differing_desired_keys_nested() -> None:
    desired = {"a": 1, "b": {"c": 2, "d": 3}, "e": [1, 2], "f": "x"}
    reported = {"a": 1, "b": {"c": 2, "d": 4}, "e": [1], "extra": True}
    assert delta(desired, reported) == {"b": {"d": 3}, "e": [1, 2], "f": "x"}


def test_delta_against_nothing_is_everything_and_equal_is_empty() -> None:
    desired = {"a": 1, "b": {"c": 2}}
    assert delta(desired, None) == desired
    assert delta(desired, {}) == desired
    assert delta(desired, copy.deepcopy(desired)) == {}


def test_delta_object_replacing_scalar() -> None:
    assert delta({"a": {"b": 1}}, {"a": 5}) == {"a": {"b": 1}}
    assert delta({"a": 5}, {"a": {"b": 1}}) == {"a": 5}
