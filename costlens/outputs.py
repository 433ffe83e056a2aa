"""Files costlens writes — reports, table exports, the FOCUS export, the quarantine export, the starter config —
never replace what costlens reads, and are never left half-written.

- `Protected` is the set of files an output must not resolve to (after symlinks): the database and its WAL, the
  config file in use, and every file in the `ingested_files` manifest. `Protected.check(paths)` raises a
  one-line UsageError (exit 2) naming the output and what it would overwrite.
- `write_outputs({path: writer})` writes every file to a temporary file in its own folder, then renames each
  into place; any failure (a full disk, a missing permission, Ctrl-C) removes the temporary files, so nothing
  is left behind and an existing file is untouched. Missing parent folders are created. An OSError is an
  OutputError naming the output file — never the database.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from costlens.errors import EXIT_DATABASE, OutputError, UsageError

if TYPE_CHECKING:
    import duckdb

    from costlens.config import Config

Writer = Callable[[Path], object]  # what it returns (e.g. write_text's count) is ignored


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.path.abspath(os.fspath(path)))


class Protected:
    """Real paths an output must never replace, each with what it is ("the database", "an ingested file", …)."""

    def __init__(self) -> None:
        self.paths: dict[str, str] = {}

    def add(self, path: str | os.PathLike[str] | None, what: str) -> None:
        if path is None or os.fspath(path) in ("", ":memory:"):
            return
        self.paths.setdefault(_real(path), what)

    def add_database(self, db_path: str) -> None:
        if db_path == ":memory:":
            return
        self.add(db_path, f"the database {db_path}")
        self.add(db_path + ".wal", f"the write-ahead log of the database {db_path}")

    def add_manifest(self, names: Iterable[str]) -> None:
        """Ingested files as the manifest stores them (as given on the command line: relative paths are taken
        from the current folder). Folders are resolved once each; only the file's own symlink is read."""
        folders: dict[str, str] = {}
        for name in names:
            if not name:
                continue
            head, tail = os.path.split(os.path.abspath(name))
            folder = folders.get(head)
            if folder is None:
                folder = folders[head] = os.path.realpath(head)
            full = os.path.join(folder, tail)
            if os.path.islink(full):
                full = os.path.realpath(full)
            self.paths.setdefault(full, f"the ingested file {name}")

    def what(self, path: str | os.PathLike[str]) -> str | None:
        real = _real(path)
        found = self.paths.get(real)
        if found is not None:
            return found
        try:  # a hard link to a protected file is the same file under another name
            stat = os.stat(real)
        except OSError:
            return None
        if stat.st_nlink > 1:
            for other, what in self.paths.items():
                try:
                    if os.path.samefile(other, real):
                        return what
                except OSError:
                    continue
        return None

    def check(self, paths: Iterable[str | os.PathLike[str]], option: str = "--out", example: str | None = None) -> None:
        """UsageError (exit 2) when any path resolves to a protected file."""
        for path in paths:
            what = self.what(path)
            if what is not None:
                hint = f", e.g. {option} {example}" if example else ""
                raise UsageError(
                    f"{option} {os.fspath(path)} would overwrite {what}",
                    fix=f"write to another file{hint} (costlens never replaces its database, its "
                    "config or a file it ingested)",
                )


def config_path_in_use(config: Config | None = None, explicit: str | os.PathLike[str] | None = None) -> str | None:
    """The config file a command reads: the loaded config's file, an explicit --config, else what load_config
    would pick (./costlens.toml, else ./pyproject.toml when it has [tool.costlens])."""
    if config is not None and config.path:
        return config.path
    if explicit is not None:
        return os.fspath(explicit)
    if Path("costlens.toml").is_file():
        return "costlens.toml"
    pyproject = Path("pyproject.toml")
    if pyproject.is_file():
        try:
            if "[tool.costlens" in pyproject.read_text(encoding="utf-8", errors="replace"):
                return "pyproject.toml"
        except OSError:
            return None
    return None


def manifest_files(con: duckdb.DuckDBPyConnection) -> list[str]:
    import duckdb

    try:
        return [row[0] for row in con.execute("SELECT DISTINCT source_file FROM ingested_files").fetchall()]
    except duckdb.CatalogException:  # a database without the table yet
        return []


