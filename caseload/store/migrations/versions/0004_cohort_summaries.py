"""Version 4: cohort summaries (counted from the claims already there) and context notes.

Frozen DDL; never import the models here. The summaries' count is a data step (below)."""

from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cohort_segment",
        sa.Column("day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seg_day", sa.Integer(), nullable=False),
        sa.Column("seg_end", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "cohort_start",
        sa.Column("start_day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("office_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("team_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("benefit", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("start_day", "office_key", "team_key", "benefit"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "cohort_summary",
        sa.Column("team_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("seg_day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("office_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("adviser_id", sa.String(), nullable=False),
        sa.Column("benefit", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("off_13", sa.Integer(), nullable=False),
        sa.Column("employment_13", sa.Integer(), nullable=False),
        sa.Column("other_benefit_13", sa.Integer(), nullable=False),
        sa.Column("education_13", sa.Integer(), nullable=False),
        sa.Column("other_13", sa.Integer(), nullable=False),
        sa.Column("other_known_13", sa.Integer(), nullable=False),
        sa.Column("sanction_13", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_13", sa.Integer(), nullable=False),
        sa.Column("not_known_13", sa.Integer(), nullable=False),
        sa.Column("opte_13", sa.Integer(), nullable=False),
        sa.Column("off_26", sa.Integer(), nullable=False),
        sa.Column("employment_26", sa.Integer(), nullable=False),
        sa.Column("other_benefit_26", sa.Integer(), nullable=False),
        sa.Column("education_26", sa.Integer(), nullable=False),
        sa.Column("other_26", sa.Integer(), nullable=False),
        sa.Column("other_known_26", sa.Integer(), nullable=False),
        sa.Column("sanction_26", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_26", sa.Integer(), nullable=False),
        sa.Column("not_known_26", sa.Integer(), nullable=False),
        sa.Column("opte_26", sa.Integer(), nullable=False),
        sa.Column("off_52", sa.Integer(), nullable=False),
        sa.Column("employment_52", sa.Integer(), nullable=False),
        sa.Column("other_benefit_52", sa.Integer(), nullable=False),
        sa.Column("education_52", sa.Integer(), nullable=False),
        sa.Column("other_52", sa.Integer(), nullable=False),
        sa.Column("other_known_52", sa.Integer(), nullable=False),
        sa.Column("sanction_52", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_52", sa.Integer(), nullable=False),
        sa.Column("not_known_52", sa.Integer(), nullable=False),
        sa.Column("opte_52", sa.Integer(), nullable=False),
        sa.Column("off_65", sa.Integer(), nullable=False),
        sa.Column("employment_65", sa.Integer(), nullable=False),
        sa.Column("other_benefit_65", sa.Integer(), nullable=False),
        sa.Column("education_65", sa.Integer(), nullable=False),
        sa.Column("other_65", sa.Integer(), nullable=False),
        sa.Column("other_known_65", sa.Integer(), nullable=False),
        sa.Column("sanction_65", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_65", sa.Integer(), nullable=False),
        sa.Column("not_known_65", sa.Integer(), nullable=False),
        sa.Column("opte_65", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_key", "seg_day", "office_key", "adviser_id", "benefit"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "cohort_summary_team",
        sa.Column("seg_day", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("office_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("team_key", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("benefit", sa.String(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("confirmed", sa.Integer(), nullable=False),
        sa.Column("off_13", sa.Integer(), nullable=False),
        sa.Column("employment_13", sa.Integer(), nullable=False),
        sa.Column("other_benefit_13", sa.Integer(), nullable=False),
        sa.Column("education_13", sa.Integer(), nullable=False),
        sa.Column("other_13", sa.Integer(), nullable=False),
        sa.Column("other_known_13", sa.Integer(), nullable=False),
        sa.Column("sanction_13", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_13", sa.Integer(), nullable=False),
        sa.Column("not_known_13", sa.Integer(), nullable=False),
        sa.Column("opte_13", sa.Integer(), nullable=False),
        sa.Column("off_26", sa.Integer(), nullable=False),
        sa.Column("employment_26", sa.Integer(), nullable=False),
        sa.Column("other_benefit_26", sa.Integer(), nullable=False),
        sa.Column("education_26", sa.Integer(), nullable=False),
        sa.Column("other_26", sa.Integer(), nullable=False),
        sa.Column("other_known_26", sa.Integer(), nullable=False),
        sa.Column("sanction_26", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_26", sa.Integer(), nullable=False),
        sa.Column("not_known_26", sa.Integer(), nullable=False),
        sa.Column("opte_26", sa.Integer(), nullable=False),
        sa.Column("off_52", sa.Integer(), nullable=False),
        sa.Column("employment_52", sa.Integer(), nullable=False),
        sa.Column("other_benefit_52", sa.Integer(), nullable=False),
        sa.Column("education_52", sa.Integer(), nullable=False),
        sa.Column("other_52", sa.Integer(), nullable=False),
        sa.Column("other_known_52", sa.Integer(), nullable=False),
        sa.Column("sanction_52", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_52", sa.Integer(), nullable=False),
        sa.Column("not_known_52", sa.Integer(), nullable=False),
        sa.Column("opte_52", sa.Integer(), nullable=False),
        sa.Column("off_65", sa.Integer(), nullable=False),
        sa.Column("employment_65", sa.Integer(), nullable=False),
        sa.Column("other_benefit_65", sa.Integer(), nullable=False),
        sa.Column("education_65", sa.Integer(), nullable=False),
        sa.Column("other_65", sa.Integer(), nullable=False),
        sa.Column("other_known_65", sa.Integer(), nullable=False),
        sa.Column("sanction_65", sa.Integer(), nullable=False),
        sa.Column("failed_to_sign_65", sa.Integer(), nullable=False),
        sa.Column("not_known_65", sa.Integer(), nullable=False),
        sa.Column("opte_65", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seg_day", "office_key", "team_key", "benefit"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "summary_info",
        # One row (id 1), never a sequence.
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("rule_set", sa.String(), nullable=False),
        sa.Column("weeks", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "context_note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("cohort_kind", sa.String(), nullable=False),
        sa.Column("period_label", sa.String(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("office_id", "cohort_kind", "period_label"),
        sa.ForeignKeyConstraint(["office_id"], ["office.id"]),
    )
    op.create_index("ix_context_note_office_id", "context_note", ["office_id"])
    op.execute("UPDATE schema_info SET version = 4")

    # Data, not DDL: the cohort summaries counted from the claims already there, by the store's own code (the one
    # accepted exception to "never import caseload here"). Offline (`caseload db migrate --sql`) it is a comment.
    if op.get_context().as_sql:
        op.get_context().impl.static_output(
            "-- Version 4 data step (not SQL): `caseload db migrate` counts the cohort summaries from the claims "
            "with caseload's own code (store/summary.py, rebuild_summaries); the SQL above only creates their tables.")
        return
    from caseload.store.summary import rebuild_summaries

    rebuild_summaries(op.get_bind())


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
