"""Fixtures of the end-to-end tests: a throwaway PKI, the built host demo,
the local cloud per test (tools/cloud/local.py: mosquitto with the
clouds' rules enforced in its plugin, the services and their HTTPS APIs) on
free 127.0.0.1 ports, the demo as a child process whose log lines the test
can wait for, and the cloud application's view of a device
(tools/cloud/application.py).

Everything a test starts is stopped by the fixture that started it; every
wait is bounded. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "cloud"))

from application import AwsCloud, AzureCloud  # noqa: E402
from local import LocalCloud, free_port, listening  # noqa: E402,F401

AWS_DEVICE = "nimbus-aws-e2e"
AZURE_DEVICE = "nimbus-azure-e2e"
HUB = "nimbus-e2e.azure-devices.net"
API_VERSION = "2021-04-12"
AWS_OFF_S = 1.1  # AWS IoT Core: 1 CONNECT per second per client id, and some slack


def sas_token(hub: str, device: str, key_b64: str, expiry: int) -> str:
    """An Azure SAS token, computed independently of the device's code."""
    resource = urllib.parse.quote(f"{hub}/devices/{device}", safe="")
    mac = hmac.new(base64.b64decode(key_b64), f"{resource}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(mac).decode(), safe="")
    return f"SharedAccessSignature sr={resource}&sig={sig}&se={expiry}"


def azure_username(hub: str, device: str) -> str:
    return f"{hub}/{device}/?api-version={API_VERSION}"


def missing_readings(cloud, last: int, timeout: float = 10.0, first: int = 1, boot=None) -> list[int]:
    """The seqs first..last the cloud has not received (of boot `boot`
    only, when given), once every one arrived or `timeout` passed."""
    want = set(range(first, last + 1))

    def got():
        if boot is None:
            return set(cloud.seqs(cloud.telemetry()))
        return {s for b, s in stamps(cloud) if b == boot}

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not got() >= want:
        time.sleep(0.1)
    return sorted(want - got())


def stamps(cloud, first_copies=False) -> list[tuple[int, int]]:
    """(boot, seq) of every reading the cloud received, duplicates kept;
    with `first_copies`, without the broker's own redeliveries (DUP)."""
    out = []
    for m in cloud.telemetry():
        if first_copies and m.dup:
            continue
        try:
            body = m.json()
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("boot"), int):
            out.append((body["boot"], body["seq"]))
    return out


# ------------------------------------------------------------------ PKI


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """CA, server (localhost), both devices, another CA, an expired and an
    unknown device certificate (tools/certs.sh)."""
    d = tmp_path_factory.mktemp("pki")
    subprocess.run([str(ROOT / "tools" / "certs.sh"), str(d), AWS_DEVICE, AZURE_DEVICE],
                   check=True, capture_output=True, timeout=120)
    return d


# ----------------------------------------------------------------- demo


@pytest.fixture(scope="session")
def demo_bin() -> Path:
    """The demo binary: $NIMBUS_DEMO, or built with make (fast when current)."""
    if os.environ.get("NIMBUS_DEMO"):
        return Path(os.environ["NIMBUS_DEMO"])
    subprocess.run(["make", "-s", "-C", str(ROOT / "samples" / "host")], check=True, timeout=900)
    return ROOT / "target" / "host-demo" / "nimbus-demo"


