"""The broker goes away mid-run and comes back: the device reconnects with
backoff and no QoS 1 reading is lost. An Azure device with a SAS token
connects and renews its token before it expires.
"""

import signal
import time

import pytest

from conftest import AZURE_DEVICE, HUB, azure_username, missing_readings, sas_token

KEY = "bmltYnVzLWUyZS1kZXZpY2Uta2V5LTMyLWJ5dGVzISE="


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_broker_killed_mid_run_loses_no_qos1_reading(kind, broker, cloud_of, run_demo):
    cloud = cloud_of(kind)
    demo = run_demo(kind, "--sensors", "2", "--telemetry-period-ms", "100", "--qos", "1",
                    "--backoff-max-ms", "2000", "--run-for-s", "9")
    out = demo.output
    assert demo.wait_line(r"-- connected as .*connection 1$", 10), out()
    subscribed = time.time()
    assert cloud.wait_for(lambda m: len(cloud.telemetry()) >= 10, 10), out()
    # The cloud's subscriptions are on disk (a real cloud never loses them).
    broker.wait_saved(since=subscribed)

    # Freeze the broker so that readings are surely in flight (sent, not
    # acknowledged), then kill it: what it had not read is gone with it.
    broker.signal(signal.SIGSTOP)
    frozen = len(demo.lines)
    sent = demo.wait_line(r"reading \{.*\"seq\":\d+\}$", 5, after=frozen)
    assert sent and demo.wait_line(r"reading \{.*\"seq\":\d+\}$", 5, after=sent[0] + 2), out()
    broker.stop(signal.SIGKILL)
    line = demo.wait_line(r"!! link down: (connection closed|transport failed|TLS)", 5, after=frozen)
    assert line, out()
    time.sleep(1.5)
    broker.restart()
    up_at = time.monotonic()

    # Attempts while it was away were refused and retried with backoff
    # (the first delay is at most 1 s, so at least one came while it was
    # down); with delays capped at 2 s it is back soon after the broker.
    again = demo.wait_line(r"-- connected as .*connection 2$", 10, after=line[0])
    assert again, out()
    assert demo.grep(r"!! link down: transport failed \(-20\)"), out()
    assert again[1] - up_at < 5, "reconnected too late after the broker came back\n" + out()

    # The unacknowledged readings are sent again; the document is fetched again.
    assert demo.wait_line(r"reading \{.*\(retransmitted\)$", 5, after=again[0]), out()
    assert demo.wait_line(r"← (\$aws/things/.*/shadow/get/accepted|\$iothub/twin/res/200/)", 10,
                          after=again[0]), out()

    # Every reading the device published arrives, despite the gap.
    assert demo.wait(25) == 0, out()
    done = demo.wait_line(r"-- done after .* 2 connection\(s\), (\d+) readings published "
                          r"\(seq 1\.\.(\d+)\), 0 unacknowledged", 1)
    assert done, out()
    last = int(done[2][2])
    assert last >= 20, out()
    missing = missing_readings(cloud, last)
    assert not missing, f"readings lost: {missing}\n{out()}"


def test_sas_token_connects_and_is_renewed_before_expiry(broker, cloud_of, run_demo):
    """The local hub checks every token against the device's key and closes
    the connection when the token expires, as IoT Hub does.

    The device's clock starts at `start` (--fake-unix-time, the real time
    now); a 10 s token is renewed at half its life (the core never renews
    earlier), i.e. at start + 5, with a new expiry start + 15. The test
    computes both tokens itself (in Python, independently of the device)
    and checks that the device presented exactly those; the hub accepted
    both, and never had to drop an expired one."""
    lifetime, renew_after = 10, 5
    broker.use_sas(AZURE_DEVICE, KEY)
    cloud = cloud_of("azure")
    start = int(time.time())
    demo = run_demo("azure", "--sas-key", KEY, "--sas-lifetime-s", str(lifetime), "--fake-unix-time",
                    str(start), "--sensors", "1", "--telemetry-period-ms", "200", "--run-for-s", "9",
                    port=broker.azure_sas, cert=False)
    out = demo.output
    c1 = demo.wait_line(rf"→ CONNECT client_id={AZURE_DEVICE} user=\S+ password=\(SAS token, se=(\d+)\)", 10)
    assert c1 and int(c1[2][1]) == start + lifetime, out()
    ok1 = demo.wait_line(r"← CONNACK accepted", 5, after=c1[0])
    assert ok1, out()
    user = azure_username(HUB, AZURE_DEVICE)
    assert f"u'{user}'" in broker.log_text()
    first = sas_token(HUB, AZURE_DEVICE, KEY, start + lifetime)
    second = sas_token(HUB, AZURE_DEVICE, KEY, start + renew_after + lifetime)
    assert first != second

    bye = demo.wait_line(r"→ DISCONNECT", renew_after + 3, after=ok1[0])
    assert bye, "the device did not renew its token\n" + out()
    renewed_at = bye[1] - demo.started
    c2 = demo.wait_line(r"→ CONNECT .* password=\(SAS token, se=(\d+)\)", 10, after=bye[0])
    assert c2 and int(c2[2][1]) == start + renew_after + lifetime, out()
    ok2 = demo.wait_line(r"← CONNACK (.*)", 10, after=c2[0])
    assert ok2 and ok2[2][1] == "accepted", out()
    # Renewed on time: at half of its 10 s, well before expiry.
    assert renew_after - 0.5 <= renewed_at <= renew_after + 2, out()
    assert not demo.grep(r"CONNACK refused"), out()
    assert demo.wait(20) == 0, out()
    done = demo.wait_line(r"-- done after .* 2 connection\(s\), \d+ readings published \(seq 1\.\.(\d+)\), "
                          r"0 unacknowledged", 1)
    assert done, out()
    last = int(done[2][1])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and set(cloud.seqs(cloud.telemetry())) < set(range(1, last + 1)):
        time.sleep(0.1)
    assert sorted(set(cloud.seqs(cloud.telemetry()))) == list(range(1, last + 1)), out()
