"""Connections that must fail do, quickly, with exit status 2 and a message
that says why: a CA that did not sign the broker's certificate, an expired
client certificate, a client certificate from an unknown CA, no broker
listening, a SAS token made with the wrong key.
"""

import re
import subprocess
import time

import pytest

from conftest import AZURE_DEVICE, free_port

KEY = "bmltYnVzLWUyZS1kZXZpY2Uta2V5LTMyLWJ5dGVzISE="  # 32 bytes
WRONG_KEY = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXkhIQ=="


def refused(demo, *needles):
    """The demo gave up with status 2 and said each of `needles` on stderr."""
    rc = demo.wait(20)
    assert rc == 2, demo.output()
    assert demo.stderr.startswith("nimbus-demo: cannot connect to 127.0.0.1:"), demo.output()
    for n in needles:
        assert n in demo.stderr, (n, demo.output())
    # It never got as far as MQTT.
    assert not demo.grep(r"CONNACK accepted")


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_wrong_ca_is_refused(kind, run_demo, pki):
    demo = run_demo(kind, "--run-for-s", "10", ca=pki / "other-ca.crt")
    refused(demo, "TLS handshake or verification failed (-31)", "not correctly signed by the trusted CA",
            "check --ca")


def test_expired_client_certificate_is_refused(run_demo, broker):
    demo = run_demo("aws", "--run-for-s", "10", cert="expired")
    refused(demo, "TLS handshake or verification failed (-31)", "may have refused the client certificate")
    assert "certificate verify failed" in broker.log_text()


def test_unknown_client_certificate_is_refused(run_demo, broker):
    demo = run_demo("aws", "--run-for-s", "10", cert="unknown")
    refused(demo, "TLS handshake or verification failed (-31)", "may have refused the client certificate")
    assert "certificate verify failed" in broker.log_text()


def test_no_broker_is_a_clear_error(run_demo):
    port = free_port()  # nothing listens there
    demo = run_demo("aws", "--run-for-s", "10", port=port)
    refused(demo, f"127.0.0.1:{port}", "transport failed (-20)", "Connection refused", "is the broker running")


def test_sas_token_from_a_wrong_key_is_refused(run_demo, broker):
    """The hub checks the token's HMAC against the device's key in its
    registry (the plugin), and refuses a token signed with another key."""
    broker.use_sas(AZURE_DEVICE, KEY)
    broker.expect_violations()
    start = int(time.time())
    demo = run_demo("azure", "--sas-key", WRONG_KEY, "--fake-unix-time", str(start), "--run-for-s", "10",
                    port=broker.azure_sas, cert=False)
    rc = demo.wait(20)
    assert rc == 2, demo.output()
    assert "CONNACK refused" in demo.output()
    assert "refused" in demo.stderr and "credentials" in demo.stderr, demo.output()
    # The token itself is never logged, only its expiry.
    assert re.search(r"se=\d+", demo.output())
    assert "sig=" not in demo.output()
    v = broker.violations()
    assert v and all(x["client"] == AZURE_DEVICE and x["code"] == "401003 IoTHubUnauthorized" for x in v), v
    assert "signature does not match" in v[0]["message"], v
    assert "sig=" not in broker.violations_file.read_text() and WRONG_KEY not in broker.log_text()


@pytest.mark.parametrize("args, needle", [
    ([], "--cloud is required"),
    (["--cloud", "gcp"], "invalid --cloud"),
    (["--cloud", "aws", "--host", "localhost", "--device", "d", "--plain-tcp", "--qos", "2"], "invalid --qos"),
    (["--cloud", "azure", "--host", "localhost", "--device", "d", "--plain-tcp", "--sas-key", KEY,
      "--sas-lifetime-s", "9"], "invalid --sas-lifetime-s (at least 10)"),
    (["--cloud", "aws", "--host", "localhost", "--device", "d", "--plain-tcp", "--sensors", "9"],
     "invalid --sensors"),
])
def test_bad_arguments_exit_1(demo_bin, args, needle):
    r = subprocess.run([str(demo_bin)] + args, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1 and needle in r.stderr, r.stderr
