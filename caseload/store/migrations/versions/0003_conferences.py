"""Version 3: caseload conferences, their items and action reviews; the conference columns on actions (which
conference set them) and on claim_state (last conference, estimate, plan).

Frozen; never import the models here."""

from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.String(), nullable=False),
        sa.Column("adviser_id", sa.String(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("held_day", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attendees", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("adviser_id", "held_on"),
        sa.ForeignKeyConstraint(["adviser_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
    )
    op.create_index("ix_conference_adviser_day", "conference", ["adviser_id", "held_day"])
    op.create_table(
        "conference_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.String(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("done_so_far", sa.Text(), nullable=True),
        sa.Column("plan", sa.Text(), nullable=True),
        sa.Column("expected_offflow", sa.Date(), nullable=True),
        sa.Column("expected_offflow_day", sa.Integer(), nullable=True),
        sa.Column("expected_offflow_unknown", sa.Boolean(), nullable=False),
        sa.Column("offflow_note", sa.Text(), nullable=True),
        sa.Column("rag_review", sa.String(), nullable=True),
        sa.Column("rag_before", sa.String(), nullable=True),
        sa.Column("rag_rating_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conference_id", "claim_id"),
        sa.ForeignKeyConstraint(["conference_id"], ["conference.id"]),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"]),
        sa.ForeignKeyConstraint(["rag_rating_id"], ["rag_rating.id"]),
    )
    op.create_index("ix_conference_item_claim", "conference_item", ["claim_id"])
    op.create_table(
        "conference_action_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_item_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conference_item_id", "action_id"),
        sa.ForeignKeyConstraint(["conference_item_id"], ["conference_item.id"]),
        sa.ForeignKeyConstraint(["action_id"], ["action.id"]),
    )
    op.create_index("ix_conference_action_review_action_id", "conference_action_review", ["action_id"])
    op.create_index("ix_conference_action_review_conference_item_id", "conference_action_review", ["conference_item_id"])
    # ALTER TABLE ... ADD COLUMN with REFERENCES inline: one statement SQLite and PostgreSQL share.
    op.execute("ALTER TABLE action ADD COLUMN conference_id INTEGER REFERENCES conference (id)")
    op.execute("ALTER TABLE action ADD COLUMN conference_item_id INTEGER REFERENCES conference_item (id)")
    op.add_column("claim_state", sa.Column("last_conference_on", sa.Date(), nullable=True))
    op.add_column("claim_state", sa.Column("last_conference_day", sa.Integer(), nullable=True))
    op.add_column("claim_state", sa.Column("expected_offflow", sa.Date(), nullable=True))
    op.add_column("claim_state", sa.Column("last_plan_day", sa.Integer(), nullable=True))
    op.execute("UPDATE schema_info SET version = 3")


def downgrade() -> None:
    raise NotImplementedError("caseload does not downgrade a database: restore the backup taken before upgrading.")
