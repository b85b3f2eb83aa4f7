"""Version 9: on PostgreSQL, the trigger that stamps the audit's actor asks first, in its WHEN, whether the row is
a person's login's (not the owner's), so the owner's rows (an import writes thousands) skip its function. Nothing
changes on SQLite.

No DDL of its own; the privileges are the store's (below)."""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE schema_info SET version = 9")

    # Privileges, not DDL: the store's own definition, as in version 7 (store/policies.py). Offline its SQL is printed.
    from caseload.store.migrations import install_privileges

    install_privileges(op)


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
