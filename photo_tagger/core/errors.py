"""Errors a user can fix (bad file, bad argument) versus bugs.

A `UserError` is shown as its message alone, which always names the file or value and
the problem; anything else is a bug and is logged with its traceback.
"""


class UserError(Exception):
    """A problem the user can fix; the message names the file/value and the problem."""
