"""Per-department rate limit of licence requests by national ID number (a DRF throttle)."""
from __future__ import annotations

import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from portal.models import Role
from portal.ratelimit import count_hit

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'60/hour' -> (60, 3600), as DRF writes rates."""
    number, period = rate.split("/")
    return int(number), PERIODS[period.strip().lower()[0]]


def department_request_hit(user) -> int | None:
    """Counts one request of the user's department; None when allowed, else the seconds to wait.

    Per department, not per user: a department's many users share one allowance (API and pages alike)."""
    if not (user and user.is_authenticated and user.role == Role.DEPARTMENT and user.office):
        return None  # the view refuses anyone else
    limit, seconds = parse_rate(settings.LICENCE_REQUEST_RATE)
    window = int(time.time() // seconds)
    if count_hit(f"licence-request:{user.office}:{seconds}:{window}", seconds) <= limit:
        return None
    return seconds - int(time.time() % seconds)


class DepartmentRequestThrottle(BaseThrottle):
    def allow_request(self, request, view):
        self.retry_after = department_request_hit(request.user)
        return self.retry_after is None

    def wait(self):
        return getattr(self, "retry_after", None)
