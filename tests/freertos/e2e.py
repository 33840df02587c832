#!/usr/bin/env python3
"""End-to-end test of the FreeRTOS port: the sample on the stand-in kernel
against the local cloud (tools/cloud/local.py: mosquitto over TLS with the
clouds' rules in its plugin, the shadow/twin services and the service
APIs), watched and driven as a cloud application would
(tools/cloud/application.py), for AWS and for Azure.

For each cloud: the device connects and publishes its boot event; a request
gets its response; a desired change comes back as reported state; sensor 0
telemetry arrives; the broker is restarted and the device reconnects and
works again; SIGTERM stops it cleanly. Azure also connects once with a SAS
token signed through the port's mbedTLS HMAC, which the local hub checks
against the device's key. No rule of either cloud may be broken. Every wait
is bounded; the cloud and the device are stopped on exit whatever happens.

    e2e.py --sample BIN --certs DIR --work DIR
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "cloud"))
from application import AwsCloud, AzureCloud  # noqa: E402
from local import LocalCloud  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from checks import Checks  # noqa: E402
from checks import wait_until as checks_wait_until  # noqa: E402

STEP_S = 20.0  # no single step may take longer
DEVICES = {"aws": "nimbus-aws-demo", "azure": "nimbus-azure-demo"}


class Device:
    """The sample binary, its output in a log file."""

    def __init__(self, sample, work, certs, cloud, broker, extra_env=None, name=None, sas=False):
        dev = DEVICES[cloud]
        self.log_path = work / f"device-{name or cloud}.log"
        env = dict(os.environ,
                   NIMBUS_CLOUD=cloud, NIMBUS_DEVICE_ID=dev, NIMBUS_HUB_HOST="localhost",
                   NIMBUS_BROKER_HOST="localhost", NIMBUS_BROKER_ADDRESS="127.0.0.1",
                   NIMBUS_BROKER_PORT=str(broker.device_port(cloud, sas)), NIMBUS_CA=f"{certs}/ca.crt",
                   NIMBUS_CERT=f"{certs}/{dev}.crt", NIMBUS_KEY=f"{certs}/{dev}.key",
                   NIMBUS_TELEMETRY_S="0", NIMBUS_RUN_S="300", **(extra_env or {}))
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([str(sample)], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def text(self):
        return self.log_path.read_text(errors="replace")

    def count(self, needle):
        return self.text().count(needle)

    def connections(self):
        """How often the device logged that its link came up."""
        return len(re.findall(r"\] I connected$", self.text(), re.M))

    def stop(self, timeout=10):
        """SIGTERM, then the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                return None
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def wait_until(pred, timeout=STEP_S, step=0.05):
    return checks_wait_until(pred, timeout, step)


def make_cloud(cloud, broker):
    """The cloud application's view of the device on the local cloud."""
    cls = AwsCloud if cloud == "aws" else AzureCloud
    return cls("127.0.0.1", broker.service, DEVICES[cloud], client_id=f"cloud-{cloud}-{time.monotonic_ns()}",
               username=broker.service_user, password=broker.service_password, api=broker.api_client())


def boot_event(cloud, c, after=0):
    dev = DEVICES[cloud]
    if cloud == "aws":
        want = lambda m: m.topic == f"{dev}/events"
    else:
        want = lambda m: m.topic.startswith(f"devices/{dev}/messages/events/") and "subtopic" not in m.topic
    return c.wait_for(want, STEP_S, after=after)


def model_of(body):
    """The model in a general_information answer (under "identity")."""
    if not isinstance(body, dict):
        return None
    identity = body.get("identity")
    return identity.get("model") if isinstance(identity, dict) else body.get("model")


def request_works(c, attempts_s=STEP_S):
    """general_information answered with the sample's identity, and the
    sample's own handler led/get answered (retried while the device may
    still be reconnecting). Returns (ok, what was seen)."""
    deadline = time.monotonic() + attempts_s
    answer = None
    while time.monotonic() < deadline:
        answer = c.request("general_information", b"{}", timeout=3)
        if answer is not None:
            break
    if answer is None:
        return False, "no answer"
    status, body = answer
    if status != 200 or model_of(body) != "nimbus-freertos-sample":
        return False, repr(answer)
    led = c.request("led/get", b"{}", timeout=STEP_S)
    ok = led is not None and led[0] == 200 and isinstance(led[1], dict) and "led" in led[1]
    return ok, repr(led)


def reported_is(c, want):
    return wait_until(lambda: all(c.reported.get(k) == v for k, v in want.items()))


