"""Seed the amended Sindh offence schedule and the role groups (both idempotent)."""

from django.db import migrations

ROLE_GROUPS = ["reviewer", "supervisor", "appeals_officer", "tracs"]


def seed(apps, schema_editor):
    from challan.demo import seed_offences

    seed_offences(
        offence_model=apps.get_model("challan", "Offence"),
        fine_model=apps.get_model("challan", "OffenceFine"),
    )
    Group = apps.get_model("auth", "Group")
    for name in ROLE_GROUPS:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("challan", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
