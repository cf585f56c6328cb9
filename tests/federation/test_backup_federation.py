"""Backups and restore among three real portals on loopback (processes, databases, keys, Celery
workers with beat of their own, mirroring each other's logs): portal A's backup is pushed to its
peers; A makes more changes, sealed and mirrored; A's database and files are lost (its key files
kept); A is restored from the backup its peer B kept and from a peer's mirror: every sealed entry
is back, verify_ledger finds exactly the records changed after the backup, which the restore's
report lists, and A goes on sealing with no alarm at its peers."""
import json
import shutil

import pytest

from tests.federation.harness import Databases, Federation, http, wait_for
from tests.federation.test_mirror_federation import log_of, mirrored_at_least

pytestmark = pytest.mark.federation

PORTS = range(18510, 18520)  # this branch's ports
FINDING = "{kind} at portal.user {ref}"


def shell(portal, code: str) -> str:
    return portal.manage("shell", "-c", code).stdout


def user_refs(portal, *usernames) -> dict[str, str]:
    out = shell(portal, "import json\nfrom portal.models import User\n"
                f"print(json.dumps(dict(User.objects.filter(username__in={list(usernames)!r})"
                ".values_list('username', 'public_ref'))))")
    return json.loads(out.strip().splitlines()[-1])


def test_a_lost_portal_comes_back_from_its_backup_and_a_peers_mirror(tmp_path):
    root = tmp_path
    databases = Databases(root)
    federation = Federation(root, 3, databases=databases, tag="backup",
                            env={"LEDGER_MIRROR_INTERVAL": "1", "LEDGER_BACKUP_INTERVAL": "86400"})
    for portal, port in zip(federation, PORTS, strict=False):
        portal.port = port
        portal.env.pop("PORTAL_HIGH_WATER_FILE", None)  # the test's own (conftest): each portal keeps its own
    try:
        federation.start()
        a, b, c = federation
        for tag in ("before-1", "before-2", "before-3"):
            federation.write(a, tag)
        head = wait_for(lambda: log_of(a) if log_of(a) and log_of(a).size >= 3 else None, timeout=60)
        assert head, federation.logs(a)

        # The backup, as beat runs it: written, and pushed to both peers.
        pushed = shell(a, "from ledger.tasks import backup_database\nprint(backup_database())")
        assert pushed.count(": 201") == 2, pushed + federation.logs(a)

        # Changes after the backup: one user created, one changed, one deleted.
        refs = user_refs(a, "op-before-1", "op-before-2", "op-before-3")
        federation.write(a, "after-1")
        shell(a, "from portal.models import User\nUser.objects.filter(username='op-before-2').update(is_active=False)")
        shell(a, "from portal.models import User\nUser.objects.get(username='op-before-3').delete()")
        refs.update(user_refs(a, "op-after-1"))
        assert len(refs) == 4
        # Everything sealed, and the published tiles caught up with the database's tree.
        state = ("from ledger.models import Entry, LedgerState\n"
                 "print(Entry.objects.filter(leaf=None).count(), LedgerState.objects.get(pk=1).tree_size)")

        def all_published():
            log = log_of(a)
            unsealed, tree_size = shell(a, state).split()[-2:]
            return log if log and log.size > head.size and unsealed == "0" and log.size == int(tree_size) else None

        sealed = wait_for(all_published, timeout=60)
        assert sealed, federation.logs(a)
        final = log_of(a)
        for peer in (b, c):
            assert wait_for(lambda peer=peer: mirrored_at_least(a, peer, final.size), timeout=60), federation.logs(peer)

        # A is lost: its processes, database and every file but its keys.
        a.stop()
        databases.lose(a)
        for path in a.var_dir.iterdir():
            if path.name != "keys":
                shutil.rmtree(path) if path.is_dir() else path.unlink()

        restored = a.manage("restore", "--fetch-from", b.url)
        report = restored.stdout
        state = shell(a, "from ledger.models import LedgerState\nprint(LedgerState.objects.get(pk=1).tree_size)")
        assert state.split()[-1] == str(final.size), report
        # The users this test changed, by the references the lost database gave them, and nothing else.
        lines = [line for line in report.splitlines() if "verify_ledger" in line]  # zh-hans: full-width marks
        assert len(lines) == 3, report
        assert any(refs["op-after-1"] in line and "record-missing" in line for line in lines), report
        assert any(refs["op-before-2"] in line and "record-state" in line for line in lines), report
        assert any(refs["op-before-3"] in line and "record-deleted" in line for line in lines), report
        assert refs["op-before-1"] not in report, report

        verified = a.manage("verify_ledger", check=False)
        assert verified.returncode == 1 and "3 finding(s)" in verified.stdout, verified.stdout
        findings = sorted(line.split(": ", 1)[0] for line in verified.stdout.splitlines() if " at " in line)
        assert findings == sorted([FINDING.format(kind="record-missing", ref=refs["op-after-1"]),
                                   FINDING.format(kind="record-state", ref=refs["op-before-2"]),
                                   FINDING.format(kind="record-deleted", ref=refs["op-before-3"])]), verified.stdout

        # A serves and seals again from the restored head; its peers mirror on, with no alarm.
        federation.start_portal(a)
        federation.write(a, "after-restore")
        grown = wait_for(lambda: (log := log_of(a)) and log.size > final.size and log, timeout=60)
        assert grown and grown.entries[:final.size] == final.entries, federation.logs(a)
        assert wait_for(lambda: mirrored_at_least(a, b, grown.size), timeout=60), federation.logs(b)
        for portal in federation:
            status, body, _ = http(f"{portal.url}/api/ledger/alarms")
            assert status == 200 and body == "[]", (portal.origin, body)
    finally:
        federation.stop()
        databases.drop()
