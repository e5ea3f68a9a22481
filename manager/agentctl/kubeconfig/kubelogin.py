"""Entra (kubelogin) sign-in: a kubelogin exec plugin's flags and login mode, the Entra server id of a
user, and the exec that signs in with the agents' managed identity instead."""

from __future__ import annotations

import posixpath
from typing import Any

# The Entra application id of the AKS AAD server (the same in every tenant).
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


def _flag(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1 :]
    return None


def _kubelogin_args(plugin: Any) -> list[str] | None:
    """The args of a kubelogin exec plugin, or None when the plugin is something else."""
    if not isinstance(plugin, dict):
        return None
    command = posixpath.basename(str(plugin.get("command", "")).replace("\\", "/"))
    if "kubelogin" not in command.lower():
        return None
    args = plugin.get("args")
    return [str(a) for a in args] if isinstance(args, list) else []


def kubelogin_login(plugin: Any) -> str | None:
    """The login mode of a kubelogin plugin (its default is devicecode), or None for other plugins."""
    args = _kubelogin_args(plugin)
    if args is None:
        return None
    login = _flag(args, "--login", "-l")
    env = plugin.get("env")
    for item in env if isinstance(env, list) and login is None else []:
        if isinstance(item, dict) and item.get("name") == "AAD_LOGIN_METHOD":
            login = str(item.get("value"))
    return login or "devicecode"


def entra_server_id(user: dict[str, Any]) -> str | None:
    args = _kubelogin_args(user.get("exec"))
    if args is not None:
        return _flag(args, "--server-id") or AKS_SERVER_ID
    provider = user.get("auth-provider")
    if isinstance(provider, dict) and provider.get("name") == "azure":
        config = provider.get("config")
        server_id = config.get("apiserver-id") if isinstance(config, dict) else None
        return str(server_id) if server_id else AKS_SERVER_ID
    return None


def msi_exec(server_id: str, client_id: str) -> dict[str, Any]:
    return {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": ["get-token", "--login", "msi", "--server-id", server_id, "--client-id", client_id],
        "env": None,
        "installHint": "kubelogin is required: https://azure.github.io/kubelogin/install.html",
        "interactiveMode": "Never",
        "provideClusterInfo": False,
    }
