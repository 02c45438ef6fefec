"""Errors a user can fix (bad file, bad argument) versus bugs.

A `UserError` is shown as its message alone, which always names the file or value and
the problem; anything else is a bug and is logged with its traceback.
"""


class UserError(Exception):
    """A problem the user can fix; the message names the file/value and the problem.

    `about` names the input at fault ("tags") in the core's words, so a front end
    can point at its own control for it (the CLI adds its option) without the core knowing it."""

    def __init__(self, message: str, *, about: str | None = None) -> None:
        super().__init__(message)
        self.about = about
