"""Input files: expand paths, fingerprint them, and sniff their container and first records."""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from costlens.errors import InputError, UsageError

Container = Literal["jsonl", "json", "csv", "parquet", "empty", "unknown"]
SNIFF_BYTES = 256 * 1024
SNIFF_RECORDS = 50
_SKIP_NAMES = {".DS_Store"}
# Documentation that travels with exports (a LICENSE beside public logs, a README in a drop folder).
_SKIP_STEMS = ("license", "licence", "readme", "copying", "notice", "changelog", "manifest")
_SKIP_SUFFIXES = {".md", ".txt", ".toml", ".py", ".duckdb", ".wal", ".lock", ".yaml", ".yml", ".html", ".pdf"}


@dataclass
class Source:
    """One input file and what sniffing learned about it."""

    path: Path
    size: int
    mtime_ns: int
    ctime_ns: int = 0  # the inode's change time: moves on any write, even one that restores size and mtime
    sha256: str = ""
    compression: Literal["none", "gzip"] = "none"
    container: Container = "unknown"
    records: list[Any] = field(default_factory=list)  # first parsed JSON records (sniff only)
    header: list[str] = field(default_factory=list)  # CSV header or Parquet column names
    csv_delimiter: str = ","

    @property
    def display(self) -> str:
        return str(self.path)

    @property
    def duckdb_compression(self) -> str:
        return "gzip" if self.compression == "gzip" else "none"


def expand_paths(patterns: list[str]) -> list[Path]:
    """Files, directories (recursively) and globs, in a stable order, each once."""
    found: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise UsageError(f"no file matches {pattern}", fix="check the path or quote the glob")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                found.extend(
                    p for p in sorted(path.rglob("*"))
                    if p.is_file() and p.name not in _SKIP_NAMES and not p.name.startswith(".")
                    and p.suffix.lower() not in _SKIP_SUFFIXES and not p.stem.lower().startswith(_SKIP_STEMS)
                )
            elif path.is_file():
                found.append(path)
            elif not path.exists():
                raise UsageError(f"{path}: no such file or directory", fix="check the path")
            else:
                raise UsageError(f"{path}: not a regular file")
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(str(path.resolve()), path)
    return list(unique.values())


def open_source(path: Path, on_hashed: Callable[[int], None] | None = None) -> Source:
    """Stat, hash and sniff one file. Raises InputError with a one-line reason. `on_hashed` hears the bytes
    hashed so far (a progress display)."""
    try:
        stat = path.stat()
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror or exc})", fix="check permissions") from None
    source = Source(path=path, size=stat.st_size, mtime_ns=stat.st_mtime_ns, ctime_ns=stat.st_ctime_ns)
    source.sha256 = file_sha256(path, on_hashed)
    if magic[:2] == b"\x1f\x8b":
        source.compression = "gzip"
    if magic == b"PAR1":
        source.container = "parquet"
        source.header = _parquet_columns(path)
        return source
    head = _read_head(source)
    _sniff_text(source, head)
    return source


def file_sha256(path: Path, on_hashed: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    done = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            if on_hashed is not None:
                done += len(block)
                on_hashed(done)
    return digest.hexdigest()


def _read_head(source: Source) -> bytes:
    try:
        if source.compression == "gzip":
            with gzip.open(source.path, "rb") as handle:
                return handle.read(SNIFF_BYTES)
        with source.path.open("rb") as handle:
            return handle.read(SNIFF_BYTES)
    except (EOFError, OSError, zlib.error) as exc:
        raise InputError(
            source.display, f"corrupt or truncated gzip ({exc})", fix="re-export or re-download the file"
        ) from None


def _sniff_text(source: Source, head: bytes) -> None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        source.container = "empty"
        return
    if stripped[0] in "{[":
        lines = [line for line in text.splitlines() if line.strip()]
        # A complete file may end mid-line in the sniff window: drop a possibly partial last line.
        if len(head) >= SNIFF_BYTES and len(lines) > 1:
            lines = lines[:-1]
        parsed = []
        for line in lines[:SNIFF_RECORDS]:
            try:
                parsed.append(json.loads(line))
            except ValueError:
                parsed = []
                break
        if parsed and all(isinstance(r, dict) for r in parsed):
            source.container = "jsonl"
            source.records = parsed
            return
        try:
            document = json.loads(text) if len(head) < SNIFF_BYTES else None
        except ValueError:
            document = None
        source.container = "json"
        if isinstance(document, list):
            source.records = [r for r in document[:SNIFF_RECORDS] if isinstance(r, dict)]
        elif isinstance(document, dict):
            source.records = [document]
        elif lines:
            # A large single document, or JSON lines with a broken first line: keep what parses.
            ok = []
            for line in lines[:SNIFF_RECORDS]:
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    ok.append(value)
            if ok:
                source.container = "jsonl"
                source.records = ok
        return
    first_line = text.splitlines()[0]
    delimiter = max([",", ";", "\t", "|"], key=first_line.count)
    if first_line.count(delimiter) == 0 and "\x00" in text:
        source.container = "unknown"
        return
    import csv
    import io

    source.container = "csv"
    source.csv_delimiter = delimiter
    reader = csv.reader(io.StringIO(first_line), delimiter=delimiter)
    source.header = [h.strip() for h in next(reader, [])]


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for a broken footer
        raise InputError(str(path), f"not a readable Parquet file ({exc})", fix="re-export the file") from None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}
