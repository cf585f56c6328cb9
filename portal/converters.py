"""Path converters that refuse, as 404, what no database column could hold."""
from django.urls import register_converter


class IndexConverter:
    """A non-negative 64-bit integer (18 digits at most): larger numbers match no route instead of
    overflowing the database's BIGINT (a server error on SQLite and PostgreSQL)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IndexConverter, "index")
