"""A cloud application's view of one device on the local cloud
(tools/cloud/local.py), for the demo's driver and the tests.

The local cloud runs the services (shadow, twin, methods, C2D:
tools/cloud/services.py). An `AwsCloud` or `AzureCloud` watches what the
device publishes, as the service user on the broker, and acts through the
service APIs (tools/cloud/api.py): AWS requests on the generic request
topics, Azure direct methods and cloud-to-device messages, desired
changes, and the shadow/twin read back as `reported`.

A device's `$iothub/...` publishes reach the service user as
`$nimbus/from/<id>/$iothub/...` (the broker plugin routes them per
connection); the log shows them under their own topic.
"""

from __future__ import annotations

import json
import os
import ssl
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from services import encode_id, query  # noqa: E402


@dataclass
class Message:
    """One publish the cloud side received."""

    topic: str
    payload: bytes
    at: float = field(default_factory=time.monotonic)
    # Set when the broker delivers it again (its own retry, not the
    # device's: a publish the device sends again reaches the cloud as new).
    dup: bool = False

    def json(self):
        return json.loads(self.payload) if self.payload else None


class Cloud:
    """A connection to the broker with a log of received publishes.

    The cloud side connects like a cloud service would: with a persistent
    session (`clean_session=False`), so that publishes queued while it was
    away (a broker restart) still reach it, and it subscribes again after
    every reconnect. Every wait is bounded.
    """

    def __init__(self, host, port, device, ca=None, cert=None, key=None, client_id=None,
                 clean_session=False, timeout=10.0, username=None, password=None):
        self.device = device
        self.log: list[Message] = []
        self.cond = threading.Condition()
        self.filters: list[str] = []
        self.connected = threading.Event()
        self.suback = threading.Condition()
        self.pending_subs: set[int] = set()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"cloud-{device}",
                                  protocol=mqtt.MQTTv311, clean_session=clean_session)
        if username:
            self.client.username_pw_set(username, password)
        if ca:
            self.client.tls_set(ca_certs=ca, certfile=cert, keyfile=key, cert_reqs=ssl.CERT_REQUIRED)
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.connect(host, port, keepalive=60)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            self.close()
            raise TimeoutError(f"cloud: no CONNACK from {host}:{port} within {timeout} s")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, _client, _userdata, _flags, reason, _props):
        if reason.is_failure:
            return
        for f in self.filters:  # again after a reconnect
            self._send_subscribe(f)
        self.connected.set()

    def _on_disconnect(self, _client, _userdata, _flags, _reason, _props):
        self.connected.clear()

    def _on_subscribe(self, _client, _userdata, mid, _reasons, _props):
        with self.suback:
            self.pending_subs.discard(mid)
            self.suback.notify_all()

    def _send_subscribe(self, f):
        with self.suback:
            r, mid = self.client.subscribe(f, qos=1)
            if r == mqtt.MQTT_ERR_SUCCESS:
                self.pending_subs.add(mid)
        return r

    def subscribe(self, *filters, timeout=10.0):
        """Subscribes at QoS 1 and waits for the SUBACKs."""
        for f in filters:
            self.filters.append(f)
            r = self._send_subscribe(f)
            assert r == mqtt.MQTT_ERR_SUCCESS, f
        deadline = time.monotonic() + timeout
        with self.suback:
            while self.pending_subs:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"cloud: no SUBACK for {filters}")
                self.suback.wait(left)

    def publish(self, topic, payload=b"", qos=1, wait=True):
        """Publishes; waits (bounded) for the broker's PUBACK unless `wait`
        is false (always false from `handle`, which runs on paho's thread)."""
        if isinstance(payload, (dict, list)):
            payload = json.dumps(payload, separators=(",", ":"))
        info = self.client.publish(topic, payload, qos=qos)
        if wait:
            info.wait_for_publish(timeout=5)

    def _on_message(self, _client, _userdata, msg):
        topic = msg.topic
        if topic.startswith("$nimbus/from/"):  # the plugin's routing: show the device's own topic
            topic = topic[len("$nimbus/from/"):].partition("/")[2]
        m = Message(topic, bytes(msg.payload), dup=bool(msg.dup))
        self.handle(m)
        with self.cond:
            self.log.append(m)
            self.cond.notify_all()

    def handle(self, m: Message):
        """Plays the cloud's part for one incoming publish (subclasses)."""

    def wait_for(self, pred, timeout=10.0, after=0):
        """The first logged message (from index `after`) matching `pred`, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.log[after:]:
                    if pred(m):
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.log)

    def messages(self, after=0):
        """A copy of the log from index `after`."""
        with self.cond:
            return list(self.log[after:])

    def wait_reported(self, key, value, timeout=10.0) -> bool:
        """Whether the service's reported state holds key = value within
        `timeout` (the service applies a report after the watcher saw it)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.reported.get(key) == value:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    @staticmethod
    def seqs(messages):
        """The `seq` of each JSON reading in `messages`."""
        out = []
        for m in messages:
            try:
                body = m.json()
            except ValueError:
                continue
            if isinstance(body, dict) and isinstance(body.get("seq"), int):
                out.append(body["seq"])
        return out


