"""caseload: caseload management and off-flow measures for employment advisers."""

__version__ = "0.1.0"
