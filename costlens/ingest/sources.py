"""Input files: expand paths, fingerprint them, and sniff their container and first records."""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from costlens.errors import InputError, UsageError

Container = Literal["jsonl", "json", "csv", "parquet", "empty", "unknown"]
SNIFF_BYTES = 256 * 1024
SNIFF_RECORDS = 50
# A record (JSON line, CSV record) longer than this is quarantined by the readers, never read: DuckDB's JSON
# functions need several times a document's size in memory, and a 50 MB line ran the ingest out of it.
MAX_RECORD_BYTES = 32 * 1024 * 1024
# A JSON record nested deeper than this is quarantined by the readers (and never parsed by Python's json,
# which raises RecursionError near 1,000 levels). DuckDB's typed JSON reader stops at the same depth.
MAX_JSON_DEPTH = 128
# How far sniffing reads past JSON lines too long for the sniff window to find records to recognise.
SNIFF_SKIP_BYTES = 2 * MAX_RECORD_BYTES
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
    # what detection derived from the sniffed records, computed once for the adapters that share it
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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
                    p
                    for p in sorted(path.rglob("*"))
                    if p.is_file()
                    and p.name not in _SKIP_NAMES
                    and not p.name.startswith(".")
                    and p.suffix.lower() not in _SKIP_SUFFIXES
                    and not p.stem.lower().startswith(_SKIP_STEMS)
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


class _TooDeep(ValueError):
    """A JSON text nested deeper than MAX_JSON_DEPTH: not parsed (the readers quarantine its record)."""


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON text nests objects / arrays more than `limit` levels deep (brackets inside strings do
    not count). Cheap for ordinary records: only a text with more than `limit` opening brackets is scanned."""
    if text.count("{") + text.count("[") <= limit:
        return False
    import re
    from itertools import accumulate

    brackets = re.sub(r"[^\[\]{}]", "", re.sub(r'"(?:[^"\\]|\\.)*"', "", text))
    return max(accumulate(1 if ch in "[{" else -1 for ch in brackets), default=0) > limit


def _loads(text: str):
    """json.loads for sniffing: ValueError for invalid JSON and for a text nested too deeply to parse."""
    if json_too_deep(text):
        raise _TooDeep(text[:40])
    try:
        return json.loads(text)
    except RecursionError:  # deeper than the interpreter allows, yet within the limit above: the same verdict
        raise _TooDeep(text[:40]) from None


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
        if len(head) >= SNIFF_BYTES and head.count(b"\n") < SNIFF_RECORDS:
            # lines longer than the window (a logged image, a huge prompt): sniff the short lines after them
            lines = _short_lines(source) or lines
        parsed = []
        for line in lines[:SNIFF_RECORDS]:
            try:
                parsed.append(_loads(line))
            except _TooDeep:
                continue  # one record the reader will quarantine: the others still say what the file is
            except ValueError:
                parsed = []
                break
        if parsed and all(isinstance(r, dict) for r in parsed):
            source.container = "jsonl"
            source.records = parsed
            return
        try:
            document = _loads(text) if len(head) < SNIFF_BYTES else None
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
                    value = _loads(line)
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
    # the header is the first record: a quoted name may hold a line break (RFC 4180), which an odd number of
    # quotes on the first line shows; a damaged quote is read as the first line alone
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    if first_line.count('"') % 2:
        try:
            record = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True), [])
        except csv.Error:
            record = []
        if record and sum(name.count("\n") for name in record) <= 10:
            header = record
    source.header = [h.strip() for h in header]


def _short_lines(source: Source) -> list[str]:
    """Up to SNIFF_RECORDS non-blank lines of at most SNIFF_BYTES each, skipping longer ones, read from the start
    of the file but never more than SNIFF_SKIP_BYTES in all. Empty if the file cannot be read (the reader says)."""
    found: list[str] = []
    budget = SNIFF_SKIP_BYTES
    try:
        opener = gzip.open if source.compression == "gzip" else open
        with opener(source.path, "rb") as handle:
            while len(found) < SNIFF_RECORDS and budget > 0:
                line = handle.readline(SNIFF_BYTES)
                if not line:
                    break
                budget -= len(line)
                if not line.endswith(b"\n") and len(line) >= SNIFF_BYTES:
                    while line and not line.endswith(b"\n") and budget > 0:  # the rest of a long line
                        line = handle.readline(SNIFF_BYTES)
                        budget -= len(line)
                    continue
                decoded = line.decode("utf-8", errors="replace").lstrip("\ufeff")
                if decoded.strip():
                    found.append(decoded.rstrip("\r\n"))
    except (OSError, EOFError, zlib.error):
        return []
    return found


def _parquet_columns(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for a broken footer
        raise InputError(str(path), f"not a readable Parquet file ({exc})", fix="re-export the file") from None


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}
