"""Small programs that tests run as separate processes: writers and sealers.

    python -m tests.ledger.actions write COUNT TAG
    python -m tests.ledger.actions seal-until FILE   (seals in a loop until FILE exists, then once more)
"""
import os
import sys
import time

import django


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()
    from ledger.actor import acting_as, system_actor
    from ledger.services import ledger_seal_all
    from tests.ledgerapp.models import Record

    command = sys.argv[1]
    with acting_as(system_actor(f"test-{command}-{os.getpid()}")):
        if command == "write":
            count, tag = int(sys.argv[2]), sys.argv[3]
            for i in range(count):
                record = Record.objects.create(title=f"{tag}-{i}", amount=i)
                if i % 3 == 0:
                    record.amount += 1
                    record.save()
        elif command == "seal-until":
            stop = sys.argv[2]
            blocks = 0
            while not os.path.exists(stop):
                blocks += len(ledger_seal_all(max_entries=int(os.environ.get("BATCH", "50"))))
                time.sleep(0.01)
            blocks += len(ledger_seal_all())
            print(blocks)
        elif command == "seal":
            print(len(ledger_seal_all(max_entries=int(os.environ.get("BATCH", "500")))))
        else:
            sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
