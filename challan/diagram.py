"""The challan state machine as a Mermaid `stateDiagram-v2`, read from the model's transitions.

django-fsm's own `graph_transitions` writes Graphviz DOT (and needs the graphviz
package to render); GitHub renders Mermaid in a README directly.
"""

from __future__ import annotations

from django_fsm import ANY_OTHER_STATE, ANY_STATE, GET_STATE, RETURN_VALUE

from challan.models import Challan, ChallanState


def _targets(transition: object) -> list[str]:
    target = transition.target  # type: ignore[attr-defined]
    if isinstance(target, GET_STATE | RETURN_VALUE):
        return [str(s) for s in target.allowed_states]
    return [str(target)]


def challan_state_diagram() -> str:
    """Mermaid text, deterministic: edges sorted, roles on each label, initial and final states."""
    field = Challan._meta.get_field("state")
    states = [str(s) for s in ChallanState.values]
    edges: dict[tuple[str, str], set[str]] = {}
    for transition in field.get_all_transitions(Challan):  # type: ignore[attr-defined]
        source = str(transition.source)
        sources = [s for s in states if s != source] if source == ANY_OTHER_STATE else [source]
        if source == ANY_STATE:
            sources = states
        roles = sorted(getattr(transition.permission, "roles", ()))
        label = f"{transition.name} ({', '.join(roles)})" if roles else transition.name
        for src in sources:
            for dst in _targets(transition):
                edges.setdefault((src, dst), set()).add(label)
    has_exit = {src for src, _ in edges}
    # case_open creates a case in one of these two states.
    initial = [ChallanState.NEEDS_PLATE_CHECK, ChallanState.PENDING_REVIEW]
    lines = ["```mermaid", "stateDiagram-v2"]
    lines += [f"    [*] --> {s}: case_open" for s in initial]
    order = {s: i for i, s in enumerate(states)}
    for (src, dst), labels in sorted(edges.items(), key=lambda e: (order[e[0][0]], order[e[0][1]])):
        lines.append(f"    {src} --> {dst}: {' / '.join(sorted(labels))}")
    lines += [f"    {s} --> [*]" for s in states if s not in has_exit]
    lines.append("```")
    return "\n".join(lines) + "\n"
