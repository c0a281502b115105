import os

import pytest

from config.celery import worker_ping


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_separate_worker_process_on_postgres(
    celery_worker_process, celery_results
):
    task_id = worker_ping.apply_async(queue="default").id
    answer = celery_results.AsyncResult(task_id).get(timeout=30, disable_sync_subtasks=False)

    assert answer["pong"] == "ok"
    assert answer["database"] == "postgresql"
    assert int(answer["pid"]) == celery_worker_process.pid != os.getpid()
