"""With a store (--store DIR), nothing accepted is lost: readings keep
being taken while the broker is away and arrive once it is back; a device
killed with SIGKILL (a stand-in for a power cut) at any moment, with the
broker up, down or frozen, delivers after its restart every reading it
had accepted, numbers on, and duplicates only readings that were not yet
acknowledged. A soak test does all of it many times over.
"""

from __future__ import annotations

import random
import re
import signal
import time
import zlib
from pathlib import Path

import pytest

from conftest import missing_readings, stamps

READING = re.compile(r'"seq":(\d+),"boot":(\d+)')
SEQ_BLOCK = 256


def queued_in(store: Path) -> set[tuple[int, int]]:
    """(boot, seq) of the readings the store's queue holds: records 16 and
    up whose CRC-32 checks out (a torn one was never accepted)."""
    out = set()
    for f in store.glob("*.rec"):
        if int(f.stem) < 16:
            continue
        data = f.read_bytes()
        if len(data) < 5 or zlib.crc32(data[:-4]).to_bytes(4, "little") != data[-4:]:
            continue
        m = READING.search(data.decode("latin-1"))
        if m:
            out.add((int(m[2]), int(m[1])))
    return out


def retransmitted(demo) -> set[tuple[int, int]]:
    """(boot, seq) of the readings the demo logged as sent again."""
    out = set()
    for line in demo.lines:
        if "(retransmitted)" in line:
            m = READING.search(line)
            if m:
                out.add((int(m[2]), int(m[1])))
    return out


class Lives:
    """The device's lives on one store, and what each left behind."""

    def __init__(self, kind, store, run_demo, extra):
        self.kind, self.store, self.run_demo, self.extra = kind, store, run_demo, extra
        self.at_kill: set[tuple[int, int]] = set()
        self.resent: set[tuple[int, int]] = set()
        self.demos = []
        self.kills = 0

    def start(self, *args):
        demo = self.run_demo(self.kind, "--store", str(self.store), *self.extra, *args)
        self.demos.append(demo)
        return demo

    def kill(self, demo):
        """SIGKILL, then note what its queue held: unacknowledged then."""
        demo.proc.kill()
        demo.wait(10)
        self.at_kill |= queued_in(self.store)
        self.resent |= retransmitted(demo)
        self.kills += 1

    def check(self, cloud, final_demo, timeout=30.0):
        """Every reading accepted in every life arrived; numbering and
        duplicates as promised. Returns (taken, received, duplicates)."""
        self.resent |= retransmitted(final_demo)
        # Everything queued at a kill must arrive.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.at_kill <= set(stamps(cloud)):
            time.sleep(0.2)
        got = stamps(cloud)
        seen = set(got)
        assert self.at_kill <= seen, sorted(self.at_kill - seen)[:20]
        by_boot: dict[int, set[int]] = {}
        for boot, seq in seen | self.at_kill:
            by_boot.setdefault(boot, set()).add(seq)
        taken = 0
        for boot, seqs in sorted(by_boot.items()):
            first, last = min(seqs), max(seqs)
            # A boot starts on a fresh block of numbers, never reusing one.
            assert first % SEQ_BLOCK == 1, (boot, first)
            missing = sorted(set(range(first, last + 1)) - seqs)
            assert not missing, (boot, missing[:20], len(missing))
            taken += last - first + 1
        boots = sorted(by_boot)
        assert boots == list(range(boots[0], boots[0] + len(boots))), boots
        for earlier, later in zip(boots, boots[1:]):
            assert min(by_boot[later]) > max(by_boot[earlier]), (earlier, later)
        # Duplicates only of what was unacknowledged: queued at a kill, or
        # in flight when the broker went away (then logged as resent). The
        # broker's own redeliveries to the cloud are not the device's.
        dups = _dups(stamps(cloud, first_copies=True))
        unexplained = dups - self.at_kill - self.resent
        assert not unexplained, sorted(unexplained)[:20]
        return taken, len(got), len(dups)


def _dups(got):
    counts = {}
    for s in got:
        counts[s] = counts.get(s, 0) + 1
    return {s for s, n in counts.items() if n > 1}


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_readings_taken_while_the_broker_is_down_for_60_s_all_arrive(kind, tmp_path, broker, cloud_of,
                                                                        run_demo):
    cloud = cloud_of(kind)
    store = tmp_path / "store"
    demo = run_demo(kind, "--sensors", "1", "--telemetry-period-ms", "100", "--store", str(store),
                    "--queue-len", "1024", "--backoff-max-ms", "5000", "--run-for-s", "80")
    out = demo.output
    assert demo.wait_line(r"-- connected as .*connection 1$", 10), out()
    subscribed = time.time()
    assert cloud.wait_for(lambda m: len(cloud.telemetry()) >= 10, 10), out()
    broker.wait_saved(since=subscribed)
    broker.stop()
    down = len(demo.lines)
    assert demo.wait_line(r"!! link down", 5, after=down), out()
    time.sleep(60)
    # The device kept sampling: about 600 readings wait in the store.
    waiting = queued_in(store)
    assert len(waiting) >= 550, len(waiting)
    broker.restart()
    assert demo.wait_line(r"-- connected as .*connection 2$", 15, after=down), out()
    assert demo.wait(40) == 0, out()
    done = demo.wait_line(r"-- done after .* readings published \(seq 1\.\.(\d+)\), 0 unacknowledged, "
                          r"0 queued, 0 dropped, 0 refused, boot 1$", 1)
    assert done, out()
    last = int(done[2][1])
    # One reading every 100 ms for the whole run, outage included.
    assert last >= 700, out()
    assert not missing_readings(cloud, last, boot=1), "readings lost"
    assert not list(store.glob("1[6-9].rec")) and not queued_in(store), "the queue is empty"


