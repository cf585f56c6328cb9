"""Two real portals on loopback mirror each other's logs as tiles: separate processes, databases,
keys and Celery workers with beat. Each serves its own log at /log/ and the other's verified copy
at /mirror/<origin hash>/, read back here with the independent spec reader; a peer that goes away
and comes back is caught up with, and no alarm is raised."""
import urllib.error
import urllib.request

import pytest

from ledger.tlog import witness as twitness
from tests.federation.harness import Databases, Federation, http, wait_for
from tests.tlog import tilespec

pytestmark = pytest.mark.federation


@pytest.fixture(scope="module")
def federation(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirrors")
    databases = Databases(root)
    portals = Federation(root, 2, databases=databases, env={"LEDGER_MIRROR_INTERVAL": "1"}, tag="mirror")
    try:
        yield portals.start()
    finally:
        portals.stop()
        databases.drop()


def getter(base: str):
    def get(path):
        try:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
    return get


def log_of(portal, served_by=None) -> tilespec.Log | None:
    """`portal`'s log as tiles: from itself at /log/, or from `served_by`'s mirror of it."""
    base = (f"{served_by.url}/mirror/{twitness.origin_hash(portal.origin)}/" if served_by
            else f"{portal.url}/log/")
    try:
        return tilespec.read_log(getter(base), portal.log_key)
    except tilespec.SpecError:
        return None


def mirrored_at_least(portal, mirror, size):
    copy = log_of(portal, served_by=mirror)
    return copy if copy and copy.size >= size else None


def test_each_portal_serves_its_log_and_a_verified_copy_of_its_peer(federation):
    a, b = federation
    federation.write(a, "mirrored")
    own = wait_for(lambda: log_of(a) if log_of(a) and log_of(a).size >= 3 else None, timeout=60)
    assert own, federation.logs(a)
    copy = wait_for(lambda: mirrored_at_least(a, b, own.size), timeout=60)
    assert copy, federation.logs(b)
    assert copy.entries[:own.size] == own.entries
    assert wait_for(lambda: mirrored_at_least(b, a, 1), timeout=60), federation.logs(a)
    partial = f"{b.url}/mirror/{twitness.origin_hash(a.origin)}/tile/entries/000.p/{min(copy.size, 255)}"
    with urllib.request.urlopen(partial, timeout=10) as response:
        assert response.headers["Cache-Control"] == "public, max-age=5"
        assert tilespec.parse_bundle(response.read()) == copy.entries[:min(copy.size, 255)]
    status, body, _ = http(f"{a.url}/api/ledger/alarms")
    assert status == 200 and body == "[]"


def test_a_peer_away_and_back_is_caught_up_with(federation):
    a, b = federation
    a.stop()
    try:
        size = log_of(b).size if log_of(b) else 0
        federation.write(b, "while-a-is-away")
        assert wait_for(lambda: log_of(b) and log_of(b).size > size, timeout=60), federation.logs(b)
        grown = log_of(b).size
    finally:
        federation.start_portal(a)
    copy = wait_for(lambda: mirrored_at_least(b, a, grown), timeout=90)
    assert copy, federation.logs(a)
    assert copy.entries[:grown] == log_of(b).entries[:grown]
    for portal in federation:
        status, body, _ = http(f"{portal.url}/api/ledger/alarms")
        assert status == 200 and '"mirror-' not in body
