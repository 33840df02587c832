"""The local cloud: mosquitto with the clouds' rules enforced inside it.

One mosquitto serves the devices of both clouds on 127.0.0.1:

- `aws`        TLS, client certificate required (AWS IoT Core's X.509);
- `azure`      TLS, client certificate required, `max_qos 1` (IoT Hub, X.509 CA);
- `azure_sas`  TLS without client certificates, `max_qos 1` (IoT Hub, SAS tokens);
- `service`    plain TCP for the cloud's services (tools/cloud/services.py)
               and observers (tools/cloud/application.py), which log in as the
               service user;
- `api`        HTTPS: the service APIs (tools/cloud/api.py), Azure IoT Hub's
               REST API with service SAS tokens and AWS IoT's data plane
               with SigV4, and the AWS response table.

The rules live in the broker: tools/cloud/broker/nimbus_rules.c, a mosquitto
plugin (API 5) that checks every CONNECT, PUBLISH and SUBSCRIBE of a device
against what its cloud documents, disconnects a device that breaks one
without an answer, and appends the violation to `violations.jsonl` with
the cloud's error code. Which cloud a client id belongs to, how it
authenticates and with which keys is in the registry, a SQLite file
(`registry.db`, see `Registry`). Sessions and queued messages persist in
mosquitto's own store, saved every second, so a restart (even after
SIGKILL) keeps them; shadows, twins and stored responses are in
`state.db`. The service credentials (a hub policy key, an AWS access key)
are made once and kept in `service-keys.json` (mode 0600).

As a program:

    python3 tools/cloud/local.py --dir DIR --pki DIR [--hub HOST] \\
        [--device aws:ID] [--device azure:ID] [--device azure-sas:ID:KEY]

starts the local cloud, registers the devices, prints one JSON line with the
endpoints, the hub, the service credentials and the files, and runs until
SIGTERM or SIGINT, then stops mosquitto cleanly. The PKI directory is
tools/certs.sh's output (ca.crt, server.crt, server.key). `--port
NAME=PORT` fixes a listener's port (for example `azure=8883 api=443` in a
network namespace, where the vendors' SDKs expect the clouds' ports), and
`--bind` its address.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api import Api  # noqa: E402
from services import Services  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "build" / "cloud" / "nimbus_rules.so"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
DEFAULT_HUB = "nimbus-local.azure-devices.net"
SERVICE_USER = "nimbus-cloud-service"

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    id            TEXT PRIMARY KEY,            -- client id: thing name, device id or device/module
    cloud         TEXT NOT NULL CHECK (cloud IN ('aws', 'azure')),
    auth          TEXT NOT NULL CHECK (auth IN ('x509', 'sas')),
    primary_key   TEXT,                        -- Azure SAS: base64 symmetric keys
    secondary_key TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1,
    created       REAL NOT NULL
);
"""


