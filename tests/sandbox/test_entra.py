"""Signing in as Entra does: the OpenID configuration, instance discovery and the v2 token endpoint
through azure-identity's own credentials; the APIs' checks of audience, tenant and expiry; and
agentctl WITHOUT --sandbox against `agentctl sandbox serve` through a custom-cloud file."""

from __future__ import annotations

import base64
import json
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, WorkloadIdentityCredential
from sandbox_helpers import SUB

from agentctl.cli import run
from agentctl.sandbox import Sandbox, entra
from agentctl.sandbox.testing import federated_token
from testlib import EXAMPLE_POOL

DEVOPS_SCOPE = f"{entra.DEVOPS_RESOURCE}/.default"
RG_LIST = f"subscriptions/{SUB}/resourcegroups?api-version=2024-07-01"


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    doc: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return doc


def fetch(sb: Sandbox, url: str, token: str = "") -> tuple[int, Any, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = urllib.request.Request(url, headers=headers)
    ctx = ssl.create_default_context(cafile=sb.ca_bundle)
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None, dict(resp.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw), dict(e.headers)
        except ValueError:
            return e.code, raw.decode(), dict(e.headers)


def secret_credential(sb: Sandbox, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(
        sb.tenant_id,
        sb.client_id,
        secret or sb.client_secret,
        authority=sb.authority,
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )


def assertion_credential(sb: Sandbox, tmp_path: Path, token: str) -> WorkloadIdentityCredential:
    path = tmp_path / "federated-token"
    path.write_text(token)
    return WorkloadIdentityCredential(
        tenant_id=sb.tenant_id,
        client_id=sb.client_id,
        token_file_path=str(path),
        authority=sb.authority,
        disable_instance_discovery=True,
        connection_verify=sb.ca_bundle,
    )


def test_openid_configuration_and_instance_discovery(sb: Sandbox) -> None:
    status, doc, _ = fetch(sb, f"{sb.authority}/{sb.tenant_id}/v2.0/.well-known/openid-configuration")
    assert status == 200
    assert doc["token_endpoint"] == sb.token_url
    assert doc["issuer"] == f"{sb.authority}/{sb.tenant_id}/v2.0"
    assert doc["authorization_endpoint"].endswith(f"/{sb.tenant_id}/oauth2/v2.0/authorize")
    authorize = f"{sb.authority}/{sb.tenant_id}/oauth2/v2.0/authorize"
    status, doc, _ = fetch(
        sb, f"{sb.authority}/common/discovery/instance?api-version=1.1&authorization_endpoint={authorize}"
    )
    assert status == 200
    assert (
        doc["tenant_discovery_endpoint"]
        == f"{sb.authority}/{sb.tenant_id}/v2.0/.well-known/openid-configuration"
    )
    assert doc["metadata"][0]["aliases"] == [sb.authority.split("//", 1)[1]]
    status, doc, _ = fetch(sb, f"{sb.authority}/contoso.example/v2.0/.well-known/openid-configuration")
    assert (status, doc["error"], doc["error_codes"]) == (400, "invalid_tenant", [90002])


def test_client_secret_tokens_carry_the_usual_claims(sb: Sandbox) -> None:
    cred = secret_credential(sb)
    arm = cred.get_token(f"{sb.arm_endpoint}.default")
    devops = cred.get_token(DEVOPS_SCOPE)
    a, d = claims(arm.token), claims(devops.token)
    assert a["aud"] == sb.arm_endpoint and d["aud"] == entra.DEVOPS_RESOURCE
    for c in (a, d):
        assert c["iss"] == f"https://sts.windows.net/{sb.tenant_id}/"
        assert c["tid"] == sb.tenant_id and c["appid"] == sb.client_id
        assert c["oid"] == entra.object_id(sb.tenant_id) and c["idtyp"] == "app"
        assert c["nbf"] <= c["iat"] < c["exp"]
    assert abs(arm.expires_on - a["exp"]) <= 2
    status, doc, _ = fetch(sb, sb.arm_endpoint + RG_LIST, arm.token)
    assert status == 200 and doc["value"]
    status, doc, _ = fetch(sb, f"{sb.devops_url}/_apis/projects?api-version=7.1", devops.token)
    assert status == 200 and doc["value"][0]["name"] == "platform"


def test_refusals_carry_entra_error_codes(sb: Sandbox, tmp_path: Path) -> None:
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        secret_credential(sb, "not-the-secret").get_token(DEVOPS_SCOPE)
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        secret_credential(sb).get_token("https://vault.azure.net/.default")
    bad_subject = federated_token(sb.state_dir, subject="sc://contoso/platform/other")
    with pytest.raises(ClientAuthenticationError, match="AADSTS700213"):
        assertion_credential(sb, tmp_path, bad_subject).get_token(DEVOPS_SCOPE)
    expired = federated_token(sb.state_dir, lifetime=-60)
    with pytest.raises(ClientAuthenticationError, match="AADSTS700024"):
        assertion_credential(sb, tmp_path, expired).get_token(DEVOPS_SCOPE)
    forged = federated_token(sb.state_dir)[:-4] + "AAAA"
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        assertion_credential(sb, tmp_path, forged).get_token(DEVOPS_SCOPE)


def test_client_assertion_signs_in(sb: Sandbox, tmp_path: Path) -> None:
    cred = assertion_credential(sb, tmp_path, federated_token(sb.state_dir))
    token = cred.get_token(f"{sb.arm_endpoint}.default").token
    assert claims(token)["appid"] == sb.client_id
    assert fetch(sb, sb.arm_endpoint + RG_LIST, token)[0] == 200


def test_the_apis_check_audience_and_tenant(sb: Sandbox) -> None:
    cred = secret_credential(sb)
    devops_token = cred.get_token(DEVOPS_SCOPE).token
    status, doc, headers = fetch(sb, sb.arm_endpoint + RG_LIST, devops_token)
    assert (status, doc["error"]["code"]) == (401, "InvalidAuthenticationTokenAudience")
    assert entra.DEVOPS_RESOURCE in doc["error"]["message"]
    assert 'error="invalid_token"' in headers["WWW-Authenticate"]
    graph = cred.get_token(f"{entra.GRAPH}/.default").token
    assert (
        fetch(sb, sb.arm_endpoint + RG_LIST, graph)[1]["error"]["code"]
        == "InvalidAuthenticationTokenAudience"
    )
    arm_token = cred.get_token(f"{sb.arm_endpoint}.default").token
    status, _, _ = fetch(sb, f"{sb.devops_url}/_apis/projects?api-version=7.1", arm_token)
    assert status == 401
    from agentctl.sandbox import auth

    key = auth.Credentials.load_or_create(sb.state_dir).signing_key
    other, _ = auth.mint(
        key, "00000000-0000-0000-0000-000000000001", 60, __import__("time").time(), sb.arm_endpoint, "a", "b"
    )
    status, doc, _ = fetch(sb, sb.arm_endpoint + RG_LIST, other)
    assert (status, doc["error"]["code"]) == (401, "InvalidAuthenticationTokenTenant")


# ---- agentctl without --sandbox --------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """`agentctl sandbox serve` in a subprocess (extra arguments by indirect parametrization);
    its JSON line."""
    extra = list(getattr(request, "param", []))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentctl", "sandbox", "serve", "--dir", str(tmp_path / "sb"), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        yield json.loads(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def sign_in_env(monkeypatch: pytest.MonkeyPatch, line: dict[str, Any], cloud: Path | None = None) -> None:
    """The environment of a pipeline job signed in as the sandbox's client, and no --sandbox."""
    state = Path(line["stateDir"])
    secret = json.loads((state / "credentials.json").read_text())["clientSecret"]
    for name in ("AZURE_FEDERATED_TOKEN_FILE", "AZDO_PAT", "AGENTCTL_SANDBOX_FAULTS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGENTCTL_CLOUD_CONFIG", str(cloud or state / "cloud.json"))
    monkeypatch.setenv("AZURE_TENANT_ID", line["tenantId"])
    monkeypatch.setenv("AZURE_CLIENT_ID", line["clientId"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", secret)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", line["caBundle"])


def agentctl(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = run(["-o", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def access_log(line: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(x) for x in Path(line["accessLog"]).read_text().splitlines()]


@pytest.mark.parametrize("served", [["--timing", "token=2"]], indirect=True)
def test_deploy_status_destroy_without_sandbox_flag(
    served: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    sign_in_env(monkeypatch, served)
    pool = str(EXAMPLE_POOL)
    code, out = agentctl(capsys, "deploy-pool", "-f", pool, "--yes")
    assert code == 0, out
    log = access_log(served)
    tokens = [e for e in log if e["operation"] == entra.TOKEN]
    assert tokens and all(e["status"] == 200 for e in tokens)
    assert {e["request"].split("scope=")[1].split("&")[0] for e in tokens} >= {
        f"{served['armEndpoint']}.default".replace(":", "%3A").replace("/", "%2F"),
        DEVOPS_SCOPE.replace("/", "%2F"),
    }
    # Tokens live 2 s: the run outlasts many of them, and never sends an expired one.
    assert len(tokens) > 2
    assert not [e for e in log if e["status"] == 401]

    # status signs in by workload identity federation: a federated token file, no secret.
    token_file = tmp_path / "federated"
    token_file.write_text(federated_token(served["stateDir"]))
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    code, out = agentctl(capsys, "status", "-f", pool)
    assert code == 0 and out["data"]["pool"]["exists"], out
    assertions = [e for e in access_log(served)[len(log) :] if e["operation"] == entra.TOKEN]
    assert assertions and all("client_assertion=***REDACTED***" in e["request"] for e in assertions)

    code, out = agentctl(capsys, "destroy", "-f", pool, "--yes")
    assert code == 0, out
    code, out = agentctl(capsys, "status", "-f", pool)
    assert code == 0 and not out["data"]["pool"]["exists"], out


def test_a_token_for_the_wrong_audience_is_refused(
    served: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    cloud = json.loads((Path(served["stateDir"]) / "cloud.json").read_text())
    cloud["resourceManagerAudience"] = entra.GRAPH
    path = tmp_path / "cloud.json"
    path.write_text(json.dumps(cloud))
    sign_in_env(monkeypatch, served, path)
    code, out = agentctl(capsys, "status", "-f", str(EXAMPLE_POOL))
    assert code == 4, out
    assert out["errors"][0]["code"] == "auth.failed"
    assert (
        "obtained for wrong audience or resource 'https://graph.microsoft.com/'"
        in out["errors"][0]["message"]
    )
    refused = [e["response"]["error"]["code"] for e in access_log(served) if e["status"] == 401]
    assert refused and set(refused) == {"InvalidAuthenticationTokenAudience"}


@pytest.mark.parametrize("served", [["--fault", "entra.token=503,count=1"]], indirect=True)
def test_a_busy_token_endpoint_is_retried(
    served: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sign_in_env(monkeypatch, served)
    code, out = agentctl(capsys, "status", "-f", str(EXAMPLE_POOL))
    assert code == 0, out
    statuses = [e["status"] for e in access_log(served) if e["operation"] == entra.TOKEN]
    # ARM and Azure DevOps sign in concurrently: the refused request is not always logged first.
    assert statuses.count(503) == 1 and 200 in statuses, statuses


def test_the_first_request_failing_is_retried_with_sandbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`*=503,count=1`: the first request of a --sandbox run is its sign-in."""
    monkeypatch.setenv("AGENTCTL_SANDBOX_FAULTS", "*=503,count=1")
    code, out = agentctl(
        capsys, "--sandbox", "--sandbox-dir", str(tmp_path / "sb"), "status", "-f", str(EXAMPLE_POOL)
    )
    assert code == 0, out
    log = [json.loads(x) for x in (tmp_path / "sb" / "access.jsonl").read_text().splitlines()]
    # Sign-ins run concurrently (ARM and Azure DevOps): the refused one is not always logged first.
    [refused] = [e for e in log if e["status"] == 503]
    assert refused["service"] == "entra"
    assert any(e["operation"] == refused["operation"] and e["status"] == 200 for e in log)


def test_a_bad_cloud_file_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cloud.yaml"
    path.write_text("resourceManager: https://arm.example\nauthorityHost: http://login.example\n")
    monkeypatch.setenv("AGENTCTL_CLOUD_CONFIG", str(path))
    code, out = agentctl(capsys, "status", "-f", str(EXAMPLE_POOL))
    assert code == 3, out
    [error] = out["errors"]
    assert (error["file"], error["line"], error["field"]) == (str(path), 2, "authorityHost")
    assert error["message"].startswith("must be an https URL")
