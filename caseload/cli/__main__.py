"""`python -m caseload.cli`: the same as the `caseload` command."""

import sys

from caseload.cli.main import main

sys.exit(main())
