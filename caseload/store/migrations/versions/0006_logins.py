"""Version 6: each staff member's PostgreSQL login (unique where set); on PostgreSQL the group roles and what
they may do.

Frozen DDL; never import the models here. The privileges are a step of their own (below)."""

from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("staff", sa.Column("login", sa.String(), nullable=True))
    op.create_index("ix_staff_login", "staff", ["login"], unique=True)
    op.execute("UPDATE schema_info SET version = 6")

    # Privileges, not DDL: on PostgreSQL the group roles, their grants and row-level security, from the store's own
    # definition (store/policies.py; the one accepted exception to "never import caseload here"). Offline
    # (`caseload db migrate --sql`) its SQL is printed. Nothing on SQLite.
    from caseload.store.migrations import install_privileges

    install_privileges(op)


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
