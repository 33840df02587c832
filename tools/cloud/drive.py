"""Plays the cloud for one run of the host demo and says what the device answered.

    python3 tools/cloud/drive.py --cloud aws|azure --local-cloud CLOUD.json --device ID \\
        [--sensors N] [--period-ms N] -- path/to/nimbus-demo ARGS...

CLOUD.json is the line tools/cloud/local.py printed. Connects to the local
cloud as a cloud application (tools/cloud/application.py: the broker's
service user to watch, the service APIs to act), then
starts the demo command given after `--` (its log goes to this terminal)
and, once the device is online:

1. asks `general_information`, `sensor/list`, `sensor/0/get`, a sensor that
   does not exist and a request the device does not know (AWS: request
   topics; Azure: direct methods, plus `sensor/list` as a C2D message);
2. changes the desired `telemetry_period_ms` and waits for the device to
   report the value it applied;
3. watches the telemetry (each reading's `seq` must grow by one);
4. waits for the demo to exit and prints a summary of the answers.

Exit status 0 when every step got the expected answer and the demo exited
0, 1 otherwise. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api import ApiClient  # noqa: E402
from application import AwsCloud, AzureCloud  # noqa: E402


def short(value, limit=150):
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def say(text):
    now = time.time()
    stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now * 1000) % 1000:03d}"
    print(f"{stamp} [cloud] {text}", flush=True)


class Run:
    def __init__(self, args):
        self.args = args
        self.results: list[tuple[str, str, bool]] = []  # (what, answer, ok)

    def check(self, what, answer, ok):
        self.results.append((what, answer, ok))
        say(f"{what}: {answer}{'' if ok else '   <-- unexpected'}")

    def request(self, cloud, path, want_status):
        kind = "method" if self.args.cloud == "azure" else "request"
        answer = cloud.request(path, timeout=10)
        if answer is None:
            self.check(f"{kind} {path}", "no answer within 10 s", False)
            return None
        status, body = answer
        self.check(f"{kind} {path}", f"{status} {short(body)}", status == want_status)
        return body

    def device_online(self, cloud, demo, timeout=20.0):
        """Waits for the device's twin/shadow get, sent after every connect."""
        if self.args.cloud == "aws":
            want = f"$aws/things/{self.args.device}/shadow/get"
            pred = lambda m: m.topic == want  # noqa: E731
        else:
            pred = lambda m: m.topic.startswith("$iothub/twin/GET/")  # noqa: E731 (routed by the plugin)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cloud.wait_for(pred, timeout=0.5):
                return True
            if demo.poll() is not None:
                return False
        return False

    def reported(self, cloud, key, value, timeout=10.0):
        """Waits until the cloud's reported state holds key = value."""
        return cloud.wait_reported(key, value, timeout)

    def main(self, demo_cmd):
        a = self.args
        local = json.load(open(a.local_cloud))
        keys = json.load(open(local["credentials_file"]))
        api = ApiClient(local["api"], local["ca"], local["hub"], keys["azure_policies"], keys["aws_keys"])
        cls = AwsCloud if a.cloud == "aws" else AzureCloud
        password = open(local["service"]["password_file"]).read().strip()
        cloud = cls(local["host"], local["service"]["port"], a.device, username=local["service"]["user"],
                    password=password, api=api)
        say(f"the cloud application of {'AWS IoT Core' if a.cloud == 'aws' else 'Azure IoT Hub'} for device "
            f"{a.device}, through {local['api']}; starting the device")
        demo = subprocess.Popen(demo_cmd)
        try:
            return self.scenario(cloud, demo)
        finally:
            try:
                demo.wait(timeout=a.run_for_limit)
            except subprocess.TimeoutExpired:
                say("the device did not exit in time: stopping it")
                demo.kill()
                demo.wait(timeout=10)
            cloud.close()

    def scenario(self, cloud, demo):
        a = self.args
        if not self.device_online(cloud, demo):
            rc = demo.poll()
            say("the device never came online" + (f" (it exited with {rc})" if rc is not None else ""))
            return 1
        say("the device is online and asked for its " + ("shadow" if a.cloud == "aws" else "twin"))

        self.request(cloud, "general_information", 200)
        body = self.request(cloud, "sensor/list", 200)
        if body is not None and a.sensors:
            n = len(body) if isinstance(body, list) else len(body.get("sensors", [])) if isinstance(body, dict) else 0
            self.check("sensors listed", str(n), n == a.sensors)
        if a.sensors:
            self.request(cloud, "sensor/0/get", 200)
        self.request(cloud, f"sensor/{a.sensors + 7}/get", 404)
        self.request(cloud, "reboot", 404)
        if a.cloud == "azure":
            m = cloud.send_c2d("sensor/list", timeout=10)
            self.check("C2D sensor/list", short(m.topic + " " + m.payload.decode(errors="replace"))
                       if m else "no answer within 10 s", m is not None)

        say(f"changing the desired telemetry_period_ms to {a.period_ms}")
        cloud.set_desired({"telemetry_period_ms": a.period_ms})
        ok = self.reported(cloud, "telemetry_period_ms", a.period_ms)
        self.check("reported telemetry_period_ms", str(a.period_ms) if ok else "not reported within 10 s", ok)

        # Readings at the new period: wait for a few, bounded.
        if a.sensors:
            want = 2 * a.sensors
            deadline = time.monotonic() + 3 * a.period_ms / 1000 + 5
            mark = cloud.mark()
            while time.monotonic() < deadline and len(cloud.telemetry(after=mark)) < want:
                cloud.wait_for(lambda m: False, timeout=0.2)
        readings = cloud.telemetry(after=0)
        seqs = cloud.seqs(readings)
        steady = seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False
        self.check("telemetry", f"{len(seqs)} readings, seq {seqs[0]}..{seqs[-1]}" if seqs else "none",
                   steady or not a.sensors)

        with cloud.lock:
            reported = json.loads(json.dumps(cloud.reported))
        reported.pop("$version", None)
        say(f"the {'shadow' if a.cloud == 'aws' else 'twin'}'s reported state now: {short(reported, 300)}")

        rc = demo.wait(timeout=a.run_for_limit)
        self.check("device exit status", str(rc), rc == 0)
        after = cloud.telemetry(after=0)
        seqs = cloud.seqs(after)
        if seqs:
            missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
            self.check("readings received", f"{len(set(seqs))} (seq 1..{max(seqs)}), missing {missing or 'none'}",
                       not missing)
        failed = [r for r in self.results if not r[2]]
        print(flush=True)
        print(f"== what the {a.cloud} device answered", flush=True)
        for what, answer, ok in self.results:
            print(f"  {'ok  ' if ok else 'FAIL'} {what:32} {answer}", flush=True)
        print(f"== {len(self.results) - len(failed)} of {len(self.results)} as expected", flush=True)
        return 1 if failed else 0


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: drive.py [options] -- DEMO_COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cloud", choices=["aws", "azure"], required=True)
    p.add_argument("--local-cloud", required=True, help="the JSON line tools/cloud/local.py printed")
    p.add_argument("--device", required=True)
    p.add_argument("--sensors", type=int, default=2, help="sensors the device simulates")
    p.add_argument("--period-ms", type=int, default=2000, help="desired telemetry_period_ms to set")
    p.add_argument("--run-for-limit", type=float, default=60, help="seconds to wait for the device to exit")
    args = p.parse_args(argv[:split])
    return Run(args).main(argv[split + 1:])


if __name__ == "__main__":
    sys.exit(main())
