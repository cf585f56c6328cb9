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
        if _has_nul(data):
            raise ParseError(_("The JSON contains a NUL character."))
        return data


def _depth(text: str) -> int:
    depth = deepest = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _has_nul(data) -> bool:
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False
