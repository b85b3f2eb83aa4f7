"""Version 7: on PostgreSQL, row-level security on conferences, their action reviews, cover, context notes and
the staff list, and each group role granted only what its rules let it write. Nothing changes on SQLite.

No DDL of its own; the privileges are the store's (below)."""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE schema_info SET version = 7")

    # Privileges, not DDL: on PostgreSQL the group roles, their grants and row-level security, from the store's own
    # definition (store/policies.py; the one accepted exception to "never import caseload here"). Offline
    # (`caseload db migrate --sql`) its SQL is printed. Nothing on SQLite.
    from caseload.store.migrations import install_privileges

    install_privileges(op)


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
