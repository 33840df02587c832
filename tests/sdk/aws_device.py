"""A thing written with AWS's device SDK (awsiotsdk), as a firmware team
would write one for AWS IoT Core, pointed at the local cloud.

    aws_device.py --port N --thing NAME --cert F --key F --ca F [--host H]

Connects with X.509 (mTLS), answers requests on `<thing>/request/#` on
`<thing>/response/<path>`, publishes an event, reads its shadow and reports
through the SDK's shadow client (classic shadow and a named one), and
applies each desired delta by reporting it. Prints one JSON line per thing
that happens ({"event": ...}); runs until --run-s passes or it is told to
stop by a request on `<thing>/request/exit`.
"""

import argparse
import json
import sys
import threading
import time

from awscrt import mqtt
from awsiot import iotshadow, mqtt_connection_builder


def say(event, **kw):
    print(json.dumps(dict(event=event, **kw)), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="localhost")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--thing", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--run-s", type=float, default=60)
    a = ap.parse_args()
    thing = a.thing
    done = threading.Event()
    q1 = mqtt.QoS.AT_LEAST_ONCE

    conn = mqtt_connection_builder.mtls_from_path(
        endpoint=a.host, port=a.port, cert_filepath=a.cert, pri_key_filepath=a.key, ca_filepath=a.ca,
        client_id=thing, clean_session=False, keep_alive_secs=30,
        on_connection_interrupted=lambda connection, error, **kw: say("interrupted", error=str(error)))
    conn.connect().result(15)
    say("connected")

    def on_request(topic, payload, **kw):
        path = topic[len(f"{thing}/request/"):]
        say("request", path=path, payload=payload.decode(errors="replace"))
        if path == "exit":
            done.set()
            return
        body = {"path": path, "sdk": "awsiotsdk"}
        conn.publish(f"{thing}/response/{path}", json.dumps(body), q1)

    fut, _ = conn.subscribe(f"{thing}/request/#", q1, on_request)
    fut.result(10)

    shadow = iotshadow.IotShadowClient(conn)

    def report(state, name=None):
        token = f"sdk-{time.monotonic_ns()}"
        if name:
            req = iotshadow.UpdateNamedShadowRequest(thing_name=thing, shadow_name=name, client_token=token,
                                                     state=iotshadow.ShadowState(reported=state))
            shadow.publish_update_named_shadow(req, q1).result(10)
        else:
            req = iotshadow.UpdateShadowRequest(thing_name=thing, client_token=token,
                                                state=iotshadow.ShadowState(reported=state))
            shadow.publish_update_shadow(req, q1).result(10)

    def on_delta(ev):
        say("delta", state=ev.state, version=ev.version)
        report(ev.state)

    subs = [
        shadow.subscribe_to_get_shadow_accepted(
            iotshadow.GetShadowSubscriptionRequest(thing_name=thing), q1,
            lambda r: say("get_accepted", version=r.version,
                          reported=r.state.reported if r.state else None,
                          desired=r.state.desired if r.state else None)),
        shadow.subscribe_to_get_shadow_rejected(
            iotshadow.GetShadowSubscriptionRequest(thing_name=thing), q1,
            lambda e: say("get_rejected", code=e.code, message=e.message)),
        shadow.subscribe_to_update_shadow_accepted(
            iotshadow.UpdateShadowSubscriptionRequest(thing_name=thing), q1,
            lambda r: say("update_accepted", version=r.version, token=r.client_token)),
        shadow.subscribe_to_update_shadow_rejected(
            iotshadow.UpdateShadowSubscriptionRequest(thing_name=thing), q1,
            lambda e: say("update_rejected", code=e.code, message=e.message)),
        shadow.subscribe_to_shadow_delta_updated_events(
            iotshadow.ShadowDeltaUpdatedSubscriptionRequest(thing_name=thing), q1, on_delta),
        shadow.subscribe_to_update_named_shadow_accepted(
            iotshadow.UpdateNamedShadowSubscriptionRequest(thing_name=thing, shadow_name="config"), q1,
            lambda r: say("named_update_accepted", version=r.version)),
    ]
    for fut, _ in subs:
        fut.result(10)
    say("subscribed")

    shadow.publish_get_shadow(iotshadow.GetShadowRequest(thing_name=thing, client_token="get-1"), q1).result(10)
    report({"sdk": "awsiotsdk", "led": False})
    report({"firmware": "1.0.0"}, name="config")
    conn.publish(f"{thing}/events", json.dumps({"event": "boot", "sdk": "awsiotsdk"}), q1)[0].result(10)
    say("ready")
    done.wait(a.run_s)
    conn.disconnect().result(10)
    say("disconnected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
