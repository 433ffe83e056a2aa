"""A large tree of Claude Code logs for the ccusage comparison (T9), replicated from real session logs.

    python -m benchmarks.claude_tree --out /tmp/bench/claude-1000mb --mb 1000

Each copy of a template session gets new session ids, line uuids, message ids and request ids (so both
ccusage, which de-duplicates on message id + request id, and costlens count every copy) and its timestamps
moved into October 2026 (each session starts between 01:00 and 19:00 UTC, so no session crosses midnight
and daily totals are the same in any tool). The lines are otherwise byte-for-byte the real ones: each
template is split once at its ids and timestamps, and copies are written by joining the pieces — no JSON
parsing per copy.

Layout: <out>/claude/projects/<project>/<sessionId>.jsonl (and <sessionId>/subagents/agent-*.jsonl for the
sub-agent template), the layout Claude Code writes under ~/.claude. Each file is one long session: a template
continued `--copies-per-file` times (the copies keep the file's session id, and get new ids for everything
else, one after another in time), as a resumed session grows in real use. Per file of the image-heavy
session, `--small-files` files of each other template are written, so calls are not dwarfed by base64 image
bytes.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REALDATA = Path("/work/shared/realdata/claude-code-logs")
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
TOKEN = re.compile(
    r"(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"|(?P<msg>msg_[A-Za-z0-9]{20,40})"
    r"|(?P<req>req_[A-Za-z0-9]{20,40})"
    r"|(?P<ts>20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z)"
)


class Template:
    """A session log split at its ids and timestamps: text pieces alternating with tokens."""

    def __init__(self, path: Path):
        self.name = path.stem
        text = path.read_text()
        self.pieces: list[str] = []
        self.tokens: list[tuple[str, str]] = []
        last = 0
        for match in TOKEN.finditer(text):
            self.pieces.append(text[last : match.start()])
            self.tokens.append((match.lastgroup or "", match.group()))
            last = match.end()
        self.pieces.append(text[last:])
        stamps = [_parse_ts(v) for kind, v in self.tokens if kind == "ts"]
        self.start = min(stamps)
        self.span = max(stamps) - self.start
        self.session_id = next(
            (json.loads(line).get("sessionId") for line in text.splitlines() if json.loads(line).get("sessionId")), None
        )

    def render(self, copy: int, start: datetime, session: str | None = None) -> tuple[str, str]:
        """(new session id, text) of copy number `copy`, starting at `start`; `session` continues a session
        (the copy keeps that session id, with new ids for everything else)."""
        shift = start - self.start
        cache: dict[str, str] = {self.session_id: session} if session and self.session_id else {}
        out = [self.pieces[0]]
        for (kind, value), piece in zip(self.tokens, self.pieces[1:]):
            new = cache.get(value)
            if new is None:
                new = cache[value] = _replace(kind, value, copy, shift)
            out.append(new)
            out.append(piece)
        session = cache.get(self.session_id, self.session_id) if self.session_id else f"session-{copy}"
        return session, "".join(out)


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _digest(value: str, copy: int) -> bytes:
    return hashlib.md5(f"{copy}:{value}".encode()).digest()


def _replace(kind: str, value: str, copy: int, shift: timedelta) -> str:
    if kind == "uuid":
        h = _digest(value, copy).hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    if kind in ("msg", "req"):
        prefix, rest = value.split("_", 1)
        alphabet = base64.b32encode(_digest(value, copy) + _digest(value, copy + 1)).decode().rstrip("=")
        return f"{prefix}_{(rest[:2] + alphabet)[: len(rest)]}"
    moved = _parse_ts(value) + shift
    fraction = value.rsplit(".", 1)[1][:-1] if "." in value else ""
    text = moved.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        text += "." + f"{moved.microsecond:06d}"[: len(fraction)]
    return text + "Z"


def build_tree(
    out: str | Path,
    mb: float = 1000,
    small_files: int = 5,
    copies_per_file: int = 20,
    source: Path = REALDATA,
    quiet: bool = False,
) -> dict:
    """Write the tree (skipped when <out>/tree.json says it was already built with these settings)."""
    out_dir = Path(out)
    manifest_path = out_dir / "tree.json"
    settings = {"mb": mb, "small_files": small_files, "copies_per_file": copies_per_file, "source": str(source)}
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if old.get("settings") == settings:
            return old
    templates = [Template(p) for p in sorted(source.glob("*.jsonl"))]
    if not templates:
        raise SystemExit(f"no *.jsonl templates in {source}")
    biggest = max(templates, key=lambda t: sum(map(len, t.pieces)))
    target = mb * 1e6
    written = files = copy = bundle = 0
    projects = out_dir / "claude" / "projects"
    while written < target:
        for template in templates:
            for _ in range(1 if template is biggest else small_files):
                # spread sessions over the 30 days of October and 01:00–19:00 (none crosses midnight)
                step = template.span + timedelta(minutes=1)
                length = int((step * copies_per_file).total_seconds() // 60) + 1
                start = MONTH_START + timedelta(days=files % 30, minutes=60 + (files * 37) % (18 * 60 - length))
                session, parts = None, []
                for j in range(copies_per_file):
                    session, text = template.render(copy, start + step * j, session)
                    parts.append(text if text.endswith("\n") else text + "\n")
                    copy += 1
                text = "".join(parts)
                project = projects / f"-Users-dev-bench-project{bundle % 7}"
                if template.name == "subagent":
                    path = project / session / "subagents" / f"agent-{files:08x}.jsonl"
                else:
                    path = project / f"{session}.jsonl"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                written += len(text.encode())
                files += 1
        bundle += 1
    manifest = {
        "settings": settings,
        "root": str(out_dir / "claude"),
        "files": files,
        "bytes": written,
        "session_copies": copy,
        "bundles": bundle,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2))
    if not quiet:
        print(f"{files} files, {written / 1e6:,.0f} MB in {out_dir / 'claude'}", file=sys.stderr)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.claude_tree", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--mb", type=float, default=1000)
    parser.add_argument(
        "--small-files",
        type=int,
        default=5,
        help="files of each small template per file of the image-heavy one (default 5)",
    )
    parser.add_argument(
        "--copies-per-file", type=int, default=20, help="template copies continued in one session file (default 20)"
    )
    parser.add_argument("--source", type=Path, default=REALDATA)
    args = parser.parse_args(argv)
    print(json.dumps(build_tree(args.out, args.mb, args.small_files, args.copies_per_file, args.source), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
