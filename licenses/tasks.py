from celery import shared_task

from ledger.actor import acting_as, system_actor
from licenses import services


@shared_task(name="licenses.tasks.expire_licences", ignore_result=True)
def expire_licences() -> int:
    """Daily: licences past their last valid day become expired, ledgered as this task."""
    # Explicit actor, so a direct call (shell, test) is ledgered as the task as well.
    with acting_as(system_actor("task:licenses.tasks.expire_licences")):
        return services.licence_expire_due()
