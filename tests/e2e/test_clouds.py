"""One device per cloud over TLS with a client certificate, against the
local cloud's services, watched and driven as a cloud application does
(tools/cloud/application.py): subscriptions, shadow/twin get, the
device information report, requests and their answers on the right
topics, a desired change and its reported patch, telemetry on the cloud's
topic with an unbroken `seq`, and a clean exit with nothing unacknowledged.
"""

import json
import re
import time

import pytest

from conftest import AWS_DEVICE, AZURE_DEVICE

SUBSCRIPTIONS = {
    "aws": [f"{AWS_DEVICE}/request/#"]
    + [f"$aws/things/{AWS_DEVICE}/shadow/{op}" for op in
       ("update/accepted", "update/rejected", "update/delta", "get/accepted", "get/rejected")],
    "azure": [f"devices/{AZURE_DEVICE}/messages/devicebound/#", "$iothub/methods/POST/#",
              "$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#"],
}


def twin_get(kind):
    if kind == "aws":
        return lambda m: m.topic == f"$aws/things/{AWS_DEVICE}/shadow/get"
    return lambda m: m.topic.startswith("$iothub/twin/GET/?$rid=")


def reported_value(cloud, key, timeout=10.0):
    """cloud.reported[key] once it is set, or None (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with cloud.lock:
            if key in cloud.reported:
                return cloud.reported[key]
        time.sleep(0.05)
    return None


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_device_and_cloud(kind, cloud_of, run_demo):
    cloud = cloud_of(kind)
    # A desired value set while the device is offline arrives with the
    # twin/shadow get that follows the connection.
    cloud.set_desired({"telemetry_period_ms": 400})
    demo = run_demo(kind, "--sensors", "2", "--telemetry-period-ms", "5000", "--run-for-s", "7")
    out = demo.output

    # Connected over TLS and subscribed to exactly the cloud's topics.
    assert demo.wait_line(r"← CONNACK accepted", 10), out()
    for f in SUBSCRIPTIONS[kind]:
        assert demo.wait_line(r"→ SUBSCRIBE " + re.escape(f) + "$", 5), (f, out())

    # The document is fetched; the offline desired change is applied and
    # reported back; the device information is reported once.
    assert cloud.wait_for(twin_get(kind), 10), out()
    assert demo.wait_line(r"-- twin document|-- desired properties", 10), out()
    assert reported_value(cloud, "telemetry_period_ms") == 400, out()
    identity = reported_value(cloud, "identity")
    assert identity and identity["name"] == "nimbus-demo" and identity["model"] == "host-demo", out()

    # Requests and their answers, on the cloud's own topics.
    status, body = cloud.request("general_information")
    assert status == 200 and body["identity"]["serial_number"] == "DEMO-0001"
    assert "uptime_s" in body
    status, body = cloud.request("sensor/list")
    assert status == 200
    assert [(s["id"], s["type"], s["unit"]) for s in body["sensors"]] == [(0, "temperature", "Cel"),
                                                                         (1, "humidity", "%RH")]
    status, body = cloud.request("sensor/1/get")
    assert status == 200 and body["id"] == 1 and body["type"] == "humidity"
    assert isinstance(body["value"], float)
    status, body = cloud.request("sensor/5/get")
    assert status == 404 and body["error"] == "not found"
    status, body = cloud.request("no/such/thing")
    assert status == 404
    if kind == "azure":
        # Method answers go to $iothub/methods/res/<status>/?$rid=<rid>
        # with the rid of the call.
        assert cloud.wait_for(lambda m: m.topic.startswith("$iothub/methods/res/404/?$rid="), 1)
        m = cloud.send_c2d("sensor/0/get")
        assert m is not None and m.topic == (f"devices/{AZURE_DEVICE}/messages/events/"
                                             "subtopic=response.sensor.0.get")
        assert json.loads(m.payload)["id"] == 0
    else:
        assert cloud.wait_for(lambda m: m.topic == f"{AWS_DEVICE}/response/no/such/thing", 1)

    # A desired change while online: applied and reported.
    mark = cloud.mark()
    cloud.set_desired({"telemetry_period_ms": 300})
    assert demo.wait_line(r"-- desired properties v\d+: .*\"telemetry_period_ms\":300", 5), out()
    assert cloud.wait_for(lambda m: b'"telemetry_period_ms":300' in m.payload
                          and ("reported" in m.topic or "shadow/update" in m.topic), 5, after=mark), out()
    assert cloud.wait_reported("telemetry_period_ms", 300, 5), cloud.reported

    # Telemetry on the cloud's topic; the device exits cleanly after
    # --run-for-s with every reading acknowledged.
    assert demo.wait(20) == 0, out()
    done = demo.wait_line(r"-- done after .* readings published \(seq (\d+)\.\.(\d+)\), 0 unacknowledged", 1)
    assert done, out()
    first, last = int(done[2][1]), int(done[2][2])
    assert first == 1 and last >= 10, out()
    readings = cloud.telemetry()
    topic = (f"{AWS_DEVICE}/response/sensor/{{}}/reading" if kind == "aws"
             else f"devices/{AZURE_DEVICE}/messages/events/subtopic=response.sensor.{{}}.reading")
    assert {m.topic for m in readings} == {topic.format(0), topic.format(1)}
    assert sorted(set(cloud.seqs(readings))) == list(range(1, last + 1))
    for m in readings:
        body = m.json()
        assert body["id"] in (0, 1) and body["unit"] in ("Cel", "%RH")

