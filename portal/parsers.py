"""The API's JSON parser: refuses, with 4xx, the bodies that would otherwise fail deep inside the portal."""
import codecs
import re

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.utils import json

MAX_DEPTH = 32  # no request of the API nests deeper than a few levels
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    """DRF's strict JSON parser, bounded: body size, nesting depth, and no NUL characters in strings."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise RequestTooLarge()
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.decode(body, encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("The body is not valid %(encoding)s text.") % {"encoding": encoding}) from exc
        if _depth(text) > MAX_DEPTH:
            raise ParseError(_("The JSON is nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH})
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from exc
        if has_bad_text(data):
            raise ParseError(BAD_TEXT)
        return data


BAD_TEXT = _("The JSON contains a NUL character or an unpaired surrogate (\\ud800-\\udfff).")
_BAD_CHARS = re.compile("[\x00\ud800-\udfff]")


def json_text_problem(text: str) -> str | None:
    """Why a form field's JSON text would fail past the form (deep nesting, NUL, surrogates), if it is JSON."""
    if text.lstrip()[:1] not in ("[", "{", '"'):
        return None
    if _depth(text) > MAX_DEPTH:
        return _("The JSON is nested deeper than %(depth)d levels.") % {"depth": MAX_DEPTH}
    if "\\u" in text:
        try:
            data = json.loads(text)
        except ValueError:
            return None  # the form field says what is wrong with it
        if has_bad_text(data):
            return BAD_TEXT
    return None


def _depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def has_bad_text(data) -> bool:
    """NUL (PostgreSQL refuses it in text and jsonb) or a lone surrogate (no database can encode it)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and _BAD_CHARS.search(value):
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
