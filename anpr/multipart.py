"""multipart/form-data for the ingest API: a fast path for plain bodies, Django's parser otherwise.

Django's parser streams any body through its upload handlers, parsing each part's
headers with the email package; for an event with two ~100 KB photos that was
about a tenth of the request's CPU. Cameras and gateways send the plain shape:
a `--boundary` line, `Content-Disposition: form-data; name="..."` (with a
`filename="..."` for files) and at most a bare `Content-Type` per part. Such a body,
small enough that Django would keep its files in memory anyway, is split here with
`bytes.split` into the same `QueryDict` and `InMemoryUploadedFile`s Django would
build. Anything else (a preamble, other headers or parameters, quoted-pair escapes,
unusual names, a limit reached, custom upload handlers, a body over
FILE_UPLOAD_MAX_MEMORY_SIZE) goes to Django's parser unchanged, so every error and
limit is Django's own. tests/anpr/test_multipart.py checks both give the same result.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import parsers

_BOUNDARY = re.compile(r"multipart/form-data;\s*boundary=([0-9A-Za-z'()+_,./:=?-]{1,70})")
_DISPOSITION = re.compile(
    rb'form-data; name="([A-Za-z0-9_.-]{1,100})"(?:; filename="([A-Za-z0-9_.-]{1,100})")?'
)
_CONTENT_TYPE = re.compile(rb"[A-Za-z0-9!#$&^_.+-]{1,64}/[A-Za-z0-9!#$&^_.+-]{1,64}")
_DEFAULT_HANDLERS = (MemoryFileUploadHandler, TemporaryFileUploadHandler)


def _split(body: bytes, boundary: bytes) -> list[bytes] | None:
    """The parts between the delimiters, or None unless the body is plainly framed."""
    dash = b"--" + boundary
    if not body.startswith(dash + b"\r\n"):
        return None  # a preamble, or transport padding after the boundary
    chunks = (b"\r\n" + body).split(b"\r\n" + dash)
    # chunks: the empty preamble, "\r\n<part>" each, then "--" (+ CRLF) closing.
    if chunks[-1] not in (b"--", b"--\r\n") or len(chunks) < 3:
        return None
    # Django's parser also splits at a delimiter not preceded by CRLF: keep to bodies
    # where every "--boundary" is one of the delimiters found here.
    if body.count(dash) != len(chunks) - 1:
        return None
    parts = chunks[1:-1]
    if any(not part.startswith(b"\r\n") for part in parts):
        return None
    return parts


def parse_plain(
    body: bytes, boundary: str, encoding: str
) -> tuple[QueryDict, MultiValueDict[str, Any]] | None:
    """Data and files of a plain multipart body, or None when Django's parser must decide."""
    parts = _split(body, boundary.encode("ascii"))
    if parts is None:
        return None
    max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    max_files = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    max_field_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    post = QueryDict(mutable=True)
    files: MultiValueDict[str, Any] = MultiValueDict()
    n_fields = n_files = field_bytes = 0
    for part in parts:
        header_end = part.find(b"\r\n\r\n")
        if not 2 <= header_end <= 1000:  # 0: a part without headers
            return None
        name = filename = content_type = None
        for line in part[2:header_end].split(b"\r\n"):
            key, sep, value = line.partition(b":")
            if not sep:
                return None
            key, value = key.lower(), value.strip()
            if key == b"content-disposition" and name is None:
                match = _DISPOSITION.fullmatch(value)
                if match is None:
                    return None
                name, filename = match.group(1), match.group(2)
            elif key == b"content-type" and content_type is None:
                if not _CONTENT_TYPE.fullmatch(value):
                    return None
                content_type = value.lower().decode("ascii")
            else:
                return None
        if name is None or filename in (b".", b".."):
            return None
        data = part[header_end + 4 :]
        field_name = name.decode("ascii")
        if filename is None:
            n_fields += 1
            field_bytes += len(data) + len(field_name) + 2
            if (max_fields is not None and n_fields > max_fields) or (
                max_field_bytes is not None and field_bytes > max_field_bytes
            ):
                return None  # Django's parser raises the right error
            post.appendlist(field_name, data.decode(encoding, errors="replace"))
        else:
            n_files += 1
            if max_files is not None and n_files > max_files:
                return None
            files.appendlist(
                field_name,
                InMemoryUploadedFile(
                    file=io.BytesIO(data),
                    field_name=field_name,
                    name=filename.decode("ascii"),
                    content_type=content_type or "",
                    size=len(data),
                    charset=None,
                    content_type_extra={},
                ),
            )
    post._mutable = False
    return post, files


class IngestMultiPartParser(parsers.MultiPartParser):
    """DRF's MultiPartParser with the plain-body fast path above."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        request = parser_context["request"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        match = _BOUNDARY.fullmatch(media_type or "")
        if (
            match is None
            or not 0 < length <= settings.FILE_UPLOAD_MAX_MEMORY_SIZE
            or tuple(type(h) for h in request.upload_handlers) != _DEFAULT_HANDLERS
        ):
            return super().parse(stream, media_type, parser_context)
        body = stream.read(length)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        result = parse_plain(body, match.group(1), encoding)
        if result is None:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        return parsers.DataAndFiles(*result)
