"""Personas for the challan tests: a reviewer, a supervisor, an appeals officer, a TRACS client, an outsider."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.vehicles.factories import UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Personas are created in nearly every test; PBKDF2 would make that the slowest part.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _persona(username: str, *groups: str):
    user = UserFactory(username=username)
    for name in groups:
        user.groups.add(Group.objects.get_or_create(name=name)[0])
    return user


@pytest.fixture
def reviewer(db):
    return _persona("rehana-reviewer", "reviewer")


@pytest.fixture
def supervisor(db):
    return _persona("saleem-supervisor", "supervisor")


@pytest.fixture
def appeals_officer(db):
    return _persona("ayesha-appeals", "appeals_officer")


@pytest.fixture
def tracs(db):
    return _persona("tracs-gateway", "tracs")


@pytest.fixture
def outsider(db):
    return _persona("omar-outsider")


@pytest.fixture
def api():
    """A client that authenticates with a user's token: api.as_(user)."""

    class Client(APIClient):
        def as_(self, user):
            token, _ = Token.objects.get_or_create(user=user)
            self.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
            return self

    return Client()
