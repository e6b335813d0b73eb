"""Act, then judge: what a test needs from the student's code, carried as plain data.

A graded test of the capstone has two parts. The *act* is given code that calls the student's
functions on the test's fixtures and returns plain data: numbers, strings, booleans, ``None``,
lists, dicts with string keys and numpy arrays of a numeric dtype. The *judge* is the test's
assertions on that data.

- In the student's own notebook (one kernel) an act is a plain call. Its arguments and its result
  go through the same encoding as when graded, so the judge sees the same data either way (a
  numpy scalar arrives as a Python number, an object that is not data as an :class:`Opaque`).
- When graded, the tests run in a kernel of their own that never runs a line the student wrote.
  There :data:`RELAY_VARIABLE` is set, and an act is asked for with ``input()`` over Jupyter's
  stdin channel. The grader runs it in the student's kernel (:func:`serve`), which publishes its
  reply as JSON text under :data:`REPLY_MIME`, and answers the input request with that text.
  The tests' kernel only decodes the text (:func:`decode`): ``json.loads``, then a walk that
  accepts the kinds above and nothing else. Nothing the student's kernel sends is evaluated,
  unpickled or imported. Each request carries an id of its own and its reply must carry it back,
  so an answer that comes late (an act that ran past its test's time) is never taken for a later
  request's.
"""

from __future__ import annotations

import functools
import json
import math
import os
import secrets
import sys
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

#: Set (to any non-empty value) in the environment of the kernel that runs the tests when graded.
RELAY_VARIABLE = "TINYTORCH_ACT_RELAY"
#: The mime type of the reply :func:`serve` publishes in the student's kernel.
REPLY_MIME = "text/x-tinytorch-act-reply"
#: The largest reply (characters of JSON text) the tests accept.
MAX_REPLY_CHARS = 8 << 20
#: The most characters of printed text one output message of the student's kernel carries when
#: graded (:func:`bound_streams`): each message stays far below the grader's per-message bound.
STREAM_CHUNK_CHARS = 1 << 20
#: The deepest nesting of lists and dicts a reply may have.
MAX_DEPTH = 24
#: numpy dtypes an array may have on the way across.
ARRAY_DTYPES = frozenset(
    ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]
)
_ARRAY, _OPAQUE = "__ndarray__", "__opaque__"
_ENVELOPE = 'a reply must be {"id": <request id>, "ok": <result>} or {"id": <request id>, "error": <message>}'

_ACTS: dict[str, Callable[..., Any]] = {}


class ActError(Exception):
    """An act gave no usable answer: the student's code raised, its kernel stopped, or the reply
    was not data of the accepted kinds."""


