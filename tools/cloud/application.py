"""The cloud side of Nimbus, played on a local MQTT broker.

`AwsCloud` answers like AWS IoT Core's device shadow service and sends
requests on the generic request topics; `AzureCloud` answers like Azure IoT
Hub's twin service, calls direct methods and sends cloud-to-device
messages. Both record what the device publishes (telemetry, responses,
reported state), so a driver or a test can check it.

Only the parts of each service that Nimbus uses are played; the topics and
payloads follow ARCHITECTURE.md sections 3 and 4.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt


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


def merge(doc: dict, patch: dict) -> dict:
    """JSON merge patch as both clouds apply it: null deletes a key."""
    for k, v in patch.items():
        if v is None:
            doc.pop(k, None)
        elif isinstance(v, dict) and isinstance(doc.get(k), dict):
            merge(doc[k], v)
        else:
            doc[k] = json.loads(json.dumps(v))
    return doc


def delta(desired: dict, reported: dict) -> dict:
    """What AWS puts in `update/delta`: desired values that reported lacks."""
    out = {}
    for k, v in desired.items():
        if isinstance(v, dict) and isinstance(reported.get(k), dict):
            d = delta(v, reported[k])
            if d:
                out[k] = d
        elif reported.get(k) != v:
            out[k] = v
    return out


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
        m = Message(msg.topic, bytes(msg.payload), dup=bool(msg.dup))
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
    """AWS IoT Core: generic topics and the device shadow service."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.thing = self.device
        self.prefix = f"$aws/things/{self.thing}/shadow/"
        self.desired: dict = {}
        self.reported: dict = {}
        self.version = 0
        self.lock = threading.Lock()
        # Not `<dev>/#`: that would echo the requests the cloud sends itself.
        self.subscribe(f"{self.device}/response/#", f"{self.device}/events",
                       self.prefix + "update", self.prefix + "get")

    def handle(self, m):
        if not m.topic.startswith(self.prefix):
            return
        op = m.topic[len(self.prefix):]
        try:
            body = m.json() or {}
        except ValueError:
            body = None
        token = body.get("clientToken") if isinstance(body, dict) else None
        if op == "get":
            with self.lock:
                doc = {"state": {"desired": self.desired, "reported": self.reported}, "version": self.version,
                       "timestamp": int(time.time())}
                d = delta(self.desired, self.reported)
                if d:
                    doc["state"]["delta"] = d
            if token:
                doc["clientToken"] = token
            self.publish(self.prefix + "get/accepted", doc, wait=False)
        elif op == "update":
            state = body.get("state") if isinstance(body, dict) else None
            if not isinstance(state, dict):
                err = {"code": 400, "message": "Missing required node: state"}
                if token:
                    err["clientToken"] = token
                self.publish(self.prefix + "update/rejected", err, wait=False)
                return
            self._apply(state, token)

    def _apply(self, state, token=None, wait=False):
        with self.lock:
            if "desired" in state:
                merge(self.desired, state["desired"] or {})
            if "reported" in state:
                merge(self.reported, state["reported"] or {})
            self.version += 1
            v = self.version
            d = delta(self.desired, self.reported)
        acc = {"state": state, "version": v, "timestamp": int(time.time())}
        if token:
            acc["clientToken"] = token
        self.publish(self.prefix + "update/accepted", acc, wait=wait)
        if "desired" in state and d:
            self.publish(self.prefix + "update/delta", {"state": d, "version": v, "timestamp": int(time.time())},
                         wait=wait)

    def set_desired(self, props: dict):
        """What a cloud application does to change the device's settings."""
        self._apply({"desired": props}, wait=True)

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
    """Azure IoT Hub: device-to-cloud events, direct methods, C2D, twin."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.desired: dict = {}
        self.reported: dict = {}
        self.desired_version = 1
        self.reported_version = 1
        self.lock = threading.Lock()
        self.next_rid = 0x1F
        self.subscribe(f"devices/{self.device}/messages/events/#", "$iothub/twin/GET/#",
                       "$iothub/twin/PATCH/properties/reported/#", "$iothub/methods/res/#")

    @staticmethod
    def query(topic):
        q = topic.split("?", 1)[1] if "?" in topic else ""
        return dict(urllib.parse.parse_qsl(q, keep_blank_values=True))

    def handle(self, m):
        if m.topic.startswith("$iothub/twin/GET/"):
            rid = self.query(m.topic).get("$rid", "")
            with self.lock:
                doc = {"desired": dict(self.desired, **{"$version": self.desired_version}),
                       "reported": dict(self.reported, **{"$version": self.reported_version})}
            self.publish(f"$iothub/twin/res/200/?$rid={rid}", doc, wait=False)
        elif m.topic.startswith("$iothub/twin/PATCH/properties/reported/"):
            rid = self.query(m.topic).get("$rid", "")
            try:
                patch = m.json()
                assert isinstance(patch, dict)
            except (ValueError, AssertionError):
                self.publish(f"$iothub/twin/res/400/?$rid={rid}", {"message": "bad patch"}, wait=False)
                return
            with self.lock:
                merge(self.reported, patch)
                self.reported_version += 1
                v = self.reported_version
            self.publish(f"$iothub/twin/res/204/?$rid={rid}&$version={v}", b"", wait=False)

    def set_desired(self, props: dict):
        with self.lock:
            merge(self.desired, props)
            self.desired_version += 1
            v = self.desired_version
        self.publish(f"$iothub/twin/PATCH/properties/desired/?$version={v}", dict(props, **{"$version": v}))

    def call_method(self, name, payload=b"", timeout=10.0):
        """Calls a direct method; returns (status, body) of the answer or None."""
        rid = format(self.next_rid, "x")
        self.next_rid += 1
        mark = self.mark()
        self.publish(f"$iothub/methods/POST/{name}/?$rid={rid}", payload)
        m = self.wait_for(lambda m: m.topic.startswith("$iothub/methods/res/")
                          and self.query(m.topic).get("$rid") == rid, timeout, after=mark)
        if m is None:
            return None
        status = int(m.topic.split("/")[3])
        return status, m.json()

    def request(self, path, payload=b"", timeout=10.0):
        return self.call_method(path.replace("/", "."), payload, timeout)

    def send_c2d(self, path, payload=b"", timeout=10.0):
        """Sends a C2D request; returns the device's answer message or None."""
        mark = self.mark()
        sub = "request." + path.replace("/", ".")
        self.publish(f"devices/{self.device}/messages/devicebound/subtopic={sub}", payload)
        want = "subtopic=response." + path.replace("/", ".")
        return self.wait_for(lambda m: m.topic.startswith(f"devices/{self.device}/messages/events/")
                             and want in m.topic, timeout, after=mark)

    def telemetry(self, after=0):
        pre = f"devices/{self.device}/messages/events/"
        return [m for m in self.messages(after) if m.topic.startswith(pre) and ".reading" in m.topic]
