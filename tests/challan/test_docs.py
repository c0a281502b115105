"""Generated documentation stays in step with the code: README state diagram, OpenAPI schema."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from challan.diagram import challan_state_diagram

README = Path(__file__).resolve().parents[2] / "README.md"
MARKERS = re.compile(r"<!-- states:start -->\n(.*?)<!-- states:end -->", re.DOTALL)


def test_the_diagram_covers_every_state_and_transition():
    text = challan_state_diagram()
    assert text.startswith("```mermaid\nstateDiagram-v2\n")
    for state in ("needs_plate_check", "pending_review", "contested", "escalated", "closed"):
        assert f" {state}" in text
    assert "contested --> served: decide_contest (appeals_officer)" in text
    assert "contested --> cancelled: decide_contest (appeals_officer)" in text
    assert "closed --> [*]" in text


def test_the_command_prints_the_diagram():
    out = StringIO()
    call_command("challan_state_diagram", stdout=out)
    assert out.getvalue() == challan_state_diagram()


def test_the_readme_diagram_matches_the_code():
    match = MARKERS.search(README.read_text(encoding="utf-8")) if README.exists() else None
    if match is None:
        pytest.skip("README.md has no <!-- states:start --> ... <!-- states:end --> markers yet")
    assert match.group(1).strip() == challan_state_diagram().strip(), (
        "README state diagram is stale: paste `python manage.py challan_state_diagram`"
    )


@pytest.mark.django_db
def test_the_api_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
    )


@pytest.mark.django_db
def test_the_project_schema_lists_the_challan_api(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    assert "/api/v1/challans/by-number/{number}/" in paths
    assert "/api/v1/challans/by-plate/{plate}/" in paths
    assert "/api/v1/challans/feed/" in paths
    assert "/api/v1/offences/" in paths
    approve = paths["/api/v1/challans/{id}/approve/"]["post"]
    assert {"200", "403", "409"} <= set(approve["responses"])
