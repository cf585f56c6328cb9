"""Share tokens never reach a log: runserver's and Django's request logs and gunicorn's access
and error logs show `/licences/verify/[token]` instead of the secret part of the link."""
from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

MASK = "[token]"
_SHARE_LINKS = re.compile(r"(/licences/verify/)[^/?#\s\"'<>]+|(/api/licences/shares/)[^/?#\s\"'<>]+(?=/verify)")


def mask_tokens(text: str) -> str:
    return _SHARE_LINKS.sub(lambda m: (m.group(1) or m.group(2)) + MASK, text)


class MaskShareTokens(logging.Filter):
    """Rewrites a record whose message names a share link; the message is formatted once, here."""

    def filter(self, record):
        message = record.getMessage()
        masked = mask_tokens(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class GunicornLogger(Logger):
    """gunicorn's logger with every access-log atom (request line, path, referer, headers) masked."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(MaskShareTokens())  # "Error handling request /licences/verify/..."

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}
