"""Version 1: offices, teams, staff, customers, imports, claims and their assignments, settings and the audit.

Frozen: the tables as version 1 created them (the columns later versions add arrive through their ALTER TABLE).
Never import the models here."""

from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("entity_id", sa.String(), nullable=False),
        sa.Column("field", sa.String(), nullable=True),
        sa.Column("old", sa.Text(), nullable=True),
        sa.Column("new", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("nino", sa.String(), nullable=True),
        sa.Column("sex", sa.String(), nullable=True),
        sa.Column("disability", sa.String(), nullable=True),
        sa.Column("ethnicity", sa.String(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("as_at", sa.Date(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("claims_added", sa.Integer(), nullable=False),
        sa.Column("claims_updated", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("partial", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_import_batch_sha256", "import_batch", ["sha256"])
    op.create_table(
        "office",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "schema_info",
        # One row (id 1), never a sequence.
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("upgraded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "team",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("office_id", "name"),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"]),
    )
    op.create_index("ix_team_office_id", "team", ["office_id"])
    op.create_table(
        "staff",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"]),
    )
    op.create_index("ix_staff_office_id", "staff", ["office_id"])
    op.create_index("ix_staff_team_id", "staff", ["team_id"])
    op.create_table(
        "claim",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("benefit", sa.String(), nullable=False),
        sa.Column("claim_start", sa.Date(), nullable=False),
        sa.Column("claim_end", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(), nullable=True),
        sa.Column("start_day", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=True),
        sa.Column("onflow_adviser_id", sa.String(), nullable=False),
        sa.Column("onflow_team_id", sa.Integer(), nullable=True),
        sa.Column("onflow_office_id", sa.Integer(), nullable=True),
        sa.Column("adviser_id", sa.String(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("first_batch_id", sa.Integer(), nullable=True),
        sa.Column("last_batch_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"]),
        sa.ForeignKeyConstraint(["onflow_adviser_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["onflow_team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["onflow_office_id"], ["office.id"]),
        sa.ForeignKeyConstraint(["adviser_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"]),
        sa.ForeignKeyConstraint(["first_batch_id"], ["import_batch.id"]),
        sa.ForeignKeyConstraint(["last_batch_id"], ["import_batch.id"]),
    )
    op.create_index("ix_claim_adviser_open", "claim", ["adviser_id", "end_day"])
    op.create_index("ix_claim_customer_start", "claim", ["customer_id", "start_day"])
    op.create_index("ix_claim_onflow_team_start", "claim", ["onflow_team_id", "start_day"])
    op.create_index("ix_claim_team_start", "claim", ["team_id", "start_day"])
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=False),
        sa.Column("adviser_id", sa.String(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.ForeignKeyConstraint(["adviser_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"]),
    )
    op.create_index("ix_assignment_adviser_id", "assignment", ["adviser_id"])
    op.create_index("ix_assignment_claim", "assignment", ["claim_id", "from_date"])
    # The version of record, read by `caseload db info` and by every caseload that opens the database.
    stamp = "'1970-01-01 00:00:00+00'" if op.get_context().dialect.name == "postgresql" else "'1970-01-01 00:00:00.000000'"
    op.execute(f"INSERT INTO schema_info (id, version, upgraded_at) VALUES (1, 1, {stamp})")


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
