from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from land_registry.importer import import_register

REPORT_LINES = 100


class Command(BaseCommand):
    help = ("Imports parties, parcels and their registration history from a legacy register in JSON Lines "
            "(docs/import-format.md), in batches; run it again with the same file to go on after a crash.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--clerk", required=True, help="username the imported registrations are prepared by")
        parser.add_argument("--checker", required=True, help="username they are approved by (another clerk)")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument("--all-refused", action="store_true",
                            help=f"list every refused line kept (up to 10000), not only the first {REPORT_LINES}")

    def handle(self, *args, file, clerk, checker, batch_size, all_refused, **options):
        users = get_user_model().objects
        try:
            maker, approver = users.get(username=clerk), users.get(username=checker)
        except get_user_model().DoesNotExist:
            raise CommandError("--clerk and --checker must be existing users") from None
        if not 1 <= batch_size <= 100_000:
            raise CommandError("--batch-size must be from 1 to 100000")
        try:
            with open(file, "rb") as f:
                total = sum(1 for _ in f)
        except OSError as error:
            raise CommandError(f"cannot read {file}: {error.strerror}") from None

        def progress(run):
            share = run.lines_done / total if total else 1
            bar = "#" * int(share * 30)
            self.stderr.write(f"\r[{bar:<30}] {run.lines_done}/{total} lines, {run.parcels} parcels, "
                             f"{run.parties} parties, {run.registrations} registrations, "
                             f"{run.rejected_count} refused", ending="")
            self.stderr.flush()

        try:
            run = import_register(file, clerk=maker, checker=approver, batch_size=batch_size, progress=progress)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stderr.write("")
        self.stdout.write(f"Imported {run.file_name}: {run.parties} parties, {run.parcels} parcels, "
                          f"{run.registrations} registrations, {run.rights} rights; "
                          f"{run.rejected_count} lines refused.")
        shown = run.rejected if all_refused else run.rejected[:REPORT_LINES]
        for line, reason in shown:
            self.stdout.write(f"  line {line}: {reason}")
        if run.rejected_count > len(shown):
            more = "run it again with --all-refused" if len(shown) < len(run.rejected) else "not kept"
            self.stdout.write(f"  … and {run.rejected_count - len(shown)} more ({more}).")
