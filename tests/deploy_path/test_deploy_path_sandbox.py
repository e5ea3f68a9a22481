"""Environments, approvals and Kubernetes connections through the CLI, on the sandbox.

The sandbox's built-in world has ``aks-dev`` (local accounts) and ``aks-prod`` (Entra only, local
accounts disabled) in ``rg-aks``, and the identities the pool file names as approvers.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentctl import config
from agentctl.cli import run
from conformance.spec_check import load_for_tests

POOL = Path(__file__).with_name("pool.yaml")
WRITES = ("POST", "PUT", "PATCH", "DELETE")
READ_ONLY_POSTS = ("/listClusterUserCredential", "/listClusterAdminCredential")
DEPLOY_PATH_PARTS = (
    "/distributedtask/environments",
    "/pipelines/checks/",
    "/serviceendpoint/",
    "/identities",
)


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.dir = root / "sandbox"
        self.pool = root / "pool.yaml"
        self.pool.write_text(POOL.read_text())
        self.seen = 0

    def agentctl(self, capsys: Any, *args: str) -> tuple[int, dict[str, Any], str]:
        capsys.readouterr()
        code = run(["--sandbox", "--sandbox-dir", str(self.dir), "-o", "json", *args])
        out, err = capsys.readouterr()
        return code, json.loads(out), out + err

    def log(self) -> list[dict[str, Any]]:
        path = self.dir / "access.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def new_entries(self) -> list[dict[str, Any]]:
        entries = self.log()
        new, self.seen = entries[self.seen :], len(entries)
        return new

    @staticmethod
    def writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            e
            for e in entries
            if e["method"] in WRITES and e["service"] != "entra" and not e["path"].endswith(READ_ONLY_POSTS)
        ]

    def edit(self, old: str, new: str) -> None:
        text = self.pool.read_text()
        assert old in text, old
        self.pool.write_text(text.replace(old, new, 1))

    def secrets(self) -> list[str]:
        """Every credential value the sandbox's clusters handed out (certificates, keys, tokens)."""
        state = json.loads((self.dir / "state.json").read_text())
        found: list[str] = []
        for creds in state["aksCredentials"].values():
            for key in ("cert", "key", "token"):
                value = creds[key]
                found.append(value)
                found.append(base64.b64encode(value.encode()).decode())
                body = [ln for ln in value.splitlines() if ln and not ln.startswith("-----")]
                found.extend(body[:2])  # a PEM line is recognisable on its own
        return found


def deploy_path_keys(plan: dict[str, Any], op: str) -> set[str]:
    kinds = ("environment:", "approvalCheck:", "kubernetesConnection:", "kubernetesPermissions:")
    return {a["key"] for a in plan["actions"] if a["op"] == op and a["key"].startswith(kinds)}


