"""A device written with Microsoft's device SDK (azure-iot-device), as a
firmware team would write one for Azure IoT Hub, pointed at the local
cloud. The SDK connects to port 8883 of --host, so the local cloud runs in
a network namespace of the test's (tests/sdk/acceptance.py).

    azure_device.py --host H --device ID --ca F (--cert F --key F | --sas-key KEY)

Connects (X.509 or SAS), sends telemetry with properties, reads its twin,
reports, answers direct methods and cloud-to-device messages, and reports
each desired patch back. Prints one JSON line per thing that happens;
runs until --run-s passes or the method `exit` is called.
"""

import argparse
import json
import sys
import threading

from azure.iot.device import IoTHubDeviceClient, Message, MethodResponse, X509


def say(event, **kw):
    print(json.dumps(dict(event=event, **kw), default=str), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--device", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--sas-key")
    ap.add_argument("--run-s", type=float, default=60)
    a = ap.parse_args()
    ca = open(a.ca).read()
    if a.sas_key:
        client = IoTHubDeviceClient.create_from_symmetric_key(
            symmetric_key=a.sas_key, hostname=a.host, device_id=a.device, server_verification_cert=ca)
    else:
        client = IoTHubDeviceClient.create_from_x509_certificate(
            x509=X509(a.cert, a.key), hostname=a.host, device_id=a.device, server_verification_cert=ca)
    done = threading.Event()

    def on_method(req):
        say("method", name=req.name, payload=req.payload)
        if req.name == "exit":
            client.send_method_response(MethodResponse.create_from_method_request(req, 200, None))
            done.set()
            return
        client.send_method_response(MethodResponse.create_from_method_request(
            req, 200, {"method": req.name, "sdk": "azure-iot-device"}))

    def on_message(msg):
        say("c2d", data=msg.data.decode(errors="replace"), properties=msg.custom_properties)

    def on_desired(patch):
        say("desired", patch=patch)
        client.patch_twin_reported_properties({k: v for k, v in patch.items() if not k.startswith("$")})
        say("reported", patch=patch)

    client.on_method_request_received = on_method
    client.on_message_received = on_message
    client.on_twin_desired_properties_patch_received = on_desired
    try:
        client.connect()
    except Exception as e:  # the hub refused the connection: say how, fail
        say("connect_failed", error=type(e).__name__, message=str(e)[:300])
        client.shutdown()
        return 1
    say("connected")
    msg = Message(json.dumps({"temperature": 21.5}))
    msg.content_type = "application/json"
    msg.content_encoding = "utf-8"
    msg.custom_properties["subtopic"] = "response.sensor.0.reading"
    msg.custom_properties["sdk"] = "azure-iot-device"
    client.send_message(msg)
    say("sent")
    twin = client.get_twin()
    say("twin", twin=twin)
    client.patch_twin_reported_properties({"sdk": "azure-iot-device", "led": False})
    say("reported", patch={"sdk": "azure-iot-device"})
    say("ready")
    done.wait(a.run_s)
    client.shutdown()
    say("disconnected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
