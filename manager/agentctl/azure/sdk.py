"""What every ARM client shares: retries, timeouts, the long-running operations' timeout and
adaptive polling, the guard against dot segments in URL paths, and SDK models as REST JSON."""

from __future__ import annotations

from typing import Any

from agentctl.errors import InvalidInput, UsageError, quoted
from agentctl.urls import dot_segment

RETRY = {"retry_total": 6, "retry_backoff_factor": 0.5, "retry_backoff_max": 20}
TIMEOUTS = {"connection_timeout": 10, "read_timeout": 60}
# azure-core sends POSTs once when the connection drops; listCluster*Credential only reads.
READ_ONLY_POST = {"retry_on_methods": frozenset({"GET", "HEAD", "OPTIONS", "POST"})}
LRO_TIMEOUT = 1800.0  # seconds; AGENTCTL_LRO_TIMEOUT overrides it
LRO_TIMEOUT_ENV = "AGENTCTL_LRO_TIMEOUT"


def lro_timeout() -> float:
    """How long to wait for a long-running operation: ``AGENTCTL_LRO_TIMEOUT`` or 30 minutes."""
    import os

    text = os.environ.get(LRO_TIMEOUT_ENV, "").strip()
    if not text:
        return LRO_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise UsageError(f"{LRO_TIMEOUT_ENV} must be a positive number of seconds, not {quoted(text)}")
    return value


def wire(model: Any) -> dict[str, Any]:
    """An SDK model as the REST JSON it came from."""
    if model is None:
        return {}
    if hasattr(model, "serialize"):  # msrest-generation models
        out: dict[str, Any] = model.serialize(keep_readonly=True)
        return out
    return dict(model.as_dict())


def polling(interval: float, base_url: str) -> Any:
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    class AdaptivePolling(ARMPolling):
        """Retry-After when given; else start at ``interval`` and back off to 5 s."""

        _waited = 0

        def _extract_delay(self) -> float:
            header = self._pipeline_response.http_response.headers.get("retry-after")
            if header:
                try:
                    return float(header)
                except ValueError:
                    pass
            self._waited += 1
            return float(min(5.0, interval * (1.5 ** max(0, self._waited - 2))))

    return AdaptivePolling(interval, path_format_arguments={"endpoint": base_url})


def no_dot_segments() -> Any:
    """A pipeline policy that stops a request whose URL path holds ``.`` or ``..`` before it is sent:
    the SDKs encode names but let these through, and a server reads them as folders."""
    from urllib.parse import urlsplit

    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class NoDotSegments(SansIOHTTPPolicy):  # type: ignore[type-arg]
        def on_request(self, request: Any) -> None:
            url = request.http_request.url
            if dot_segment(urlsplit(url).path):
                raise InvalidInput(
                    f"a name would put a . or .. segment into the URL {quoted(url, 200)}",
                    hint="Azure names are never . or ..; check the names in the file",
                )

    return NoDotSegments()
