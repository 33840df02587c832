"""The local cloud's services and service APIs (tools/cloud/services.py,
tools/cloud/api.py) answer as the real ones document, to a raw device and
to a raw service call: the AWS shadow service's codes, the hub's twin
statuses and throttling, direct methods to offline and silent devices,
per-connection `$iothub` topics, the APIs' authentication, state kept
across a restart, and the one-command start.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from conftest import AWS_DEVICE, AZURE_DEVICE, HUB, ROOT, azure_username, sas_token
from test_cloud_rules import Raw, aws, azure, raw  # noqa: F401 (fixture)

from api import ApiClient, azure_sas, sign_sigv4  # noqa: E402
from local import LocalCloud  # noqa: E402

KEY = "bG9jYWwtY2xvdWQtc2Vjb25kLWRldmljZS1rZXkhISE="


def answers(r: Raw, prefix: str, n: int = 1, timeout: float = 5.0) -> list:
    """The first `n` messages the raw client got whose topic starts with `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [m for m in list(r.got) if m.topic.startswith(prefix)]
        if len(got) >= n:
            return got
        time.sleep(0.02)
    return [m for m in list(r.got) if m.topic.startswith(prefix)]


def body(m):
    return json.loads(m.payload) if m.payload else None


def test_aws_shadow_service_answers_with_aws_codes(raw, broker):
    r = aws(raw, broker)
    pre = f"$aws/things/{AWS_DEVICE}/shadow/"
    r.subscribe(pre + "#")
    time.sleep(0.3)

    def ask(op, payload, outcome, shadow=""):
        base = pre + (f"name/{shadow}/" if shadow else "")
        before = len([m for m in r.got if m.topic.startswith(base + op + "/")])
        r.publish(base + op, json.dumps(payload) if isinstance(payload, dict) else payload)
        got = answers(r, base + op + "/", before + 1)
        assert len(got) > before, f"no answer to {op}"
        m = got[before]
        assert m.topic == base + f"{op}/{outcome}", (m.topic, m.payload)
        return body(m)

    g = ask("get", {"clientToken": "g1"}, "rejected")
    assert g["code"] == 404 and g["clientToken"] == "g1", g
    assert g["message"] == f"No shadow exists with name: '{AWS_DEVICE}'", g
    acc = ask("update", {"state": {"reported": {"led": False}}, "clientToken": "u1"}, "accepted")
    assert acc["version"] == 1 and acc["clientToken"] == "u1"
    docs = answers(r, pre + "update/documents")
    assert body(docs[0])["previous"] is None and body(docs[0])["current"]["state"]["reported"] == {"led": False}
    conflict = ask("update", {"state": {"reported": {"led": True}}, "version": 7, "clientToken": "u2"}, "rejected")
    assert conflict["code"] == 409 and conflict["clientToken"] == "u2"
    assert ask("update", {"state": {"reported": {"blob": "x" * 9000}}}, "rejected")["code"] == 413
    deep: dict = {"v": 1}
    for _ in range(6):
        deep = {"d": deep}
    assert ask("update", {"state": {"reported": deep}}, "rejected")["code"] == 400
    assert ask("update", {"state": {"reported": {}}, "clientToken": "t" * 65}, "rejected")["code"] == 400
    assert ask("update", {"state": 5}, "rejected")["code"] == 400
    assert ask("update", b"{not json", "rejected")["code"] == 400
    assert ask("update", {"state": {"reported": {"fw": "1"}}}, "accepted", shadow="cfg")["version"] == 1
    # A desired value the device has not reported: update/delta.
    ask("update", {"state": {"desired": {"led": True}}}, "accepted")
    delta = answers(r, pre + "update/delta")
    assert body(delta[0])["state"] == {"led": True} and body(delta[0])["version"] == 2
    # Delete keeps the version: the next update continues from it.
    assert ask("delete", {}, "accepted")["version"] == 2
    ask("get", {}, "rejected")
    assert ask("update", {"state": {"reported": {"led": True}}}, "accepted")["version"] == 3


def test_azure_twin_service_statuses_and_throttle(raw, broker):
    r = azure(raw, broker)
    r.subscribe("$iothub/twin/res/#")
    time.sleep(0.3)

    def patch(rid, doc):
        r.publish(f"$iothub/twin/PATCH/properties/reported/?$rid={rid}", json.dumps(doc))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            got = [m for m in list(r.got) if m.topic.startswith("$iothub/twin/res/") and f"$rid={rid}" in m.topic]
            if got:
                return got
            time.sleep(0.02)
        return []

    r.publish("$iothub/twin/GET/?$rid=g1", b"")
    got = [m for m in answers(r, "$iothub/twin/res/200/") if "$rid=g1" in m.topic]
    assert got and body(got[0]) == {"desired": {"$version": 1}, "reported": {"$version": 1}}
    ok = patch("p1", {"led": False})
    assert ok and ok[0].topic == "$iothub/twin/res/204/?$rid=p1&$version=2"
    for rid, doc in (("p2", {"bad.name": 1}), ("p3", {"bad name": 1}), ("p4", {"$bad": 1}),
                     ("p5", {"blob": "x" * (32 * 1024)})):
        got = patch(rid, doc)
        assert got and got[0].topic.startswith("$iothub/twin/res/400/"), (rid, got and got[0].topic)
    deep: dict = {"v": 1}
    for _ in range(10):
        deep = {"d": deep}
    got = patch("p6", deep)
    assert got and got[0].topic.startswith("$iothub/twin/res/400/")
    # S1: 50 twin updates a second; a burst beyond that gets 429.
    before = len(r.got)
    for i in range(80):
        r.publish(f"$iothub/twin/PATCH/properties/reported/?$rid=b{i}", b'{"n":1}', qos=0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(r.got) < before + 80:
        time.sleep(0.05)
    statuses = [m.topic.split("/")[3] for m in r.got[before:]]
    assert statuses.count("429") >= 1 and statuses.count("204") >= 40, statuses


def test_iothub_topics_are_per_connection(raw, broker, pki):
    """Two devices on the hub, each with its own `$iothub` traffic: the same
    rid, each its own twin answer; a desired patch reaches only its device."""
    other = "nimbus-azure-e2e-2"
    broker.registry.register(other, "azure", "sas", primary_key=KEY)
    a = azure(raw, broker)
    b = raw(other, broker.azure_sas, username=azure_username(HUB, other),
            password=sas_token(HUB, other, KEY, int(time.time()) + 600))
    assert b.accepted(), b.refused
    for r in (a, b):
        r.subscribe("$iothub/twin/res/#")
        r.subscribe("$iothub/twin/PATCH/properties/desired/#")
    time.sleep(0.3)
    api = broker.api_client()
    assert api.update_desired(other, {"only": "b"})[0] == 200
    b.publish("$iothub/twin/PATCH/properties/reported/?$rid=1", b'{"who":"b"}')
    a.publish("$iothub/twin/GET/?$rid=1", b"")
    b.publish("$iothub/twin/GET/?$rid=2", b"")
    got_a = answers(a, "$iothub/twin/res/200/")
    got_b = answers(b, "$iothub/twin/res/200/")
    time.sleep(0.5)
    assert len([m for m in a.got if m.topic.startswith("$iothub/twin/res/")]) == 1, [m.topic for m in a.got]
    assert body(got_a[0])["reported"] == {"$version": 1}
    assert body(got_b[0])["reported"] == {"who": "b", "$version": 2}
    assert [m.topic for m in b.got if "desired" in m.topic] == ["$iothub/twin/PATCH/properties/desired/?$version=2"]
    assert not [m for m in a.got if "desired" in m.topic]


def test_direct_methods_offline_silent_unknown(raw, broker):
    api = broker.api_client()
    status, err = api.invoke_method(AZURE_DEVICE, "ping", None, 5)
    assert status == 404 and "404103" in err["Message"], err  # registered, not connected
    status, err = api.invoke_method("nobody", "ping", None, 5)
    assert status == 404 and "404001" in err["Message"], err  # not registered
    r = azure(raw, broker)
    r.subscribe("$iothub/methods/POST/#", qos=0)
    time.sleep(0.3)
    t0 = time.monotonic()
    status, err = api.invoke_method(AZURE_DEVICE, "ping", {"x": 1}, 5)  # the device never answers
    assert status == 504 and "504101" in err["Message"] and time.monotonic() - t0 >= 5, err
    calls = answers(r, "$iothub/methods/POST/ping/?$rid=")
    assert calls and body(calls[0]) == {"x": 1}
    status, err = api.azure("POST", f"/twins/{AZURE_DEVICE}/methods", {"methodName": "ping",
                                                                       "responseTimeoutInSeconds": 1})
    assert status == 400, err  # 5 to 300 s


def test_service_apis_refuse_bad_credentials(broker):
    api = broker.api_client()
    # AWS: unsigned, wrong secret, stale date.
    assert api._call("GET", f"/things/{AWS_DEVICE}/shadow")[0] == 401
    path = f"/things/{AWS_DEVICE}/shadow"
    host = f"localhost:{broker.ports['api']}"
    h = sign_sigv4("GET", path, {"host": host}, b"", api.access_key, "wrong")
    status, err = api._call("GET", path, headers=h)
    assert status == 403 and "signature" in err["message"], err
    import datetime

    old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)
    h = sign_sigv4("GET", path, {"host": host}, b"", api.access_key, api.secret, now=old)
    assert api._call("GET", path, headers=h)[0] == 403
    h = sign_sigv4("GET", path, {"host": host}, b"", api.access_key, api.secret)
    assert api._call("GET", path, headers=h)[0] == 404  # signed right: no shadow yet
    # Azure: expired token, another hub, unknown policy.
    for token in (azure_sas(HUB, api.policy_key, int(time.time()) - 1, api.policy),
                  azure_sas("other.azure-devices.net", api.policy_key, int(time.time()) + 60, api.policy),
                  azure_sas(HUB, api.policy_key, int(time.time()) + 60, "nobody")):
        status, err = api._call("GET", f"/twins/{AZURE_DEVICE}?api-version=2021-04-12",
                                headers={"Authorization": token})
        assert status == 401 and "401002" in err["Message"], err
    assert api.twin(AZURE_DEVICE)[0] == 200


def test_state_survives_a_restart(broker, pki):
    api = broker.api_client()
    assert api.shadow(AWS_DEVICE, None, "POST", {"state": {"desired": {"led": True}}})[0] == 200
    assert api.update_desired(AZURE_DEVICE, {"period": 5})[0] == 200
    broker.close()
    again = LocalCloud(broker.work, pki, hub=HUB).start()
    try:
        api = again.api_client()
        status, doc = api.shadow(AWS_DEVICE)
        assert status == 200 and doc["state"]["desired"] == {"led": True} and doc["version"] == 1
        status, twin = api.twin(AZURE_DEVICE)
        assert status == 200 and twin["properties"]["desired"] == {"period": 5, "$version": 2}
        assert {d["id"] for d in again.registry.devices()} == {AWS_DEVICE, AZURE_DEVICE}
    finally:
        again.close()


def test_one_command_prints_endpoints_and_stops_cleanly(tmp_path, pki):
    proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "cloud" / "local.py"), "--dir", str(tmp_path),
                             "--pki", str(pki), "--hub", HUB, "--device", f"aws:{AWS_DEVICE}",
                             "--device", f"azure:{AZURE_DEVICE}"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        info = json.loads(line)
        assert set(info["ports"]) == {"aws", "azure", "azure_sas", "service", "api"}
        assert info["api"].startswith("https://localhost:") and info["hub"] == HUB
        assert info["azure_connection_string"].startswith(f"HostName={HUB};SharedAccessKeyName=iothubowner;")
        keys = json.load(open(info["credentials_file"]))
        api = ApiClient(info["api"], info["ca"], HUB, keys["azure_policies"], keys["aws_keys"])
        assert api.twin(AZURE_DEVICE)[0] == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def test_c2d_queue_of_50_delivered_in_order_once_subscribed(raw, broker, pki):
    """The hub keeps at most 50 C2D messages for a device; they wait (also
    across a restart of the local cloud) until it subscribes, then arrive
    in order at QoS 1."""
    api = broker.api_client()
    for i in range(50):
        status, err = api.send_c2d(AZURE_DEVICE, b"%d" % i, {"n": str(i)})
        assert status == 204, (i, err)
    status, err = api.send_c2d(AZURE_DEVICE, b"50")
    assert status == 403 and "403004" in err["Message"], err
    broker.close()
    again = LocalCloud(broker.work, pki, hub=HUB).start()
    try:
        r = Raw(again, pki, AZURE_DEVICE, again.azure, cert=AZURE_DEVICE, username=azure_username(HUB, AZURE_DEVICE))
        assert r.accepted(), r.refused
        r.subscribe(f"devices/{AZURE_DEVICE}/messages/devicebound/#")
        got = answers(r, f"devices/{AZURE_DEVICE}/messages/devicebound/", 50, timeout=10)
        assert [m.payload for m in got] == [b"%d" % i for i in range(50)]
        assert got[7].topic == f"devices/{AZURE_DEVICE}/messages/devicebound/n=7" and got[7].qos == 1
        assert again.services.c2d_waiting(AZURE_DEVICE) == 0
        # Subscribed: the next one goes straight through.
        assert again.api_client().send_c2d(AZURE_DEVICE, b"now")[0] == 204
        assert answers(r, f"devices/{AZURE_DEVICE}/messages/devicebound/", 51)[-1].payload == b"now"
        r.close()
    finally:
        again.close()
