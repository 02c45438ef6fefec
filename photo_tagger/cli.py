"""Command line: `photo-tagger [PATH]` opens the app; subcommands index, export, import, tags.

This interface is a contract that scripts and the app rely on: extend it, never break it.
Exit codes: 0 ok, 1 user error (the message names the file and the problem), 2 usage,
130 cancelled with Ctrl+C (finished work is kept).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from photo_tagger.core.errors import UserError

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
COMMANDS = ("index", "export", "import", "tags")

DESCRIPTION = """\
Tag thousands of photos: a pretrained CNN suggests tags, you confirm or correct them,
and the suggestions learn from your corrections.

  photo-tagger [PATH]                      open the desktop app (on PATH)
  photo-tagger index PATH                  index a folder: thumbnails, embeddings, suggestions
  photo-tagger export PATH -o tags.csv     write the tags as CSV
  photo-tagger import PATH tags.csv        take a CSV's tags as confirmed truth
  photo-tagger tags PATH                   list tags with their counts

Exit codes: 0 ok, 1 user error, 2 usage, 130 cancelled.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photo-tagger", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (per-file errors)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="index a photo folder (incremental)")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("--batch-size", type=_positive_int, default=16, metavar="N",
                   help="photos per inference batch (default 16)")
    p.add_argument("--workers", type=_positive_int, default=2, metavar="N",
                   help="decoding threads (default 2)")

    p = sub.add_parser("export", help="export tags to CSV")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.csv", help="CSV file to write")
    p.add_argument("--scores", action="store_true", help="add one score:<tag> column per tag (0..1)")
    p.add_argument("--confirmed-only", action="store_true",
                   help="the tags column holds only tags the user confirmed")

    p = sub.add_parser("import", help="import tags from CSV as confirmed truth")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("csv", type=Path, metavar="FILE.csv", help="CSV with path,tags columns")

    p = sub.add_parser("tags", help="list tags with counts")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    first_positional = next((a for a in args_list if not a.startswith("-")), None)
    if first_positional not in COMMANDS and not any(a in ("-h", "--help") for a in args_list):
        return _open_app(args_list)
    args = build_parser().parse_args(args_list)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(message)s",
    )
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    try:
        return {"index": _index, "export": _export, "import": _import, "tags": _tags}[args.command](args)
    except UserError as exc:
        print(f"photo-tagger: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("\nphoto-tagger: cancelled; finished work is saved", file=sys.stderr)
        return EXIT_CANCELLED


def _open_app(args_list: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="photo-tagger", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, help="photo folder to open")
    args = parser.parse_args(args_list)
    try:
        from photo_tagger.gui.app import run_app
    except ImportError as exc:
        print(f"photo-tagger: the desktop app is not available ({exc}); "
              "use the index/export/import/tags commands", file=sys.stderr)
        return EXIT_USER_ERROR
    return run_app(args.path)


def _index(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, index

    library = Library.open(args.path)
    bar = ProgressBar(sys.stderr)
    job = index(library, batch_size=args.batch_size, workers=args.workers)
    try:
        while True:
            bar.update(next(job))
    except StopIteration as done:
        summary = done.value
    finally:
        job.close()
        bar.finish()
    for message in summary.error_messages[:20]:
        print(f"  error: {message}", file=sys.stderr)
    if len(summary.error_messages) > 20:
        print(f"  ... and {len(summary.error_messages) - 20} more errors", file=sys.stderr)
    scan = summary.scan
    print(
        f"{summary.photos} photos, {summary.indexed} indexed, {summary.errors} errors, "
        f"{summary.seconds:.1f} s, {summary.photos_per_s:.1f} photos/s "
        f"(new {scan.new}, changed {scan.changed}, moved {scan.moved}, missing {scan.missing}, "
        f"unchanged {scan.unchanged})"
    )
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, export_library_csv

    library = Library.open(args.path)
    result = export_library_csv(library, args.output, scores=args.scores, confirmed_only=args.confirmed_only)
    print(f"wrote {result.photos} photos to {result.path}")
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, import_library_csv

    library = Library.open(args.path)
    result = import_library_csv(library, args.csv)
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    for path in result.unknown_paths[:20]:
        print(f"warning: {args.csv}: no photo {path!r} in {library.root}", file=sys.stderr)
    if len(result.unknown_paths) > 20:
        print(f"warning: ... and {len(result.unknown_paths) - 20} more unknown paths", file=sys.stderr)
    print(
        f"imported {result.updated} of {result.rows} rows; {len(result.unknown_paths)} unknown paths; "
        f"{len(result.created_tags)} new tags"
    )
    return EXIT_OK


def _tags(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, library_tag_counts

    counts = library_tag_counts(Library.open(args.path))
    width = max([len(c.name) for c in counts] + [3])
    print(f"{'tag':<{width}}  confirmed  suggested  rejected")
    for c in counts:
        print(f"{c.name:<{width}}  {c.confirmed:>9}  {c.suggested:>9}  {c.rejected:>8}")
    return EXIT_OK


class ProgressBar:
    """One redrawn line on a terminal; silent when stderr is not a TTY (scripts, CI)."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream
        self.enabled = stream.isatty()
        self._last = 0.0

    def update(self, progress) -> None:  # type: ignore[no-untyped-def]
        if not self.enabled or time.monotonic() - self._last < 0.1 and progress.phase == "indexing":
            return
        self._last = time.monotonic()
        if progress.phase == "scanning":
            line = progress.message
        else:
            total = max(progress.total, 1)
            filled = int(30 * progress.done / total)
            eta = "--" if progress.eta_s is None else _duration(progress.eta_s)
            line = (f"[{'#' * filled}{'.' * (30 - filled)}] {progress.done}/{progress.total} "
                    f"{progress.photos_per_s:.1f} photos/s ETA {eta} errors {progress.errors}")
        self.stream.write("\r\x1b[2K" + line[:200])
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 \
        else f"{seconds // 60}:{seconds % 60:02d}"


if __name__ == "__main__":
    sys.exit(main())
