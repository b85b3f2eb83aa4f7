"""The `caseload` command, one module per command group.

`main` holds the parser and the table of handlers; `common` what every command shares (the --db, --as
and --quiet options, opening the database as the acting person, writing files whole); then `imports`,
`export`, `conference` (the agenda and summary exports), `staff`, `db`, `notes`, `reassign` (reassign
and cover), `privacy` (erasing a customer, the audit log) and `progress` (the terminal's progress line).
"""

from caseload.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
