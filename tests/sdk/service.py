"""One call of a cloud application, written with the vendors' service
libraries (boto3's `iot-data` client, azure-iot-hub's registry manager),
against the local cloud's service APIs. Prints the result as one JSON line:
{"ok": true, ...} or {"ok": false, "error": <the library's error class>,
"status": <HTTP status>, "message": ...}.

    service.py aws  --endpoint URL --ca F --key-id ID --secret S  OP ARGS...
    service.py azure --connection-string CS  OP ARGS...   (REQUESTS_CA_BUNDLE: the CA)

AWS ops: get THING [SHADOW] | update THING JSON [SHADOW] [VERSION] |
         delete THING [SHADOW] | publish TOPIC JSON
Azure ops: method DEVICE NAME JSON [TIMEOUT] | twin DEVICE | desired DEVICE JSON
"""

import json
import sys


def aws(argv):
    import boto3
    import botocore.exceptions

    opts = dict(zip(argv[0:8:2], argv[1:8:2]))
    op, args = argv[8], argv[9:]
    client = boto3.client("iot-data", endpoint_url=opts["--endpoint"], verify=opts["--ca"],
                          region_name="us-east-1", aws_access_key_id=opts["--key-id"],
                          aws_secret_access_key=opts["--secret"])
    try:
        if op == "get":
            kw = {"shadowName": args[1]} if len(args) > 1 else {}
            r = client.get_thing_shadow(thingName=args[0], **kw)
            return {"ok": True, "document": json.loads(r["payload"].read())}
        if op == "update":
            body = json.loads(args[1])
            if len(args) > 3:
                body["version"] = int(args[3])
            kw = {"shadowName": args[2]} if len(args) > 2 and args[2] else {}
            r = client.update_thing_shadow(thingName=args[0], payload=json.dumps(body).encode(), **kw)
            return {"ok": True, "document": json.loads(r["payload"].read())}
        if op == "delete":
            kw = {"shadowName": args[1]} if len(args) > 1 else {}
            r = client.delete_thing_shadow(thingName=args[0], **kw)
            return {"ok": True, "document": json.loads(r["payload"].read())}
        if op == "publish":
            client.publish(topic=args[0], qos=1, payload=args[1].encode())
            return {"ok": True}
    except botocore.exceptions.ClientError as e:
        return {"ok": False, "error": e.response["Error"]["Code"],
                "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "message": e.response["Error"].get("Message", "")}
    raise SystemExit(f"unknown op {op}")


def azure(argv):
    from azure.iot.hub import IoTHubRegistryManager
    from azure.iot.hub.models import CloudToDeviceMethod, Twin, TwinProperties
    from msrest.exceptions import HttpOperationError

    cs, op, args = argv[2], argv[3], argv[4:]
    rm = IoTHubRegistryManager.from_connection_string(cs)
    try:
        if op == "method":
            timeout = int(args[3]) if len(args) > 3 else 10
            r = rm.invoke_device_method(args[0], CloudToDeviceMethod(
                method_name=args[1], payload=json.loads(args[2]), response_timeout_in_seconds=timeout))
            return {"ok": True, "status": r.status, "payload": r.payload}
        if op == "twin":
            t = rm.get_twin(args[0])
            return {"ok": True, "desired": t.properties.desired, "reported": t.properties.reported, "etag": t.etag}
        if op == "desired":
            t = rm.get_twin(args[0])
            t2 = rm.update_twin(args[0], Twin(properties=TwinProperties(desired=json.loads(args[1]))), t.etag)
            return {"ok": True, "desired": t2.properties.desired}
    except HttpOperationError as e:
        return {"ok": False, "error": type(e).__name__, "status": e.response.status_code,
                "message": e.response.text[:300]}
    raise SystemExit(f"unknown op {op}")


if __name__ == "__main__":
    result = aws(sys.argv[2:]) if sys.argv[1] == "aws" else azure(sys.argv[1:])
    print(json.dumps(result, default=str), flush=True)
