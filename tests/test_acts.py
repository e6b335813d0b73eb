"""tinytorch.acts: what crosses from the student's kernel to the tests' is data of a few kinds, and
nothing else decodes. (The relay itself, over a real stdin channel between two jailed kernels, is
tested by grading: tests/course/grading/test_hostile_kernel.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tinytorch.acts import MAX_DEPTH, MAX_REPLY_CHARS, ActError, Opaque, act, decode, dumps, error_reply, loads


class Thing:
    pass


def test_data_crosses_as_plain_python_and_numeric_arrays():
    sent = {
        "int": np.int64(3),
        "float": np.float32(1.5),
        "bool": np.bool_(True),
        "tuple": (1, 2.0, None),
        "nan": float("nan"),
        "big": 10**40,
        "array": np.arange(6, dtype=np.int16).reshape(2, 3),
        "thing": Thing(),
    }
    got = loads(dumps(sent))
    assert [type(got[k]) for k in ("int", "float", "bool", "tuple", "big")] == [int, float, bool, list, int]
    assert got["tuple"] == [1, 2.0, None] and got["big"] == 10**40 and np.isnan(got["nan"])
    assert got["array"].dtype == np.int16 and got["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert got["thing"] == Opaque("Thing") and repr(got["thing"]) == "<Thing object>"


def test_an_array_of_objects_or_strings_crosses_only_as_its_type_name():
    assert loads(dumps(np.array(["a"]))) == Opaque("ndarray")
    assert loads(dumps(np.array([Thing()], dtype=object))) == Opaque("ndarray")


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ({"__ndarray__": {"dtype": "object", "shape": [1], "data": [1]}}, "dtype 'object'"),
        ({"__ndarray__": {"dtype": "int8", "shape": [2], "data": [1]}}, "needs 2 values, got 1"),
        ({"__ndarray__": {"dtype": "int8", "shape": [1], "data": [[1]]}}, "flat list of numbers"),
        ({"__ndarray__": {"dtype": "int8", "shape": [1], "data": [300]}}, "do not fit its dtype int8"),
        ({"__ndarray__": {"dtype": "int8", "shape": [-1], "data": []}}, "shape must be a list"),
        ({"__ndarray__": {"dtype": "int8", "shape": [1], "data": [1], "code": "x"}}, "exactly dtype, shape and data"),
        ({"__opaque__": 3}, "must name its type"),
    ],
)
def test_a_malformed_array_or_tag_is_refused_naming_what_is_wrong(reply, message):
    with pytest.raises(ActError, match=message):
        decode(reply)


def test_size_depth_and_syntax_limits():
    with pytest.raises(ActError, match="more than"):
        loads(" " * (MAX_REPLY_CHARS + 1))
    with pytest.raises(ActError, match="nested more than"):
        loads("[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2))
    with pytest.raises(ActError, match="not JSON"):
        loads("[" * 100_000)
    with pytest.raises(ActError, match="not JSON"):
        loads("print('hi')")
    with pytest.raises(ActError, match="must be text"):
        loads(b"[]")


def test_an_act_in_one_kernel_is_a_plain_call_with_its_data_copied_both_ways():
    kept = {}

    @act
    def append_to(items: list) -> dict:
        items.append("added")
        kept["items"] = items
        return {"items": items, "scalar": np.float64(2.5)}

    mine = ["mine"]
    got = append_to(mine)
    assert mine == ["mine"], "the act works on a copy of its arguments, as it does when graded"
    assert got == {"items": ["mine", "added"], "scalar": 2.5} and type(got["scalar"]) is float
    got["items"].append("later")
    assert kept["items"] == ["mine", "added"], "the result is a copy: the judge cannot reach the act's objects"


def test_an_exception_of_the_act_reaches_the_caller_unchanged_in_one_kernel():
    @act
    def unfinished() -> None:
        raise NotImplementedError("write it")

    with pytest.raises(NotImplementedError, match="write it"):
        unfinished()


def test_the_error_reply_is_json_the_tests_raise_from(monkeypatch):
    """With the relay switched on, an act is asked for with input(), its request carrying an id
    of its own; an error reply raises ActError with its message, a reply to another request (a
    late one) is refused, and so is a reply that is no envelope."""
    from tinytorch import acts

    @act
    def asked() -> int:
        return 1

    monkeypatch.setenv(acts.RELAY_VARIABLE, "1")
    requests = []
    replies = iter(
        [
            lambda request: error_reply("ValueError: no", request),
            lambda request: json.dumps({"id": acts.request_id(request), "ok": 7}),
            lambda request: json.dumps({"id": "an-earlier-request", "ok": 7}),
            lambda request: json.dumps({"ok": 7}),
            lambda request: json.dumps([1]),
        ]
    )
    monkeypatch.setattr("builtins.input", lambda prompt: requests.append(json.loads(prompt)) or next(replies)(prompt))
    with pytest.raises(ActError, match="ValueError: no"):
        asked()
    assert asked() == 7
    with pytest.raises(ActError, match="answers another request"):
        asked()
    for _ in range(2):
        with pytest.raises(ActError, match="a reply must be"):
            asked()
    assert [{k: v for k, v in r.items() if k != "id"} for r in requests] == [
        {"act": "asked", "args": [], "kwargs": {}}
    ] * 5
    ids = [r["id"] for r in requests]
    assert len(set(ids)) == 5 and all(isinstance(i, str) and len(i) == 16 for i in ids)


def test_serve_answers_with_the_request_id(monkeypatch):
    """The student's kernel's side: serve's reply, and its error reply, carry the request's id."""
    from tinytorch import acts

    @act
    def doubled(x: int) -> int:
        return 2 * x

    published = []
    monkeypatch.setattr("IPython.display.publish_display_data", lambda data: published.append(data[acts.REPLY_MIME]))
    acts.serve(json.dumps({"act": "doubled", "args": [4], "kwargs": {}, "id": "r1"}))
    acts.serve(json.dumps({"act": "doubled", "args": [], "kwargs": {}, "id": "r2"}))
    assert json.loads(published[0]) == {"id": "r1", "ok": 8}
    failed = json.loads(published[1])
    assert failed["id"] == "r2" and failed["error"].startswith("TypeError:")
