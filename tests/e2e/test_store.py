"""With a store (--store DIR), the boot counter and the readings' seq
survive restarts and SIGKILL (a stand-in for a power cut): every reading
carries (boot, seq), boots count up, and a later boot never reuses a seq
of an earlier one, so the cloud can tell a reboot from a replay and find
every gap.
"""

import time

import pytest

from conftest import stamps


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_boot_and_seq_survive_restarts_and_kills(kind, tmp_path, cloud_of, run_demo):
    cloud = cloud_of(kind)
    store = str(tmp_path / "store")
    args = ("--sensors", "1", "--telemetry-period-ms", "100", "--store", store)

    first = run_demo(kind, *args, "--run-for-s", "3")
    assert first.wait(20) == 0, first.output()
    assert first.grep(r"-- done after .*, boot 1$"), first.output()

    # Killed mid-run, with readings in flight.
    second = run_demo(kind, *args, "--run-for-s", "60")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and len([s for s in stamps(cloud) if s[0] == 2]) < 10:
        time.sleep(0.05)
    second.proc.kill()
    second.wait(10)

    third = run_demo(kind, *args, "--run-for-s", "3")
    assert third.wait(20) == 0, third.output()
    assert third.grep(r"-- done after .*, boot 3$"), third.output()

    time.sleep(1)
    seen = sorted(set(stamps(cloud)))
    by_boot = {}
    for boot, seq in seen:
        by_boot.setdefault(boot, []).append(seq)
    assert sorted(by_boot) == [1, 2, 3], seen
    for earlier, later in ((1, 2), (2, 3)):
        assert min(by_boot[later]) > max(by_boot[earlier]), (earlier, later, by_boot)
    # Within a boot, numbers run without a gap up to what was published.
    for boot, seqs in by_boot.items():
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), (boot, seqs)
