"""The schema's versions as Alembic revisions, frozen: versions/000N_*.py creates schema version N.

Each revision writes its DDL out as it stood at its version (explicit columns, types, keys and indexes), so a
later change to the models never changes what "version 2" was; a new version is a new revision. The revisions
never import the models. The one exception are the data and privilege steps, which are code, not DDL: version 4
counts the cohort summaries (store/summary.py) and versions 6, 7 and 9 install the PostgreSQL group roles, grants and
row-level security (store/policies.py).

Alembic is driven from here, with no alembic.ini or env.py: `upgrade` runs the revisions on a connection already
in caseload's write transaction, `offline_sql` prints them (Alembic's offline mode) for a DBA to review.
Revision N is schema version N (revision id "000N"); `schema_info.version` stays the version of record, kept
equal to the revision by every revision and by store/db.py's `migrate`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

VERSION_TABLE = "alembic_version"


def revision(version: int) -> str | None:
    """Schema version N's revision id; None for no schema (version 0)."""
    return f"{version:04d}" if version else None


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(Path(__file__).parent))


def head_version() -> int:
    """The newest schema version the revisions create."""
    (head,) = _script().get_heads()
    return int(head)


def _run(config: Config, script: ScriptDirectory, start: int, target: int, **configure: Any) -> None:
    """Alembic's `upgrade` command without env.py: the revisions after `start` up to `target`."""
    destination = revision(target)

    def steps(rev, _context):  # noqa: ANN001, ANN202
        return script._upgrade_revs(destination, revision(start) if rev is None or rev == () else rev)

    with EnvironmentContext(config, script, fn=steps, destination_rev=destination) as env:
        env.configure(**configure)
        with env.begin_transaction():
            env.run_migrations()


def upgrade(conn: Connection, start: int, target: int) -> None:
    """Upgrade a database at schema version `start` (0: none yet) to `target`, in the connection's transaction.

    A database from before the revisions (no alembic_version, `schema_info.version` N) is stamped with revision N
    first; so is one whose stamp disagrees with schema_info, the version of record."""
    script = _script()
    if start:
        stamp(conn, start)
    _run(Config(), script, start, target, connection=conn, transaction_per_migration=False)


def stamp(conn: Connection, version: int) -> None:
    """Record revision `version` in alembic_version (created if missing), unless it is there already."""
    context = MigrationContext.configure(conn)
    if context.get_current_heads() != (revision(version),):
        context.stamp(_script(), revision(version) or "base")


def has_stamp(conn: Connection) -> bool:
    return inspect(conn).has_table(VERSION_TABLE)


def offline_sql(dialect: str, start: int, target: int, *, stamped: bool, schema: str = "public") -> str:
    """The SQL that upgrades a `dialect` database from schema version `start` to `target` (Alembic's offline mode),
    without a connection. `stamped`: the database has alembic_version (else the SQL creates it). `schema`: the
    PostgreSQL schema the privilege steps name."""
    out = io.StringIO()
    config = Config(output_buffer=out)
    config.attributes["schema"] = schema
    script = _script()
    _run(config, script, start, target, dialect_name=dialect, as_sql=True, output_buffer=out,
         starting_rev=revision(start) if stamped else None, transactional_ddl=True,
         dialect_opts={"paramstyle": "named"}, literal_binds=True)
    return out.getvalue()


def install_privileges(op: Any) -> None:  # noqa: ANN401
    """Versions 6, 7 and 9's privilege step (not DDL): on PostgreSQL, store/policies.py's group roles, grants and
    row-level security for the tables there are; offline, their SQL. Nothing on SQLite."""
    from caseload.store import policies

    context = op.get_context()
    if context.dialect.name != "postgresql":
        return
    if context.as_sql:
        schema = context.config.attributes.get("schema", "public") if context.config is not None else "public"
        context.impl.static_output("-- Privileges (store/policies.py): group roles, grants and row-level security.")
        for sql in policies.install_statements(schema):
            context.impl.static_output(sql + ";\n")
        return
    policies.install(op.get_bind())