def build_plugin() -> Path:
    """Builds the broker plugin (make: fast when current) and returns its path."""
    subprocess.run(["make", "-s", "-C", str(ROOT / "tools" / "cloud" / "broker")], check=True, timeout=300)
    return PLUGIN


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Registry:
    """The device registry both clouds' rules read (SQLite)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with self._db() as db:
            db.executescript(SCHEMA)

    def _db(self):
        return sqlite3.connect(self.path, timeout=5)

    def register(self, device: str, cloud: str, auth: str = "x509", primary_key: str | None = None,
                 secondary_key: str | None = None, enabled: bool = True):
        """Adds `device`, or replaces what the registry had for it."""
        if cloud not in ("aws", "azure") or auth not in ("x509", "sas"):
            raise ValueError(f"unknown cloud {cloud!r} or authentication {auth!r}")
        if cloud == "aws" and auth != "x509":
            raise ValueError("AWS IoT Core devices authenticate by X.509 certificate")
        if auth == "sas" and not primary_key:
            raise ValueError("a SAS device needs a key")
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO devices VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (device, cloud, auth, primary_key, secondary_key, int(enabled), time.time()))

    def set_enabled(self, device: str, enabled: bool):
        with self._db() as db:
            db.execute("UPDATE devices SET enabled = ? WHERE id = ?", (int(enabled), device))

    def known(self, device: str, cloud: str) -> bool:
        """Whether `device` is registered on `cloud` (enabled or not)."""
        with self._db() as db:
            row = db.execute("SELECT cloud FROM devices WHERE id = ?", (device,)).fetchone()
        return row is not None and row[0] == cloud

    def devices(self) -> list[dict]:
        """Every device, without its keys."""
        with self._db() as db:
            rows = db.execute("SELECT id, cloud, auth, enabled FROM devices ORDER BY id").fetchall()
        return [{"id": i, "cloud": c, "auth": a, "enabled": bool(e)} for i, c, a, e in rows]


class LocalCloud:
    """mosquitto with the rules plugin, its registry and its violation log in `work`."""

    LISTENERS = ("aws", "azure", "azure_sas", "service", "api")

    def __init__(self, work: Path, pki: Path, hub: str = DEFAULT_HUB, connect_interval_ms: int = 1000,
                 ports: dict[str, int] | None = None, bind: str = "127.0.0.1", **service_options):
        self.work = Path(work)
        self.pki = Path(pki)
        self.hub = hub
        self.connect_interval_ms = connect_interval_ms
        self.work.mkdir(parents=True, exist_ok=True)
        (self.work / "db").mkdir(exist_ok=True)
        self.registry = Registry(self.work / "registry.db")
        self.violations_file = self.work / "violations.jsonl"
        self.log = self.work / "mosquitto.log"
        secret = self.work / "service-password"
        if not secret.exists():
            secret.write_text(secrets.token_urlsafe(24))
            secret.chmod(0o600)
        self.service_user = SERVICE_USER
        self.service_password = secret.read_text().strip()
        keys = self.work / "service-keys.json"
        if not keys.exists():
            keys.write_text(json.dumps({
                "azure_policies": {"iothubowner": base64.b64encode(secrets.token_bytes(32)).decode()},
                "aws_keys": {"AKIA" + secrets.token_hex(8).upper(): secrets.token_urlsafe(30)},
            }))
            keys.chmod(0o600)
        self.keys = json.loads(keys.read_text())
        self.keys_file = keys
        self.fixed_ports = dict(ports or {})
        self.bind = bind
        self.service_options = service_options
        self.ports: dict[str, int] = {}
        self.proc = None
        self.services: Services | None = None
        self.api_server: Api | None = None
        self.plugin = build_plugin()

    # ports by listener name
    def __getattr__(self, name):
        if name in LocalCloud.LISTENERS and name in self.__dict__.get("ports", {}):
            return self.ports[name]
        raise AttributeError(name)

    def device_port(self, cloud: str, sas: bool = False) -> int:
        return self.ports["azure_sas" if sas else cloud]

    def _config(self) -> str:
        tls = f"cafile {self.pki}/ca.crt\ncertfile {self.pki}/server.crt\nkeyfile {self.pki}/server.key\n"
        p = self.ports
        return (
            "# The local cloud (tools/cloud/local.py); the rules are in the plugin.\n"
            "per_listener_settings false\n"
            "allow_anonymous false\n"
            f"plugin {self.plugin}\n"
            f"plugin_opt_registry {self.registry.path}\n"
            f"plugin_opt_violations {self.violations_file}\n"
            f"plugin_opt_hub {self.hub}\n"
            f"plugin_opt_service_user {self.service_user}\n"
            f"plugin_opt_service_password {self.service_password}\n"
            f"plugin_opt_connect_interval_ms {self.connect_interval_ms}\n"
            # AWS keeps a persistent session for an hour by default.
            "persistent_client_expiration 1h\n"
            f"persistence true\npersistence_location {self.work}/db/\nautosave_interval 1\n"
            f"user {_user()}\n"
            f"log_dest file {self.log}\n"
            "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n"
            f"\nlistener {p['aws']} {self.bind}\n{tls}require_certificate true\n"
            f"\nlistener {p['azure']} {self.bind}\n{tls}require_certificate true\nmax_qos 1\n"
            f"\nlistener {p['azure_sas']} {self.bind}\n{tls}max_qos 1\n"
            f"\nlistener {p['service']} 127.0.0.1\n"
        )

    def start(self, fresh_ports: bool = True):
        """Starts mosquitto, then the services and their HTTPS API."""
        self._start_broker(fresh_ports)
        if self.services is None:
            self.services = Services("127.0.0.1", self.ports["service"], self.service_user,
                                     self.service_password, str(self.work / "state.db"), **self.service_options)
        if self.api_server is None:
            # Port 0 unless fixed: the kernel picks a free port as it binds,
            # so nothing can take it between the choice and the bind.
            self.api_server = Api(self.services, self.hub, self.keys["azure_policies"], self.keys["aws_keys"],
                                  self.registry.known, str(self.pki / "server.crt"), str(self.pki / "server.key"),
                                  host=self.bind, port=self.fixed_ports.get("api", 0)).start()
        self.ports["api"] = self.api_server.port
        return self

    def _start_broker(self, fresh_ports: bool):
        for _attempt in range(3):
            if fresh_ports or not self.ports:
                self.ports = {name: self.fixed_ports.get(name) or free_port() for name in self.LISTENERS}
            conf = self.work / "mosquitto.conf"
            conf.write_text(self._config())
            conf.chmod(0o600)  # holds the service password
            out = open(self.work / "mosquitto.out", "ab")
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=out, stderr=out)
            out.close()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if all(listening(port, self.bind if name != "service" else "127.0.0.1")
                       for name, port in self.ports.items() if name != "api"):
                    return self
                time.sleep(0.05)
            self.stop()
            if not fresh_ports:
                break
        raise RuntimeError(f"mosquitto did not start: {(self.work / 'mosquitto.out').read_text()}")

    def close(self):
        """Stops the API, the services and mosquitto."""
        if self.api_server is not None:
            self.api_server.stop()
            self.api_server = None
        if self.services is not None:
            self.services.close()
            self.services = None
        self.stop()

    def stop(self, sig=signal.SIGTERM):
        """Stops mosquitto alone (SIGTERM by default: it saves its sessions);
        `restart` brings it back, and the services reconnect."""
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

    def restart(self):
        """Starts mosquitto again on the same ports (the services reconnect)."""
        self._start_broker(fresh_ports=False)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_saved(self, since: float, timeout=5.0):
        """Waits until mosquitto has saved its sessions after `since` (a
        time.time()), so that a kill now loses no subscription."""
        db = self.work / "db" / "mosquitto.db"
        deadline = time.monotonic() + timeout
        while not (db.exists() and db.stat().st_mtime > since):
            if time.monotonic() > deadline:
                raise TimeoutError("mosquitto did not save its sessions")
            time.sleep(0.05)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def violations(self) -> list[dict]:
        """Every violation so far, oldest first. mosquitto itself closes an
        Azure connection that publishes at QoS 2 (`max_qos 1`, before the
        plugin sees the packet); its log line is reported here too."""
        out = []
        if self.violations_file.exists():
            for line in self.violations_file.read_text().splitlines():
                if line.strip():
                    out.append(json.loads(line))
        for line in self.log_text().splitlines():
            if "Too high QoS in PUBLISH from " in line:
                client = line.split("Too high QoS in PUBLISH from ", 1)[1].split(",")[0]
                out.append({"time": None, "cloud": "azure", "client": client, "code": "PUBLISH refused",
                            "message": "QoS 2 is not supported"})
        return out

    def endpoints(self) -> dict:
        return {
            "host": "127.0.0.1",
            "server_name": "localhost",
            "ports": dict(self.ports),
            "hub": self.hub,
            "ca": str(self.pki / "ca.crt"),
            "service": {"port": self.ports.get("service"), "user": self.service_user,
                        "password_file": str(self.work / "service-password")},
            "api": f"https://{'localhost' if self.bind == '127.0.0.1' else self.bind}:{self.ports.get('api')}",
            "azure_connection_string": self.azure_connection_string(),
            "aws_credentials": self.aws_credentials(),
            "credentials_file": str(self.keys_file),
            "state": str(self.work / "state.db"),
            "registry": str(self.registry.path),
            "violations": str(self.violations_file),
            "log": str(self.log),
        }


    def api_client(self):
        """An ApiClient of the service APIs with the cloud's credentials."""
        from api import ApiClient

        return ApiClient(f"https://localhost:{self.ports['api']}", str(self.pki / "ca.crt"), self.hub,
                         self.keys["azure_policies"], self.keys["aws_keys"])

    def azure_connection_string(self, policy: str = "iothubowner") -> str:
        return f"HostName={self.hub};SharedAccessKeyName={policy};" \
               f"SharedAccessKey={self.keys['azure_policies'][policy]}"

    def aws_credentials(self) -> dict:
        key_id, secret = next(iter(self.keys["aws_keys"].items()))
        return {"aws_access_key_id": key_id, "aws_secret_access_key": secret, "region_name": "us-east-1"}


