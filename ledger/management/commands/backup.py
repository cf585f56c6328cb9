import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from ledger import backup, keys


class Command(BaseCommand):
    help = ("Writes a consistent snapshot of the database, encrypted for this portal's backup key, "
            "with the tree size and root it was taken at.")

    def add_arguments(self, parser):
        parser.add_argument("--output", help="the file to write (default: LEDGER_BACKUP_DIR/backup-<time>.gxb)")

    def handle(self, *args, output=None, **options):
        try:
            written = backup.backup(output, progress=progress_printer(self.stderr))
        except (backup.BackupError, keys.KeyFileError, OSError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            _("Wrote %(path)s (%(bytes)d bytes): tree size %(size)d, root %(root)s.")
            % {"path": written.path, "bytes": written.bytes, "size": written.header["tree_size"],
               "root": written.header["root"]}))


def progress_printer(stream):
    """Progress on stderr, one line rewritten in place on a terminal, every tenth elsewhere."""
    shown = {}
    terminal = hasattr(stream, "isatty") and stream.isatty() or sys.stderr.isatty()
    labels = {"snapshot": _("snapshot"), "encrypt": _("encrypting"), "decrypt": _("decrypting"),
              "load": _("loading")}

    def show(stage, done, total):
        percent = 100 * done // total if total else 100
        if not terminal and shown.get(stage, -10) + 10 > percent and percent < 100:
            return
        if shown.get(stage) == percent:
            return
        shown[stage] = percent
        stream.write(f"{labels.get(stage, stage)}: {percent}%", ending="\r" if terminal and percent < 100 else "\n")
        stream.flush()

    return show
