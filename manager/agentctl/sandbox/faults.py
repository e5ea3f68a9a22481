"""Fault injection and timing.

A fault plan is a list of rules; each names the operations it applies to (a glob over the
stable operation names, e.g. ``arm.vmss.put`` or ``devops.*``), what happens, and how often::

    arm.vmss.put=429:2,count=1           first VMSS PUT answers 429 with Retry-After: 2
    devops.elasticpools.create=503,p=0.5 half of the pool creations answer 503 (seeded RNG)
    *=latency:0.2                        every request waits 200 ms first
    arm.vmss.delete=drop,count=1         close the connection without answering
    arm.vmss.put=lro-fail                the scale set's LRO ends in Failed
    arm.vmss.*=lro-slow:5                LROs take 5 s
    arm.vmss.put=lro-retry-after:1       LRO responses and polls carry Retry-After: 1
    devops.elasticpools.create=403       the caller lacks the permission (as Azure words it)
    seed=7                               seed of the RNG behind ``p=``

Rules are separated by ``;`` in ``AGENTCTL_SANDBOX_FAULTS`` and given one per ``--fault``.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from agentctl.errors import InvalidInput

KINDS = ("latency", "403", "429", "500", "503", "drop", "lro-fail", "lro-slow", "lro-retry-after")
# kinds decided when a request arrives, and kinds that shape the LRO a request starts
REQUEST_KINDS = ("latency", "403", "429", "500", "503", "drop")
LRO_KINDS = ("lro-fail", "lro-slow", "lro-retry-after")
DEFAULT_VALUES = {"429": 1.0, "503": 0.0, "lro-slow": 5.0, "lro-retry-after": 1.0}


@dataclass
class Fault:
    kind: str  # one of KINDS
    operation: str = "*"  # glob over operation names
    value: float = 0.0  # seconds: latency, Retry-After (429/503/lro-retry-after), LRO duration (lro-slow)
    count: int | None = None  # apply to the first N matching requests only
    probability: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")


@dataclass
class Timing:
    lro_seconds: float = 0.3  # how long an ARM long-running operation runs
    lro_retry_after: int | None = None  # Retry-After on LRO responses; None: absent, as Azure often does
    token_lifetime: float = 86400.0  # seconds a token from the token endpoint (and ``sb.token``) is valid
    scale_delay: float = 0.2  # Azure DevOps: seconds from a pool change to the scale set resize
    node_idle_delay: float = 1.0  # Azure DevOps: seconds a new node takes to come online (new -> idle)
    handshake_timeout: float = 10.0  # a client must finish its TLS handshake within this
    keepalive_timeout: float = 60.0  # an idle connection (or one stalled mid-request) is closed after this


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def pick(self, operation: str, kinds: Sequence[str]) -> list[Fault]:
        """The rules of ``kinds`` that fire for this request; counts are consumed."""
        fired: list[Fault] = []
        with self._lock:
            for f in self.faults:
                if f.kind not in kinds or not fnmatch.fnmatchcase(operation, f.operation):
                    continue
                if f.count is not None and f.count <= 0:
                    continue
                if f.probability < 1.0 and self._rng.random() >= f.probability:
                    continue
                if f.count is not None:
                    f.count -= 1
                fired.append(f)
        return fired


TIMING_KEYS = {
    "lro": "lro_seconds",
    "retry-after": "lro_retry_after",
    "token": "token_lifetime",
    "scale": "scale_delay",
    "idle": "node_idle_delay",
    "handshake": "handshake_timeout",
    "keepalive": "keepalive_timeout",
}


def parse_timing(text: str, source: str = "timing") -> Timing:
    """``lro=2,retry-after=1,token=3600,scale=0.2,idle=1`` (seconds; any subset)."""
    timing = Timing()
    for item in text.split(","):
        if not item.strip():
            continue
        key, _, value = item.strip().partition("=")
        try:
            number = float(value)
            if key not in TIMING_KEYS or number < 0:
                raise ValueError
        except ValueError:
            raise InvalidInput(
                f"{source}: bad timing {item.strip()!r}; use {', '.join(k + '=SECONDS' for k in TIMING_KEYS)}"
            ) from None
        setattr(timing, TIMING_KEYS[key], int(number) if key == "retry-after" else number)
    return timing


def parse_rule(text: str) -> Fault | int:
    """One rule: ``OPERATION=KIND[:VALUE][,count=N][,p=P]``, or ``seed=N`` (returned as int)."""
    op, sep, rest = text.strip().partition("=")
    if not sep or not rest:
        raise ValueError("expected OPERATION=KIND[:VALUE][,count=N][,p=P]")
    if op.strip() == "seed":
        return int(rest)
    head, *options = rest.split(",")
    kind, _, value = head.strip().partition(":")
    fault = Fault(
        kind=kind, operation=op.strip(), value=float(value) if value else DEFAULT_VALUES.get(kind, 0.0)
    )
    for opt in options:
        key, _, val = opt.strip().partition("=")
        if key == "count":
            fault = replace(fault, count=int(val))
        elif key == "p":
            fault = replace(fault, probability=float(val))
        else:
            raise ValueError(f"unknown option {key!r} (count=N, p=P)")
    return fault


def parse(rules: Iterable[str], source: str = "fault") -> FaultPlan:
    """A plan from rule strings; ``source`` names where they came from in error messages."""
    plan = FaultPlan()
    for raw in rules:
        for text in raw.split(";"):
            if not text.strip():
                continue
            try:
                rule = parse_rule(text)
            except ValueError as e:
                raise InvalidInput(f"{source}: bad fault rule {text.strip()!r}: {e}") from None
            if isinstance(rule, int):
                plan.seed = rule
            else:
                plan.faults.append(rule)
    return FaultPlan(plan.faults, plan.seed)


def as_plan(faults: FaultPlan | str | Sequence[str | Fault] | None) -> FaultPlan:
    """Accept the forms the Python API takes: a plan, rule text, or a list of rules / faults."""
    if faults is None:
        return FaultPlan()
    if isinstance(faults, FaultPlan):
        return faults
    if isinstance(faults, str):
        return parse([faults])
    plan = parse([f for f in faults if isinstance(f, str)])
    return FaultPlan([*plan.faults, *(replace(f) for f in faults if isinstance(f, Fault))], plan.seed)
