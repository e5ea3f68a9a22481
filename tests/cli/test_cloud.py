"""Clouds, credentials and retry policies: the choices agentctl makes before any request."""

from __future__ import annotations

import json

import pytest

from agentctl import cloud
from agentctl.cloud import CLOUDS, azure_credential, cloud_target
from agentctl.devops.api import _retry_policy, _TokenAuth
from agentctl.logs import redact


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("default", "DefaultAzureCredential"),
        ("cli", "AzureCliCredential"),
        ("managed-identity", "ManagedIdentityCredential"),
    ],
)
def test_credential_selection(kind: str, cls: str) -> None:
    assert type(azure_credential(kind, CLOUDS["public"])).__name__ == cls


def test_workload_identity_credential_uses_the_pipeline_token_file(tmp_path, monkeypatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("federated-token")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-00000000000c")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-00000000000t")
    cred = azure_credential("workload-identity", CLOUDS["usgovernment"])
    assert type(cred).__name__ == "WorkloadIdentityCredential"


@pytest.mark.parametrize(
    ("name", "arm", "env"),
    [
        ("public", "https://management.azure.com/", "AzureCloud"),
        ("usgovernment", "https://management.usgovcloudapi.net/", "AzureUSGovernment"),
        ("china", "https://management.chinacloudapi.cn/", "AzureChinaCloud"),
    ],
)
def test_cloud_endpoints(name: str, arm: str, env: str, monkeypatch) -> None:
    monkeypatch.delenv("AZDO_PAT", raising=False)
    target = cloud_target(name, "cli", "https://dev.azure.com/contoso/")
    assert target.cloud.arm_endpoint == arm
    assert target.cloud.arm_scope == arm + ".default"
    assert target.cloud.connection_environment == env
    assert target.devops_url == "https://dev.azure.com/contoso"
    assert target.devops_pat is None


def test_pat_is_used_for_azure_devops_and_redacted(monkeypatch) -> None:
    monkeypatch.setenv("AZDO_PAT", "pat-canary-0123456789")
    target = cloud_target("public", "cli", "https://dev.azure.com/contoso")
    session = _TokenAuth(target).signed_session()
    assert session.auth == ("", "pat-canary-0123456789")
    assert "pat-canary" not in redact("sending pat-canary-0123456789 now")


def test_entra_token_is_asked_for_on_every_session() -> None:
    calls = []

    class Cred:
        def get_token(self, *scopes: str, **kw: object) -> object:
            calls.append(scopes)
            return type("T", (), {"token": f"tok{len(calls)}", "expires_on": 0})()

    target = cloud.Target(CLOUDS["public"], "https://dev.azure.com/x", Cred())
    auth = _TokenAuth(target)
    first = auth.signed_session().headers["Authorization"]
    second = auth.signed_session().headers["Authorization"]
    assert (first, second) == ("Bearer tok1", "Bearer tok2")
    assert calls == [(cloud.DEVOPS_SCOPE,), (cloud.DEVOPS_SCOPE,)]


@pytest.mark.parametrize(
    ("method", "status", "retried"),
    [
        ("GET", 429, True),
        ("POST", 429, True),
        ("POST", 503, True),
        ("PATCH", 500, False),
        ("POST", 502, False),
        ("GET", 500, True),
        ("PUT", 504, True),
        ("DELETE", 502, True),
        ("GET", 404, False),
        ("POST", 400, False),
    ],
)
def test_devops_retry_policy(method: str, status: int, retried: bool) -> None:
    assert _retry_policy().is_retry(method, status) is retried


def test_a_failed_sign_in_says_what_to_do(tmp_path, monkeypatch, capsys) -> None:
    from agentctl.cli import run
    from testlib import EXAMPLE_POOL

    monkeypatch.setenv("PATH", str(tmp_path))  # no `az` to sign in with
    pool = tmp_path / "pool.yaml"
    pool.write_text(
        EXAMPLE_POOL.read_text().replace(
            "  location: westeurope\n", "  location: westeurope\n  credential: cli\n"
        )
    )
    assert run(["-o", "json", "plan", "-f", str(pool)]) == 4
    (err,) = json.loads(capsys.readouterr().out)["errors"]
    assert err["code"] == "auth.failed" and "signing in to Azure failed" in err["message"]
    assert "az login" in err["hint"] and "AZURE_CLIENT_ID" in err["hint"] and "AZDO_PAT" in err["hint"]
