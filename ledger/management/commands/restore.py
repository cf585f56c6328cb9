from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ledger import backup, backup_peers, keys, restore
from ledger.management.commands.backup import progress_printer


class Command(BaseCommand):
    help = ("Restores an encrypted backup into an empty database, puts back every entry sealed after it "
            "from a peer's mirror of this log, and reports, record by record, the changes made after the "
            "backup that are missing from the restored data.")
    requires_system_checks = []  # the database is empty (or restored and behind the high-water mark)

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="the backup file (manage.py backup wrote it)")
        parser.add_argument("--fetch-from", metavar="URL", help=(
                            "first fetch this portal's newest backup from the peer at URL (which keeps those pushed)"))
        parser.add_argument("--peer", action="append", default=[], metavar="URL",
                            help="a peer whose mirror of this log is read (default: the restored active peers)")

    def handle(self, *args, file, peer, fetch_from, **options):
        if not file and not fetch_from:
            raise CommandError(_("Name a backup file, or a peer to fetch it from with --fetch-from."))
        path = Path(file or backup.default_output())
        try:
            if fetch_from:
                path.parent.mkdir(parents=True, exist_ok=True)
                backup_peers.fetch_own(fetch_from, path)
                self.stderr.write(_("Fetched %(path)s from %(url)s.") % {"path": path, "url": fetch_from})
            if not path.is_file():
                raise CommandError(_("%(path)s is not a file.") % {"path": path})
            outcome = restore.restore(path, peer, progress=progress_printer(self.stderr),
                                      say=lambda text: self.stderr.write(text))
        except (restore.RestoreError, backup.BackupError, keys.KeyFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        for line in restore.report_lines(outcome):
            self.stdout.write(line)
        if outcome.high_water:
            raise CommandError(_("Restored, but sealed entries are lost: see above. Run acknowledge_restore once "
                                 "the loss is recorded."))
