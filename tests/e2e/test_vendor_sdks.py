"""The vendors' own SDKs against the local cloud (tests/sdk/acceptance.py):
awsiotsdk and boto3's iot-data for AWS IoT Core, azure-iot-device (X.509
and SAS) and azure-iot-hub for Azure IoT Hub, unchanged but for endpoint,
port and CA, with the refusals each library must see.

The SDKs expect the clouds' ports (8883, and 443 for the hub's service
API), so each scenario runs in a network namespace this test creates and
removes: the local cloud listens on that namespace's loopback only. Needs
root (ip netns), as CI runs; the SDKs live in build/sdk-venv
(tools/setup.sh --test).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SDK_PYTHON = ROOT / "build" / "sdk-venv" / "bin" / "python"


@pytest.fixture
def netns():
    name = f"nimbus-sdk-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=30)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], timeout=30)


@pytest.mark.parametrize("scenario", ["aws", "azure-x509", "azure-sas"])
def test_vendor_sdk(scenario, netns, tmp_path):
    assert SDK_PYTHON.exists(), "build/sdk-venv is missing: run tools/setup.sh --test"
    r = subprocess.run(["ip", "netns", "exec", netns, sys.executable, str(ROOT / "tests" / "sdk" / "acceptance.py"),
                        "--scenario", scenario, "--work", str(tmp_path), "--sdk-python", str(SDK_PYTHON)],
                       capture_output=True, text=True, timeout=300)
    print(r.stdout[-6000:], r.stderr[-3000:])
    lines = r.stdout.strip().splitlines()
    assert r.returncode == 0 and lines and lines[-1].endswith(" 0 failed"), r.stdout[-6000:] + r.stderr[-3000:]
    assert int(lines[-1].split()[0]) >= 14  # every check ran
