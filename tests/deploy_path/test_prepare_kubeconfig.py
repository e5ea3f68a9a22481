"""From the cluster's ARM credentials to the kubeconfig a Kubernetes connection stores.

An in-memory ARM stands in for ``agentctl.azure.Arm`` (``get_cluster``, ``cluster_kubeconfig``) and
returns kubeconfigs shaped like AKS's: real certificates for local accounts, a kubelogin device-code
exec for Entra clusters, wrapped base64 when the copy was damaged.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentctl import config, kubeconfig
from agentctl.errors import InvalidInput, NotFound, PreconditionFailed
from agentctl.kinds import deploy_path as dp
from agentctl.kinds.base import Clients
from agentctl.logs import redact
from agentctl.sandbox import tls
from testlib import facts_of

SPEC = config.load(Path(__file__).with_name("pool.yaml"))
CLIENT_ID = "0b7d9a8e-1f2c-4d3e-9a8b-7c6d5e4f3a2b"
SERVER = "https://aks-{name}.privatelink.westeurope.azmk8s.io:443"
CA, CA_KEY = tls.new_ca("ca")
CERT, KEY = tls.issue(CA, CA_KEY, "masterclient", organization="system:masters")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def aks_kubeconfig(name: str, user: dict[str, Any]) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": name,
                    "cluster": {"certificate-authority-data": b64(CA), "server": SERVER.format(name=name)},
                }
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": f"clusterUser_rg-aks_{name}"}}],
            "current-context": name,
            "users": [{"name": f"clusterUser_rg-aks_{name}", "user": user}],
        },
        sort_keys=False,
    )


LOCAL_USER = {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY), "token": "f" * 64}
ENTRA_USER = {
    "exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": ["get-token", "--server-id", kubeconfig.AKS_SERVER_ID, "--login", "devicecode"],
    }
}


class MemoryArm:
    """Clusters by name: (disableLocalAccounts, user kubeconfig)."""

    def __init__(self, clusters: dict[str, tuple[bool, str]]) -> None:
        self.clusters = clusters
        self.target = None
        self.fetched: list[tuple[str, bool]] = []

    def get_cluster(self, rg: str, name: str) -> dict[str, Any] | None:
        if name not in self.clusters:
            return None
        return {"name": name, "properties": {"disableLocalAccounts": self.clusters[name][0]}}

    def cluster_kubeconfig(self, rg: str, name: str, admin: bool) -> bytes:
        self.fetched.append((name, admin))
        return self.clusters[name][1].encode()


def prepare(index: int, arm: MemoryArm, **changes: Any) -> dp.Prepared:
    import dataclasses

    k = dataclasses.replace(SPEC.devops.kubernetes[index], **changes)
    facts = facts_of(identity={"properties": {"clientId": CLIENT_ID}})
    return dp.facts._prepare(SPEC, index, k, Clients(arm, None), facts)  # type: ignore[arg-type]


def world() -> MemoryArm:
    return MemoryArm(
        {
            "aks-dev": (False, aks_kubeconfig("aks-dev", LOCAL_USER)),
            "aks-prod": (True, aks_kubeconfig("aks-prod", ENTRA_USER)),
        }
    )


def test_local_account_cluster_gives_a_checked_minified_config_with_the_namespace() -> None:
    arm = world()
    got = prepare(0, arm)
    assert arm.fetched == [("aks-dev", False)]
    assert got.server == SERVER.format(name="aks-dev") and got.context == "aks-dev"
    assert kubeconfig.check(got.text, "out") == []
    doc = yaml.safe_load(got.text)
    assert [c["name"] for c in doc["contexts"]] == ["aks-dev"]
    assert doc["contexts"][0]["context"]["namespace"] == "dev"
    assert got.fingerprint == kubeconfig.fingerprint(got.text)


def test_entra_cluster_is_converted_to_the_agents_managed_identity() -> None:
    got = prepare(1, world())
    user = yaml.safe_load(got.text)["users"][0]["user"]
    assert set(user) == {"exec"}
    args = user["exec"]["args"]
    assert args[args.index("--login") + 1] == "msi" and args[args.index("--client-id") + 1] == CLIENT_ID
    assert "devicecode" not in got.text and kubeconfig.blocking(kubeconfig.check(got.text, "out")) == []


def test_user_credentials_of_an_entra_cluster_are_refused_with_a_hint() -> None:
    with pytest.raises(InvalidInput) as err:
        prepare(1, world(), credentials="user")
    assert "kubelogin-msi" in err.value.hint
    assert "devops.kubernetes[1]" in err.value.message


def test_admin_on_a_cluster_without_local_accounts_suggests_kubelogin_msi() -> None:
    arm = world()
    with pytest.raises(PreconditionFailed) as err:
        prepare(1, arm, credentials="admin")
    assert "local accounts disabled" in err.value.message and "kubelogin-msi" in err.value.hint
    assert err.value.problems[0].field == "devops.kubernetes[1].credentials"
    assert err.value.problems[0].line == SPEC.line("devops.kubernetes[1].credentials")
    assert arm.fetched == []  # refused before asking ARM for credentials


def test_admin_on_a_local_account_cluster_fetches_admin_credentials() -> None:
    arm = world()
    prepare(0, arm, credentials="admin")
    assert arm.fetched == [("aks-dev", True)]


def test_missing_cluster_names_the_field() -> None:
    arm = MemoryArm({})
    with pytest.raises(NotFound) as err:
        prepare(0, arm)
    assert err.value.problems[0].field == "devops.kubernetes[0].cluster"
    assert "rg-aks/aks-dev" in err.value.message


def test_wrapped_base64_is_repaired_and_the_fingerprint_is_that_of_the_clean_config() -> None:
    clean = prepare(0, world())
    text = aks_kubeconfig("aks-dev", LOCAL_USER)
    data = b64(CA)
    broken = text.replace(data, data[:60] + "\n  " + data[60:]).replace("\n", "\r\n")
    got = prepare(0, MemoryArm({"aks-dev": (False, broken)}))
    assert kubeconfig.check(got.text, "out") == []
    assert got.fingerprint == clean.fingerprint


def test_a_rotated_credential_changes_the_fingerprint() -> None:
    rotated = aks_kubeconfig("aks-dev", {**LOCAL_USER, "token": "e" * 64})
    assert prepare(0, MemoryArm({"aks-dev": (False, rotated)})).fingerprint != prepare(0, world()).fingerprint


def test_the_kubeconfig_is_registered_as_a_secret() -> None:
    got = prepare(0, world())
    assert got.text not in repr(got)
    assert redact(f"body: {got.text}") == "body: ***REDACTED***"
