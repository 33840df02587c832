"""The local cloud's acceptance test: the vendors' own SDKs, unchanged but
for endpoint, port and CA, against it.

    acceptance.py --scenario aws|azure-x509|azure-sas --work DIR --sdk-python PY

Runs inside a network namespace that the caller made
(tests/e2e/test_vendor_sdks.py), because the SDKs expect the clouds' ports:
azure-iot-device connects to 8883, azure-iot-hub's service calls go to
https://<hub> on 443. The local cloud listens there on the namespace's
loopback; nothing leaves it. The device and the service side each run with
the SDK venv's python (PY) as their own processes; this script starts the
local cloud in-process, watches the broker as the cloud side, and checks
what each side saw. It prints one line per check and ends with
"N passed, M failed"; exit status 0 only when nothing failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tools" / "cloud"))
from api import ApiClient  # noqa: E402
from application import AwsCloud, AzureCloud  # noqa: E402
from local import LocalCloud  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from checks import Checks  # noqa: E402
from checks import wait_until as checks_wait_until  # noqa: E402

THING = "sdk-thing"
DEVICE = "sdk-device"
HUB = "localhost"  # the name in the local cloud's server certificate
SAS_KEY = "c2RrLWRldmljZS1rZXktb2YtdGhpcnR5LXR3by1ieXQ="
STEP_S = 20.0


class Proc:
    """A child process whose stdout is JSON lines ({"event": ...})."""

    def __init__(self, cmd, env=None, log=None):
        self.events: list[dict] = []
        self.text: list[str] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=dict(os.environ, **(env or {})))
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.text.append(line.rstrip())
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass
                self.cond.notify_all()

    def wait_event(self, name, pred=lambda e: True, timeout=STEP_S):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for e in self.events:
                    if e.get("event") == name and pred(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.thread.is_alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def wait(self, timeout=STEP_S):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def output(self):
        with self.cond:
            return "\n".join(self.text[-60:])


def wait_until(pred, timeout=STEP_S):
    return checks_wait_until(pred, timeout, 0.1)


class Run:
    def __init__(self, a):
        self.a = a
        self.work = Path(a.work)
        self.pki = self.work / "pki"
        self.c = Checks()
        subprocess.run([str(ROOT / "tools" / "certs.sh"), str(self.pki), THING, DEVICE], check=True,
                       capture_output=True, timeout=120)

    def service(self, cloud, *args, env=None, key=None):
        """One call through a vendor service library (tests/sdk/service.py)."""
        if cloud == "aws":
            key_id, secret = next(iter(self.cloud.keys["aws_keys"].items()))
            cmd = ["aws", "--endpoint", "https://localhost:443", "--ca", str(self.pki / "ca.crt"),
                   "--key-id", key_id, "--secret", key or secret]
        else:
            cs = self.cloud.azure_connection_string()
            if key:
                cs = cs.rsplit("SharedAccessKey=", 1)[0] + "SharedAccessKey=" + key
            cmd = ["azure", "--connection-string", cs]
        r = subprocess.run([self.a.sdk_python, str(HERE / "service.py"), *cmd, *map(str, args)],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, REQUESTS_CA_BUNDLE=str(self.pki / "ca.crt"), **(env or {})))
        try:
            return json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"ok": False, "error": "no result", "message": (r.stdout + r.stderr)[-1500:]}

    def start_cloud(self, ports):
        self.cloud = LocalCloud(self.work / "cloud", self.pki, hub=HUB, ports=dict(ports, api=443))
        self.cloud.registry.register(THING, "aws")
        self.cloud.registry.register(DEVICE, "azure")
        self.cloud.registry.register("sdk-offline", "azure")
        self.cloud.start()
        self.api: ApiClient = self.cloud.api_client()

    def finish(self, device: Proc):
        device.stop()
        self.c.check("no rule of the cloud broken by the vendor's SDK", not self.cloud.violations(),
                     self.cloud.violations())
        if self.c.failed:
            print("-- device output --\n" + device.output(), flush=True)

    # ------------------------------------------------------------- AWS

    def aws(self):
        c = self.c
        self.start_cloud({"aws": 8883})
        watch = AwsCloud("127.0.0.1", self.cloud.service, THING, username=self.cloud.service_user,
                         password=self.cloud.service_password, api=self.api)
        dev = Proc([self.a.sdk_python, str(HERE / "aws_device.py"), "--port", "8883", "--thing", THING,
                    "--cert", str(self.pki / f"{THING}.crt"), "--key", str(self.pki / f"{THING}.key"),
                    "--ca", str(self.pki / "ca.crt")])
        try:
            if not c.check("awsiotsdk: connects with X.509 and subscribes", dev.wait_event("subscribed"),
                           dev.output()):
                return
            c.check("shadow get before any update: get/rejected 404 (no shadow yet)",
                    dev.wait_event("get_rejected", lambda e: e["code"] == 404), dev.output())
            c.check("shadow update from the SDK: update/accepted", dev.wait_event("update_accepted"), dev.output())
            c.check("named shadow update from the SDK: accepted", dev.wait_event("named_update_accepted"),
                    dev.output())
            c.check("event published by the SDK reaches the cloud",
                    watch.wait_for(lambda m: m.topic == f"{THING}/events" and b"awsiotsdk" in m.payload, STEP_S))
            got = wait_until(lambda: self.service("aws", "get", THING).get("document", {}).get("state", {})
                             .get("reported", {}).get("sdk") == "awsiotsdk")
            c.check("boto3 iot-data get_thing_shadow: the SDK's report", got)
            named = self.service("aws", "get", THING, "config")
            c.check("boto3 get_thing_shadow(shadowName): the named shadow",
                    named.get("document", {}).get("state", {}).get("reported") == {"firmware": "1.0.0"}, named)
            up = self.service("aws", "update", THING, json.dumps({"state": {"desired": {"led": True}}}))
            c.check("boto3 update_thing_shadow (desired)", up.get("ok"), up)
            c.check("the SDK's shadow client gets the delta",
                    dev.wait_event("delta", lambda e: e["state"] == {"led": True}), dev.output())
            doc = wait_until(lambda: (d := self.service("aws", "get", THING).get("document", {})) and
                             d["state"]["reported"].get("led") is True and "delta" not in d["state"] and d)
            c.check("the device reported the delta; no delta is left", doc, doc)
            pub = self.service("aws", "publish", f"{THING}/request/sensor/list", "{}")
            c.check("boto3 publish on the request topic", pub.get("ok"), pub)
            c.check("the SDK device receives the request",
                    dev.wait_event("request", lambda e: e["path"] == "sensor/list"), dev.output())
            rows = wait_until(lambda: self.api.responses(THING)[1]["items"])
            c.check("its answer is stored in the response table with its time",
                    rows and rows[0]["topic"] == f"{THING}/response/sensor/list" and rows[0]["received"] > 0, rows)
            # Refusals, each with the error class the library raises.
            version = self.service("aws", "get", THING)["document"]["version"]
            stale = self.service("aws", "update", THING, json.dumps({"state": {"desired": {"led": False}}}), "",
                                 version - 1)
            c.check("a stale version: ConflictException 409", stale.get("error") == "ConflictException"
                    and stale.get("status") == 409, stale)
            missing = self.service("aws", "get", THING, "nope")
            c.check("a named shadow that does not exist: ResourceNotFoundException 404",
                    missing.get("error") == "ResourceNotFoundException" and missing.get("status") == 404, missing)
            big = self.service("aws", "update", THING, json.dumps({"state": {"desired": {"blob": "x" * 9000}}}))
            c.check("a document over 8 KB: RequestEntityTooLargeException 413",
                    big.get("error") == "RequestEntityTooLargeException" and big.get("status") == 413, big)
            deep: dict = {"v": 1}
            for _ in range(6):
                deep = {"d": deep}
            nested = self.service("aws", "update", THING, json.dumps({"state": {"desired": deep}}))
            c.check("nesting deeper than 6: InvalidRequestException 400",
                    nested.get("error") == "InvalidRequestException" and nested.get("status") == 400, nested)
            forged = self.service("aws", "get", THING, key="not-the-secret")
            c.check("a request signed with the wrong secret: ForbiddenException 403",
                    forged.get("error") == "ForbiddenException" and forged.get("status") == 403, forged)
            self.service("aws", "publish", f"{THING}/request/exit", "{}")
            c.check("the SDK device disconnects cleanly", dev.wait() == 0, dev.output())
        finally:
            watch.close()
            self.finish(dev)

    # ----------------------------------------------------------- Azure

    def azure(self, sas: bool):
        c = self.c
        self.start_cloud({"azure_sas" if sas else "azure": 8883})
        if sas:
            self.cloud.registry.register(DEVICE, "azure", "sas", primary_key=SAS_KEY)
        watch = AzureCloud("127.0.0.1", self.cloud.service, DEVICE, username=self.cloud.service_user,
                           password=self.cloud.service_password, api=self.api)
        auth = ["--sas-key", SAS_KEY] if sas else ["--cert", str(self.pki / f"{DEVICE}.crt"),
                                                   "--key", str(self.pki / f"{DEVICE}.key")]
        kind = "SAS" if sas else "X.509"
        dev = Proc([self.a.sdk_python, str(HERE / "azure_device.py"), "--host", HUB, "--device", DEVICE,
                    "--ca", str(self.pki / "ca.crt"), *auth])
        try:
            if not c.check(f"azure-iot-device: connects with {kind} to the hub on 8883",
                           dev.wait_event("ready"), dev.output()):
                return
            m = watch.wait_for(lambda m: m.topic.startswith(f"devices/{DEVICE}/messages/events/"), STEP_S)
            c.check("telemetry with properties: $.ct, $.ce, subtopic and a user property in the bag",
                    m and "%24.ct=application%2Fjson" in m.topic and "subtopic=response.sensor.0.reading" in m.topic
                    and "sdk=azure-iot-device" in m.topic and json.loads(m.payload) == {"temperature": 21.5},
                    m and m.topic)
            twin = dev.wait_event("twin")
            c.check("twin get from the SDK: desired and reported with $version",
                    twin and "$version" in twin["twin"]["desired"] and "$version" in twin["twin"]["reported"], twin)
            got = wait_until(lambda: self.service("azure", "twin", DEVICE).get("reported", {}).get("sdk")
                             == "azure-iot-device")
            c.check("azure-iot-hub get_twin: the SDK's reported patch", got)
            r = self.service("azure", "method", DEVICE, "sensor.list", "{}")
            c.check("azure-iot-hub invoke_device_method: the SDK's answer",
                    r.get("status") == 200 and r.get("payload") == {"method": "sensor.list", "sdk": "azure-iot-device"},
                    r)
            d = self.service("azure", "desired", DEVICE, json.dumps({"led": True}))
            c.check("azure-iot-hub update_twin (desired)", d.get("ok") and d["desired"].get("led") is True, d)
            c.check("the SDK receives the desired patch",
                    dev.wait_event("desired", lambda e: e["patch"].get("led") is True), dev.output())
            got = wait_until(lambda: self.service("azure", "twin", DEVICE).get("reported", {}).get("led") is True)
            c.check("the SDK reported it back", got)
            status, body = self.api.send_c2d(DEVICE, b'{"cmd":"blink"}', {"subtopic": "request.led.set"})
            c.check("C2D sent through the service API", status == 204, (status, body))
            e = dev.wait_event("c2d")
            c.check("the SDK receives the C2D message with its properties",
                    e and e["data"] == '{"cmd":"blink"}' and e["properties"].get("subtopic") == "request.led.set", e)
            off = self.service("azure", "method", "sdk-offline", "ping", "{}")
            c.check("a method on a device that is not connected: 404 (404103)",
                    off.get("status") == 404 and "404103" in off.get("message", ""), off)
            bad = self.service("azure", "twin", DEVICE, key="bm90LXRoZS1wb2xpY3kta2V5")
            c.check("a service SAS signed with the wrong key: 401", bad.get("status") == 401, bad)
            self.service("azure", "method", DEVICE, "exit", "{}")
            c.check("the SDK device disconnects cleanly", dev.wait() == 0, dev.output())
            if sas:
                wrong = Proc([self.a.sdk_python, str(HERE / "azure_device.py"), "--host", HUB, "--device", DEVICE,
                              "--ca", str(self.pki / "ca.crt"), "--sas-key", "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=",
                              "--run-s", "1"])
                rc = wrong.wait(60)
                c.check("a SAS token signed with another key is refused (the SDK cannot connect)",
                        rc not in (0, None) and not wrong.wait_event("connected", timeout=0), wrong.output())
                v = [x for x in self.cloud.violations() if "signature does not match" in x["message"]]
                c.check("... and logged with the hub's code 401003", v and v[0]["code"].startswith("401003"),
                        self.cloud.violations())
                self.cloud.violations_file.unlink()  # provoked on purpose
        finally:
            watch.close()
            self.finish(dev)

    def main(self):
        try:
            if self.a.scenario == "aws":
                self.aws()
            else:
                self.azure(sas=self.a.scenario == "azure-sas")
        except Exception as e:  # a crash in the harness is a failure
            import traceback

            traceback.print_exc()
            self.c.check("harness", False, repr(e))
        finally:
            if getattr(self, "cloud", None):
                self.cloud.close()
        return self.c.summary()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", choices=["aws", "azure-x509", "azure-sas"], required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--sdk-python", required=True)
    sys.exit(Run(ap.parse_args()).main())
