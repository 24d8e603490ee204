"""The import graph of the product follows its layers, and has no cycle.

    kernel (timedify_ops/) ← receive (webhooks/) ← recover (deadletters/, shops/)
        ← observe (dashboard/logs, dashboard/health ← dashboard/slo ← dashboard/alerts ← dashboard/retention)
        ← console (the rest of dashboard/)

Every product module is parsed (imports at module level and inside functions alike); an import
may only point to the same room or a layer before it. The pipeline hands two things upward on
purpose, and those are the only exceptions, listed in HAND_OFFS. The demo is not the product: no
product module may import it.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("timedify_ops", "webhooks", "deadletters", "shops", "dashboard")
LAYERS = ("kernel", "receive", "recover", "observe", "console")
# Within observe, an app may import the apps of a lower rank only (logs and health know neither each other
# nor anything above; the SLOs read the probes; alerting reads all three; retention reads every table).
OBSERVE_RANK = {"logs": 0, "health": 0, "slo": 1, "alerts": 2, "retention": 3}
# The two imports that run against the layers: real hand-offs of the pipeline (webhooks/services.py says so).
HAND_OFFS = {
    ("webhooks.services", "deadletters.models"): "receive creates recover's DeadLetter when the budget is spent",
    ("webhooks.services", "shops.side_effects"): "receive applies the shops room's side effects of a webhook",
}


def product_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imported(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[tuple[str, int]]:
    """(module imported, line) for every import in the tree, resolved to the module it loads."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.add((child if child in known else base, node.lineno))
    return found


def import_graph() -> dict[str, set[tuple[str, int]]]:
    modules = product_modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[name] = imported(tree, name, path.name == "__init__.py", known)
    return graph


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "timedify_ops":
        return "kernel"
    if parts[0] == "webhooks":
        return "receive"
    if parts[0] in ("deadletters", "shops"):
        return "recover"
    if parts[0] == "dashboard":
        return "observe" if len(parts) > 1 and parts[1] in OBSERVE_RANK else "console"
    return None  # Django, the libraries, the standard library


def against_the_layers(source: str, target: str) -> bool:
    source_layer, target_layer = layer(source), layer(target)
    if target_layer is None:
        return False
    if LAYERS.index(target_layer) != LAYERS.index(source_layer):
        return LAYERS.index(target_layer) > LAYERS.index(source_layer)
    if source_layer == "observe":
        source_app, target_app = source.split(".")[1], target.split(".")[1]
        return source_app != target_app and OBSERVE_RANK[target_app] >= OBSERVE_RANK[source_app]
    return False


def upward_imports(graph) -> dict[tuple[str, str], int]:
    return {
        (source, target): line
        for source, targets in graph.items()
        for target, line in targets
        if against_the_layers(source, target)
    }


def cycles(graph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over product modules only."""
    edges = {source: {target for target, _ in targets if target in graph} for source, targets in graph.items()}
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges[node]:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_import_follows_the_layers_but_the_two_hand_offs():
    upward = upward_imports(import_graph())
    unexpected = {edge: line for edge, line in upward.items() if edge not in HAND_OFFS}
    assert not unexpected, "imports against the layers: " + ", ".join(
        f"{source} → {target} (line {line})" for (source, target), line in sorted(unexpected.items())
    )
    assert set(upward) == set(HAND_OFFS), "a listed hand-off is gone: take it off HAND_OFFS"


def test_no_modules_import_each_other():
    assert cycles(import_graph()) == []


def test_the_product_never_imports_the_demo():
    graph = import_graph()
    offenders = sorted(
        f"{source} (line {line})"
        for source, targets in graph.items()
        for target, line in targets
        if target == "demo" or target.startswith("demo.")
    )
    assert offenders == []


def test_the_check_sees_an_upward_import_and_a_cycle():
    """The walk itself: an observe module importing the console, two modules importing each other."""
    graph = defaultdict(set)
    graph["dashboard.health.services"].add(("dashboard.views", 1))
    graph["dashboard.views"].add(("dashboard.health.services", 1))
    graph["dashboard.logs.views"].add(("dashboard.health.services", 1))  # logs and health: same rank
    assert set(upward_imports(graph)) == {
        ("dashboard.health.services", "dashboard.views"),
        ("dashboard.logs.views", "dashboard.health.services"),
    }
    assert cycles(graph) == [["dashboard.health.services", "dashboard.views"]]
    source = "from dashboard.health import services\n\ndef later():\n    import webhooks.tasks\n"
    known = {"dashboard.health.services", "webhooks.tasks"}
    found = imported(ast.parse(source), "dashboard.views", False, known)
    assert {target for target, _ in found} == {"dashboard.health.services", "webhooks.tasks"}
