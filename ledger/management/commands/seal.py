from django.core.management.base import BaseCommand, CommandError

from ledger import highwater, services


class Command(BaseCommand):
    help = "Seals all committed, unsealed ledger entries into signed blocks and checkpoints."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=None, help="entries per block at most")

    def handle(self, *args, batch=None, **options):
        def progress(result):
            self.stdout.write(
                f"block {result.height}: entries {result.first_index}.."
                f"{result.first_index + result.count - 1}, tree size {result.tree_size}"
            )

        try:
            results = services.ledger_seal_all(max_entries=batch, progress=progress)
        except highwater.RestoreRefusal as exc:
            raise CommandError(str(exc)) from None
        total = sum(result.count for result in results)
        self.stdout.write(self.style.SUCCESS(f"Sealed {total} entries in {len(results)} blocks."))
