"""nimbus-cloud: one way for a cloud application to call a Nimbus device
and to read and change its state, on AWS IoT Core or Azure IoT Hub.

    nimbus_cloud.py [CLOUD OPTIONS] call DEVICE PATH [PAYLOAD] [--timeout S]
    nimbus_cloud.py [CLOUD OPTIONS] state get DEVICE
    nimbus_cloud.py [CLOUD OPTIONS] state set-desired DEVICE JSON
    nimbus_cloud.py [CLOUD OPTIONS] send DEVICE PATH [PAYLOAD]
    nimbus_cloud.py aws-deploy [--stack NAME] [--table NAME] [--region R]

Cloud options:
    --local-cloud CLOUD.json --cloud aws|azure
        the local cloud (tools/cloud/local.py), from the line it printed
    --cloud aws --aws-endpoint URL [--region R] [--table NAME]
        AWS IoT Core: the account's data endpoint
        (https://<prefix>-ats.iot.<region>.amazonaws.com), credentials as
        boto3 finds them, the response table of aws-deploy
    --cloud azure --connection-string CS
        Azure IoT Hub: a service policy's connection string

Each prints one JSON line and exits 0 on success, 1 when the cloud or the
device refused, 2 on bad usage:

- `call`: the device's answer as {"status", "body"}. Azure: a direct
  method named after the path (`sensor/list` -> `sensor.list`). AWS, as
  the seed does it: a publish on `<dev>/request/<path>`, then the answer
  read from the response table that the IoT rule fills with every
  `<dev>/response/#` message (tools/cloud/aws/responses.template.json).
  The status of an AWS answer is the body's `status`, else 200.
- `state get`: {"desired", "reported", "version"} of the shadow or twin.
- `state set-desired`: merges JSON into the desired state.
- `send`: a request the device answers on its own (AWS: the request
  topic; Azure: a cloud-to-device message with `subtopic=request.<path>`).
- `aws-deploy`: creates the rule, its role and the table with
  CloudFormation.

As a library: `AwsCloud` and `AzureCloud` have `call`, `state`,
`set_desired` and `send`; `CloudError` carries the status and the cloud's
message.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import ssl
import sys
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "aws" / "responses.template.json"
API_VERSION = "2021-04-12"


class CloudError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _json_or_text(data: bytes):
    try:
        return json.loads(data) if data else None
    except ValueError:
        return data.decode(errors="replace")


# ------------------------------------------------------------------ Azure


class AzureCloud:
    """IoT Hub through its REST API (api-version 2021-04-12), signed with a
    service policy's SAS token. `base_url` overrides https://<hub> (the local
    cloud); `ca` the trusted CA file."""

    def __init__(self, connection_string: str, base_url: str | None = None, ca: str | None = None):
        fields = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
        try:
            self.hub = fields["HostName"]
            self.policy = fields["SharedAccessKeyName"]
            self.key = fields["SharedAccessKey"]
        except KeyError as e:
            raise CloudError(400, f"connection string without {e.args[0]}")
        url = urllib.parse.urlsplit(base_url or f"https://{self.hub}")
        self.host, self.port = url.hostname, url.port or 443
        self.ctx = ssl.create_default_context(cafile=ca)

    def _token(self, lifetime_s: int = 3600) -> str:
        expiry = int(time.time()) + lifetime_s
        sr = urllib.parse.quote(self.hub, safe="")
        sig = base64.b64encode(hmac.new(base64.b64decode(self.key), f"{sr}\n{expiry}".encode(),
                                        hashlib.sha256).digest()).decode()
        return f"SharedAccessSignature sr={sr}&sig={urllib.parse.quote(sig, safe='')}&se={expiry}&skn={self.policy}"

    def _request(self, method, path, body=b"", headers=None, timeout=60):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=timeout)
        try:
            conn.request(method, f"{path}?api-version={API_VERSION}", body=body,
                         headers=dict(headers or {}, Authorization=self._token(),
                                      **{"Content-Type": "application/json"}))
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        value = _json_or_text(data)
        if r.status >= 300:
            message = value.get("Message", value) if isinstance(value, dict) else value
            raise CloudError(r.status, str(message))
        return value

    @staticmethod
    def _id(device):
        return urllib.parse.quote(device, safe="")

    def call(self, device: str, path: str, payload=None, timeout: float = 30) -> dict:
        answer = self._request("POST", f"/twins/{self._id(device)}/methods",
                               {"methodName": path.strip("/").replace("/", "."), "payload": payload,
                                "responseTimeoutInSeconds": int(max(5, min(300, timeout)))},
                               timeout=timeout + 30)
        return {"status": answer["status"], "body": answer.get("payload")}

    def state(self, device: str) -> dict:
        twin = self._request("GET", f"/twins/{self._id(device)}")
        props = twin["properties"]
        strip = lambda d: {k: v for k, v in d.items() if not k.startswith("$")}  # noqa: E731
        return {"desired": strip(props["desired"]), "reported": strip(props["reported"]),
                "version": {"desired": props["desired"].get("$version"),
                            "reported": props["reported"].get("$version")}}

    def set_desired(self, device: str, patch: dict) -> dict:
        self._request("PATCH", f"/twins/{self._id(device)}", {"properties": {"desired": patch}})
        return self.state(device)

    def send(self, device: str, path: str, payload: bytes = b"") -> dict:
        sub = "request." + path.strip("/").replace("/", ".")
        self._request("POST", f"/devices/{self._id(device)}/messages/deviceBound", payload,
                      {"iothub-app-subtopic": sub})
        return {"sent": f"devices/{device}/messages/devicebound/subtopic={sub}"}


# -------------------------------------------------------------------- AWS


class AwsCloud:
    """AWS IoT Core through boto3's `iot-data` client; the answers to calls
    from the response table: DynamoDB (`table`), or the local cloud's
    `GET /responses/{device}` (`local_responses`)."""

    def __init__(self, endpoint_url: str, region: str = "us-east-1", table: str | None = "NimbusResponses",
                 ca: str | None = None, credentials: dict | None = None, local_responses: bool = False):
        import boto3

        self.session = boto3.session.Session(region_name=region, **(credentials or {}))
        self.data = self.session.client("iot-data", endpoint_url=endpoint_url, verify=ca or True)
        self.endpoint_url, self.region, self.ca = endpoint_url, region, ca
        self.table = None if local_responses else self.session.resource("dynamodb").Table(table)

    def _error(self, e) -> CloudError:
        return CloudError(e.response["ResponseMetadata"]["HTTPStatusCode"],
                          f"{e.response['Error']['Code']}: {e.response['Error'].get('Message', '')}")

    def _responses(self, device: str, since: float) -> list[dict]:
        """Rows of the response table for `device` received at or after
        `since` (Unix time): {"topic", "received" (s), "payload" (bytes)}."""
        if self.table is not None:
            from boto3.dynamodb.conditions import Key

            items = self.table.query(KeyConditionExpression=Key("device").eq(device)
                                     & Key("received").gte(int(since * 1000)))["Items"]
            return [{"topic": i["topic"], "received": float(i["received"]) / 1000,
                     "payload": base64.b64decode(i["payload_base64"])} for i in items]
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        url = f"{self.endpoint_url}/responses/{urllib.parse.quote(device, safe='')}?since={since}"
        req = AWSRequest(method="GET", url=url)
        SigV4Auth(self.session.get_credentials(), "iotdata", self.region).add_auth(req)
        parsed = urllib.parse.urlsplit(url)
        conn = http.client.HTTPSConnection(parsed.hostname, parsed.port or 443,
                                           context=ssl.create_default_context(cafile=self.ca), timeout=30)
        try:
            conn.request("GET", f"{parsed.path}?{parsed.query}", headers=dict(req.headers.items()))
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if r.status != 200:
            raise CloudError(r.status, data.decode(errors="replace"))
        out = []
        for i in json.loads(data)["items"]:
            raw = i["payload"].encode() if "payload" in i else base64.b64decode(i["payload_base64"])
            out.append({"topic": i["topic"], "received": i["received"], "payload": raw})
        return out

    def call(self, device: str, path: str, payload=None, timeout: float = 30) -> dict:
        import botocore.exceptions

        path = path.strip("/")
        since = time.time() - 1  # the table's clock may lag a little behind ours
        body = b"" if payload is None else json.dumps(payload).encode()
        try:
            self.data.publish(topic=f"{device}/request/{path}", qos=1, payload=body)
        except botocore.exceptions.ClientError as e:
            raise self._error(e)
        want = f"{device}/response/{path}"
        deadline = time.monotonic() + timeout
        while True:
            rows = [r for r in self._responses(device, since) if r["topic"] == want]
            if rows:
                value = _json_or_text(rows[0]["payload"])
                status = value.get("status") if isinstance(value, dict) else None
                return {"status": status if isinstance(status, int) else 200, "body": value}
            if time.monotonic() > deadline:
                raise CloudError(504, f"no answer on {want} within {timeout} s")
            time.sleep(0.25)

    def state(self, device: str, shadow: str | None = None) -> dict:
        import botocore.exceptions

        try:
            r = self.data.get_thing_shadow(thingName=device, **({"shadowName": shadow} if shadow else {}))
        except botocore.exceptions.ClientError as e:
            raise self._error(e)
        doc = json.loads(r["payload"].read())
        st = doc.get("state", {})
        return {"desired": st.get("desired", {}), "reported": st.get("reported", {}), "version": doc.get("version")}

    def set_desired(self, device: str, patch: dict, shadow: str | None = None) -> dict:
        import botocore.exceptions

        try:
            self.data.update_thing_shadow(thingName=device, payload=json.dumps({"state": {"desired": patch}}).encode(),
                                          **({"shadowName": shadow} if shadow else {}))
        except botocore.exceptions.ClientError as e:
            raise self._error(e)
        return self.state(device, shadow)

    def send(self, device: str, path: str, payload: bytes = b"") -> dict:
        import botocore.exceptions

        topic = f"{device}/request/{path.strip('/')}"
        try:
            self.data.publish(topic=topic, qos=1, payload=payload)
        except botocore.exceptions.ClientError as e:
            raise self._error(e)
        return {"sent": topic}


def aws_deploy(stack: str, table: str, region: str | None, client=None) -> dict:
    """Creates the response rule, its role and the table (CloudFormation)."""
    if client is None:
        import boto3

        client = boto3.client("cloudformation", region_name=region)
    r = client.create_stack(StackName=stack, TemplateBody=TEMPLATE.read_text(),
                            Parameters=[{"ParameterKey": "TableName", "ParameterValue": table}],
                            Capabilities=["CAPABILITY_IAM"])
    return {"stack": stack, "stack_id": r["StackId"], "table": table}


# -------------------------------------------------------------------- CLI


def cloud_from(a):
    if a.local_cloud:
        info = json.loads(Path(a.local_cloud).read_text().strip().splitlines()[-1])
        keys = json.loads(Path(info["credentials_file"]).read_text())
        if a.cloud == "azure":
            return AzureCloud(info["azure_connection_string"], base_url=info["api"], ca=info["ca"])
        key_id, secret = next(iter(keys["aws_keys"].items()))
        return AwsCloud(info["api"], ca=info["ca"], local_responses=True,
                        credentials={"aws_access_key_id": key_id, "aws_secret_access_key": secret})
    if a.cloud == "azure":
        if not a.connection_string:
            raise CloudError(400, "--connection-string is required for Azure")
        return AzureCloud(a.connection_string)
    if not a.aws_endpoint:
        raise CloudError(400, "--aws-endpoint is required for AWS")
    return AwsCloud(a.aws_endpoint, region=a.region, table=a.table)


def payload_of(text: str | None):
    if text is None or text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise CloudError(400, "PAYLOAD must be JSON")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="nimbus-cloud", description=__doc__.split("\n\n")[0])
    ap.add_argument("--cloud", choices=["aws", "azure"])
    ap.add_argument("--local-cloud", help="the JSON line tools/cloud/local.py printed")
    ap.add_argument("--aws-endpoint")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--table", default="NimbusResponses")
    ap.add_argument("--connection-string")
    sub = ap.add_subparsers(dest="op", required=True)
    c = sub.add_parser("call")
    c.add_argument("device")
    c.add_argument("path")
    c.add_argument("payload", nargs="?")
    c.add_argument("--timeout", type=float, default=30)
    s = sub.add_parser("state")
    s.add_argument("what", choices=["get", "set-desired"])
    s.add_argument("device")
    s.add_argument("json", nargs="?")
    s2 = sub.add_parser("send")
    s2.add_argument("device")
    s2.add_argument("path")
    s2.add_argument("payload", nargs="?", default="")
    d = sub.add_parser("aws-deploy")
    d.add_argument("--stack", default="nimbus-responses")
    a = ap.parse_args(argv)
    try:
        if a.op == "aws-deploy":
            out = aws_deploy(a.stack, a.table, a.region)
        else:
            if a.cloud is None:
                ap.error("--cloud is required")
            cloud = cloud_from(a)
            if a.op == "call":
                out = cloud.call(a.device, a.path, payload_of(a.payload), a.timeout)
            elif a.op == "send":
                out = cloud.send(a.device, a.path, a.payload.encode())
            elif a.what == "get":
                out = cloud.state(a.device)
            else:
                patch = payload_of(a.json)
                if not isinstance(patch, dict):
                    raise CloudError(400, "set-desired takes a JSON object")
                out = cloud.set_desired(a.device, patch)
    except CloudError as e:
        print(json.dumps({"error": e.status, "message": e.message}), flush=True)
        return 2 if e.status == 400 else 1
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
