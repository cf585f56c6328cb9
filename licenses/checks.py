"""System checks of the licences app's settings."""
from django.conf import settings
from django.core import checks


@checks.register()
def check_request_rate(app_configs=None, **kwargs):
    from licenses.throttling import parse_rate

    try:
        limit, _seconds = parse_rate(settings.LICENCE_REQUEST_RATE)
        assert limit > 0
    except (AssertionError, AttributeError, KeyError, IndexError, ValueError):
        return [checks.Error(
            f"LICENCE_REQUEST_RATE {getattr(settings, 'LICENCE_REQUEST_RATE', None)!r} is not a rate.",
            hint='Write it as DRF does: "60/hour", "5/minute", "1000/day".', id="licenses.E001")]
    return []
