"""Errors users see, each with a distinct exit code (documented in README)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: reported as one line, with --debug for the traceback
EXIT_USAGE = 2  # bad command line or config
EXIT_INPUT = 3  # an input file could not be read or understood
EXIT_THRESHOLD = 4  # a CI gate threshold was breached (costlens check)
EXIT_DATABASE = 5  # the database is missing, locked, or from a newer costlens
EXIT_ENGINE = 6  # the Spark engine could not run a statement (the cluster, or SQL it does not take)


class CostlensError(Exception):
    """An error with a one-line message meant for the user; carries its exit code."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, *, fix: str | None = None):
        self.message = message
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = " ".join(self.message.split())
        return f"{text} — {self.fix}" if self.fix else text


class UsageError(CostlensError):
    exit_code = EXIT_USAGE


class ConfigError(CostlensError):
    exit_code = EXIT_USAGE


class InputError(CostlensError):
    """A file (and where known, a row) that cannot be ingested."""

    exit_code = EXIT_INPUT

    def __init__(self, file: str, message: str, *, row: int | None = None, fix: str | None = None):
        where = f"{file}, row {row}" if row is not None else file
        super().__init__(f"{where}: {message}", fix=fix)
        self.file = file
        self.row = row


class DatabaseError(CostlensError):
    exit_code = EXIT_DATABASE


class EngineError(CostlensError):
    """Spark stopped a statement (or could not be reached): which file and statement, Spark's first line."""

    exit_code = EXIT_ENGINE


class OutputError(CostlensError):
    """A file costlens was asked to write (a report, an export, the starter config) could not be written;
    nothing was left behind. Exit 2 (choose another --out), or 5 when the disk is full."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, fix: str | None = None, exit_code: int | None = None):
        super().__init__(message, fix=fix)
        if exit_code is not None:
            self.exit_code = exit_code
