"""The canaries run the CLI with the reliability suite's sandbox rig and forked CLI processes."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "reliability"))
