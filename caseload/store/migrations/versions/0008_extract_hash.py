"""Version 8: each claim's extract fingerprint, so that the next extract's unchanged lines are recognised
without being checked (store/importer.py). Empty on an upgraded database: the next import fills it.

Frozen DDL; never import the models here."""

from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claim", sa.Column("extract_hash", sa.LargeBinary(), nullable=True))
    op.execute("UPDATE schema_info SET version = 8")


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
