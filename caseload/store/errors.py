"""Errors a user can cause, each with a sentence that says what to do."""


class StoreError(Exception):
    """A problem with the database that the user can act on; str() is the message to show."""


class AccessDenied(StoreError):
    """The acting user's role does not allow this."""


class ConflictError(StoreError):
    """Someone else changed the record since it was read."""



class DatabaseBusy(StoreError):
    """Another connection held the database (an import, another caseload) past the busy timeout."""
