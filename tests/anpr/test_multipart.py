"""The ingest multipart parser's fast path gives what Django's parser gives, or steps aside."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import parsers

from anpr.multipart import IngestMultiPartParser, parse_plain
from tests.bench.bench_ingest import multipart  # the body the ingest benchmark sends

# Each choice is mostly a plain value (the fast path's shape), sometimes an odd one.
NAMES = (["metadata", "scene", "plate", "extra.1", "Name"], ["a b", "näme", 'q"x', "x;y", ""])
FILENAMES = (
    [None, None, "scene.jpg", "plate.png"],
    ["", ".", "..", "a/b.jpg", "x&amp;.jpg", "ü.jpg", 'a"b', "a b.jpg"],
)
CONTENT_TYPES = (
    [None, "image/jpeg", "IMAGE/PNG", "application/json"],
    ["text/plain; charset=latin-1", "image/jpeg ", "bad", "a/b/c"],
)
DISPOSITIONS = (
    ['form-data; name="{n}"'],
    [
        'form-data;name="{n}"',
        "form-data; name={n}",
        'Form-Data; name="{n}"',
        'attachment; name="{n}"',
        'form-data; Name="{n}"',
        'form-data; name="{n}"; size=3',
        'form-data; name="{n}" ',
    ],
)
EXTRA_HEADERS = ([None], ["Content-Transfer-Encoding: base64", "Content-Length: 3", "X-Foo: bar"])


def _pick(draw, choices):
    plain, odd = choices
    return draw(st.sampled_from(odd if draw(st.integers(0, 24)) == 0 else plain))


@st.composite
def bodies(draw):
    boundary = draw(st.sampled_from(["b0undary", "----WebKitFormBoundary7MA4YWxk", "a--a", "x"]))
    dash = f"--{boundary}".encode()
    parts = []
    for _ in range(draw(st.integers(0, 6))):
        filename = _pick(draw, FILENAMES)
        disposition = _pick(draw, DISPOSITIONS).format(n=_pick(draw, NAMES))
        if filename is not None:
            disposition += f'; filename="{filename}"'
        header = _pick(
            draw, (["Content-Disposition"], ["content-disposition", "CONTENT-DISPOSITION"])
        )
        headers = [f"{header}: {disposition}"]
        content_type = _pick(draw, CONTENT_TYPES)
        if content_type:
            headers.append(f"Content-Type: {content_type}")
        extra = _pick(draw, EXTRA_HEADERS)
        if extra:
            headers.insert(draw(st.integers(0, len(headers))), extra)
        content = draw(
            st.one_of(
                st.binary(max_size=64),
                st.lists(
                    st.sampled_from([b"ab", b"\r\n", b"-", b"--", b"\r", b"\n", b"\xff", b"{}"])
                ).map(b"".join),
                st.lists(st.sampled_from([b"ab", b"\r\n", dash, b"-"])).map(b"".join),
            )
        )
        head = "\r\n".join(headers).encode()
        parts.append(dash + b"\r\n" + head + b"\r\n\r\n" + content + b"\r\n")
    preamble = _pick(draw, ([b""], [b"preamble\r\n", b"\r\n", b" "]))
    ending = _pick(
        draw, ([dash + b"--", dash + b"--\r\n"], [dash + b"--\r\nepilogue", b"", dash + b"-- "])
    )
    body = preamble + b"".join(parts) + ending
    if draw(st.integers(0, 19)) == 0:
        body = body.replace(b"\r\n", b"\n")
    return boundary, body


def _parse(parser, boundary: str, body: bytes):
    request = RequestFactory().generic(
        "POST", "/", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    try:
        result = parser.parse(
            request, request.content_type + f"; boundary={boundary}", {"request": request}
        )
    except Exception as exc:
        return ("error", type(exc).__name__, str(exc))
    files = {
        key: [
            (f.name, f.content_type, f.read(), f.size, f.charset, f.content_type_extra)
            for f in values
        ]
        for key, values in result.files.lists()
    }
    return dict(result.data.lists()), files, result.data._mutable


def _same(boundary: str, body: bytes) -> None:
    assert _parse(IngestMultiPartParser(), boundary, body) == _parse(
        parsers.MultiPartParser(), boundary, body
    )


@settings(max_examples=500, deadline=None)
@given(bodies())
def test_fast_path_agrees_with_djangos_parser(body):
    _same(*body)


@settings(max_examples=250, deadline=None)
@given(bodies())
def test_fast_path_agrees_with_djangos_parser_at_its_limits(body):
    with override_settings(
        DATA_UPLOAD_MAX_NUMBER_FIELDS=1,
        DATA_UPLOAD_MAX_NUMBER_FILES=2,
        DATA_UPLOAD_MAX_MEMORY_SIZE=40,
        FILE_UPLOAD_MAX_MEMORY_SIZE=150,
    ):
        _same(*body)


@pytest.mark.parametrize("boundary", ["b0undary", "----WebKitFormBoundary7MA4YWxk"])
def test_a_cameras_plain_body_takes_the_fast_path(boundary):
    images = {"scene": b"\xff\xd8scene\r\n--not-it\r\n\xff\xd9", "plate": b"\x89PNG\r\n"}
    body = multipart({"camera": "KHI-SOU-002", "camera_event_id": "ev-1"}, images, boundary)

    parsed = parse_plain(body, boundary, "utf-8")

    assert parsed is not None
    data, files = parsed
    assert json.loads(data["metadata"])["camera_event_id"] == "ev-1"
    assert {k: f.read() for k, f in files.items()} == images
    assert files["scene"].name == "scene.jpg" and files["scene"].content_type == "image/jpeg"
    _same(boundary, body)