class AwsCloud(Cloud):
    """An AWS thing as a cloud application sees it: its generic topics and
    shadow topics watched, requests sent on `<dev>/request/<path>`, the
    shadow read and changed through the data-plane API."""

    def __init__(self, *a, api=None, **kw):
        super().__init__(*a, **kw)
        self.api = api
        self.thing = self.device
        self.prefix = f"$aws/things/{self.thing}/shadow/"
        self.lock = threading.Lock()
        # Not `<dev>/#`: that would echo the requests the cloud sends itself.
        self.subscribe(f"{self.device}/response/#", f"{self.device}/events", self.prefix + "#")

    def document(self, name: str | None = None) -> dict:
        """The shadow's state ({} when it does not exist)."""
        status, doc = self.api.shadow(self.thing, name)
        if status == 404:
            return {}
        assert status == 200, (status, doc)
        return doc

    @property
    def reported(self) -> dict:
        return self.document().get("state", {}).get("reported", {})

    @property
    def desired(self) -> dict:
        return self.document().get("state", {}).get("desired", {})

    @property
    def version(self) -> int:
        return self.document().get("version", 0)

    def set_desired(self, props: dict, name: str | None = None):
        """What a cloud application does to change the device's settings."""
        status, body = self.api.shadow(self.thing, name, "POST", {"state": {"desired": props}})
        assert status == 200, (status, body)

    def request(self, path, payload=b"", timeout=10.0):
        """Sends a request on the generic topic; returns (status, body) of the answer or None."""
        mark = self.mark()
        self.publish(f"{self.device}/request/{path}", payload)
        want = f"{self.device}/response/{path}"
        m = self.wait_for(lambda m: m.topic == want, timeout, after=mark)
        if m is None:
            return None
        body = m.json()
        # On a request topic the status travels only in an error body.
        status = body.get("status") if isinstance(body, dict) else None
        return (status if isinstance(status, int) else 200), body

    def telemetry(self, after=0):
        pre = f"{self.device}/response/sensor/"
        return [m for m in self.messages(after) if m.topic.startswith(pre) and m.topic.endswith("/reading")]


class AzureCloud(Cloud):
    """An IoT Hub device as a cloud application sees it: its device-to-cloud
    messages and `$iothub` traffic watched, direct methods, C2D messages and
    desired changes sent through the hub's service API."""

    def __init__(self, *a, api=None, **kw):
        super().__init__(*a, **kw)
        self.api = api
        self.lock = threading.Lock()
        self.subscribe(f"devices/{self.device}/messages/events/#", f"$nimbus/from/{encode_id(self.device)}/#")

    query = staticmethod(query)

    def twin(self) -> dict:
        status, twin = self.api.twin(self.device)
        assert status == 200, (status, twin)
        return twin["properties"]

    @property
    def reported(self) -> dict:
        return {k: v for k, v in self.twin()["reported"].items() if not k.startswith("$")}

    @property
    def desired(self) -> dict:
        return {k: v for k, v in self.twin()["desired"].items() if not k.startswith("$")}

    def set_desired(self, props: dict):
        status, body = self.api.update_desired(self.device, props)
        assert status == 200, (status, body)

    def publish(self, topic, payload=b"", qos=1, wait=True):
        """A `$iothub/...` topic goes to this device's connection only."""
        if topic.startswith("$iothub/"):
            topic = f"$nimbus/to/{encode_id(self.device)}/{topic}"
        super().publish(topic, payload, qos, wait)

    def call_method(self, name, payload=b"", timeout=10.0):
        """Calls a direct method; returns (status, body) of the answer or None."""
        if isinstance(payload, (bytes, str)):
            payload = json.loads(payload) if payload else None
        status, body = self.api.invoke_method(self.device, name, payload, max(5, int(timeout)))
        if status != 200:
            return None
        return body["status"], body["payload"]

    def request(self, path, payload=b"", timeout=10.0):
        return self.call_method(path.replace("/", "."), payload, timeout)

    def send_c2d(self, path, payload=b"", timeout=10.0):
        """Sends a C2D request; returns the device's answer message or None."""
        mark = self.mark()
        if isinstance(payload, str):
            payload = payload.encode()
        status, body = self.api.send_c2d(self.device, payload, {"subtopic": "request." + path.replace("/", ".")})
        assert status == 204, (status, body)
        want = "subtopic=response." + path.replace("/", ".")
        return self.wait_for(lambda m: m.topic.startswith(f"devices/{self.device}/messages/events/")
                             and want in m.topic, timeout, after=mark)

    def telemetry(self, after=0):
        pre = f"devices/{self.device}/messages/events/"
        return [m for m in self.messages(after) if m.topic.startswith(pre) and ".reading" in m.topic]
