"""Fixtures of the end-to-end tests: a throwaway PKI, the built host demo,
a mosquitto per test on free 127.0.0.1 ports, the demo as a child process
whose log lines the test can wait for, and the cloud side
(tools/cloud/emulator.py).

Everything a test starts is stopped by the fixture that started it; every
wait is bounded. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "cloud"))

from emulator import AwsCloud, AzureCloud  # noqa: E402

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
AWS_DEVICE = "nimbus-aws-e2e"
AZURE_DEVICE = "nimbus-azure-e2e"
HUB = "nimbus-e2e.azure-devices.net"
API_VERSION = "2021-04-12"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def sas_token(hub: str, device: str, key_b64: str, expiry: int) -> str:
    """An Azure SAS token, computed independently of the device's code."""
    resource = urllib.parse.quote(f"{hub}/devices/{device}", safe="")
    mac = hmac.new(base64.b64decode(key_b64), f"{resource}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(mac).decode(), safe="")
    return f"SharedAccessSignature sr={resource}&sig={sig}&se={expiry}"


def azure_username(hub: str, device: str) -> str:
    return f"{hub}/{device}/?api-version={API_VERSION}"


def missing_readings(cloud, last: int, timeout: float = 10.0) -> list[int]:
    """The seqs 1..last the cloud has not received, once every one arrived
    or `timeout` passed."""
    want = set(range(1, last + 1))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not set(cloud.seqs(cloud.telemetry())) >= want:
        time.sleep(0.1)
    return sorted(want - set(cloud.seqs(cloud.telemetry())))


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

    def __init__(self, cmd: list[str]):
        self.cmd = cmd
        self.lines: list[tuple[float, str]] = []
        self.stderr = ""
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     errors="replace")
        self.started = time.monotonic()
        self._out = threading.Thread(target=self._read_out, daemon=True)
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._out.start()
        self._err.start()

    def _read_out(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()

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


class Broker:
    """mosquitto on three 127.0.0.1 ports, kept across restarts:

    - `tls`: the devices' endpoint, TLS with `require_certificate true` and
      `use_identity_as_username true` (X.509 devices);
    - `sas`: TLS without client certificates, user names and passwords from
      a `password_file` (SAS devices: the password is the token);
    - `cloud`: plain TCP for the cloud side.

    Persistence is on and saved every second, so a restart (even after
    SIGKILL) keeps the sessions - the cloud's subscriptions and what was
    queued for it - as a cloud's broker would.
    """

    def __init__(self, work: Path, pki: Path):
        self.work = work
        self.pki = pki
        self.proc = None
        self.passwords = work / "passwords"
        self.log = work / "mosquitto.log"
        (work / "db").mkdir(exist_ok=True)
        self.set_password("placeholder", "unused")

    def set_password(self, user: str, password: str):
        """Sets the one password `user` has in the password file."""
        args = ["mosquitto_passwd", "-b"]
        if not self.passwords.exists():
            args.append("-c")
        subprocess.run(args + [str(self.passwords), user, password], check=True, capture_output=True, timeout=30)

    def _config(self):
        tls = (f"cafile {self.pki}/ca.crt\ncertfile {self.pki}/server.crt\nkeyfile {self.pki}/server.key\n")
        return (
            "per_listener_settings true\n"
            f"persistence true\npersistence_location {self.work}/db/\nautosave_interval 1\n"
            f"user {_user()}\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            f"\nlistener {self.tls} 127.0.0.1\nallow_anonymous false\n{tls}"
            "require_certificate true\nuse_identity_as_username true\n"
            f"\nlistener {self.sas} 127.0.0.1\nallow_anonymous false\n{tls}"
            f"password_file {self.passwords}\n"
            f"\nlistener {self.cloud} 127.0.0.1\nallow_anonymous true\n"
        )

    def start(self, fresh_ports=True):
        for _attempt in range(3):
            if fresh_ports:
                self.tls, self.sas, self.cloud = free_port(), free_port(), free_port()
            conf = self.work / "mosquitto.conf"
            conf.write_text(self._config())
            out = open(self.work / "mosquitto.out", "ab")
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=out, stderr=out)
            out.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if all(listening(p) for p in (self.tls, self.sas, self.cloud)):
                    return self
                time.sleep(0.05)
            self.stop()
            if not fresh_ports:
                break
        raise RuntimeError(f"mosquitto did not start: {(self.work / 'mosquitto.out').read_text()}")

    def stop(self, sig=signal.SIGTERM):
        """Stops mosquitto (SIGTERM by default: it saves its sessions)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def wait_saved(self, since: float, timeout=5.0):
        """Waits until mosquitto has saved its sessions after `since` (a
        time.time()), so that a kill now loses no subscription."""
        db = self.work / "db" / "mosquitto.db"
        deadline = time.monotonic() + timeout
        while not (db.exists() and db.stat().st_mtime > since):
            if time.monotonic() > deadline:
                raise TimeoutError("mosquitto did not save its sessions")
            time.sleep(0.05)

    def restart(self):
        """Starts mosquitto again on the same ports."""
        self.start(fresh_ports=False)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def reload(self, timeout=5.0):
        """Makes mosquitto read its password file again (SIGHUP) and waits
        until it says so; connections after this see the new passwords.
        (Like a hub revoking a token, mosquitto then drops the connections
        whose password is no longer valid.)"""
        before = self.log_text().count("Reloading config")
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while self.log_text().count("Reloading config") == before:
            if time.monotonic() > deadline:
                raise TimeoutError("mosquitto did not reload")
            time.sleep(0.02)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


@pytest.fixture
def broker(tmp_path, pki):
    b = Broker(tmp_path, pki).start()
    yield b
    b.stop()


# ---------------------------------------------------------------- cloud


@pytest.fixture
def cloud_of(broker):
    """cloud_of("aws"|"azure"): the cloud side on the broker's plain port."""
    clouds = []

    def make(kind: str):
        cls, device = (AwsCloud, AWS_DEVICE) if kind == "aws" else (AzureCloud, AZURE_DEVICE)
        c = cls("127.0.0.1", broker.cloud, device)
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

    def start(cloud: str, *extra: str, port=None, cert=True, ca=None, device=None):
        device = device or (AWS_DEVICE if cloud == "aws" else AZURE_DEVICE)
        cmd = [str(demo_bin), "--cloud", cloud, "--host", "localhost", "--connect-address", "127.0.0.1",
               "--port", str(port or broker.tls), "--device", device, "--ca", str(ca or pki / "ca.crt")]
        if cert:
            name = device if cert is True else cert
            cmd += ["--cert", str(pki / f"{name}.crt"), "--key", str(pki / f"{name}.key")]
        if cloud == "azure":
            cmd += ["--hub", HUB]
        d = Demo(cmd + list(extra))
        demos.append(d)
        return d

    yield start
    for d in demos:
        d.stop()
