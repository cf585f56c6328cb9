"""gunicorn's logger for the portal (named in gunicorn.conf.py): share tokens masked.

Apart from portal.logs so that Django never imports gunicorn (which does not run on Windows).
"""
from gunicorn.glogging import Logger

from portal.logs import MaskShareTokens, mask_tokens


class GunicornLogger(Logger):
    """gunicorn's logger with every access-log atom (request line, path, referer, headers) masked."""

    def setup(self, cfg):
        super().setup(cfg)
        self.error_log.addFilter(MaskShareTokens())  # "Error handling request /licences/verify/..."

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: mask_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}
