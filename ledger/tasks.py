from celery import shared_task

from ledger import services


@shared_task(name="ledger.tasks.seal", ignore_result=True)
def seal():
    """Beat runs this every LEDGER_SEAL_INTERVAL seconds; `manage.py seal` calls the same service."""
    results = services.ledger_seal_all()
    return sum(result.count for result in results)


@shared_task(name="ledger.tasks.monitor", ignore_result=True)
def monitor():
    """Beat runs this every LEDGER_MONITOR_INTERVAL seconds: each peer's checkpoint, checked."""
    from ledger.monitor import peers_monitor

    return sum(1 for found in peers_monitor() if found.alarm)