@pytest.fixture
def sb(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def test_converge_rerun_approver_change_and_destroy(sb: Sandbox, capsys: Any) -> None:
    shown: list[str] = []

    # From nothing: both environments with their checks, both connections, one permission.
    code, out, text = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    shown.append(text)
    assert code == 0, out
    assert deploy_path_keys(out["data"]["plan"], "create") == {
        "environment:private-aks-dev",
        "approvalCheck:private-aks-dev",
        "environment:private-aks-prod",
        "approvalCheck:private-aks-prod",
        "kubernetesConnection:aks-dev",
        "kubernetesConnection:aks-prod",
        "kubernetesPermissions:aks-prod",
    }
    first = sb.new_entries()
    endpoint_posts = [
        e for e in first if e["method"] == "POST" and e["path"].endswith("/serviceendpoint/endpoints")
    ]
    bodies = {e["request"]["name"]: e["request"] for e in endpoint_posts}
    for name in ("aks-dev", "aks-prod"):
        body = bodies[name]
        assert body["type"] == "kubernetes" and body["authorization"]["scheme"] == "Kubernetes"
        assert body["url"].startswith(f"https://{name}-") and body["url"].endswith(".azmk8s.io:443")
        assert body["authorization"]["parameters"]["clusterContext"] == name
        assert body["authorization"]["parameters"]["kubeconfig"] == "***REDACTED***"
        assert len(body["data"]["agentctlKubeconfigSha256"]) == 64
    check_posts = [e for e in first if e["method"] == "POST" and e["path"].endswith("/checks/configurations")]
    settings = {e["request"]["resource"]["name"]: e["request"]["settings"] for e in check_posts}
    assert settings["private-aks-prod"]["minRequiredApprovers"] == 2
    assert len(settings["private-aks-prod"]["approvers"]) == 2
    assert settings["private-aks-prod"]["requesterCannotBeApprover"] is True
    # and the service kept them: the check read back has the settings we sent
    code, status, text = sb.agentctl(capsys, "status", "-f", str(sb.pool))
    shown.append(text)
    deploy = status["data"]["deployPath"]
    assert [(e["exists"], e["check"], e["checkCurrent"]) for e in deploy["environments"]] == [
        (True, True, True)
    ] * 2
    assert [(c["exists"], c["isReady"], c["kubeconfigCurrent"]) for c in deploy["connections"]] == [
        (True, True, True)
    ] * 2
    index = load_for_tests()
    ours = [e for e in first if any(p in e["path"] for p in DEPLOY_PATH_PARTS)]
    problems = [p for e in ours for p in index.check_exchange(e) if " response " not in p]
    assert problems == []  # our requests; the sandbox's responses are its own tests' business

    # A second run writes nothing.
    code, out, text = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    shown.append(text)
    assert code == 0 and out["status"] == "ok"
    assert sb.writes(sb.new_entries()) == []

    # Another approver: the existing check is updated in place, nothing else is written.
    sb.edit("approvers: [platform-leads@contoso.com]", "approvers: [bob@contoso.com]")
    code, out, text = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    shown.append(text)
    assert code == 0, out
    writes = sb.writes(sb.new_entries())
    assert [(w["method"], w["path"].rsplit("/", 2)[-2]) for w in writes] == [("PATCH", "configurations")]
    (patch,) = writes
    assert patch["path"].endswith(f"/configurations/{patch['request']['id']}")
    assert [a["displayName"] for a in patch["response"]["settings"]["approvers"]] == ["Bob Chen"]
    assert [a["id"] for a in patch["request"]["settings"]["approvers"]] == [
        a["id"] for a in patch["response"]["settings"]["approvers"]
    ]
    code, out, text = sb.agentctl(capsys, "plan", "-f", str(sb.pool))
    shown.append(text)
    assert code == 0, out

    # destroy removes the environments (checks first) and the connections agentctl made.
    code, out, text = sb.agentctl(capsys, "destroy", "-f", str(sb.pool), "--yes")
    shown.append(text)
    assert code == 0, out
    assert deploy_path_keys(out["data"]["plan"], "delete") == {
        "approvalCheck:private-aks-dev",
        "environment:private-aks-dev",
        "approvalCheck:private-aks-prod",
        "environment:private-aks-prod",
        "kubernetesConnection:aks-dev",
        "kubernetesConnection:aks-prod",
    }
    sb.new_entries()
    code, out, text = sb.agentctl(capsys, "destroy", "-f", str(sb.pool), "--yes")
    shown.append(text)
    assert code == 0 and deploy_path_keys(out["data"]["plan"], "delete") == set()

    # No credential the clusters handed out shows in any output or in the access log.
    access_log = (sb.dir / "access.jsonl").read_text()
    secrets = sb.secrets()
    assert secrets
    for secret in secrets:
        assert secret not in access_log
        assert all(secret not in t for t in shown)


def test_rotated_cluster_credentials_update_the_connection(sb: Sandbox, capsys: Any) -> None:
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    sb.new_entries()
    state_file = sb.dir / "state.json"
    state = json.loads(state_file.read_text())
    (key,) = [k for k in state["aksCredentials"] if k.endswith("/aks-dev")]
    state["aksCredentials"][key]["token"] = "0" * 64
    state_file.write_text(json.dumps(state))

    code, out, _ = sb.agentctl(capsys, "plan", "-f", str(sb.pool))
    assert code == 2
    (action,) = [a for a in out["data"]["actions"] if a["op"] != "noop"]
    assert action["key"] == "kubernetesConnection:aks-dev" and action["changes"][0]["field"] == "kubeconfig"
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    writes = sb.writes(sb.new_entries())
    assert [w["method"] for w in writes] == ["PUT"] and "/serviceendpoint/endpoints/" in writes[0]["path"]


def test_unknown_approver_stops_before_any_write(sb: Sandbox, capsys: Any) -> None:
    sb.edit("approvers: [platform-leads@contoso.com]", "approvers: [nobody@contoso.com]")
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 5
    (err,) = out["errors"]
    assert err["field"] == "devops.environments[0].approvers" and "nobody@contoso.com" in err["message"]
    assert err["line"] == config.load(sb.pool).line("devops.environments[0].approvers")
    assert sb.writes(sb.new_entries()) == []


def test_admin_credentials_on_an_entra_only_cluster_suggest_kubelogin_msi(sb: Sandbox, capsys: Any) -> None:
    sb.edit("credentials: kubelogin-msi", "credentials: admin")
    code, out, text = sb.agentctl(capsys, "plan", "-f", str(sb.pool))
    assert code == 5
    assert out["errors"][0]["field"] == "devops.kubernetes[1].credentials"
    assert "kubelogin-msi" in text
    assert not [e for e in sb.new_entries() if e["path"].endswith("/listClusterAdminCredential")]


def test_wire_body_of_the_check_carries_settings(sb: Sandbox, capsys: Any) -> None:
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    posts = [e for e in sb.log() if e["method"] == "POST" and e["path"].endswith("/checks/configurations")]
    dev = next(e for e in posts if e["request"]["resource"]["name"] == "private-aks-dev")
    wire = dev["request"]
    assert wire["type"]["id"] == "8c6f20a7-a545-4486-9777-f762fafe0d4d" and wire["timeout"] == 43200
    assert wire["settings"]["approvers"] == [{"id": dev["response"]["settings"]["approvers"][0]["id"]}]
    assert wire["settings"]["blockedApprovers"] == [] and wire["settings"]["minRequiredApprovers"] == 1
    assert yaml.safe_load(json.dumps(wire))  # plain JSON, nothing SDK-specific


def test_a_check_made_twice_by_runs_on_two_machines_is_cut_to_one(sb: Sandbox, capsys: Any) -> None:
    from agentctl.cloud import target_of
    from agentctl.devops import DevOps
    from agentctl.sandbox import start

    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    post = next(e for e in sb.log() if e["method"] == "POST" and e["path"].endswith("/checks/configurations"))
    # A run on another machine (no shared lease) posts the same check again.
    other = start(sb.dir)
    try:
        project = post["path"].split("/")[2]
        made = DevOps(target_of(other, keep=True), project).call(
            "check.create", {"project": project}, body=post["request"]
        )
    finally:
        other.stop()
    env = post["request"]["resource"]["name"]
    code, out, _ = sb.agentctl(capsys, "status", "-f", str(sb.pool))
    assert {e["name"]: e["checkCurrent"] for e in out["data"]["deployPath"]["environments"]}[env] is False
    sb.new_entries()
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    assert [(e["method"], e["path"].rsplit("/", 1)[1]) for e in sb.writes(sb.new_entries())] == [
        ("DELETE", str(made["id"]))
    ]
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0 and sb.writes(sb.new_entries()) == []


@pytest.mark.parametrize("command", ["deploy-pool", "destroy"])
def test_an_environment_past_the_first_page_is_still_found(sb: Sandbox, capsys: Any, command: str) -> None:
    """The environments list is paged (50 a page): agentctl's environments, made after 60 others,
    are on the second page. One the file no longer names is deleted, with its check, all the same."""
    from agentctl.cloud import target_of
    from agentctl.devops import DevOps
    from agentctl.sandbox import start

    other = start(sb.dir)
    try:
        dev = DevOps(target_of(other, keep=True), "platform")
        for i in range(60):
            dev.call("environment.create", {"project": "platform"}, body={"name": f"team-{i:02d}"})
    finally:
        other.stop()
    code, out, _ = sb.agentctl(capsys, "deploy-pool", "-f", str(sb.pool), "--yes")
    assert code == 0, out
    sb.edit(
        "    - name: private-aks-dev\n      description: Development cluster\n"
        "      approvers: [platform-leads@contoso.com]\n      minApprovers: 1\n",
        "",
    )
    code, out, _ = sb.agentctl(capsys, "plan", "-f", str(sb.pool))
    assert code == 2
    assert deploy_path_keys(out["data"], "delete") == {
        "environment:private-aks-dev",
        "approvalCheck:private-aks-dev",
    }

    code, out, _ = sb.agentctl(capsys, command, "-f", str(sb.pool), "--yes")
    assert code == 0, out
    kept = {"private-aks-prod"} if command == "deploy-pool" else set()
    deleted = {k for k in deploy_path_keys(out["data"]["plan"], "delete") if not k.startswith("kubernetes")}
    assert deleted == {
        f"{kind}:{name}"
        for kind in ("environment", "approvalCheck")
        for name in {"private-aks-dev", "private-aks-prod"} - kept
    }
    state = json.loads((sb.dir / "state.json").read_text())
    assert {e["name"] for e in state["devops"]["environments"].values()} == {
        f"team-{i:02d}" for i in range(60)
    } | kept
    assert {c["resource"]["name"] for c in state["devops"]["checks"].values()} == kept
