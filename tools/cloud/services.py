"""The local cloud's services: what AWS IoT Core and Azure IoT Hub run
behind their brokers, played for every registered device.

- AWS Device Shadow service, classic and named shadows, on
  `$aws/things/<thing>/shadow/[name/<shadow>/](get|update|delete)`, with the
  rules AWS documents: a shadow that does not exist answers 404; `state`
  and its `desired`/`reported` must be objects; a `version` other than the
  current one gets 409; a clientToken over 64 bytes, nesting deeper than 6
  or a document over 8 KB is rejected with AWS's codes and messages; an
  accepted update publishes `update/accepted`, `update/documents` and, when
  desired and reported differ, `update/delta`.
- The seed's AWS response rule: every `<dev>/response/#` message is stored
  with its topic, payload and time in the `responses` table.
- Azure IoT Hub twin service: GET, reported PATCH (32 KB, depth 10,
  property names at most 1 KB without `.`, `$`, space or control
  characters: 400), twin reads and updates throttled per device as on S1
  (100 and 50 a second: 429), desired patches sent to a connected device.
- Azure direct methods: a call waits for the device's answer or its
  timeout (504); a device that is not connected answers 404 at once.
- Azure cloud-to-device messages: the hub's queue of at most 50 per
  device (the 51st is refused, 403004 DeviceMaximumQueueDepthExceeded),
  kept in the state file while the device is offline or not subscribed,
  delivered in order at QoS 1 once it subscribes to its devicebound
  topic; from there the broker holds each in the device's session until
  its PUBACK, which completes it (at least once).

Each hub connection has its own `$iothub/...` topics; the broker plugin
(tools/cloud/broker/nimbus_rules.c) routes them: the services receive a
device's as `$nimbus/from/<id>/...` and answer on `$nimbus/to/<id>/...`,
and they learn who is connected from `$nimbus/presence/<id>`.

State (shadows, twins, responses) lives in a SQLite file, so a restart of
the local cloud loses nothing. The HTTPS service APIs (tools/cloud/api.py)
call the methods of `Services`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.parse

import paho.mqtt.client as mqtt

SCHEMA = """
CREATE TABLE IF NOT EXISTS shadows (
    thing    TEXT NOT NULL,
    name     TEXT NOT NULL,                 -- '' for the classic shadow
    desired  TEXT NOT NULL DEFAULT '{}',
    reported TEXT NOT NULL DEFAULT '{}',
    version  INTEGER NOT NULL DEFAULT 0,
    present  INTEGER NOT NULL DEFAULT 0,    -- deleted shadows keep their version
    PRIMARY KEY (thing, name)
);
CREATE TABLE IF NOT EXISTS twins (
    device           TEXT PRIMARY KEY,
    desired          TEXT NOT NULL DEFAULT '{}',
    reported         TEXT NOT NULL DEFAULT '{}',
    desired_version  INTEGER NOT NULL DEFAULT 1,
    reported_version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS responses (      -- the seed's AWS rule: <dev>/response/#
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    device   TEXT NOT NULL,
    topic    TEXT NOT NULL,
    payload  BLOB NOT NULL,
    received REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_by_device ON responses (device, id);
CREATE TABLE IF NOT EXISTS c2d (            -- the hub's C2D queue, until handed to the session
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    device   TEXT NOT NULL,
    topic    TEXT NOT NULL,
    payload  BLOB NOT NULL,
    enqueued REAL NOT NULL
);
"""

SHADOW_MAX = 8 * 1024  # desired + reported, AWS
SHADOW_DEPTH_MAX = 6
TOKEN_MAX = 64
TWIN_MAX = 32 * 1024  # each of desired and reported, Azure
TWIN_DEPTH_MAX = 10
PROPERTY_NAME_MAX = 1024
TWIN_UPDATES_PER_S = 50  # S1
TWIN_READS_PER_S = 100
C2D_QUEUE_MAX = 50  # per device
C2D_MAX = 64 * 1024
# The broker says a device subscribes before the subscription exists;
# delivery waits this long after it.
C2D_READY_DELAY_S = 0.3
PRESENCE_GRACE_S = 1.0


class ServiceError(Exception):
    """A request a service refuses: an HTTP-style status, the cloud's error
    code (AWS shadow code, or the hub's errorCode) and its message."""

    def __init__(self, status: int, message: str, code: int | str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code if code is not None else status


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


def depth(value) -> int:
    """How deep objects nest inside `value` (an object of scalars: 1)."""
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((depth(v) for v in value), default=0)
    return 0


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def encode_id(client_id: str) -> str:
    """A client id as the broker plugin writes it in `$nimbus/...` topics."""
    return urllib.parse.quote(client_id, safe="")


def query(topic: str) -> dict:
    q = topic.split("?", 1)[1] if "?" in topic else ""
    return dict(urllib.parse.parse_qsl(q, keep_blank_values=True))


class Bucket:
    """A token bucket: `rate` operations a second, bursts up to `rate`."""

    def __init__(self, rate: float):
        self.rate = rate
        self.tokens = rate
        self.at = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Services:
    """The services of both clouds on one broker, as the service user."""

    CLIENT_ID = "nimbus-local-services"

    def __init__(self, host: str, port: int, user: str, password: str, state: str,
                 twin_updates_per_s: float = TWIN_UPDATES_PER_S, twin_reads_per_s: float = TWIN_READS_PER_S,
                 timeout: float = 10.0):
        self.db = sqlite3.connect(state, check_same_thread=False, timeout=5, isolation_level=None)
        self.db.executescript(SCHEMA)
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rates = (twin_updates_per_s, twin_reads_per_s)
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.present: dict[str, bool] = {}
        self.c2d_ready: set[str] = set()
        self.method_answers: dict[tuple[str, str], tuple[int, bytes]] = {}
        self.next_rid = int(time.time() * 1000) & 0xFFFFFF
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.CLIENT_ID,
                                  protocol=mqtt.MQTTv311, clean_session=False)
        self.client.username_pw_set(user, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.connect(host, port, keepalive=60)
        self.client.loop_start()
        if not (self.connected.wait(timeout) and self.subscribed.wait(timeout)):
            self.close()
            raise TimeoutError(f"services: not connected to {host}:{port} within {timeout} s")

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()
        self.db.close()

    FILTERS = (
        "$aws/things/+/shadow/get", "$aws/things/+/shadow/update", "$aws/things/+/shadow/delete",
        "$aws/things/+/shadow/name/+/get", "$aws/things/+/shadow/name/+/update",
        "$aws/things/+/shadow/name/+/delete",
        "+/response/#",
        "$nimbus/from/#", "$nimbus/presence/#", "$nimbus/c2d-ready/#",
    )

    def _on_connect(self, _c, _u, _flags, reason, _props):
        if reason.is_failure:
            return
        self.client.subscribe([(f, 1) for f in self.FILTERS])
        self.connected.set()

    def _on_disconnect(self, *_):
        self.connected.clear()
        with self.cond:
            self.present.clear()  # the broker went away, and every device with it
            self.c2d_ready.clear()

    def _on_message(self, _c, _u, msg):
        topic, payload = msg.topic, bytes(msg.payload)
        try:
            if topic.startswith("$aws/things/"):
                self._shadow_request(topic, payload)
            elif topic.startswith("$nimbus/presence/"):
                dev = urllib.parse.unquote(topic[len("$nimbus/presence/"):])
                with self.cond:
                    self.present[dev] = payload == b"1"
                    if payload != b"1":
                        self.c2d_ready.discard(dev)
                    self.cond.notify_all()
            elif topic.startswith("$nimbus/c2d-ready/"):
                dev = urllib.parse.unquote(topic[len("$nimbus/c2d-ready/"):])
                with self.lock:
                    self.c2d_ready.add(dev)
                threading.Timer(C2D_READY_DELAY_S, self._deliver_c2d, (dev,)).start()
            elif topic.startswith("$nimbus/from/"):
                enc, _, rest = topic[len("$nimbus/from/"):].partition("/")
                self._hub_request(urllib.parse.unquote(enc), rest, payload)
            elif "/response/" in topic and not topic.startswith("$"):
                with self.lock:
                    self.db.execute("INSERT INTO responses (device, topic, payload, received) VALUES (?, ?, ?, ?)",
                                    (topic.split("/", 1)[0], topic, payload, time.time()))
                    self.cond.notify_all()
        except Exception as e:  # a bad message must not stop the services
            print(f"services: {topic}: {e!r}", flush=True)

    # ------------------------------------------------------- AWS shadow

    @staticmethod
    def _shadow_topic(thing: str, name: str | None, suffix: str) -> str:
        return f"$aws/things/{thing}/shadow/" + (f"name/{name}/" if name else "") + suffix

    def _shadow_request(self, topic: str, payload: bytes):
        parts = topic.split("/")
        thing = parts[2]
        if len(parts) == 5:
            name, op = None, parts[4]
        elif len(parts) == 7 and parts[4] == "name":
            name, op = parts[5], parts[6]
        else:
            return
        token = None
        try:
            try:
                body = json.loads(payload) if payload else {}
            except ValueError:
                raise ServiceError(400, "Invalid JSON")
            if not isinstance(body, dict):
                raise ServiceError(400, "Invalid JSON")
            token = body.get("clientToken")
            if token is not None and (not isinstance(token, str) or len(token.encode()) > TOKEN_MAX):
                token = None
                raise ServiceError(400, "Invalid clientToken")
            if op == "get":
                answer = self.shadow_get(thing, name)
            elif op == "delete":
                answer = self.shadow_delete(thing, name, body.get("version"))
            else:
                self.shadow_update(thing, body, name)
                return
        except ServiceError as e:
            err = {"code": e.code, "message": e.message, "timestamp": int(time.time())}
            if token:
                err["clientToken"] = token
            self.client.publish(self._shadow_topic(thing, name, f"{op}/rejected"), compact(err), qos=1)
            return
        if token:
            answer["clientToken"] = token
        self.client.publish(self._shadow_topic(thing, name, f"{op}/accepted"), compact(answer), qos=1)

    def _shadow_row(self, thing, name):
        row = self.db.execute("SELECT desired, reported, version, present FROM shadows WHERE thing = ? AND name = ?",
                              (thing, name or "")).fetchone()
        if row is None:
            return {}, {}, 0, False
        return json.loads(row[0]), json.loads(row[1]), row[2], bool(row[3])

    @staticmethod
    def _shadow_document(desired, reported, version) -> dict:
        state = {"desired": desired, "reported": reported}
        d = delta(desired, reported)
        if d:
            state["delta"] = d
        return {"state": state, "version": version, "timestamp": int(time.time())}

    def shadow_get(self, thing: str, name: str | None = None) -> dict:
        """The shadow document, or ServiceError 404."""
        with self.lock:
            desired, reported, version, present = self._shadow_row(thing, name)
        if not present:
            raise ServiceError(404, f"No shadow exists with name: '{name or thing}'")
        return self._shadow_document(desired, reported, version)

    def shadow_delete(self, thing: str, name: str | None = None, version=None) -> dict:
        with self.lock:
            _, _, current, present = self._shadow_row(thing, name)
            if not present:
                raise ServiceError(404, f"No shadow exists with name: '{name or thing}'")
            if version is not None and version != current:
                raise ServiceError(409, "Version conflict")
            self.db.execute("UPDATE shadows SET desired = '{}', reported = '{}', present = 0 "
                            "WHERE thing = ? AND name = ?", (thing, name or ""))
        return {"version": current, "timestamp": int(time.time())}

    def shadow_update(self, thing: str, body: dict, name: str | None = None) -> dict:
        """Applies an update as the shadow service does, publishes what it
        publishes, and returns the `update/accepted` document."""
        token = body.get("clientToken")
        if "state" not in body:
            raise ServiceError(400, "Missing required node: state")
        state = body["state"]
        if not isinstance(state, dict):
            raise ServiceError(400, "State node must be an object")
        for key in state:
            if key not in ("desired", "reported"):
                raise ServiceError(400, "State contains an invalid node")
        for key, label in (("desired", "Desired"), ("reported", "Reported")):
            if state.get(key) is not None and not isinstance(state[key], dict):
                raise ServiceError(400, f"{label} node must be an object")
            if depth(state.get(key)) > SHADOW_DEPTH_MAX:
                raise ServiceError(400, "JSON contains too many levels of nesting; maximum is 6")
        if "version" in body and (not isinstance(body["version"], int) or isinstance(body["version"], bool)):
            raise ServiceError(400, "Invalid version")
        with self.lock:
            old_desired, old_reported, version, present = self._shadow_row(thing, name)
            if "version" in body and body["version"] != version:
                raise ServiceError(409, "Version conflict")
            previous = self._shadow_document(old_desired, old_reported, version) if present else None
            desired = merge(json.loads(json.dumps(old_desired)), state.get("desired") or {})
            reported = merge(json.loads(json.dumps(old_reported)), state.get("reported") or {})
            if len(compact({"desired": desired, "reported": reported})) > SHADOW_MAX:
                raise ServiceError(413, "The payload exceeds the maximum size allowed")
            version += 1
            self.db.execute("INSERT OR REPLACE INTO shadows VALUES (?, ?, ?, ?, ?, 1)",
                            (thing, name or "", json.dumps(desired), json.dumps(reported), version))
            current = self._shadow_document(desired, reported, version)
        now = int(time.time())
        accepted = {"state": state, "version": version, "timestamp": now}
        documents = {"previous": previous, "current": current, "timestamp": now}
        if token:
            accepted["clientToken"] = token
            documents["clientToken"] = token
        self.client.publish(self._shadow_topic(thing, name, "update/accepted"), compact(accepted), qos=1)
        self.client.publish(self._shadow_topic(thing, name, "update/documents"), compact(documents), qos=1)
        d = delta(desired, reported)
        if "desired" in state and d:
            self.client.publish(self._shadow_topic(thing, name, "update/delta"),
                                compact({"state": d, "version": version, "timestamp": now}), qos=1)
        return accepted

    def responses(self, device: str, after: int = 0, since: float = 0.0) -> list[dict]:
        """The response table's rows of `device` with an id above `after`,
        received at or after `since` (Unix time)."""
        with self.lock:
            rows = self.db.execute("SELECT id, topic, payload, received FROM responses "
                                   "WHERE device = ? AND id > ? AND received >= ? ORDER BY id",
                                   (device, after, since)).fetchall()
        return [{"id": i, "device": device, "topic": t, "payload": bytes(p), "received": r} for i, t, p, r in rows]

    # -------------------------------------------------------- Azure hub

    def _to(self, device: str, topic: str, payload: bytes, qos: int = 1):
        self.client.publish(f"$nimbus/to/{encode_id(device)}/{topic}", payload, qos=qos)

    def _take(self, device: str, kind: str) -> bool:
        with self.lock:
            b = self.buckets.get((device, kind))
            if b is None:
                b = self.buckets[(device, kind)] = Bucket(self.rates[0 if kind == "update" else 1])
            return b.take()

    def _hub_request(self, device: str, topic: str, payload: bytes):
        rid = query(topic).get("$rid", "")
        if topic.startswith("$iothub/twin/GET/"):
            if not self._take(device, "read"):
                return self._twin_refuse(device, rid, 429, "throttled: more than 100 twin reads a second")
            t = self.twin_get(device)["properties"]
            self._to(device, f"$iothub/twin/res/200/?$rid={rid}", compact(t))
        elif topic.startswith("$iothub/twin/PATCH/properties/reported/"):
            if not self._take(device, "update"):
                return self._twin_refuse(device, rid, 429, "throttled: more than 50 twin updates a second")
            try:
                v = self._patch_reported(device, payload)
            except ServiceError as e:
                return self._twin_refuse(device, rid, e.status, e.message)
            self._to(device, f"$iothub/twin/res/204/?$rid={rid}&$version={v}", b"")
        elif topic.startswith("$iothub/methods/res/"):
            try:
                status = int(topic.split("/")[3])
            except (IndexError, ValueError):
                return
            with self.cond:
                self.method_answers[(device, rid)] = (status, payload)
                self.cond.notify_all()

    def _twin_refuse(self, device, rid, status, why):
        self._to(device, f"$iothub/twin/res/{status}/?$rid={rid}", compact({"message": why}))

    @staticmethod
    def check_property_names(obj):
        """Property names: at most 1 KB, no control characters, `.`, `$` or space."""
        for k, v in obj.items():
            if not k or len(k.encode()) > PROPERTY_NAME_MAX or any(c in k for c in ".$ ") or any(
                    ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in k):
                raise ServiceError(400, f"property name not allowed: {k[:40]!r}", 400004)
            if isinstance(v, dict):
                Services.check_property_names(v)

    def _twin_row(self, device):
        row = self.db.execute("SELECT desired, reported, desired_version, reported_version FROM twins "
                              "WHERE device = ?", (device,)).fetchone()
        if row is None:
            return {}, {}, 1, 1
        return json.loads(row[0]), json.loads(row[1]), row[2], row[3]

    def _patch(self, device, patch, which):
        if not isinstance(patch, dict):
            raise ServiceError(400, "the patch is not a JSON object", 400004)
        self.check_property_names(patch)
        with self.lock:
            desired, reported, dv, rv = self._twin_row(device)
            doc = merge(json.loads(json.dumps(desired if which == "desired" else reported)), patch)
            if depth(doc) > TWIN_DEPTH_MAX:
                raise ServiceError(400, f"{which} properties nest deeper than 10", 400004)
            if len(compact(doc)) > TWIN_MAX:
                raise ServiceError(400, f"{which} properties would exceed 32 KB", 400004)
            if which == "desired":
                desired, dv = doc, dv + 1
            else:
                reported, rv = doc, rv + 1
            self.db.execute("INSERT OR REPLACE INTO twins VALUES (?, ?, ?, ?, ?)",
                            (device, json.dumps(desired), json.dumps(reported), dv, rv))
            return dv if which == "desired" else rv

    def _patch_reported(self, device, payload: bytes) -> int:
        try:
            patch = json.loads(payload)
        except ValueError:
            raise ServiceError(400, "the patch is not JSON", 400004)
        return self._patch(device, patch, "reported")

    def twin_get(self, device: str) -> dict:
        """The twin as the service API returns it."""
        with self.lock:
            desired, reported, dv, rv = self._twin_row(device)
        return {"deviceId": device, "etag": f"AAAAAAAAAA{dv:x}=", "version": dv + rv,
                "properties": {"desired": dict(desired, **{"$version": dv}),
                               "reported": dict(reported, **{"$version": rv})}}

    def twin_update_desired(self, device: str, patch: dict) -> dict:
        """Merges `patch` into the desired properties; a connected device
        gets the patch with its version (the hub keeps none for later)."""
        v = self._patch(device, patch, "desired")
        if self.is_connected(device):
            self._to(device, f"$iothub/twin/PATCH/properties/desired/?$version={v}",
                     compact(dict(patch, **{"$version": v})))
        return self.twin_get(device)

    def is_connected(self, device: str) -> bool:
        with self.lock:
            return self.present.get(device, False)

    def invoke_method(self, device: str, method: str, payload=None, timeout: float = 30.0,
                      connect_timeout: float = 0.0):
        """Calls a direct method: (status, payload) of the answer; 404 when
        the device is not connected within `connect_timeout`, 504 when it
        does not answer in time."""
        # The broker announces a connection from its main loop, a moment
        # after the device's CONNACK: a second of grace for that.
        deadline = time.monotonic() + max(connect_timeout, PRESENCE_GRACE_S)
        with self.cond:
            while not self.present.get(device, False):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(
                        404, f"The operation failed because the requested device isn't online: {device}", 404103)
                self.cond.wait(left)
        body = b"" if payload is None else compact(payload)
        if len(body) > 128 * 1024:
            raise ServiceError(413, "method payload exceeds 128 KB", 413005)
        with self.lock:
            self.next_rid += 1
            rid = format(self.next_rid, "x")
        self._to(device, f"$iothub/methods/POST/{method}/?$rid={rid}", body, qos=0)
        deadline = time.monotonic() + timeout
        with self.cond:
            while (device, rid) not in self.method_answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ServiceError(504, "Timed out waiting for the response from device.", 504101)
                self.cond.wait(left)
            status, answer = self.method_answers.pop((device, rid))
        try:
            value = json.loads(answer) if answer else None
        except ValueError:
            value = answer.decode(errors="replace")
        return status, value

    def send_c2d(self, device: str, payload: bytes, properties: dict | None = None) -> int:
        """Queues a cloud-to-device message with its property bag; returns
        how many wait in the device's queue. Delivered at once when the
        device is subscribed."""
        if len(payload) > C2D_MAX:
            raise ServiceError(413, "cloud-to-device message exceeds 64 KB", 413001)
        bag = urllib.parse.urlencode(properties or {}, quote_via=urllib.parse.quote, safe="")
        with self.lock:
            (waiting,) = self.db.execute("SELECT count(*) FROM c2d WHERE device = ?", (device,)).fetchone()
            if waiting >= C2D_QUEUE_MAX:
                raise ServiceError(403, f"the device's cloud-to-device queue holds {C2D_QUEUE_MAX} messages",
                                   403004)
            self.db.execute("INSERT INTO c2d (device, topic, payload, enqueued) VALUES (?, ?, ?, ?)",
                            (device, f"devices/{device}/messages/devicebound/{bag}", payload, time.time()))
            ready = device in self.c2d_ready
        if ready:
            self._deliver_c2d(device)
        return waiting + 1

    def c2d_waiting(self, device: str) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM c2d WHERE device = ?", (device,)).fetchone()[0]

    def _deliver_c2d(self, device: str):
        """Hands the device's queue to its session, oldest first."""
        with self.lock:
            if device not in self.c2d_ready:
                return
            rows = self.db.execute("SELECT id, topic, payload FROM c2d WHERE device = ? ORDER BY id",
                                   (device,)).fetchall()
            for i, topic, payload in rows:
                self.client.publish(topic, bytes(payload), qos=1)
                self.db.execute("DELETE FROM c2d WHERE id = ?", (i,))

    def publish(self, topic: str, payload: bytes, qos: int = 1):
        """What AWS IoT's data-plane Publish does."""
        self.client.publish(topic, payload, qos=qos)
