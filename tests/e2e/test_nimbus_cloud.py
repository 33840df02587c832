"""nimbus-cloud (tools/cloud/nimbus_cloud.py), a cloud application's one
API for both clouds, against the demo device on the local cloud: a call
answered through a direct method (Azure) or the request topic and the
response table (AWS, as the seed does), the state read and the desired
state changed, a request sent for the device to answer on its own, the
refusals, and the CloudFormation deployment of the AWS rule and table.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import AWS_DEVICE, AZURE_DEVICE, ROOT

import nimbus_cloud  # noqa: E402
from nimbus_cloud import CloudError  # noqa: E402


@pytest.fixture
def cloud_json(broker, tmp_path):
    path = tmp_path / "cloud.json"
    path.write_text(json.dumps(broker.endpoints()))
    return path


def client(kind, cloud_json):
    args = nimbus_cloud.argparse.Namespace(cloud=kind, local_cloud=str(cloud_json))
    return nimbus_cloud.cloud_from(args)


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_call_state_and_send_on_either_cloud(kind, cloud_json, cloud_of, run_demo):
    device = AWS_DEVICE if kind == "aws" else AZURE_DEVICE
    watch = cloud_of(kind)
    demo = run_demo(kind, "--sensors", "2", "--run-for-s", "30")
    assert demo.wait_line(r"-- connected as .*connection 1$", 10), demo.output()
    c = client(kind, cloud_json)

    answer = c.call(device, "sensor/list", timeout=10)
    assert answer["status"] == 200 and [s["id"] for s in answer["body"]["sensors"]] == [0, 1], answer
    answer = c.call(device, "sensor/9/get", timeout=10)
    assert answer["status"] == 404 and answer["body"]["error"] == "not found", answer

    c.set_desired(device, {"telemetry_period_ms": 700})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and c.state(device)["reported"].get("telemetry_period_ms") != 700:
        time.sleep(0.1)
    state = c.state(device)
    assert state["reported"]["telemetry_period_ms"] == 700 and state["desired"]["telemetry_period_ms"] == 700

    mark = watch.mark()
    c.send(device, "sensor/0/get")
    want = f"{device}/response/sensor/0/get" if kind == "aws" else "subtopic=response.sensor.0.get"
    m = watch.wait_for(lambda m: want in m.topic, 10, after=mark)
    assert m is not None and json.loads(m.payload)["id"] == 0

    # The same through the command line: one JSON line, exit 0.
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "cloud" / "nimbus_cloud.py"), "--cloud", kind,
                        "--local-cloud", str(cloud_json), "call", device, "general_information", "--timeout", "10"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == 200 and out["body"]["identity"]["model"] == "host-demo", out
    demo.stop()


def test_refusals(cloud_json, broker):
    aws, azure = client("aws", cloud_json), client("azure", cloud_json)
    with pytest.raises(CloudError) as e:
        azure.call(AZURE_DEVICE, "sensor/list", timeout=5)  # registered, not connected
    assert e.value.status == 404 and "404103" in e.value.message
    with pytest.raises(CloudError) as e:
        aws.call(AWS_DEVICE, "sensor/list", timeout=1)  # nobody answers
    assert e.value.status == 504
    with pytest.raises(CloudError) as e:
        aws.state(AWS_DEVICE)  # no shadow yet
    assert e.value.status == 404 and "ResourceNotFoundException" in e.value.message
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "cloud" / "nimbus_cloud.py"), "--cloud", "azure",
                        "--local-cloud", str(cloud_json), "state", "set-desired", AZURE_DEVICE, "[1]"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and json.loads(r.stdout)["error"] == 400, r.stdout


def test_aws_deploy_creates_the_rule_role_and_table():
    """The CloudFormation call (botocore's Stubber: no AWS account here)
    and the template it sends: a DynamoDB table keyed by device and
    received time, and a rule on every <dev>/response/# message."""
    import boto3
    from botocore.stub import ANY, Stubber

    cf = boto3.client("cloudformation", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(cf) as stub:
        stub.add_response("create_stack", {"StackId": "arn:aws:cloudformation:eu-west-1:1:stack/n/1"},
                          {"StackName": "n", "TemplateBody": ANY, "Capabilities": ["CAPABILITY_IAM"],
                           "Parameters": [{"ParameterKey": "TableName", "ParameterValue": "T"}]})
        out = nimbus_cloud.aws_deploy("n", "T", None, client=cf)
        stub.assert_no_pending_responses()
    assert out["table"] == "T" and out["stack_id"].endswith("stack/n/1")
    t = json.loads(nimbus_cloud.TEMPLATE.read_text())
    keys = {k["AttributeName"]: k["KeyType"] for k in t["Resources"]["Table"]["Properties"]["KeySchema"]}
    assert keys == {"device": "HASH", "received": "RANGE"}
    sql = t["Resources"]["Rule"]["Properties"]["TopicRulePayload"]["Sql"]["Fn::Sub"]
    assert "FROM '+/response/#'" in sql and "topic(1) AS device" in sql and "timestamp() AS received" in sql
