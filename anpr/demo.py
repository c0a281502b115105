"""Demo cameras across Karachi and the TRACS gateway client that posts for them.

Idempotent: running it again updates the same rows (by camera code and client name).
Positions are approximate points on the named roads, jittered by the seed.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.authtoken.models import Token

from anpr.models import Camera, District, IngestClient

DEMO_CLIENT = "tracs-gateway"

# (road or place, district, latitude, longitude, speed limit km/h)
SITES: list[tuple[str, str, float, float, int]] = [
    ("Shahrah-e-Faisal, Nursery", District.EAST, 24.8622, 67.0730, 60),
    ("Shahrah-e-Faisal, FTC", District.SOUTH, 24.8553, 67.0511, 60),
    ("Shahrah-e-Faisal, Karsaz", District.EAST, 24.8770, 67.0934, 70),
    ("Shahrah-e-Faisal, Drigh Road", District.KORANGI, 24.8878, 67.1213, 70),
    ("Shahrah-e-Faisal, Airport", District.MALIR, 24.8965, 67.1596, 60),
    ("M.A. Jinnah Road, Numaish", District.SOUTH, 24.8735, 67.0366, 40),
    ("M.A. Jinnah Road, Tower", District.SOUTH, 24.8509, 66.9965, 40),
    ("M.A. Jinnah Road, Empress Market", District.SOUTH, 24.8601, 67.0278, 40),
    ("University Road, NIPA", District.EAST, 24.9177, 67.0971, 60),
    ("University Road, Hassan Square", District.EAST, 24.9024, 67.0789, 60),
    ("University Road, Safoora", District.EAST, 24.9389, 67.1383, 60),
    ("Khayaban-e-Ittehad, DHA Phase 6", District.SOUTH, 24.7997, 67.0570, 50),
    ("Khayaban-e-Shamsheer, DHA Phase 5", District.SOUTH, 24.8063, 67.0402, 50),
    ("Sunset Boulevard, DHA Phase 2", District.SOUTH, 24.8285, 67.0522, 50),
    ("Clifton Bridge", District.SOUTH, 24.8328, 67.0290, 50),
    ("Abdullah Shah Ghazi, Clifton", District.SOUTH, 24.8115, 67.0305, 40),
    ("Do Darya, Sea View", District.SOUTH, 24.7825, 67.0747, 60),
    ("Korangi Road, Qayyumabad", District.KORANGI, 24.8351, 67.0868, 60),
    ("Korangi Industrial Area, Sector 15", District.KORANGI, 24.8300, 67.1288, 50),
    ("Korangi Crossing", District.KORANGI, 24.8430, 67.1150, 60),
    ("National Highway, Malir Halt", District.MALIR, 24.8938, 67.1890, 80),
    ("Malir Cantt Road", District.MALIR, 24.9400, 67.2010, 50),
    ("Shahrah-e-Pakistan, Ayesha Manzil", District.CENTRAL, 24.9265, 67.0637, 60),
    ("Shahrah-e-Pakistan, Water Pump", District.CENTRAL, 24.9355, 67.0748, 60),
    ("Sher Shah Suri Road, Nagan Chowrangi", District.CENTRAL, 24.9634, 67.0647, 60),
    ("Gulshan-e-Iqbal, Maskan Chowrangi", District.EAST, 24.9260, 67.0980, 50),
    ("Rashid Minhas Road, Gulshan", District.EAST, 24.9186, 67.1054, 60),
    ("Gulistan-e-Johar, Johar Mor", District.EAST, 24.9125, 67.1249, 50),
    ("Nazimabad, Petrol Pump", District.CENTRAL, 24.9079, 67.0319, 50),
    ("North Nazimabad, Five Star", District.CENTRAL, 24.9416, 67.0438, 50),
    ("Lyari Expressway, Gulbai", District.KEAMARI, 24.8748, 66.9853, 80),
    ("Mauripur Road", District.KEAMARI, 24.8725, 66.9550, 60),
    ("Keamari, Native Jetty Bridge", District.KEAMARI, 24.8386, 66.9911, 40),
    ("Manghopir Road, Orangi", District.WEST, 24.9450, 66.9949, 50),
    ("Banaras Chowk", District.WEST, 24.9284, 67.0014, 40),
    ("S.I.T.E., Habib Bank Chowrangi", District.WEST, 24.9018, 67.0069, 50),
    ("Baloch Colony Flyover", District.EAST, 24.8609, 67.0831, 60),
    ("Tipu Sultan Road", District.EAST, 24.8721, 67.0741, 50),
    ("I.I. Chundrigar Road", District.SOUTH, 24.8480, 67.0054, 40),
    ("Teen Talwar, Clifton", District.SOUTH, 24.8344, 67.0336, 40),
]


@transaction.atomic
def seed_cameras(seed: int = 42) -> list[Camera]:
    """About 40 cameras of every kind across Karachi, owned by the demo TRACS gateway."""
    rng = random.Random(seed)
    kinds = list(Camera.Kind)
    cameras = []
    for index, (road, district, lat, lng, limit) in enumerate(SITES, start=1):
        kind = kinds[(index - 1) % len(kinds)]
        code = f"KHI-{str(district)[:3].upper()}-{index:03d}"
        jitter_lat = Decimal(f"{lat + rng.uniform(-0.0008, 0.0008):.6f}")
        jitter_lng = Decimal(f"{lng + rng.uniform(-0.0008, 0.0008):.6f}")
        camera, _ = Camera.objects.update_or_create(
            code=code,
            defaults={
                "name": f"{road} ({Camera.Kind(kind).label})",
                "kind": kind,
                "latitude": jitter_lat,
                "longitude": jitter_lng,
                "road": road.split(",")[0],
                "district": district,
                "speed_limit_kmh": limit,
                "status": Camera.Status.MAINTENANCE
                if rng.random() < 0.05
                else Camera.Status.ACTIVE,
            },
        )
        cameras.append(camera)
    user, _ = get_user_model().objects.get_or_create(username=DEMO_CLIENT)
    client, _ = IngestClient.objects.get_or_create(name=DEMO_CLIENT, defaults={"user": user})
    client.cameras.add(*cameras)
    Token.objects.get_or_create(user=client.user)
    return cameras
