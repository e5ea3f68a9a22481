"""What the deploy path's resources should look like, and how an observed one differs: pure functions."""

from __future__ import annotations

from typing import Any

from agentctl.config import Environment, Kubernetes, PoolSpec
from agentctl.kinds.common import marker
from agentctl.kinds.deploy_path.facts import APPROVAL_TYPE_ID, FINGERPRINT_KEY, Prepared


def environment_description(spec: PoolSpec, env: Environment) -> str:
    return f"{env.description}\n\n{marker(spec)}" if env.description else marker(spec)


def check_body(env: Environment, env_id: str | int, approver_ids: list[str]) -> dict[str, Any]:
    """The Approval check; sent raw because the SDK's model drops ``settings``."""
    return {
        "type": {"id": APPROVAL_TYPE_ID, "name": "Approval"},
        "resource": {"type": "environment", "id": str(env_id), "name": env.name},
        "settings": {
            "approvers": [{"id": i} for i in approver_ids],
            "minRequiredApprovers": env.minApprovers,
            "instructions": env.instructions,
            "requesterCannotBeApprover": env.requesterCannotBeApprover,
            "blockedApprovers": [],
        },
        "timeout": env.timeoutMinutes,
    }


def connection_body(
    spec: PoolSpec, k: Kubernetes, prepared: Prepared, project: dict[str, Any]
) -> dict[str, Any]:
    return {
        "name": k.connection,
        "type": "kubernetes",
        "url": prepared.server,
        "description": marker(spec),
        "authorization": {
            "scheme": "Kubernetes",
            "parameters": {"kubeconfig": prepared.text, "clusterContext": prepared.context},
        },
        "data": {
            "authorizationType": "Kubeconfig",
            "acceptUntrustedCerts": "false",
            FINGERPRINT_KEY: prepared.fingerprint,
        },
        "isShared": False,
        "owner": "library",
        "serviceEndpointProjectReferences": [
            {
                "projectReference": {"id": project["id"], "name": project["name"]},
                "name": k.connection,
                "description": marker(spec),
            }
        ],
    }


def check_drift(
    env: Environment, approver_ids: list[str], check: dict[str, Any]
) -> list[tuple[str, Any, Any]]:
    settings = check.get("settings") or {}
    have = settings.get("approvers") or []
    changes: list[tuple[str, Any, Any]] = []
    if sorted(str(a.get("id", "")).lower() for a in have) != sorted(i.lower() for i in approver_ids):
        # like with like: an identity on both sides is shown by the same name on both
        names = {
            str(a.get("id", "")).lower(): a.get("displayName") or a.get("uniqueName") or a.get("id")
            for a in have
        }
        wanted = list(env.approvers)  # one id per approver, in file order, when all resolved
        if len(approver_ids) == len(wanted):
            wanted = [names.get(i.lower(), name) for name, i in zip(wanted, approver_ids, strict=True)]
        changes.append(("approvers", list(names.values()), wanted))
    for label, old, new in (
        ("minApprovers", settings.get("minRequiredApprovers"), env.minApprovers),
        ("instructions", settings.get("instructions") or "", env.instructions),
        (
            "requesterCannotBeApprover",
            bool(settings.get("requesterCannotBeApprover")),
            env.requesterCannotBeApprover,
        ),
        ("timeoutMinutes", check.get("timeout"), env.timeoutMinutes),
    ):
        if old != new:
            changes.append((label, old, new))
    return changes


def connection_drift(prepared: Prepared, endpoint: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    data = endpoint.get("data") or {}
    changes: list[tuple[str, Any, Any]] = []
    if str(endpoint.get("url") or "").rstrip("/") != prepared.server.rstrip("/"):
        changes.append(("url", endpoint.get("url"), prepared.server))
    if data.get("authorizationType") != "Kubeconfig":
        changes.append(("authorizationType", data.get("authorizationType"), "Kubeconfig"))
    stored = str(data.get(FINGERPRINT_KEY) or "")
    if stored != prepared.fingerprint:
        changes.append(("kubeconfig", _short_print(stored), _short_print(prepared.fingerprint)))
    return changes


def _short_print(fingerprint: str) -> str:
    return f"sha256:{fingerprint[:12]}" if fingerprint else "unknown"


def approval_check(
    env: Environment, approver_ids: list[str], checks: list[dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The check that stands for ``env``'s approvals, and the Approval checks to delete.

    Checks have no name, so two runs on two machines (which share no lease) can each create one:
    of several, the oldest that already matches the file stands (else the oldest, to be updated),
    and the others that match the file are such duplicates. A check that differs from the file
    was added by hand and stays. With no approvers in the file, every Approval check goes.
    """
    matching = [c for c in checks if not check_drift(env, approver_ids, c)]
    primary = matching[0] if matching else (checks[0] if checks else None)
    extras = matching if env.approvers else checks
    return primary, [c for c in extras if c is not primary]
