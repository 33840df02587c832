"""The local cloud's service APIs over HTTPS, shaped like the real ones, so
that the vendors' service libraries (boto3's `iot-data`, `azure-iot-hub`)
and cloud applications talk to the local cloud unchanged but for the
endpoint and the CA.

Azure IoT Hub REST API (`?api-version=...`), authenticated by a service SAS
token (`SharedAccessSignature sr=<hub>&sig=...&se=...&skn=<policy>`):

    POST  /twins/{id}/methods                 invoke a direct method
    GET   /twins/{id}                         get the twin
    PATCH /twins/{id}                         update desired properties
    POST  /devices/{id}/messages/deviceBound  send a C2D message (local: the
          hub sends C2D over AMQP only; body = payload, properties from
          `iothub-app-<name>` headers, `iothub-messageid`, `iothub-to`...)

AWS IoT data plane, authenticated by Signature Version 4 (service
`iotdata`, any region):

    GET|POST|DELETE /things/{thing}/shadow[?name=]   get, update, delete
    POST /topics/{topic}[?qos=]                      publish

The seed's response table (DynamoDB on AWS, a rule storing every
`<dev>/response/#` message), as a local query, either authentication:

    GET /responses/{device}[?after=ID][&since=T]   rows after ID, received at
                                                   or after Unix time T, oldest first

Errors carry each cloud's shape: AWS `{"message"}` with the
`x-amzn-ErrorType` header, Azure `{"Message", "ExceptionMessage"}` with
the hub's `errorCode`.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services import ServiceError, Services

BODY_MAX = 256 * 1024
AWS_ERRORS = {400: "InvalidRequestException", 401: "UnauthorizedException", 403: "ForbiddenException",
              404: "ResourceNotFoundException", 405: "MethodNotAllowedException", 409: "ConflictException",
              413: "RequestEntityTooLargeException", 429: "ThrottlingException"}
SIGV4_SKEW_S = 15 * 60


class Unauthorized(Exception):
    pass


# ------------------------------------------------------------- Azure SAS


def azure_sas(resource: str, key_b64: str, expiry: int, policy: str | None = None) -> str:
    """A SAS token for `resource` (a hub host name, or `<hub>/devices/<id>`)."""
    sr = urllib.parse.quote(resource, safe="")
    mac = hmac.new(base64.b64decode(key_b64), f"{sr}\n{expiry}".encode(), hashlib.sha256).digest()
    token = f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(base64.b64encode(mac).decode(), safe='')}" \
            f"&se={expiry}"
    return token + (f"&skn={policy}" if policy else "")


def check_service_sas(header: str, hub: str, policies: dict[str, str], now: float | None = None):
    """Checks a service SAS token: signed by a policy's key for this hub
    (or a resource below it), not expired. Raises Unauthorized."""
    if not header.startswith("SharedAccessSignature "):
        raise Unauthorized("not a SharedAccessSignature")
    fields = dict(p.split("=", 1) for p in header[len("SharedAccessSignature "):].split("&") if "=" in p)
    try:
        sr, sig, se, skn = fields["sr"], fields["sig"], int(fields["se"]), fields["skn"]
    except (KeyError, ValueError):
        raise Unauthorized("the token needs sr, sig, se and skn")
    if se <= (now or time.time()):
        raise Unauthorized("the token has expired")
    resource = urllib.parse.unquote(sr).lower()
    if resource != hub.lower() and not resource.startswith(hub.lower() + "/"):
        raise Unauthorized("sr does not name this hub")
    key = policies.get(skn)
    if key is None:
        raise Unauthorized(f"no shared access policy {skn!r}")
    mac = hmac.new(base64.b64decode(key), f"{sr}\n{se}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(mac).decode(), urllib.parse.unquote(sig)):
        raise Unauthorized("the signature does not match the policy's key")


# ------------------------------------------------------------ AWS SigV4


def _sigv4_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(("AWS4" + secret).encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def sigv4_canonical(method: str, raw_path: str, headers: dict[str, str], signed: list[str], body: bytes) -> str:
    """The canonical request of Signature Version 4 for a non-S3 service
    (the path encoded once more, as the signers do)."""
    path, _, raw_query = raw_path.partition("?")
    uri = urllib.parse.quote(path or "/", safe="/~")
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)
    q = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                 for k, v in sorted(pairs))
    canon_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    payload = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return "\n".join([method, uri, q, canon_headers, ";".join(signed), payload])


def sign_sigv4(method: str, raw_path: str, headers: dict[str, str], body: bytes, access_key: str, secret: str,
               region: str = "us-east-1", service: str = "iotdata", now: datetime.datetime | None = None) -> dict:
    """Adds x-amz-date and Authorization to `headers` (lower-case names)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    headers = dict(headers, **{"x-amz-date": amz_date})
    signed = sorted(h for h in headers if h in ("host", "x-amz-date", "content-type"))
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    canonical = sigv4_canonical(method, raw_path, headers, signed, body)
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    sig = hmac.new(_sigv4_key(secret, amz_date[:8], region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return headers


def check_sigv4(method: str, raw_path: str, headers: dict[str, str], body: bytes, keys: dict[str, str]):
    """Verifies a Signature Version 4 request against `keys` (access key id
    -> secret). Raises Unauthorized."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        raise Unauthorized("not an AWS4-HMAC-SHA256 signature")
    parts = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
    try:
        access_key, date, region, service, term = parts["Credential"].split("/")
        signed = parts["SignedHeaders"].split(";")
        given = parts["Signature"]
    except (KeyError, ValueError):
        raise Unauthorized("malformed Authorization header")
    if term != "aws4_request" or "host" not in signed:
        raise Unauthorized("malformed credential scope or signed headers")
    secret = keys.get(access_key)
    if secret is None:
        raise Unauthorized("The security token included in the request is invalid.")
    amz_date = headers.get("x-amz-date", "")
    try:
        at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise Unauthorized("missing or malformed x-amz-date")
    if abs(at.timestamp() - time.time()) > SIGV4_SKEW_S or amz_date[:8] != date:
        raise Unauthorized("Signature expired or dated in another day than its scope")
    canonical = sigv4_canonical(method, raw_path, headers, signed, body)
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n" \
              f"{hashlib.sha256(canonical.encode()).hexdigest()}"
    want = hmac.new(_sigv4_key(secret, date, region, service), to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, given):
        raise Unauthorized("The request signature we calculated does not match the signature you provided.")


# ----------------------------------------------------------------- server


class Api:
    """The HTTPS server; `known(device, cloud)` says whether the registry
    has the device."""

    def __init__(self, services: Services, hub: str, policies: dict[str, str], aws_keys: dict[str, str],
                 known, certfile: str, keyfile: str, host: str = "127.0.0.1", port: int = 0):
        self.services, self.hub, self.policies, self.aws_keys, self.known = services, hub, policies, aws_keys, known
        api = self

        class Handler(_Handler):
            pass

        Handler.api = api
        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certfile, keyfile)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="nimbus-api", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    api: Api
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; never logs headers (they hold credentials)
        pass

    def _send(self, status: int, body=b"", headers: dict | None = None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _aws_error(self, status: int, message: str):
        kind = AWS_ERRORS.get(status, "InternalFailureException")
        self._send(status, {"message": message}, {"x-amzn-ErrorType": kind})

    def _azure_error(self, status: int, message: str, code=None):
        inner = {"errorCode": code or status, "trackingId": "local", "message": message, "info": {},
                 "timestampUtc": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        self._send(status, {"Message": "ErrorCode:" + str(code or status) + ";" + json.dumps(inner),
                            "ExceptionMessage": ""}, {"iothub-errorcode": str(code or status)})

    def _dispatch(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > BODY_MAX:
            self.close_connection = True
            return self._send(413, {"message": "request body too large"})
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.get("authorization", "")
        path, _, raw_query = self.path.partition("?")
        params = dict(urllib.parse.parse_qsl(raw_query, keep_blank_values=True))
        segs = [urllib.parse.unquote(s) for s in path.strip("/").split("/")]
        a = self.api
        if auth.startswith("AWS4-HMAC-SHA256"):
            try:
                check_sigv4(self.command, self.path, headers, body, a.aws_keys)
            except Unauthorized as e:
                return self._send(403, {"message": str(e)}, {"x-amzn-ErrorType": "ForbiddenException"})
            return self._aws(segs, params, body)
        if auth.startswith("SharedAccessSignature"):
            try:
                check_service_sas(auth, a.hub, a.policies)
            except Unauthorized as e:
                return self._azure_error(401, str(e), 401002)
            return self._azure(segs, params, headers, body)
        return self._send(401, {"message": "missing authentication"})

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = lambda self: self._dispatch()

    # -------------------------------------------------------------- AWS

    def _aws(self, segs, params, body):
        a = self.api
        try:
            if len(segs) == 3 and segs[0] == "things" and segs[2] == "shadow":
                thing, name = segs[1], params.get("name") or None
                if not a.known(thing, "aws"):
                    raise ServiceError(404, f"No shadow exists with name: '{name or thing}'")
                if self.command == "GET":
                    return self._send(200, a.services.shadow_get(thing, name))
                if self.command == "DELETE":
                    return self._send(200, a.services.shadow_delete(thing, name))
                if self.command == "POST":
                    try:
                        doc = json.loads(body)
                    except ValueError:
                        raise ServiceError(400, "Payload contains invalid json")
                    if not isinstance(doc, dict):
                        raise ServiceError(400, "Payload contains invalid json")
                    return self._send(200, a.services.shadow_update(thing, doc, name))
                raise ServiceError(405, "method not allowed")
            if len(segs) >= 2 and segs[0] == "topics" and self.command == "POST":
                topic = "/".join(segs[1:])
                qos = int(params.get("qos", "0"))
                if qos not in (0, 1):
                    raise ServiceError(400, "qos must be 0 or 1")
                if len(body) > 128 * 1024:
                    raise ServiceError(413, "payload exceeds 128 KB")
                a.services.publish(topic, body, qos)
                return self._send(200, {})
            if len(segs) == 2 and segs[0] == "responses" and self.command == "GET":
                return self._responses(segs[1], params)
            raise ServiceError(404, "no such resource")
        except ServiceError as e:
            self._aws_error(e.status, e.message)

    def _responses(self, device, params):
        try:
            after, since = int(params.get("after") or 0), float(params.get("since") or 0)
        except ValueError:
            return self._send(400, {"message": "after and since are numbers"})
        rows = self.api.services.responses(device, after, since)
        out = []
        for r in rows:
            try:
                text = r["payload"].decode()
                json.loads(text or "null")
                value = {"payload": text}
            except ValueError:
                value = {"payload_base64": base64.b64encode(r["payload"]).decode()}
            out.append(dict(id=r["id"], topic=r["topic"], received=r["received"], **value))
        return self._send(200, {"device": device, "items": out})

    # ------------------------------------------------------------ Azure

    def _azure(self, segs, params, headers, body):
        a = self.api
        try:
            if len(segs) == 2 and segs[0] == "responses" and self.command == "GET":
                return self._responses(segs[1], params)
            if len(segs) < 2 or not a.known(segs[1], "azure"):
                raise ServiceError(404, f"Device {segs[1] if len(segs) > 1 else ''} not registered", 404001)
            device = segs[1]
            try:
                doc = json.loads(body) if body and segs[0] == "twins" else None
            except ValueError:
                raise ServiceError(400, "the body is not JSON", 400004)
            if segs[0] == "twins" and len(segs) == 3 and segs[2] == "methods" and self.command == "POST":
                if not isinstance(doc, dict) or not isinstance(doc.get("methodName"), str):
                    raise ServiceError(400, "methodName is required", 400004)
                timeout = float(doc.get("responseTimeoutInSeconds") or 30)
                if not 5 <= timeout <= 300:
                    raise ServiceError(400, "responseTimeoutInSeconds must be 5 to 300", 400027)
                connect = float(doc.get("connectTimeoutInSeconds") or 0)
                if not 0 <= connect <= 300:
                    raise ServiceError(400, "connectTimeoutInSeconds must be 0 to 300", 400027)
                status, payload = a.services.invoke_method(device, doc["methodName"], doc.get("payload"), timeout,
                                                           connect)
                return self._send(200, {"status": status, "payload": payload})
            if segs[0] == "twins" and len(segs) == 2 and self.command == "GET":
                return self._send(200, a.services.twin_get(device))
            if segs[0] == "twins" and len(segs) == 2 and self.command == "PATCH":
                desired = (doc or {}).get("properties", {}).get("desired") if isinstance(doc, dict) else None
                if not isinstance(desired, dict):
                    raise ServiceError(400, "properties.desired must be an object", 400004)
                return self._send(200, a.services.twin_update_desired(device, desired))
            if segs[0] == "devices" and segs[2:] == ["messages", "deviceBound"] and self.command == "POST":
                props = {}
                for k, v in headers.items():
                    if k.startswith("iothub-app-"):
                        props[k[len("iothub-app-"):]] = v
                for k, sysname in (("iothub-messageid", "$.mid"), ("iothub-to", "$.to"),
                                   ("iothub-correlationid", "$.cid"), ("content-type", "$.ct")):
                    if k in headers and k != "content-type":
                        props[sysname] = headers[k]
                a.services.send_c2d(device, body, props)
                return self._send(204)
            raise ServiceError(404, "no such resource", 404)
        except ServiceError as e:
            self._azure_error(e.status, e.message, e.code)


# ----------------------------------------------------------------- client


class ApiClient:
    """A cloud application's calls to the local cloud's service APIs (Azure
    SAS-signed, AWS SigV4-signed), over HTTPS verified against `ca`. Every
    call returns (status, parsed JSON body or None)."""

    def __init__(self, url: str, ca: str, hub: str, policies: dict[str, str], aws_keys: dict[str, str],
                 timeout: float = 60.0):
        parsed = urllib.parse.urlsplit(url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.hub = hub
        self.policy, self.policy_key = next(iter(policies.items()))
        self.access_key, self.secret = next(iter(aws_keys.items()))
        self.ctx = ssl.create_default_context(cafile=ca)
        self.timeout = timeout

    def _call(self, method, path, body=b"", headers=None, timeout=None):
        import http.client

        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx,
                                           timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        try:
            return r.status, json.loads(data) if data else None
        except ValueError:
            return r.status, data

    def azure(self, method, path, body=b"", headers=None, timeout=None):
        token = azure_sas(self.hub, self.policy_key, int(time.time()) + 3600, self.policy)
        sep = "&" if "?" in path else "?"
        return self._call(method, f"{path}{sep}api-version=2021-04-12", body,
                          dict(headers or {}, Authorization=token, **{"Content-Type": "application/json"}), timeout)

    def aws(self, method, path, body=b""):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        host = self.host if self.port == 443 else f"{self.host}:{self.port}"
        headers = sign_sigv4(method, path, {"host": host}, body, self.access_key, self.secret)
        return self._call(method, path, body, headers)

    # Azure
    def invoke_method(self, device, method, payload=None, timeout=30):
        return self.azure("POST", f"/twins/{urllib.parse.quote(device, safe='')}/methods",
                          {"methodName": method, "payload": payload, "responseTimeoutInSeconds": timeout},
                          timeout=timeout + 10)

    def twin(self, device):
        return self.azure("GET", f"/twins/{urllib.parse.quote(device, safe='')}")

    def update_desired(self, device, patch):
        return self.azure("PATCH", f"/twins/{urllib.parse.quote(device, safe='')}",
                          {"properties": {"desired": patch}})

    def send_c2d(self, device, payload: bytes, properties: dict | None = None):
        headers = {f"iothub-app-{k}": v for k, v in (properties or {}).items()}
        return self.azure("POST", f"/devices/{urllib.parse.quote(device, safe='')}/messages/deviceBound",
                          payload, headers)

    # AWS
    def shadow(self, thing, name=None, method="GET", body=b""):
        q = f"?name={urllib.parse.quote(name, safe='')}" if name else ""
        return self.aws(method, f"/things/{urllib.parse.quote(thing, safe='')}/shadow{q}", body)

    def publish(self, topic, payload: bytes, qos=1):
        return self.aws("POST", f"/topics/{urllib.parse.quote(topic, safe='')}?qos={qos}", payload)

    def responses(self, device, after=0):
        return self.aws("GET", f"/responses/{urllib.parse.quote(device, safe='')}?after={after}")
