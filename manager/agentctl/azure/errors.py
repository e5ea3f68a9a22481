"""Azure SDK exceptions as agentctl errors that say what was being done and what to grant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from agentctl.errors import SIGN_IN_HINT, AgentctlError, AuthError, CloudError, NotFound, ScopeNotFound


@contextmanager
def translated(what: str) -> Iterator[None]:
    """Map SDK exceptions to agentctl errors that say what was being done."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
        ServiceResponseError,
    )

    try:
        yield
    except AgentctlError:
        raise
    except ClientAuthenticationError as e:
        raise AuthError(f"{what}: signing in to Azure failed: {_message(e)}", hint=SIGN_IN_HINT) from None
    except HttpResponseError as e:
        code = getattr(getattr(e, "error", None), "code", None) or ""
        status = e.status_code or 0
        if status in (401, 403):
            raise AuthError(f"{what}: {status} {code}: {_message(e)}", hint=grant_hint(_message(e))) from None
        if status == 404 and code == "SubscriptionNotFound":
            raise ScopeNotFound(_message(e), field="azure.subscription") from None
        if status == 404:
            raise NotFound(f"{what}: {code or 'not found'}: {_message(e)}") from None
        if 200 <= status < 300:  # a long-running operation that ended Failed
            raise CloudError(
                f"{what}: the operation ended Failed: {code}: {_message(e)}",
                hint="fix what the error names (quota, capacity, policy), then run the same command again",
            ) from None
        hint = "the service failed or throttled after retries; run the same command again"
        raise CloudError(
            f"{what}: {status or ''} {code}: {_message(e)}".replace("  ", " "),
            hint=hint if status == 429 or status >= 500 else "",
        ) from None
    except (ServiceRequestError, ServiceResponseError) as e:
        raise CloudError(
            f"{what}: could not reach Azure Resource Manager: {e}",
            hint="check the network path to Azure, then run the same command again",
        ) from None


_DENIED = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def grant_hint(message: str) -> str:
    """What to grant, from ARM's AuthorizationFailed message (it names the action and scope)."""
    found = _DENIED.search(message)
    if found is None:
        return (
            "give the identity agentctl signs in with a role on the resource group or subscription "
            "that allows this (Contributor, say), then run the same command again"
        )
    action, scope = found.groups()
    role = (
        "Role Based Access Control Administrator or User Access Administrator"
        if action.lower().startswith("microsoft.authorization/")
        else "Contributor, or a custom role with that action"
    )
    return (
        f"give the identity agentctl signs in with a role that allows {action} on {scope} ({role}), "
        "then run the same command again"
    )


def _message(e: Any) -> str:
    err = getattr(e, "error", None)
    msg = getattr(err, "message", None) or getattr(e, "message", None) or str(e)
    return str(msg).splitlines()[0]
