"""Share tokens never reach a log: runserver's and Django's request logs (and gunicorn's, through
portal.access_log) show `/licences/verify/[token]` instead of the secret part of the link."""
from __future__ import annotations

import logging
import re

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
