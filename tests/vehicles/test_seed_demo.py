"""seed_demo: a deterministic synthetic city, demo users and groups, other apps' seeders."""

import collections

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from vehicles.models import Exemption, Hotlist, Owner, Ownership, Vehicle
from vehicles.plates import plate_normalize
from vehicles.synthetic import SyntheticRegistry

pytestmark = pytest.mark.django_db


def snapshot():
    return sorted(
        Ownership.objects.values_list(
            "vehicle__plate_key",
            "vehicle__vehicle_class",
            "owner__cnic",
            "owner__name",
            "valid_from",
            "valid_to",
        )
    )


def wipe():
    Exemption.objects.all().delete()
    Hotlist.objects.all().delete()
    Ownership.objects.all().delete()
    Vehicle.objects.all().delete()
    Owner.objects.all().delete()


def test_seed_demo_builds_a_city(capsys):
    call_command("seed_demo", "--vehicles", "600")
    out = capsys.readouterr().out
    assert "registry: 600 vehicles" in out
    assert "demo user created: admin / admin (superuser)" in out
    assert Vehicle.objects.count() == 600
    regions = collections.Counter(Vehicle.objects.values_list("region", flat=True))
    assert set(regions) == {"sindh", "punjab", "ict", "kp", "balochistan", "gb", "ajk"}
    assert regions.most_common(1)[0][0] == "sindh"
    classes = set(Vehicle.objects.values_list("vehicle_class", flat=True))
    assert {"motorcycle", "car", "rickshaw", "bus", "truck"} <= classes
    # Sold vehicles have a closed ownership and an open one; every vehicle has exactly one open.
    assert Ownership.objects.filter(valid_to__isnull=False).exists()
    assert Ownership.objects.filter(valid_to__isnull=True).count() == 600
    assert (
        Hotlist.objects.filter(kind="stolen").exists()
        and Hotlist.objects.filter(vehicle=None).exists()
    )
    assert Exemption.objects.filter(approved_by__username="supervisor").exists()
    User = get_user_model()
    assert User.objects.get(username="admin").is_superuser
    for username, group in [
        ("reviewer", "reviewer"),
        ("supervisor", "supervisor"),
        ("appeals", "appeals_officer"),
    ]:
        assert User.objects.get(username=username).groups.filter(name=group).exists()
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "reviewer",
        "supervisor",
        "appeals_officer",
    }
    for key, registration in Vehicle.objects.values_list("plate_key", "registration"):
        assert plate_normalize(registration).key == key


def test_same_seed_same_city_other_seed_other_city():
    call_command("seed_demo", "--vehicles", "300", "--seed", "7")
    first = snapshot()
    wipe()
    call_command("seed_demo", "--vehicles", "300", "--seed", "7")
    assert snapshot() == first
    wipe()
    call_command("seed_demo", "--vehicles", "300", "--seed", "8")
    assert snapshot() != first


def test_if_empty_leaves_a_registry_alone(capsys):
    call_command("seed_demo", "--vehicles", "50")
    call_command("seed_demo", "--vehicles", "50", "--if-empty")
    assert "left as it is" in capsys.readouterr().out
    assert Vehicle.objects.count() == 50
    with pytest.raises(CommandError, match="already has 50 vehicles"):
        call_command("seed_demo", "--vehicles", "50")


def test_admin_is_created_only_when_there_is_no_superuser(capsys):
    get_user_model().objects.create_superuser("boss", "boss@example.org", "x")
    call_command("seed_demo", "--vehicles", "20")
    assert "admin / admin" not in capsys.readouterr().out
    assert not get_user_model().objects.filter(username="admin").exists()


def test_other_apps_seeders_are_called_when_present(capsys, monkeypatch):
    from vehicles.management.commands import seed_demo

    monkeypatch.setattr(
        seed_demo,
        "APP_SEEDERS",
        [("no_such_app.demo", "seed", False), ("vehicles.demo", "missing", False)],
    )
    call_command("seed_demo", "--vehicles", "10")
    out = capsys.readouterr().out
    assert "no_such_app.demo: not there yet, skipped" in out
    assert "vehicles.demo.missing: not there yet, skipped" in out


def test_synthetic_plates_are_unique_and_valid_for_a_large_city():
    rows = list(SyntheticRegistry(3).rows(5_000))
    keys = [r.plate_key for r in rows]
    assert len(set(keys)) == len(keys)
    assert all(plate_normalize(r.registration).display == r.registration for r in rows[:1000])
