"""One deploy-pool or destroy at a time per pool on this machine.

A run takes an exclusive ``flock`` on a file named after what it changes (the cloud, or the
sandbox's state folder; organization name, subscription, resource group, scale set, project,
pool; without case, and the organization whichever URL form names it).
A second run for the same pool waits for the first to finish, then observes afresh and plans
only what is left, so two runs started together end in one state. The kernel drops the lock
when its holder exits, killed or not: an interrupted run leaves no stale lease. Runs on other
machines are not seen here; docs/reliability.md says how to serialize pipelines.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from agentctl.cloud import Target
from agentctl.config import PoolSpec
from agentctl.errors import PreconditionFailed

log = logging.getLogger(__name__)

POLL = 0.2  # seconds between tries while another run holds the lease


def lock_dir() -> Path:
    """``$XDG_RUNTIME_DIR/agentctl-locks``, else a per-user folder in the temp dir; mode 0700."""
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    path = Path(base) / f"agentctl-locks-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PreconditionFailed(
            f"{path} is not a private folder of this user",
            hint="remove it (agentctl makes it again with mode 0700) or set XDG_RUNTIME_DIR",
        )
    return path


def key(spec: PoolSpec, target: Target) -> str:
    """The lease's name. Names ignore case in Azure and Azure DevOps, and the organization is
    named, not its URL: ``https://dev.azure.com/Org/`` and ``https://org.visualstudio.com`` are
    one organization, so runs that spell it either way take turns."""
    parts = (
        target.ca_bundle or target.cloud.arm_endpoint,  # a sandbox: its state folder holds its CA
        spec.org_name,
        spec.azure.subscription,
        spec.azure.resourceGroup,
        spec.scaleSet.name,
        spec.devops.project,
        spec.devops.pool.name,
    )
    return hashlib.sha256("\n".join(p.lower() for p in parts).encode()).hexdigest()[:32]


@contextmanager
def held(
    spec: PoolSpec, target: Target, timeout: float, on_wait: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the pool's lease while the block runs; wait up to ``timeout`` seconds for it."""
    path = lock_dir() / f"{key(spec, target)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        waited = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                if time.monotonic() > deadline:
                    raise PreconditionFailed(
                        f"another agentctl run (pid {holder}) is still changing pool "
                        f"{spec.devops.pool.name} after {timeout:g} s",
                        hint="let it finish, then run the same command again",
                    ) from None
                if not waited:
                    waited = True
                    pool = spec.devops.pool.name
                    message = f"waiting for another agentctl run (pid {holder}) on pool {pool}"
                    log.info(message)
                    if on_wait is not None:
                        on_wait(message)
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
