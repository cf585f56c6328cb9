"""Ledger codes and times in words on any page: `{% load transparency %}`."""
from django import template

from ledger import labels
from transparency import selectors, views

register = template.Library()


@register.filter
def ledgertime(value) -> str:
    """A ledger time string (RFC 3339 UTC, microseconds) in the portal's zone, to the second."""
    return views.when(selectors.parse_time(value))


register.filter("action_label", labels.action_label)
register.filter("role_label", labels.role_label)
register.filter("op_label", labels.op_label)


@register.filter
def choice_label(value, where: str) -> str:
    """`entry.public.status|choice_label:"licenses.licence.status"`."""
    kind, _, name = where.rpartition(".")
    return labels.choice_label(kind, name, value)


@register.inclusion_tag("transparency/_verify.html", takes_context=True)
def entry_verifier(context, index: int, compact: bool = False) -> dict:
    """The "verify in my browser" card for ledger entry `index`; its page includes
    transparency/_verify_assets.html (static/transparency/verify.js). `compact`: one of several
    (the key is read once per page, unless the page's context gives it as `verifier_key`)."""
    page = context.render_context.dicts[0]  # this template render as a whole, not one include
    if "verifier_key" not in page:
        page["verifier_key"] = context.get("verifier_key") or selectors.current_verifier_key()
    return {"index": index, "verifier_key": page["verifier_key"], "compact": compact}