class Demo:
    """nimbus-demo as a child process; its stdout lines are collected."""

    def __init__(self, cmd: list[str], device: str | None = None):
        self.cmd, self.device = cmd, device
        self.lines: list[tuple[float, str]] = []
        self.stderr = ""
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace")
        self.started = time.monotonic()
        self.ended = None  # when its stdout closed: the process is gone
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._err.start()

    def _read_out(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        self.ended = time.monotonic()

    def _read_err(self):
        self.stderr = self.proc.stderr.read()

    def wait_line(self, pattern: str, timeout: float = 10.0, after: int = 0):
        """(index, time, match) of the first line from `after` matching, or None."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(after, len(self.lines)):
                    m = rx.search(self.lines[i][1])
                    if m:
                        return i, self.lines[i][0], m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))

    def grep(self, pattern: str) -> list[str]:
        rx = re.compile(pattern)
        with self.cond:
            return [line for _, line in self.lines if rx.search(line)]

    def wait(self, timeout: float) -> int:
        rc = self.proc.wait(timeout=timeout)
        self._out.join(timeout=5)
        self._err.join(timeout=5)
        return rc

    def output(self) -> str:
        with self.cond:
            return "\n".join(line for _, line in self.lines) + "\n--- stderr ---\n" + self.stderr

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


# --------------------------------------------------------------- broker


class Broker(LocalCloud):
    """The local cloud (tools/cloud/local.py) for one test, in its tmp_path:
    mosquitto with the clouds' rules in its plugin, both e2e devices
    registered with X.509 (a test re-registers a device for SAS).

    Persistence is on and saved every second, so a restart (even after
    SIGKILL) keeps the sessions - the cloud's subscriptions and what was
    queued for it - as a cloud's broker would. After the test, no device
    may have broken a rule unless the test says so (`expect_violations`).
    """

    def __init__(self, work: Path, pki: Path):
        super().__init__(work, pki, hub=HUB)
        self.registry.register(AWS_DEVICE, "aws")
        self.registry.register(AZURE_DEVICE, "azure")
        self.expected_violations = False

    def use_sas(self, device: str, key: str):
        """Registers `device` on the hub with a SAS key instead of X.509."""
        self.registry.register(device, "azure", "sas", primary_key=key)

    def expect_violations(self):
        self.expected_violations = True


@pytest.fixture
def broker(tmp_path, pki):
    b = Broker(tmp_path, pki).start()
    yield b
    b.close()
    # A rule the device broke fails the test that did not provoke it: the
    # real cloud would have dropped the device without a word.
    assert b.expected_violations or not b.violations(), b.violations()


# ---------------------------------------------------------------- cloud


@pytest.fixture
def cloud_of(broker):
    """cloud_of("aws"|"azure"): the cloud side on the broker's plain port."""
    clouds = []

    def make(kind: str):
        cls, device = (AwsCloud, AWS_DEVICE) if kind == "aws" else (AzureCloud, AZURE_DEVICE)
        c = cls("127.0.0.1", broker.service, device, username=broker.service_user,
                password=broker.service_password, api=broker.api_client())
        clouds.append(c)
        return c

    yield make
    for c in clouds:
        c.close()


@pytest.fixture
def run_demo(demo_bin, pki, broker):
    """run_demo(cloud, *args, port=..., cert=True|"name", ca=...): starts the
    demo against the broker's TLS port as the cloud's e2e device."""
    demos = []

    def start(cloud: str, *extra: str, port=None, cert=True, ca=None, device=None, off_s=AWS_OFF_S):
        device = device or (AWS_DEVICE if cloud == "aws" else AZURE_DEVICE)
        if cloud == "aws":
            # AWS throttles CONNECT to 1 a second per client id, and a device
            # back from a power cut cannot know when it last connected: a
            # device that ended is kept off that long before it boots again
            # (off_s=0: at once, as test_hostile.py's throttle test does).
            ended = [d.ended for d in demos if d.device == device and d.ended is not None]
            if ended:
                time.sleep(max(0.0, max(ended) + off_s - time.monotonic()))
        cmd = [str(demo_bin), "--cloud", cloud, "--host", "localhost", "--connect-address", "127.0.0.1",
               "--port", str(port or broker.device_port(cloud)), "--device", device, "--ca", str(ca or pki / "ca.crt")]
        if cert:
            name = device if cert is True else cert
            cmd += ["--cert", str(pki / f"{name}.crt"), "--key", str(pki / f"{name}.key")]
        if cloud == "azure":
            cmd += ["--hub", HUB]
        d = Demo(cmd + list(extra), device)
        demos.append(d)
        return d

    yield start
    for d in demos:
        d.stop()
