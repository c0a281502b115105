import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_HTTPS": "1",
    "DJANGO_ALLOWED_HOSTS": "echallan.example.org",
    "DJANGO_SECRET_KEY": "k3y-" + "x9Qz" * 16,
}


def _check_deploy(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_deploy_check_is_clean_with_production_environment():
    result = _check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_deploy_check_fails_with_development_defaults():
    result = _check_deploy({})
    assert result.returncode != 0
    assert "security.W009" in result.stderr  # the development secret key is refused


def test_env_bool_rejects_values_it_cannot_read(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe'"):
        env_bool("FLAG")


def test_env_int_names_the_variable(monkeypatch):
    monkeypatch.setenv("COUNT", "ten")
    with pytest.raises(ImproperlyConfigured, match="COUNT='ten': expected an integer"):
        env_int("COUNT", 1)


def test_env_helpers_read_and_default(monkeypatch):
    monkeypatch.setenv("HOSTS", "a.example, b.example,,")
    monkeypatch.setenv("ON", "yes")
    monkeypatch.delenv("MISSING", raising=False)
    assert env_list("HOSTS") == ["a.example", "b.example"]
    assert env_bool("ON") is True
    assert env_int("MISSING", 7) == 7