def _user() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, type=Path, help="state: registry, sessions, logs")
    ap.add_argument("--pki", required=True, type=Path, help="ca.crt, server.crt, server.key (tools/certs.sh)")
    ap.add_argument("--hub", default=DEFAULT_HUB, help="the Azure hub's host name")
    ap.add_argument("--device", action="append", default=[],
                    help="aws:ID, azure:ID (X.509) or azure-sas:ID:KEY; repeatable")
    ap.add_argument("--port", action="append", default=[], metavar="NAME=PORT",
                    help=f"a fixed port for a listener ({', '.join(LocalCloud.LISTENERS)}); repeatable")
    ap.add_argument("--bind", default="127.0.0.1", help="address of the device listeners and the API")
    args = ap.parse_args(argv)
    ports = {}
    for spec in args.port:
        name, _, port = spec.partition("=")
        if name not in LocalCloud.LISTENERS or not port.isdigit():
            ap.error(f"bad --port {spec!r}")
        ports[name] = int(port)
    cloud = LocalCloud(args.dir, args.pki, hub=args.hub, ports=ports, bind=args.bind)
    for spec in args.device:
        kind, _, rest = spec.partition(":")
        if kind == "azure-sas":
            dev, _, key = rest.partition(":")
            cloud.registry.register(dev, "azure", "sas", primary_key=key)
        elif kind in ("aws", "azure") and rest:
            cloud.registry.register(rest, kind)
        else:
            ap.error(f"bad --device {spec!r}")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    cloud.start()
    print(json.dumps(cloud.endpoints()), flush=True)
    try:
        while not stop and cloud.proc.poll() is None:
            time.sleep(0.2)
    finally:
        cloud.close()
    return 0 if stop else 1


if __name__ == "__main__":
    sys.exit(main())
