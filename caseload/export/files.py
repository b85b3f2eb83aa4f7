"""Writing an export to a file, the same way from the command line and from a screen: the format follows
the file name (or is given and must agree with it), every file is written whole beside its target and
renamed, and a CSV carries its metadata in OUTPUT.meta.json."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from caseload.store.errors import StoreError

FORMAT_BY_SUFFIX = {".csv": "csv", ".xlsx": "xlsx", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}
FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "md": "Markdown", "html": "HTML"}
OFFFLOW_FORMATS = ("csv", "xlsx", "md", "html")


def suffix_of(fmt: str) -> str:
    return next(k for k, v in FORMAT_BY_SUFFIX.items() if v == fmt)


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def export_format(output: str, given: str | None, choices: Sequence[str], default: str | None = None) -> str:
    """The format an export is written in: --format, else the output file's extension, else `default`.
    A --format that contradicts the extension (CSV text in a file named .xlsx) is refused."""
    path = Path(output)
    from_name = FORMAT_BY_SUFFIX.get(path.suffix.lower()) if output != "-" else None
    if given and from_name and given != from_name:
        raise StoreError(f"--format {given} does not match the file name {output} ({path.suffix} is "
                         f"{FORMAT_NAMES[from_name]}): leave out --format, or name the file "
                         f"{path.with_suffix(suffix_of(given)).name}.")
    fmt = given or from_name or default
    if fmt is None:
        raise StoreError(f"Which format? Give --format {'|'.join(choices)}, or an --output file name ending in "
                         f"{', '.join(suffix_of(c) for c in choices)}.")
    if fmt not in choices:
        raise StoreError(f"This export is written as {_or([FORMAT_NAMES[c] for c in choices])}, not "
                         f"{FORMAT_NAMES[fmt]}: name the file {path.with_suffix(suffix_of(choices[0])).name} "
                         f"(or {', '.join(suffix_of(c) for c in choices[1:])}).")
    return fmt


def write_atomic(path: Path, write: Callable) -> None:
    """Write beside the target and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def wrote(what: str, detail: str, written: list[Path]) -> str:
    """The sentence saying where an export went: "Wrote 36 rows (XLSX) to PATH, its metadata in NAME."."""
    beside = f", its metadata in {written[1].name}" if len(written) > 1 else ""
    return f"Wrote {what} ({detail}) to {written[0]}{beside}."


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def write_offflow(result, meta: dict, path: Path, fmt: str, curve=None) -> list[Path]:  # noqa: ANN001
    """An off-flow result in `fmt` at `path`: CSV with its metadata sidecar, XLSX, Markdown and HTML (with
    the time-to-off-flow curve when given) with the metadata inside. Returns the files written."""
    from caseload.export.offflow import write_csv, write_metadata

    if fmt == "csv":
        write_atomic(path, lambda f: write_csv(result, f))
        write_atomic(meta_path(path), lambda f: write_metadata(meta, f))
        return [path, meta_path(path)]
    if fmt == "xlsx":
        from caseload.export.xlsx import workbook_bytes

        data = workbook_bytes(result, meta)
        # The temporary file is opened as text; the workbook goes to the byte stream beneath it.
        write_atomic(path, lambda f: f.buffer.write(data))
    elif fmt == "md":
        from caseload.export.markdown import write_markdown

        write_atomic(path, lambda f: write_markdown(result, f, meta))
    elif fmt == "html":
        from caseload.export.html import write_html

        write_atomic(path, lambda f: write_html(result, f, meta, curve=curve))
    else:
        raise StoreError(f"An off-flow export is written as {_or([FORMAT_NAMES[c] for c in OFFFLOW_FORMATS])}.")
    return [path]


FAIRNESS_FORMATS = ("csv", "md", "html")


def write_fairness(report, path: Path, fmt: str) -> list[Path]:  # noqa: ANN001
    """A fairness report (export/fairness.py) in `fmt` at `path`: CSV with its metadata sidecar, Markdown and
    HTML with the metadata inside. Returns the files written."""
    from caseload.export.fairness import write_csv, write_html, write_markdown
    from caseload.export.offflow import write_metadata

    if fmt == "csv":
        write_atomic(path, lambda f: write_csv(report, f))
        write_atomic(meta_path(path), lambda f: write_metadata(report.meta, f))
        return [path, meta_path(path)]
    if fmt not in FAIRNESS_FORMATS:
        raise StoreError(f"A fairness export is written as {_or([FORMAT_NAMES[c] for c in FAIRNESS_FORMATS])}.")
    write_atomic(path, lambda f: (write_markdown if fmt == "md" else write_html)(report, f))
    return [path]
