"""The errors stored with a photo that could not be indexed, and which are worth retrying.

An error row whose file is unchanged is skipped by the next index, unless its error came
from the moment rather than from the file (unreadable just then, a stalled drive): those
are tried again. The messages and that decision live together here, so rewording a
message cannot silently change what is retried.
"""

from __future__ import annotations

CANNOT_READ = "cannot read file"
PERMISSION_DENIED = "permission denied"
DECODE_TIMED_OUT = "decoding took longer"
NOT_DECODED = "not decoded"
TRANSIENT = (CANNOT_READ, PERMISSION_DENIED, DECODE_TIMED_OUT, NOT_DECODED)


def cannot_read(reason: object) -> str:
    return f"{CANNOT_READ} ({reason})"


def decode_timed_out(seconds: float) -> str:
    return f"{DECODE_TIMED_OUT} than {seconds:g} s; skipped"


def pool_stalled(stuck: int) -> str:
    return f"{NOT_DECODED}: {stuck} other photos are stuck decoding (is the drive stalled?); skipped"


def is_transient(error: str | None) -> bool:
    """True when a photo with this error (or none) should be tried again as it is."""
    return error is None or error.startswith(TRANSIENT)
