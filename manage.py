#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    from ledger.actor import acting_as, system_actor

    # Every change made by a management command is ledgered as that command.
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    with acting_as(system_actor(f"command:{command}")):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
