"""Roles: Django groups named after them, plus the system itself (no user).

The same helpers back the state machine's transition permissions and the API's
permission classes, so "who may do what" is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import models
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


class Role(models.TextChoices):
    REVIEWER = "reviewer", "Reviewer"
    SUPERVISOR = "supervisor", "Supervisor"
    APPEALS_OFFICER = "appeals_officer", "Appeals officer"
    TRACS = "tracs", "TRACS client"
    SYSTEM = "system", "System"


# Groups a person can be in; SYSTEM is the absence of a user (tasks, commands, webhooks).
GROUP_ROLES = (Role.REVIEWER, Role.SUPERVISOR, Role.APPEALS_OFFICER, Role.TRACS)
# Back-office people who see a case's details.
STAFF_ROLES = frozenset({Role.REVIEWER, Role.SUPERVISOR, Role.APPEALS_OFFICER})
# Who sees owners' CNIC, phone and address unmasked: those who decide disputes and sign notices.
PII_ROLES = frozenset({Role.SUPERVISOR, Role.APPEALS_OFFICER})

Actor = User | AnonymousUser | None


def user_roles(user: Actor) -> frozenset[str]:
    """The roles of a user; None is the system."""
    if user is None:
        return frozenset({Role.SYSTEM})
    if not user.is_authenticated or not getattr(user, "is_active", False):
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_challan_roles", None)
    if cached is None:
        if getattr(user, "is_superuser", False):
            cached = frozenset(STAFF_ROLES)
        else:
            names = set(user.groups.values_list("name", flat=True))
            cached = frozenset(r.value for r in GROUP_ROLES if r.value in names)
        user._challan_roles = cached  # type: ignore[union-attr,attr-defined]
    return cached


def actor_role(user: Actor, allowed: frozenset[str] | set[str] | None = None) -> str:
    """The role an actor acts in: the first of its roles that the action allows."""
    roles = user_roles(user)
    for role in (Role.SYSTEM, Role.SUPERVISOR, Role.APPEALS_OFFICER, Role.REVIEWER, Role.TRACS):
        if role in roles and (allowed is None or role in allowed):
            return role.value
    return ""


def role_permission(*roles: Role) -> Callable[[Any, Any], bool]:
    """A django-fsm transition permission: the actor holds one of `roles`."""
    allowed = frozenset(r.value for r in roles)

    def has_role(instance: Any, user: Any) -> bool:
        return bool(user_roles(user) & allowed)

    has_role.roles = allowed  # type: ignore[attr-defined]
    return has_role


class HasRole(BasePermission):
    """API permission: the authenticated user holds one of the view's `allowed_roles`."""

    message = "your role may not use this endpoint"

    def has_permission(self, request: Request, view: Any) -> bool:
        allowed: frozenset[str] = frozenset(getattr(view, "allowed_roles", ()))
        return bool(user_roles(request.user) & allowed)  # type: ignore[arg-type]