class Opaque:
    """Stands for a value that is not data (a Tensor, a custom object): only its type's name
    crosses, so a judge can say what it got."""

    def __init__(self, type_name: str) -> None:
        self.type_name = type_name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.type_name == self.type_name

    def __hash__(self) -> int:
        return hash((Opaque, self.type_name))

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data: numpy scalars become Python numbers, tuples lists, numeric
    arrays a tagged dict (dtype, shape, flat list), anything else an opaque tag with its type
    name. Raises :class:`ActError` past :data:`MAX_DEPTH` or for a dict key that is not a string."""
    if depth > MAX_DEPTH:
        raise ActError(f"the value is nested more than {MAX_DEPTH} levels deep")
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [encode(item, depth + 1) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise ActError("a dict with keys that are not strings cannot cross: " + repr(list(value)[:5]))
        return {str(key): encode(item, depth + 1) for key, item in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.name in ARRAY_DTYPES:
        return {_ARRAY: {"dtype": value.dtype.name, "shape": list(value.shape), "data": value.ravel().tolist()}}
    return {_OPAQUE: type(value).__name__}


def _array(spec: Any) -> np.ndarray:
    if not (isinstance(spec, dict) and set(spec) == {"dtype", "shape", "data"}):
        raise ActError("an array must carry exactly dtype, shape and data")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in ARRAY_DTYPES:
        raise ActError(f"an array of dtype {dtype!r} cannot cross; numeric dtypes only")
    if not (isinstance(shape, list) and len(shape) <= 8 and all(type(n) is int and n >= 0 for n in shape)):
        raise ActError(f"an array's shape must be a list of at most 8 sizes, got {shape!r}")
    if not (isinstance(data, list) and all(type(x) in (bool, int, float) for x in data)):
        raise ActError("an array's data must be a flat list of numbers")
    if len(data) != math.prod(shape):
        raise ActError(f"an array of shape {shape} needs {math.prod(shape)} values, got {len(data)}")
    try:
        return np.array(data, dtype=dtype).reshape(shape)
    except (OverflowError, ValueError) as error:
        raise ActError(f"an array's values do not fit its dtype {dtype}: {error}") from None


def decode(value: Any, depth: int = 0) -> Any:
    """Parsed JSON back to data, accepting only the kinds :func:`encode` makes; a numeric array's
    tag becomes the array, an opaque tag an :class:`Opaque`. Raises :class:`ActError` otherwise."""
    if depth > MAX_DEPTH:
        raise ActError(f"the reply is nested more than {MAX_DEPTH} levels deep")
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return [decode(item, depth + 1) for item in value]
    if type(value) is dict:
        if set(value) == {_ARRAY}:
            return _array(value[_ARRAY])
        if set(value) == {_OPAQUE}:
            if not isinstance(value[_OPAQUE], str):
                raise ActError("an opaque value must name its type")
            return Opaque(value[_OPAQUE][:200])
        return {key: decode(item, depth + 1) for key, item in value.items()}
    raise ActError(f"a value of type {type(value).__name__} is not data")


def dumps(value: Any) -> str:
    """``value`` encoded (:func:`encode`) as JSON text (NaN and infinities as JSON's extensions)."""
    return json.dumps(encode(value), allow_nan=True)


def loads(text: Any) -> Any:
    """JSON text of at most :data:`MAX_REPLY_CHARS` characters decoded to data (:func:`decode`)."""
    if not isinstance(text, str):
        raise ActError(f"a reply must be text, got {type(text).__name__}")
    if len(text) > MAX_REPLY_CHARS:
        raise ActError(f"the reply has {len(text)} characters, more than the {MAX_REPLY_CHARS} allowed")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ActError(f"the reply is not JSON: {str(error)[:200]}") from None
    return decode(parsed)


def _unwrap(envelope: Any, request_id: str) -> Any:
    """The result inside a reply to the request ``request_id``: ``{"id": request_id, "ok": result}``,
    or raise the ``{"id": request_id, "error": message}`` it carries. A reply to another request (a
    late answer of an act that ran past its time) is refused, never taken as this one's."""
    if not (isinstance(envelope, dict) and "id" in envelope):
        raise ActError(
            'a reply must be {"id": <request id>, "ok": <result>} or {"id": <request id>, "error": <message>}'
        )
    if envelope["id"] != request_id:
        raise ActError("the reply answers another request than this test's (a late answer is never taken)")
    body = {key: value for key, value in envelope.items() if key != "id"}
    if set(body) == {"ok"}:
        return body["ok"]
    if set(body) == {"error"} and isinstance(body["error"], str):
        raise ActError(body["error"][:2000])
    raise ActError(_ENVELOPE)


def act(function: Callable[..., Any]) -> Callable[..., Any]:
    """Make ``function`` an act: registered under its name, and performed where the student's code
    runs, its result given back as data (see the module's docstring)."""
    _ACTS[function.__name__] = function

    @functools.wraps(function)
    def perform(*args: Any, **kwargs: Any) -> Any:
        if os.environ.get(RELAY_VARIABLE):
            return _ask(function.__name__, args, kwargs)
        args, kwargs = loads(dumps([list(args), kwargs]))
        return loads(dumps(function(*args, **kwargs)))

    return perform


def _ask(name: str, args: tuple, kwargs: dict) -> Any:
    """Ask the grader for act ``name`` over the stdin channel and decode its answer; the request
    carries an id of its own, which the answer must carry back."""
    request_id = secrets.token_hex(8)
    request = dumps({"act": name, "args": list(args), "kwargs": kwargs, "id": request_id})
    try:
        reply = input(request)
    except Exception as error:  # no stdin channel: not run by the grader
        raise ActError(f"act {name}: nobody answered ({type(error).__name__}: {error})") from None
    return _unwrap(loads(reply), request_id)


def request_id(request: str) -> str | None:
    """The id a request (JSON text, from the tests' kernel) carries, None when it has none."""
    try:
        asked = json.loads(request)
    except (ValueError, RecursionError):
        return None
    found = asked.get("id") if isinstance(asked, dict) else None
    return found if isinstance(found, str) else None


def error_reply(message: str, request: str = "") -> str:
    """The reply to ``request`` (JSON text) that makes its act fail with ``message`` (the grader's,
    when the student's kernel gave no usable answer)."""
    return json.dumps({"id": request_id(request), "error": message})


def serve(request: str) -> None:
    """Perform the act ``request`` asks for (JSON text: act, args, kwargs, id) in this kernel and
    publish the reply, carrying the request's id, under :data:`REPLY_MIME`; an exception of the
    act becomes an error reply naming its type and message."""
    from IPython.display import publish_display_data

    try:
        asked = loads(request)
        function = _ACTS[asked["act"]]
        result = encode(function(*asked["args"], **asked["kwargs"]))
        reply = json.dumps({"id": request_id(request), "ok": result}, allow_nan=True)
    except Exception as error:
        reply = error_reply(_described(error), request)
    publish_display_data({REPLY_MIME: reply})


def bound_streams() -> None:
    """Make this kernel's ``sys.stdout`` and ``sys.stderr`` send what is printed in messages of at
    most :data:`STREAM_CHUNK_CHARS` characters, sent as soon as that much is waiting.

    The grader runs this first in the student's kernel. ipykernel sends a stream's text every 0.2 s
    as one message, so a loop that prints fast makes messages of tens of MiB; the grader drops a
    message past its per-message bound together with the connection, and what follows it while
    zmq connects again (the end of the cell, the act's reply) would be lost with it. Bounded, a
    flood is counted as it comes, and its end is seen."""
    from ipykernel.iostream import OutStream

    # IPython wraps a stream's write() around each cell, so the bound hooks into what write()
    # calls: the flush it schedules, and the buffers the flush sends.
    class BoundedStream(OutStream):
        def _schedule_flush(self) -> None:
            with self._buffer_lock:
                waiting = sum(buffer.tell() for buffer in self._buffers.values())
            if waiting >= STREAM_CHUNK_CHARS:
                self.flush()  # waits for the send: a flood goes no faster than it leaves
            else:
                super()._schedule_flush()

        def _flush_buffers(self) -> Iterator[tuple[dict, str]]:
            for parent, text in super()._flush_buffers():
                for start in range(0, len(text), STREAM_CHUNK_CHARS):
                    yield parent, text[start : start + STREAM_CHUNK_CHARS]

    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if type(stream) is OutStream:
            stream.__class__ = BoundedStream


def _described(error: BaseException) -> str:
    """An exception as the tests report it: its type and message, then where it was raised (the
    last few frames outside this module: the notebook's own code)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename != __file__][-3:]
    where = "".join(traceback.format_list(frames)).rstrip()
    return f"{type(error).__name__}: {error}" + (f"\n{where}" if where else "")