@pytest.mark.parametrize("kind", ["aws", "azure"])
def test_a_device_killed_at_any_moment_loses_no_accepted_reading(kind, tmp_path, broker, cloud_of,
                                                                 run_demo):
    cloud = cloud_of(kind)
    rng = random.Random(13)
    lives = Lives(kind, tmp_path / "store", run_demo,
                  ("--sensors", "2", "--telemetry-period-ms", "50", "--queue-len", "1024",
                   "--backoff-max-ms", "2000", "--connect-attempts", "0"))
    for state in ("up", "down", "frozen", "up", "frozen", "down"):
        demo = lives.start("--run-for-s", "60")
        assert demo.wait_line(r"-- connected as ", 15), demo.output()
        subscribed = time.time()
        time.sleep(rng.uniform(0.5, 1.5))
        broker.wait_saved(since=subscribed)
        if state == "down":
            broker.stop()
        elif state == "frozen":
            broker.signal(signal.SIGSTOP)
        time.sleep(rng.uniform(0.3, 1.5))
        lives.kill(demo)
        if state == "down":
            broker.restart()
        elif state == "frozen":
            broker.signal(signal.SIGCONT)
    final = lives.start("--run-for-s", "6")
    assert final.wait(40) == 0, final.output()
    assert final.grep(r"-- done after .*0 unacknowledged, 0 queued, 0 dropped, 0 refused, boot 7$"), \
        final.output()
    taken, received, dups = lives.check(cloud, final)
    assert lives.kills == 6 and lives.at_kill, "readings were unacknowledged at some kill"
    print(f"\n{kind}: {taken} readings taken over 7 lives, {received} received, {dups} duplicates")


def test_soak_broker_and_device_killed_over_and_over_nothing_is_lost(tmp_path, broker, cloud_of,
                                                                     run_demo):
    """At least 10,000 readings across at least 20 broker kills and 5
    device kills: 0 lost. SOAK_SECONDS makes it longer."""
    import os

    seconds = int(os.environ.get("SOAK_SECONDS", "200"))
    cloud = cloud_of("aws")
    rng = random.Random(7)
    lives = Lives("aws", tmp_path / "store", run_demo,
                  ("--sensors", "2", "--telemetry-period-ms", "40", "--queue-len", "2048",
                   "--backoff-max-ms", "2000", "--connect-attempts", "0"))
    end = time.monotonic() + seconds
    device_every = seconds / 6
    broker_kills = 0
    demo = lives.start("--run-for-s", str(seconds + 60))
    assert demo.wait_line(r"-- connected as ", 15), demo.output()
    next_device_kill = time.monotonic() + device_every
    saved = time.time()
    while time.monotonic() < end:
        time.sleep(rng.uniform(3.0, 5.0))
        broker.wait_saved(since=saved)
        how = rng.choice(("term", "freeze-kill"))
        if how == "term":
            broker.stop()
        else:
            broker.signal(signal.SIGSTOP)
            time.sleep(rng.uniform(0.2, 1.0))
            broker.stop(signal.SIGKILL)
        broker_kills += 1
        if time.monotonic() >= next_device_kill:
            # A power cut while the broker is away.
            lives.kill(demo)
            demo = lives.start("--run-for-s", str(seconds + 60))
            next_device_kill += device_every
        time.sleep(rng.uniform(0.3, 1.5))
        broker.restart()
        saved = time.time()
    lives.kill(demo)
    final = lives.start("--run-for-s", "8")
    assert final.wait(60) == 0, final.output()
    assert final.grep(r"-- done after .*0 unacknowledged, 0 queued, 0 dropped, 0 refused, boot \d+$"), \
        final.output()
    taken, received, dups = lives.check(cloud, final, timeout=60)
    print(f"\nsoak: {seconds} s, {taken} readings taken, {received} received, {dups} duplicates, "
          f"{broker_kills} broker kills, {lives.kills} device kills, 0 lost")
    assert broker_kills >= 20 and lives.kills >= 5, (broker_kills, lives.kills)
    assert taken >= 10_000, taken
