"""Stand-in for the app applying bulk edits, for the kill harness.

    python bulk_edit.py CATALOGUE STEPS PREFIX

Step i confirms tag `bulk-PREFIX-<i>` on every photo (one `tagging.set_state` call, one
transaction) and only then prints `committed <i>`, so the parent knows exactly which
steps were committed before it killed this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

from photo_tagger.core.catalogue import Catalogue
from photo_tagger.core.tagging import ensure_tag, set_state


def main(path: str, steps: int, prefix: str) -> None:
    with Catalogue(Path(path)) as cat:
        photo_ids = [pid for (pid,) in cat.query("SELECT id FROM photos ORDER BY id")]
        print("ready", flush=True)
        for step in range(steps):
            tag_id = ensure_tag(cat, f"bulk-{prefix}-{step}")
            set_state(cat, photo_ids, tag_id, "confirmed")
            print(f"committed {step}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