def run_cloud(cloud, args, broker, checks):
    print(f"== {cloud}", flush=True)
    c = make_cloud(cloud, broker)
    dev = Device(args.sample, args.work, args.certs, cloud, broker)
    try:
        if not checks.check(f"{cloud}: connects over TLS and publishes its boot event",
                            boot_event(cloud, c) is not None, dev.text()[-2000:]):
            return  # nothing else can work; the log is printed below
        checks.check(f"{cloud}: request -> response", *request_works(c))
        if cloud == "azure":
            m = c.send_c2d("general_information", b"{}", timeout=STEP_S)
            checks.check(f"{cloud}: cloud-to-device request -> response event",
                         m is not None and model_of(m.json()) == "nimbus-freertos-sample",
                         repr(m and m.payload))
        mark = c.mark()
        c.set_desired({"led": True, "telemetry_period_ms": 1000})
        checks.check(f"{cloud}: desired -> reported (the app's led, the core's period)",
                     reported_is(c, {"led": True, "telemetry_period_ms": 1000}), str(c.reported))
        reading = wait_until(lambda: c.telemetry(after=mark))
        checks.check(f"{cloud}: sensor 0 telemetry at the desired period", bool(reading))
        if reading:
            body = reading[0].payload.decode(errors="replace")
            checks.check(f"{cloud}: telemetry carries the temperature", "21." in body, body)

        connected = dev.connections()
        broker.stop()
        c.close()
        checks.check(f"{cloud}: device sees the broker go away",
                     wait_until(lambda: dev.count("disconnected") >= 1), dev.text()[-1500:])
        time.sleep(0.5)
        broker.restart()
        c = make_cloud(cloud, broker)
        checks.check(f"{cloud}: reconnects after the broker restart",
                     wait_until(lambda: dev.connections() > connected, timeout=30),
                     dev.text()[-1500:])
        checks.check(f"{cloud}: request -> response after reconnecting", *request_works(c))
        c.set_desired({"led": False})
        checks.check(f"{cloud}: desired -> reported after reconnecting",
                     reported_is(c, {"led": False}), str(c.reported))
        code = dev.stop()
        checks.check(f"{cloud}: stops cleanly on SIGTERM", code == 0 and "task stopped" in dev.text(),
                     f"exit {code}")
    finally:
        c.close()
        dev.kill()
        if checks.failed:
            print(f"-- device log ({cloud}) --\n{dev.text()[-4000:]}", flush=True)


def run_azure_sas(args, broker, checks):
    """Azure with a SAS key: the token is signed through the port's mbedTLS
    HMAC and sent as the MQTT password; the local hub checks its HMAC, `sr`
    and `se` against the key in its registry, on the listener that asks
    for no client certificate."""
    print("== azure (SAS token)", flush=True)
    key = "bmltYnVzLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmctLS0="  # 32 bytes, base64
    broker.registry.register(DEVICES["azure"], "azure", "sas", primary_key=key)
    c = make_cloud("azure", broker)
    dev = Device(args.sample, args.work, args.certs, "azure", broker,
                 extra_env={"NIMBUS_SAS_KEY": key}, name="azure-sas", sas=True)
    try:
        checks.check("azure: connects with a SAS token signed by the port's HMAC",
                     boot_event("azure", c) is not None, dev.text()[-2000:])
        checks.check("azure (SAS): request -> response", *request_works(c))
        code = dev.stop()
        checks.check("azure (SAS): stops cleanly", code == 0, f"exit {code}")
    finally:
        c.close()
        dev.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=Path, required=True)
    ap.add_argument("--certs", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--cloud", choices=["aws", "azure", "both"], default="both")
    args = ap.parse_args()
    checks = Checks()
    broker = LocalCloud(args.work / "cloud", args.certs, hub="localhost")
    broker.registry.register(DEVICES["aws"], "aws")
    broker.registry.register(DEVICES["azure"], "azure")
    try:
        broker.start()
        for cloud in (["aws", "azure"] if args.cloud == "both" else [args.cloud]):
            run_cloud(cloud, args, broker, checks)
        if args.cloud in ("azure", "both"):
            run_azure_sas(args, broker, checks)
    except Exception as e:  # a crash in the harness is a failure, not a pass
        checks.check("harness", False, repr(e))
    finally:
        broker.close()
    checks.check("no rule of either cloud broken", not broker.violations(), repr(broker.violations()))
    return checks.summary()


if __name__ == "__main__":
    sys.exit(main())
