"""What ``agentctl status`` shows of the deploy path."""

from __future__ import annotations

from typing import Any

from agentctl.config import PoolSpec
from agentctl.kinds.base import Clients, Facts
from agentctl.kinds.deploy_path.desired import approval_check, check_drift, connection_drift
from agentctl.kinds.deploy_path.facts import NAME, DeployPathFacts, of


def status(spec: PoolSpec, clients: Clients, facts: Facts, lines: int) -> dict[str, Any]:
    dp = of(facts) or DeployPathFacts()
    envs = {e["name"].lower(): e for e in dp.environments}
    conns = {c["name"].lower(): c for c in dp.connections}
    environments = []
    for env in spec.devops.environments:
        observed = envs.get(env.name.lower())
        ids = dp.approvers.get(env.name)
        checks = dp.checks.get(str(observed["id"]), []) if observed else []
        check, extras = approval_check(env, ids or [], checks)
        environments.append(
            {
                "name": env.name,
                "exists": observed is not None,
                "approvers": list(env.approvers),
                "check": check is not None,
                "checkCurrent": check is not None
                and ids is not None
                and not extras
                and not check_drift(env, ids, check),
            }
        )
    connections = []
    for k in spec.devops.kubernetes:
        endpoint = conns.get(k.connection.lower())
        prepared = dp.kubeconfigs.get(k.connection)
        current = endpoint is not None and prepared is not None and not connection_drift(prepared, endpoint)
        connections.append(
            {
                "name": k.connection,
                "cluster": f"{k.cluster.resourceGroup}/{k.cluster.name}",
                "credentials": k.credentials,
                "exists": endpoint is not None,
                "isReady": (endpoint or {}).get("isReady"),
                "kubeconfigCurrent": current,
            }
        )
    return {
        NAME: {
            "environments": environments,
            "connections": connections,
            "problems": [e.message for e in dp.errors],
        }
    }
