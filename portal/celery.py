"""The Celery app: embedded filesystem broker by default, Redis when REDIS_URL is set."""
import logging
import os

from celery import Celery
from celery.signals import after_setup_logger, task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_task_tokens = {}


@task_prerun.connect
def _act_as_task(task_id=None, task=None, **kwargs):
    # Changes made by a task are ledgered with the task as the (system) actor.
    from ledger.actor import push_actor, system_actor

    _task_tokens[task_id] = push_actor(system_actor(f"task:{task.name}"))


@task_postrun.connect
def _stop_acting_as_task(task_id=None, **kwargs):
    from ledger.actor import pop_actor

    token = _task_tokens.pop(task_id, None)
    if token is not None:
        pop_actor(token)


# Beat runs sealing every second or two; Celery's own lines for each run ("Sending due task",
# "received", "succeeded") would be several lines a second of nothing. They stay available with
# CELERY_ROUTINE_LOG_LEVEL=INFO; at the default the sealer logs one line per block it writes.
ROUTINE_LOGGERS = ("celery.app.trace", "celery.worker.strategy", "celery.beat")


@after_setup_logger.connect
def _quiet_routine_task_lines(**kwargs):
    level = os.environ.get("CELERY_ROUTINE_LOG_LEVEL", "WARNING").upper()
    for name in ROUTINE_LOGGERS:
        logging.getLogger(name).setLevel(level)
