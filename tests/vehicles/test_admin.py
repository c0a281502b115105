"""The registry admin: every changelist renders, personal data is masked, plate search."""

import pytest
from django.urls import reverse

from tests.vehicles.factories import (
    ExemptionFactory,
    HotlistFactory,
    OwnerFactory,
    UserFactory,
    VehicleFactory,
)
from vehicles.models import Exemption

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


@pytest.fixture
def registry():
    owner = OwnerFactory(
        name="Ayesha Siddiqui",
        cnic="4210112345671",
        phone="+923001234567",
        address="House 12, Street 4, Block 7, Gulshan-e-Iqbal, Karachi",
    )
    vehicle = VehicleFactory(plate="LEA-12-2545", owner=owner, region="punjab")
    VehicleFactory(plate="BKM-1234")
    ExemptionFactory(vehicle=vehicle)
    HotlistFactory(vehicle=vehicle)
    return vehicle


@pytest.mark.parametrize("model", ["owner", "vehicle", "ownership", "exemption", "hotlist"])
def test_every_changelist_renders(staff_client, registry, model):
    response = staff_client.get(reverse(f"admin:vehicles_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["owner", "ownership"])
def test_lists_mask_cnic_and_phone(staff_client, registry, model):
    html = staff_client.get(reverse(f"admin:vehicles_{model}_changelist")).content.decode()
    assert "42101-*****67-1" in html
    assert "4210112345671" not in html
    assert "+923001234567" not in html
    assert "Block 7" not in html


def test_owner_list_shows_masked_phone_and_address(staff_client, registry):
    html = staff_client.get(reverse("admin:vehicles_owner_changelist")).content.decode()
    assert "+92300****567" in html
    assert "***, Gulshan-e-Iqbal, Karachi" in html


@pytest.mark.parametrize("term", ["lea 12 2545", "LEA-12\n2545", "lea.12.2545"])
def test_vehicle_search_by_plate_however_typed(staff_client, registry, term):
    response = staff_client.get(reverse("admin:vehicles_vehicle_changelist"), {"q": term})
    html = response.content.decode()
    assert "LEA-12-2545" in html and "BKM-1234" not in html


def test_vehicle_search_falls_back_to_text(staff_client, registry):
    html = staff_client.get(
        reverse("admin:vehicles_vehicle_changelist"), {"q": "Mehran"}
    ).content.decode()
    assert "LEA-12-2545" in html and "BKM-1234" in html


def test_owner_search_by_cnic_with_dashes(staff_client, registry):
    html = staff_client.get(
        reverse("admin:vehicles_owner_changelist"), {"q": "42101-1234567-1"}
    ).content.decode()
    assert "Ayesha Siddiqui" in html


def test_vehicle_page_has_the_ownership_inline(staff_client, registry):
    html = staff_client.get(
        reverse("admin:vehicles_vehicle_change", args=[registry.pk])
    ).content.decode()
    assert "ownerships-TOTAL_FORMS" in html


def test_vehicle_filters(staff_client, registry):
    url = reverse("admin:vehicles_vehicle_changelist")
    html = staff_client.get(
        url, {"region__exact": "punjab", "status__exact": "active"}
    ).content.decode()
    assert "LEA-12-2545" in html and "BKM-1234" not in html


def test_exemptions_cannot_be_deleted_and_record_the_approver(staff_client, registry):
    exemption = Exemption.objects.get()
    response = staff_client.get(reverse("admin:vehicles_exemption_delete", args=[exemption.pk]))
    assert response.status_code == 403
    vehicle = VehicleFactory(plate="AFR-420")
    response = staff_client.post(
        reverse("admin:vehicles_exemption_add"),
        {
            "vehicle": vehicle.pk,
            "reason": "Fire brigade, KMC",
            "valid_from_0": "2025-01-01",
            "valid_from_1": "00:00:00",
            "expires_at_0": "2026-01-01",
            "expires_at_1": "00:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Exemption.objects.get(vehicle=vehicle).approved_by.username == "root"
