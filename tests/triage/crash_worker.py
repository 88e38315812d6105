"""A worker process for the crash-loop test: dies (os._exit, no cleanup) on any row whose text holds POISON.

Run as `python crash_worker.py`, with TRIAGE_HOME, TRIAGE_DATABASE_URL and TRIAGE_MODELS_PATH set. The hook
lives only here: production code has no crash switch.
"""

from __future__ import annotations

import os

from triage.config import Settings
from triage.flows.processing import Pipeline
from triage.runtime import Triage


def main() -> None:
    real = Pipeline.process

    def process(self, item, *, session, prepared=None):  # type: ignore[no-untyped-def]
        if b"POISON" in item.payload:
            os._exit(70)  # what an OOM kill or a segfault in a native library looks like to the inbox
        return real(self, item, session=session, prepared=prepared)

    Pipeline.process = process  # type: ignore[method-assign]
    rt = Triage(Settings())
    outcomes = rt.worker().drain()
    print(",".join(f"{o.inbox_id}:{o.status}" for o in outcomes))


if __name__ == "__main__":
    main()
