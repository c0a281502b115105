from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from challan.diagram import challan_state_diagram


class Command(BaseCommand):
    help = (
        "Print the challan state machine as a Mermaid stateDiagram-v2 (for README.md, "
        "between <!-- states:start --> and <!-- states:end -->)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(challan_state_diagram(), ending="")
