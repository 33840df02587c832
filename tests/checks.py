"""What the stand-alone end-to-end scripts (tests/freertos/e2e.py,
tests/sdk/acceptance.py) share: a line per check and the closing
"N passed, M failed", and a bounded wait."""

import time


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name} {str(detail)[:1500]}", flush=True)
        return ok

    def summary(self) -> int:
        """Prints the closing line; the exit status: 0 only when checks ran and none failed."""
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 and self.passed > 0 else 1


def wait_until(pred, timeout, step=0.05):
    """pred()'s first true value within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(step)
    return pred()
