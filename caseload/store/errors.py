"""Errors a user can cause, each with a sentence that says what to do.

Every driver error reaches the caller as a StoreError too (store.db turns them, in one place), so
screens and the command line catch StoreError only and show str(exc).
"""


class StoreError(Exception):
    """A problem with the database that the user can act on; str() is the message to show."""


class AccessDenied(StoreError):
    """The acting user's role does not allow this."""


class ConflictError(StoreError):
    """Someone else changed the record since it was read."""



class DatabaseBusy(StoreError):
    """Another connection held the database (an import, another caseload) past the busy timeout."""


class UnknownStaff(StoreError):
    """No staff member has that id."""


class DatabaseProblem(StoreError):
    """The database failed a statement or a connection. The instance is also the driver's SQLAlchemy
    error class (store.db builds the pair), so the store's own handling of, say, an IntegrityError is
    unchanged; str() is the sentence for the person."""

    message = "The database could not complete the request."

    def __str__(self) -> str:
        return self.message
