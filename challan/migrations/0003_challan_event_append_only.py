"""PostgreSQL refuses UPDATE and DELETE on the audit trail, whatever the client."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION challan_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'challan_challanevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER challan_event_append_only
    BEFORE UPDATE OR DELETE ON challan_challanevent
    FOR EACH ROW EXECUTE FUNCTION challan_event_append_only();
"""
BACKWARD = """
DROP TRIGGER IF EXISTS challan_event_append_only ON challan_challanevent;
DROP FUNCTION IF EXISTS challan_event_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("challan", "0002_seed_schedule_and_roles")]

    operations = [migrations.RunPython(forward, backward)]
