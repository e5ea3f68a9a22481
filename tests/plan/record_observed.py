"""Record what agentctl observes after a deploy on the sandbox, as the planner tables' worlds.

    .venv/bin/python tests/plan/record_observed.py

writes tests/plan/observed/<variant>.json: the facts `observe` reads (every GET answered by the
sandbox, with its server-side defaults) once `deploy-pool` has converged. The planner tests load
these instead of building the world with the builders they check. Re-record when the sandbox or
the example pool changes on purpose, and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/, for testlib

from agentctl import config, pools, sandbox  # noqa: E402
from agentctl.cloud import target_of  # noqa: E402
from agentctl.kinds import pool  # noqa: E402
from agentctl.observe import observe  # noqa: E402
from agentctl.plan import plan  # noqa: E402
from testlib import EXAMPLE_POOL  # noqa: E402

# variant -> edits of examples/pool.yaml (text replacements)
VARIANTS: dict[str, list[tuple[str, str]]] = {
    "sandbox-converged": [],
    # a managed (non-ephemeral) OS disk, in three zones, on a pinned image version
    "sandbox-managed-disk-zoned": [
        (
            "osDisk: { ephemeral: true, sizeGb: 128 }",
            'osDisk: { ephemeral: false, sizeGb: 64 }\n  zones: ["1", "2", "3"]',
        ),
        ("ubuntu-24.04-agent\n", "ubuntu-24.04-agent\n  version: 2026.1115.1\n"),
    ],
}


def record(variant: str, edits: list[tuple[str, str]], root: Path) -> dict[str, Any]:
    text = EXAMPLE_POOL.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    spec = config.loads(text, f"{variant}.yaml")
    sb = sandbox.start(root / variant)
    try:
        target = target_of(sb, keep=False)
        pools.deploy(spec, target, confirm=lambda _plan: True)
        facts = observe(spec, pools.clients(spec, target))
        after = plan(spec, facts)
        assert not after.changed, [a.to_dict() for a in after.pending]
    finally:
        sb.stop()
    # flat: the shared facts and the scale-set pool's (the instant of the reading is left out: a
    # table sets its own)
    shared = {
        "project": facts.project,
        "identity": facts.identity,
        "role_assignments": facts.role_assignments,
    }
    doc = shared | dataclasses.asdict(pool.of(facts))
    doc["extra"] = {}  # the other kinds' facts have their own tests
    return {"pool": text, "facts": doc}


# Microsoft's example of a scale set GET: it carries what Azure adds to a scale set on its own
# (etag, uniqueId-like members, timeCreated, a primary flag on the IP configuration, an NSG, an
# automatic OS upgrade policy block, data disks, ...), which the sandbox may not.
AZURE_EXAMPLE = (
    "azure-rest-api-specs/specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/"
    "2024-07-01/examples/virtualMachineScaleSetExamples/VirtualMachineScaleSet_Get.json"
)


def _overlay(example: Any, ours: Any) -> Any:
    """``ours`` laid over ``example``: what the example has beyond ours stays."""
    if isinstance(example, dict) and isinstance(ours, dict):
        return {**example, **{k: _overlay(example.get(k), v) for k, v in ours.items()}}
    if isinstance(example, list) and isinstance(ours, list) and len(example) == len(ours):
        return [_overlay(e, o) for e, o in zip(example, ours, strict=True)]
    return ours


def azure_example(converged: dict[str, Any]) -> dict[str, Any]:
    """The sandbox's converged world with its scale set as Microsoft's example shows one: the
    example's members, with the pool's values (as the sandbox recorded them) laid over it."""
    specs = Path(os.environ.get("AGENTCTL_SPECS_DIR") or HERE.parents[2].parent / "shared" / "specs")
    example = json.loads((specs / AZURE_EXAMPLE).read_text())["responses"]["200"]["body"]
    ours = converged["facts"]["scale_set"]
    storage = example["properties"]["virtualMachineProfile"]["storageProfile"]
    storage["imageReference"] = {}  # a marketplace image there; a gallery image here (an id only)
    storage["osDisk"].pop("managedDisk")  # the example's disk is managed; the pool's is ephemeral
    scale_set = _overlay(example, ours)
    scale_set["properties"]["provisioningState"] = "succeeded"  # the example's spelling
    doc = json.loads(json.dumps(converged))
    doc["facts"]["scale_set"] = scale_set
    doc["source"] = f"sandbox-converged.json with its scale set laid over {AZURE_EXAMPLE}"
    return doc


def main() -> None:
    out = HERE / "observed"
    out.mkdir(exist_ok=True)
    docs = {}
    with tempfile.TemporaryDirectory() as tmp:
        for variant, edits in VARIANTS.items():
            docs[variant] = record(variant, edits, Path(tmp))
    docs["azure-example-converged"] = azure_example(docs["sandbox-converged"])
    for variant, doc in docs.items():
        (out / f"{variant}.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"wrote {out / variant}.json")


if __name__ == "__main__":
    main()
