from django import template

from transparency import selectors, views

register = template.Library()


@register.filter
def ledgertime(value) -> str:
    """A ledger time string (RFC 3339 UTC, microseconds) in the portal's zone, to the second."""
    return views.when(selectors.parse_time(value))
