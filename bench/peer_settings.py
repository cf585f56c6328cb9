"""Settings of bench/peer_overhead.py: the tests' settings plus the audit libraries it compares."""
import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "simple_history", "auditlog", "bench.peerapp"]
if os.environ.get("DATABASE_URL", "").startswith("postgres"):
    INSTALLED_APPS[-1:-1] = ["pgtrigger", "pghistory"]  # triggers: PostgreSQL only
