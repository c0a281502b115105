import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Demo users and admin logins: PBKDF2's deliberate slowness only slows the suite.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
