"""`stsrn_lite.parallel.ordered_map`: ordered results, and no process outlives the pool's owner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from stsrn_lite.parallel import ordered_map

SLOW_POOL = """
import time
from stsrn_lite.parallel import ordered_map
for _ in ordered_map(time.sleep, [120.0] * 8, workers=2):
    pass
"""


def _marked(marker: bytes) -> list[int]:
    """Pids of the live processes whose environment holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def _wait_for(condition, limit_s: float) -> bool:
    """Poll ``condition`` every 0.2 s for up to ``limit_s``; whether it came true."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_results_come_in_order_with_workers():
    assert list(ordered_map(abs, range(-20, 0), workers=2, in_flight=3)) == list(range(20, 0, -1))


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the processes through /proc (Linux)")
def test_workers_and_fork_server_die_with_a_killed_owner():
    marker = f"STSRN_TEST_POOL={uuid.uuid4().hex}".encode()
    name, value = marker.decode().split("=")
    owner = subprocess.Popen([sys.executable, "-c", SLOW_POOL], env={**os.environ, name: value})
    try:
        # the owner, the fork server, the resource tracker and two workers
        assert _wait_for(lambda: len(_marked(marker)) >= 5, 60), "the pool did not start"
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert _wait_for(lambda: not _marked(marker), 20), f"left behind: {_marked(marker)}"
    finally:
        owner.kill()
        for pid in _marked(marker):  # never leave the test's own processes behind
            os.kill(pid, signal.SIGKILL)
