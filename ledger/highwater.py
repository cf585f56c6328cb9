"""The high-water mark: the newest tree head this portal signed, kept outside the database.

After each seal the portal writes the new tree size and root, as a checkpoint signed with its
own key, to PORTAL_HIGH_WATER_FILE. A database whose tree is smaller, or has another root at that
size, was restored from an older backup (or cut): the portal refuses to seal on it until an
operator acknowledges the restore (`manage.py acknowledge_restore`), which is itself ledgered.
"""
from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from ledger import keys
from ledger.tlog import checkpoint as tcheckpoint
from ledger.tlog import note
from ledger.tlog.merkle import EMPTY_ROOT, combine_perfect, perfect_subtrees


class RestoreRefusal(RuntimeError):
    """The database's ledger is behind, or other than, what this portal already signed."""


def _path() -> Path:
    return Path(settings.PORTAL_HIGH_WATER_FILE)


@contextmanager
def _locked():
    """Serializes writers of the mark (sealers in several processes) with a lock file beside it."""
    lock = _path().with_name(_path().name + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def read_mark() -> tcheckpoint.Checkpoint | None:
    """The signed tree head in the file, None when nothing was sealed yet; RestoreRefusal if unusable."""
    path = _path()
    if not path.exists():
        return None
    verifiers = [note.Verifier(key) for key in keys.trusted_verifier_keys()]
    try:
        return tcheckpoint.open_checkpoint(path.read_text(), verifiers, settings.PORTAL_ORIGIN)
    except (ValueError, OSError) as exc:
        raise RestoreRefusal(
            _("The high-water mark %(path)s cannot be read or is not signed by a trusted key (%(why)s).")
            % {"path": path, "why": exc}) from None


def write_mark(size: int, root: bytes, *, force: bool = False) -> None:
    """Raises the mark to (size, root); a smaller size is ignored unless `force` (an acknowledged restore)."""
    with _locked():
        try:
            current = read_mark()
        except RestoreRefusal:
            current = None
        if current is not None and current.size >= size and not force:
            return
        signed = tcheckpoint.sign_checkpoint(
            tcheckpoint.Checkpoint(origin=settings.PORTAL_ORIGIN, size=size, root_hash=root), keys.signer()
        )
        keys.write_secret_file(_path(), signed)


def database_head() -> tuple[int, bytes]:
    """The database's tree size and root, from the state row."""
    from ledger.models import LedgerState

    state = LedgerState.objects.filter(pk=1).first()
    if state is None or state.tree_size == 0:
        return 0, EMPTY_ROOT
    return state.tree_size, bytes(state.root)


def database_root_at(size: int) -> bytes | None:
    """The root of the database's stored tree at `size`, None if its nodes are not all there."""
    from ledger.tree import read_tree

    if size == 0:
        return EMPTY_ROOT
    nodes = perfect_subtrees(0, size)
    hashes = read_tree(nodes)[0]
    if any(node not in hashes for node in nodes):
        return None
    return combine_perfect([hashes[node] for node in nodes])


def restore_problem() -> str | None:
    """Why the portal must not seal on this database, or None when its tree extends the mark."""
    try:
        mark = read_mark()
    except RestoreRefusal as exc:
        return str(exc)
    if mark is None:
        return None
    size, _root = database_head()
    ack = _('Run `python manage.py acknowledge_restore --reason "..."` to accept it (the acknowledgement '
            'is ledgered); until then nothing is sealed.')
    if size < mark.size:
        return _("The database's ledger has %(size)s sealed entries, but this portal already signed a tree "
                 "of %(mark)s (high-water mark %(path)s): the database was restored from an older backup "
                 "or its ledger was cut. %(ack)s") % {"size": size, "mark": mark.size, "path": _path(), "ack": ack}
    if database_root_at(mark.size) != mark.root_hash:
        return _("The database's tree at size %(mark)s is not the one this portal signed (high-water mark "
                 "%(path)s): the database's ledger was replaced. %(ack)s") % {
                     "mark": mark.size, "path": _path(), "ack": ack}
    return None


def refuse_if_restored() -> None:
    problem = restore_problem()
    if problem:
        raise RestoreRefusal(problem)
