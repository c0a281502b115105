"""What several benchmark scripts need: a fresh database, CPU time of local processes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def recreate_database(url: str) -> None:
    """Drop (with its connections) and create the database the URL names."""
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def process_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these local processes (Linux /proc);
    a process that has gone counts nothing."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def bench_environment(*, database_url: str, media: Path, **extra: str) -> dict[str, str]:
    """Environment for a benchmark's Django (in this process or in its servers): this
    database, dropped and created; an empty media directory; DEBUG off, quiet logs."""
    recreate_database(database_url)
    shutil.rmtree(media, ignore_errors=True)
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_DEBUG": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        **extra,
    }
