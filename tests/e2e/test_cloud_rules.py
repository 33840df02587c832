"""The local cloud treats a client that breaks a rule as the real cloud
would (ARCHITECTURE.md sections 3 and 4; tools/cloud/broker/nimbus_rules.c):
a forbidden topic, QoS 2, an oversized message, a bad identity or token,
too many CONNECTs, a second connection. Each test plays the misbehaving
device itself with a raw MQTT client, so that the rule - not the device
library's own guard - is what is tested, and checks what the client saw
(no acknowledgement, a closed connection, a refused CONNACK), that nothing
reached the cloud side, and the violation the local cloud logged.
"""

from __future__ import annotations

import ssl
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import AWS_DEVICE, AZURE_DEVICE, HUB, azure_username, sas_token
from application import Cloud

KEY = "bmltYnVzLWUyZS1kZXZpY2Uta2V5LTMyLWJ5dGVzISE="


class Raw:
    """One MQTT 3.1.1 connection that does exactly what the test says; its
    network loop runs on a thread until the connection ends (no reconnect)."""

    def __init__(self, broker, pki, client_id, port, cert=None, username=None, password=None):
        self.connack = threading.Event()
        self.refused = None  # CONNACK reason when refused
        self.gone = threading.Event()
        self.acked: set[int] = set()
        self.granted: dict[int, list[int]] = {}
        self.got: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.tls_set(ca_certs=str(pki / "ca.crt"),
                            certfile=str(pki / f"{cert}.crt") if cert else None,
                            keyfile=str(pki / f"{cert}.key") if cert else None, cert_reqs=ssl.CERT_REQUIRED)
        self.client.tls_insecure_set(False)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.gone.set()
        self.client.on_publish = lambda _c, _u, mid, _rc, _p: self.acked.add(mid)
        self.client.on_subscribe = lambda _c, _u, mid, rcs, _p: self.granted.__setitem__(
            mid, [r.value for r in rcs])
        self.client.on_message = lambda _c, _u, m: self.got.append(m)
        self.stop = threading.Event()
        # One thread at a time on the TLS socket: paho writes a publish
        # from the caller's thread when no loop thread of its own runs,
        # and OpenSSL does not take a read and a write at once.
        self.io = threading.Lock()
        self.client.connect("localhost", port, keepalive=30)
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _on_connect(self, _c, _u, _flags, reason, _props):
        if reason.is_failure:
            self.refused = reason.value
        self.connack.set()

    def _loop(self):
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            with self.io:
                rc = self.client.loop(0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                break
        self.gone.set()

    def accepted(self, timeout=5.0) -> bool:
        return self.connack.wait(timeout) and self.refused is None

    def publish(self, topic, payload=b"", qos=1) -> int:
        with self.io:
            return self.client.publish(topic, payload, qos=qos).mid

    def subscribe(self, topic, qos=1) -> int:
        with self.io:
            return self.client.subscribe(topic, qos=qos)[1]

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        try:
            self.client.disconnect()
        except Exception:
            pass


@pytest.fixture
def raw(broker, pki):
    made = []

    def make(client_id, port, **kw):
        r = Raw(broker, pki, client_id, port, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def watcher(broker):
    """The cloud side, subscribed to everything a device could publish."""
    c = Cloud("127.0.0.1", broker.service, "rules", username=broker.service_user,
              password=broker.service_password, client_id="rules-watcher")
    c.subscribe("#", "$aws/#", "$iothub/#", "$nimbus/#")  # a device's $iothub traffic: $nimbus/from/<id>/...
    yield c
    c.close()


def aws(raw, broker, **kw):
    r = raw(AWS_DEVICE, broker.aws, cert=AWS_DEVICE, **kw)
    assert r.accepted(), r.refused
    return r


def azure(raw, broker, **kw):
    r = raw(AZURE_DEVICE, broker.azure, cert=AZURE_DEVICE, username=azure_username(HUB, AZURE_DEVICE), **kw)
    assert r.accepted(), r.refused
    return r


def dropped_without_ack(r, mid, timeout=3.0):
    """The connection ended and `mid` was never acknowledged."""
    return r.gone.wait(timeout) and mid not in r.acked and mid not in r.granted


def last_violation(broker, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = broker.violations()
        if v:
            return v[-1]
        time.sleep(0.05)
    return None


def nothing_reached(watcher, topic, wait=0.5):
    time.sleep(wait)
    return not [m for m in watcher.messages() if m.topic == topic]


# ------------------------------------------------------------------ AWS


@pytest.mark.parametrize("topic, code", [
    (f"$aws/things/other-thing/shadow/update", "AUTH_ERROR"),          # another thing's shadow
    (f"$aws/things/{AWS_DEVICE}/shadow/update/accepted", "AUTH_ERROR"),  # the service's topic
    ("$aws/events/presence/connected/x", "CLIENT_ERROR"),              # subscribe-only
    ("$iothub/twin/GET/?$rid=1", "CLIENT_ERROR"),                       # `$` is reserved on AWS
    ("a/b/c/d/e/f/g/h/i", "CLIENT_ERROR"),                              # 8 slashes
    ("t" * 257, "CLIENT_ERROR"),                                        # > 256 bytes
])
def test_aws_forbidden_publish_ends_the_connection(topic, code, raw, broker, watcher):
    broker.expect_violations()
    r = aws(raw, broker)
    mid = r.publish(topic, b"{}")
    assert dropped_without_ack(r, mid)
    v = last_violation(broker)
    assert v and v["cloud"] == "aws" and v["client"] == AWS_DEVICE and v["code"] == code, v
    assert v["topic"] == topic
    assert nothing_reached(watcher, topic)


def test_aws_allowed_topics_are_acknowledged(raw, broker, watcher):
    r = aws(raw, broker)
    topics = [f"{AWS_DEVICE}/events", "a/b/c/d/e/f/g/h", "t" * 256, f"$aws/things/{AWS_DEVICE}/shadow/get",
              f"$aws/things/{AWS_DEVICE}/shadow/name/cfg/update", f"$aws/rules/ingest/{AWS_DEVICE}"]
    mids = [r.publish(t, b"{}") for t in topics]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not set(mids) <= r.acked:
        time.sleep(0.05)
    assert set(mids) <= r.acked and not r.gone.is_set()
    mid = r.subscribe(f"$aws/things/{AWS_DEVICE}/shadow/#")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and mid not in r.granted:
        time.sleep(0.05)
    assert r.granted.get(mid) == [1]
    assert not broker.violations()


def test_aws_payload_limit_is_128_kb(raw, broker, watcher):
    broker.expect_violations()
    r = aws(raw, broker)
    ok = r.publish(f"{AWS_DEVICE}/events", b"x" * (128 * 1024))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and ok not in r.acked:
        time.sleep(0.05)
    assert ok in r.acked
    big = r.publish(f"{AWS_DEVICE}/big", b"x" * (128 * 1024 + 1))
    assert dropped_without_ack(r, big)
    assert last_violation(broker)["code"] == "CLIENT_ERROR"
    assert nothing_reached(watcher, f"{AWS_DEVICE}/big")


@pytest.mark.parametrize("what", ["publish", "subscribe"])
def test_aws_qos2_gets_no_acknowledgement(what, raw, broker, watcher):
    broker.expect_violations()
    r = aws(raw, broker)
    mid = r.publish(f"{AWS_DEVICE}/q2", b"{}", qos=2) if what == "publish" else r.subscribe("cmd/#", qos=2)
    assert dropped_without_ack(r, mid)
    assert "QoS 2" in last_violation(broker)["message"]
    assert nothing_reached(watcher, f"{AWS_DEVICE}/q2")


def test_aws_one_connect_per_second_per_client_id(raw, broker):
    broker.expect_violations()
    first = aws(raw, broker)
    first.close()
    second = raw(AWS_DEVICE, broker.aws, cert=AWS_DEVICE)
    assert second.connack.wait(5) and second.refused is not None  # within the second: throttled
    assert last_violation(broker)["code"] == "THROTTLED"
    time.sleep(1.1)
    assert aws(raw, broker)


def test_aws_needs_a_certificate_whose_thing_is_the_client_id(raw, broker, pki):
    broker.expect_violations()
    other = raw(AWS_DEVICE, broker.aws, cert=AZURE_DEVICE)  # a valid certificate of another identity
    assert other.connack.wait(5) and other.refused is not None
    assert "certificate's thing" in last_violation(broker)["message"]
    time.sleep(1.1)
    none = raw(AWS_DEVICE, broker.azure_sas)  # TLS without a client certificate
    assert none.connack.wait(5) and none.refused is not None
    assert "X.509" in last_violation(broker)["message"]
    stranger = raw("not-registered", broker.aws, cert=AWS_DEVICE)
    assert stranger.connack.wait(5) and stranger.refused is not None
    assert last_violation(broker)["client"] == "not-registered"


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_a_second_connection_drops_the_first(kind, raw, broker):
    first = aws(raw, broker) if kind == "aws" else azure(raw, broker)
    if kind == "aws":
        time.sleep(1.1)  # the CONNECT throttle
    second = aws(raw, broker) if kind == "aws" else azure(raw, broker)
    assert first.gone.wait(3)
    assert not second.gone.is_set()


# ---------------------------------------------------------------- Azure


@pytest.mark.parametrize("topic", [
    f"devices/other-device/messages/events/",                  # another device
    f"devices/{AZURE_DEVICE}/messages/devicebound/x",          # the service's direction
    f"{AZURE_DEVICE}/events",                                  # a free topic: AWS style
    "$iothub/twin/PATCH/properties/reported/",                 # no $rid
    "$iothub/methods/res/abc/?$rid=1",                         # status not a number
    "$iothub/twin/PATCH/properties/desired/?$version=2",       # the service's topic
])
def test_azure_any_other_topic_drops_the_connection_without_a_word(topic, raw, broker, watcher):
    broker.expect_violations()
    r = azure(raw, broker)
    mid = r.publish(topic, b"{}")
    assert dropped_without_ack(r, mid)
    v = last_violation(broker)
    assert v and v["cloud"] == "azure" and v["client"] == AZURE_DEVICE and v["topic"] == topic, v
    assert nothing_reached(watcher, topic)


def test_azure_documented_topics_are_acknowledged(raw, broker, watcher):
    r = azure(raw, broker)
    topics = [f"devices/{AZURE_DEVICE}/messages/events/", f"devices/{AZURE_DEVICE}/messages/events/a=1&%24.ct=x",
              "$iothub/twin/GET/?$rid=7", "$iothub/twin/PATCH/properties/reported/?$rid=8",
              "$iothub/methods/res/200/?$rid=9"]
    mids = [r.publish(t, b"{}") for t in topics]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not set(mids) <= r.acked:
        time.sleep(0.05)
    assert set(mids) <= r.acked and not r.gone.is_set()
    assert not broker.violations()


@pytest.mark.parametrize("topic", ["#", "devices/other-device/messages/devicebound/#", "$iothub/#"])
def test_azure_subscribing_elsewhere_drops_the_connection(topic, raw, broker):
    broker.expect_violations()
    r = azure(raw, broker)
    mid = r.subscribe(topic)
    assert dropped_without_ack(r, mid)
    assert last_violation(broker)["topic"] == topic


def test_azure_qos2_subscribe_is_granted_qos1_and_qos2_publish_drops(raw, broker, watcher):
    broker.expect_violations()
    r = azure(raw, broker)
    mid = r.subscribe("$iothub/methods/POST/#", qos=2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and mid not in r.granted:
        time.sleep(0.05)
    assert r.granted.get(mid) == [1]
    topic = f"devices/{AZURE_DEVICE}/messages/events/"
    pub = r.publish(topic, b"{}", qos=2)
    assert dropped_without_ack(r, pub)
    assert "QoS 2" in last_violation(broker)["message"]
    assert nothing_reached(watcher, topic)


def test_azure_d2c_limit_is_256_kb(raw, broker, watcher):
    broker.expect_violations()
    r = azure(raw, broker)
    topic = f"devices/{AZURE_DEVICE}/messages/events/"
    ok = r.publish(topic, b"x" * (256 * 1024))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and ok not in r.acked:
        time.sleep(0.05)
    assert ok in r.acked
    big = r.publish(topic + "big=1", b"x" * (256 * 1024 + 1))
    assert dropped_without_ack(r, big)
    assert last_violation(broker)["code"] == "413001 RequestEntityTooLarge"
    assert nothing_reached(watcher, topic + "big=1")


@pytest.mark.parametrize("username", [
    f"{HUB}/{AZURE_DEVICE}/",                                  # no api-version
    f"other-hub.azure-devices.net/{AZURE_DEVICE}/?api-version=2021-04-12",
    f"{HUB}/other-device/?api-version=2021-04-12",
    None,
])
def test_azure_user_name_must_name_hub_device_and_api_version(username, raw, broker):
    broker.expect_violations()
    r = raw(AZURE_DEVICE, broker.azure, cert=AZURE_DEVICE, username=username)
    assert r.connack.wait(5) and r.refused is not None
    assert last_violation(broker)["code"] == "401003 IoTHubUnauthorized"


def test_azure_sas_tokens_are_checked(raw, broker):
    broker.expect_violations()
    broker.use_sas(AZURE_DEVICE, KEY)
    user = azure_username(HUB, AZURE_DEVICE)
    now = int(time.time())
    cases = [
        (sas_token(HUB, AZURE_DEVICE, KEY, now - 1), "expired"),
        (sas_token(HUB, "other-device", KEY, now + 60), "sr does not name"),
        (sas_token("other.azure-devices.net", AZURE_DEVICE, KEY, now + 60), "sr does not name"),
        (sas_token(HUB, AZURE_DEVICE, KEY, now + 60).replace(f"se={now + 60}", f"se={now + 99}"), "signature"),
        ("not a token", "SharedAccessSignature"),
    ]
    for token, why in cases:
        r = raw(AZURE_DEVICE, broker.azure_sas, username=user, password=token)
        assert r.connack.wait(5) and r.refused is not None, why
        v = last_violation(broker)
        assert v["code"] == "401003 IoTHubUnauthorized" and why in v["message"], (why, v)
        assert "sig=" not in v["message"]
    good = raw(AZURE_DEVICE, broker.azure_sas, username=user, password=sas_token(HUB, AZURE_DEVICE, KEY, now + 60))
    assert good.accepted()


def test_azure_closes_the_connection_when_the_token_expires(raw, broker):
    broker.expect_violations()
    broker.use_sas(AZURE_DEVICE, KEY)
    expiry = int(time.time()) + 3
    r = raw(AZURE_DEVICE, broker.azure_sas, username=azure_username(HUB, AZURE_DEVICE),
            password=sas_token(HUB, AZURE_DEVICE, KEY, expiry))
    assert r.accepted()
    assert not r.gone.wait(max(0.0, expiry - time.time() - 0.5))  # still up just before
    assert r.gone.wait(3)                                           # dropped at expiry
    assert time.time() >= expiry
    v = last_violation(broker)
    assert v["code"] == "401003 IoTHubUnauthorized" and "expired" in v["message"], v


def test_an_x509_device_must_present_its_own_certificate(raw, broker):
    broker.expect_violations()
    r = raw(AZURE_DEVICE, broker.azure, cert=AWS_DEVICE, username=azure_username(HUB, AZURE_DEVICE))
    assert r.connack.wait(5) and r.refused is not None
    assert "CN" in last_violation(broker)["message"]
    broker.registry.set_enabled(AZURE_DEVICE, False)
    r = raw(AZURE_DEVICE, broker.azure, cert=AZURE_DEVICE, username=azure_username(HUB, AZURE_DEVICE))
    assert r.connack.wait(5) and r.refused is not None
    assert "disabled" in last_violation(broker)["message"]
