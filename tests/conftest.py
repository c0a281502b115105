"""Shared fixtures: service detection, personas, and a real Celery worker process.

Tests that need PostgreSQL or a broker skip with a message on a newcomer's
SQLite machine; CI sets REQUIRE_SERVICES=1, which turns those skips into failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
TEST_BROKER_URL = os.environ.get("ECHALLAN_TEST_BROKER_URL", "")


def _missing(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _broker_reachable(url: str) -> bool:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return False
    return True


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres") or request.node.get_closest_marker("broker"):
        from django.db import connection

        if connection.vendor != "postgresql":
            _missing(
                "needs PostgreSQL: set DATABASE_URL=postgres://... "
                f"(this run uses {connection.vendor})"
            )
    if request.node.get_closest_marker("broker"):
        if not TEST_BROKER_URL:
            _missing("needs a broker: set ECHALLAN_TEST_BROKER_URL=redis://127.0.0.1:6379/15")
        elif not _broker_reachable(TEST_BROKER_URL):
            _missing(
                f"broker at ECHALLAN_TEST_BROKER_URL is not reachable ({TEST_BROKER_URL.split('@')[-1]})"
            )


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request: pytest.FixtureRequest) -> None:
    """Transactional tests start from a flushed database, which also wipes what data
    migrations seeded (the offence schedule, the role groups): put it back."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("transactional_db")
    from django.contrib.auth.models import Group

    from challan.demo import seed_offences
    from challan.permissions import GROUP_ROLES

    seed_offences()
    for role in GROUP_ROLES:
        Group.objects.get_or_create(name=role)


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, django_db_blocker) -> Iterator[subprocess.Popen[bytes]]:
    """A real `celery worker` process on the test database and the test broker."""
    from django.db import connection
    from kombu import Connection

    from config.celery import app

    if connection.vendor != "postgresql" or not TEST_BROKER_URL:
        _missing("a real worker needs PostgreSQL and ECHALLAN_TEST_BROKER_URL")
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": TEST_BROKER_URL,
        "CELERY_RESULT_BACKEND": TEST_BROKER_URL,  # so the worker stores results to read back
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    log_path = REPO / "var" / "test-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    log = log_path.open("wb")  # closed in the finally below; read it when a worker test fails
    with Connection(TEST_BROKER_URL) as conn:  # tasks left by an interrupted earlier run
        for queue in ("default", "anpr", "pdf", "notify"):
            conn.default_channel.queue_purge(queue)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            "default,anpr,pdf,notify",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results = _results_app()
    try:
        # Ready when a task round-trips: broker in, the worker runs it on the test database,
        # the result comes back.
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited with {proc.returncode}", pytrace=False)
            try:
                with _app_on_test_broker(app):
                    task_id = app.send_task("config.worker_ping", queue="default").id
                # After an eager task Celery believes it runs inside a task and refuses
                # to block; this process is no task, so say so.
                results.AsyncResult(task_id).get(timeout=5, disable_sync_subtasks=False)
                break
            except Exception as exc:  # worker still starting: keep trying until the deadline
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"celery worker did not run a task within 90 s (last: {exc!r}); "
                        f"see {log_path}",
                        pytrace=False,
                    )
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def _app_on_test_broker(app) -> Iterator[None]:
    """Tasks go to the test broker (and so to the real worker) inside this block only."""
    previous = {k: app.conf[k] for k in ("broker_url", "task_always_eager")}
    app.conf.broker_url = TEST_BROKER_URL
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield
    finally:
        app.conf.update(previous)
        _reset_connections(app)


@pytest.fixture(autouse=True)
def _tasks_to_the_worker(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that asks for the real worker sends its tasks there; every other test runs
    them in-process as configured, whichever tests ran before it (the worker process
    lives for the session, the app's pointing at it only for the tests that use it)."""
    if not {"celery_worker_process", "celery_results"} & set(request.fixturenames):
        yield
        return
    from config.celery import app

    with _app_on_test_broker(app):
        yield


def _reset_connections(app) -> None:
    """Close pooled broker connections, and forget them: kombu keeps its pools in global
    registries, keyed by broker URL, that would hand the closed pool out again."""
    from kombu import pools

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def _results_app():
    """A client of the test broker with a result backend, to read what the worker returned."""
    from celery import Celery

    return Celery(
        "test-results", broker=TEST_BROKER_URL, backend=TEST_BROKER_URL, set_as_current=False
    )


@pytest.fixture(scope="session")
def celery_results(celery_worker_process):
    """Read results of tasks run by the real worker:
    `celery_results.AsyncResult(id).get(timeout=..., disable_sync_subtasks=False)`."""
    return _results_app()
