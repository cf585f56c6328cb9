import logging

from celery import shared_task

from ledger import anchoring, export, monitor, services

logger = logging.getLogger("ledger.seal")


@shared_task(name="ledger.tasks.seal", ignore_result=True)
def seal():
    """Beat runs this every LEDGER_SEAL_INTERVAL seconds; `manage.py seal` calls the same service."""
    results = services.ledger_seal_all()
    for result in results:  # one line per block; nothing when there was nothing to seal
        logger.info("sealed block %d: %d entries, tree size %d", result.height, result.count, result.tree_size)
    return sum(result.count for result in results)


@shared_task(name="ledger.tasks.anchor", ignore_result=True)
def anchor():
    """Beat runs this every LEDGER_ANCHOR_INTERVAL seconds: the newest checkpoint goes to the peers."""
    return anchoring.anchor_checkpoint()


@shared_task(name="ledger.tasks.monitor", ignore_result=True)
def monitor_peers():
    """Beat runs this every LEDGER_MONITOR_INTERVAL seconds: each peer's checkpoint, checked."""
    return sum(1 for found in monitor.peers_monitor() if found.alarm)


@shared_task(name="ledger.tasks.export", ignore_result=True)
def export_ledger():
    """Beat runs this every LEDGER_EXPORT_INTERVAL seconds: the export the downloads page offers,
    written as `manage.py export_ledger` writes it, and published only when it verifies."""
    result = export.publish_export()
    for finding in result.findings:
        logger.error("ledger export not published: %s", finding)
    return result.entries
