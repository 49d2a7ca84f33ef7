"""Errors a user can fix. The CLIs print them as one line; anything else is a programming error and raises."""


class UserError(Exception):
    """Something the user can fix (bad input, missing data, wrong option). Printed as one line."""


class DataFormatError(UserError):
    """A data file (or one line of it) does not match the expected format."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path, self.line = path, line
        where = ""
        if path is not None:
            where = f"{path}:{line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class ArgumentError(UserError):
    """Tool-call arguments that break the tool's schema. `field` names the argument when one is to blame, so a
    backend can ask the user for it again."""

    def __init__(self, message: str, *, field: str | None = None):
        self.field = field
        super().__init__(message)


class DataMissingError(UserError):
    """A data file is absent or corrupt; the message says how to fix it."""
