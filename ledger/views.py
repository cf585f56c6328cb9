from django.http import HttpResponse
from django.utils.translation import gettext as _

from ledger import selectors


def checkpoint(request):
    """The newest signed checkpoint, as the C2SP note that third-party tools read."""
    latest = selectors.checkpoint_latest()
    if latest is None:
        return HttpResponse(
            _("No checkpoint yet: nothing has been sealed.") + "\n",
            status=404, content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(latest.note, content_type="text/plain; charset=utf-8")