def protected_files(
    db: str | None,
    *,
    config: Config | None = None,
    config_file: str | os.PathLike[str] | None = None,
    guess_config: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Protected:
    """The database, its WAL, the config in use and the ingested files. Without a loaded `config` or an
    explicit `config_file`, the config load_config would pick is protected (unless `guess_config` is False:
    `init` writes that file). Without `con`, the database is opened read-only for its manifest when it exists
    (a missing or unusable database is left to the command itself)."""
    from costlens import db as database

    db_path = str(db or database.default_db_path())
    protected = Protected()
    protected.add_database(db_path)
    if config is not None or config_file is not None or guess_config:
        protected.add(config_path_in_use(config, config_file), "the config file in use")
    if con is not None:
        protected.add_manifest(manifest_files(con))
    elif db_path != ":memory:" and Path(db_path).is_file() and Path(db_path).stat().st_size > 0:
        reader = database.connect(db_path, read_only=True)
        try:
            protected.add_manifest(manifest_files(reader))
        finally:
            reader.close()
    return protected


# ------------------------------------------------------------------------------------------------- writing


def _destination(path: Path) -> Path:
    """Where the bytes go: a symlink's target (the link stays a link), else the path itself."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _mode_for(target: Path) -> int:
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


_EDQUOT = getattr(errno, "EDQUOT", -1)


def output_error(path: Path, exc: BaseException) -> OutputError:
    """An OSError while writing an output, as one line naming the output file."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    lowered = text.lower()
    if code in (errno.ENOSPC, _EDQUOT) or "no space left" in lowered or "quota exceeded" in lowered:
        why = "disk quota exceeded" if code == _EDQUOT or "quota" in lowered else "no space left on device"
        return OutputError(
            f"cannot write {path}: {why}; nothing was written",
            fix="free space on that disk, or write to another disk with --out",
            exit_code=EXIT_DATABASE,
        )
    if code in (errno.EACCES, errno.EPERM) or "permission denied" in lowered:
        return OutputError(
            f"cannot write {path}: permission denied; nothing was written",
            fix="write to a folder you may write to, or fix its permissions",
        )
    if code == errno.EROFS or "read-only file system" in lowered:
        return OutputError(
            f"cannot write {path}: read-only file system; nothing was written",
            fix="write to a writable disk with --out",
        )
    if code == errno.EISDIR:
        return OutputError(f"cannot write {path}: it is a folder", fix="give a file name")
    if code == errno.ENOTDIR:
        return OutputError(f"cannot write {path}: a part of its folder path is a file", fix="check the --out path")
    detail = getattr(exc, "strerror", None) or " ".join(text.split())[:200] or type(exc).__name__
    return OutputError(f"cannot write {path}: {detail}; nothing was written", fix="check the --out path")


def write_outputs(writers: Mapping[Path, Writer], *, validate: Callable[[Path], object] | None = None) -> list[Path]:
    """Write each file through a temporary file in its own folder, then rename them all into place.
    `writer(tmp_path)` writes the content; `validate(tmp_path)` (optional) may reject it. On any failure every
    temporary file is removed and no target is touched (all renames happen after every write succeeded)."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, writer in writers.items():
            target = Path(target)
            if target.is_dir():
                raise OutputError(f"cannot write {target}: it is a folder", fix="give a file name")
            destination = _destination(target)
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                handle, name = tempfile.mkstemp(
                    prefix=f".{destination.name}.", suffix=".costlens-tmp", dir=destination.parent
                )
                os.close(handle)
            except OSError as exc:
                raise output_error(target, exc) from None
            tmp = Path(name)
            staged.append((tmp, destination))
            try:
                writer(tmp)
                with open(tmp, "rb+") as flushed:  # whole on disk before it takes the name
                    os.fsync(flushed.fileno())
                os.chmod(tmp, _mode_for(destination))
            except OSError as exc:
                raise output_error(target, exc) from None
            if validate is not None:
                validate(tmp)
        for tmp, destination in staged:
            try:
                os.replace(tmp, destination)
            except OSError as exc:
                raise output_error(destination, exc) from None
        staged.clear()
    finally:
        for tmp, _ in staged:
            try:
                tmp.unlink()
            except OSError:
                pass
    return [Path(p) for p in writers]


def write_text(path: Path, text: str) -> Path:
    """One text file (UTF-8), whole or not at all."""
    write_outputs({Path(path): lambda tmp: tmp.write_text(text, encoding="utf-8")})
    return Path(path)
