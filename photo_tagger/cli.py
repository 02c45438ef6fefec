"""Command line: `photo-tagger [PATH]` opens the app; subcommands index, export, import, tags.

This interface is a contract that scripts and the app rely on: extend it, never break it.
Exit codes: 0 ok, 1 user error (the message names the file and the problem), 2 usage,
130 cancelled with Ctrl+C (finished work is kept), 141 the reader of the output went away.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from photo_tagger.core.errors import UserError
from photo_tagger.core.interchange import EXPORT_FORMATS, IMPORT_FORMATS

EXIT_OK, EXIT_USER_ERROR, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
# What a shell reports for a program killed by SIGPIPE (128 + 13): `photo-tagger tags P | head`
# ends as `cat` or `grep` would there, and a script can tell it from a user error (1).
EXIT_BROKEN_PIPE = 141
COMMANDS = ("index", "export", "import", "tags", "train")

DESCRIPTION = """\
Tag thousands of photos: a pretrained CNN suggests tags, you confirm or correct them,
and the suggestions learn from your corrections.

  photo-tagger [PATH]                      open the desktop app (on PATH)
  photo-tagger index PATH                  index a folder: thumbnails, embeddings, suggestions
  photo-tagger export PATH -o tags.csv     write the tags as CSV (--format onehot|json too)
  photo-tagger export PATH --format xmp    write the tags into an XMP sidecar per photo
  photo-tagger import PATH tags.csv        apply a CSV's (or one-hot CSV's, JSON's) tags; --dry-run shows what
  photo-tagger tags PATH                   list tags with their counts
  photo-tagger train PATH [--rollback]     learn from your corrections; print the report

Exit codes: 0 ok, 1 user error, 2 usage, 130 cancelled, 141 output pipe closed.
"""
# Where a UserError is about an input (its `about`), the option that sets it.
OPTION_HINTS = {
    "tags": "--tag; `photo-tagger tags PATH` lists them",
}
USAGE = "photo-tagger [-h] [PATH]\n       photo-tagger {" + ",".join(COMMANDS) + "} ..."
# Qt platforms that draw without a window system (tests, CI, remote).
HEADLESS_QT_PLATFORMS = ("offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="photo-tagger", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (per-file errors)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="index a photo folder (incremental)")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("--batch-size", type=_positive_int, default=16, metavar="N",
                   help="photos scored and written to the catalogue together (default 16)")
    p.add_argument("--workers", type=_positive_int, default=2, metavar="N",
                   help="threads that decode, search for faces and embed photos (default 2)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--no-keywords", dest="keywords", action="store_const", const=False, default=None,
                       help="do not import keywords already in the photos or their XMP sidecars "
                            "(remembered for this library)")
    group.add_argument("--keywords", dest="keywords", action="store_const", const=True,
                       help="import them again (the default; remembered for this library)")

    p = sub.add_parser("export", help="export tags to CSV, one-hot CSV, JSON or XMP sidecars")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE.csv",
                   help="file to write, - for stdout (required unless --format xmp)")
    p.add_argument("--format", dest="format", choices=EXPORT_FORMATS, default="csv",
                   help="csv (default): path,tags,confirmed; onehot: one 0/1 column per tag; "
                        "json: one object per photo; xmp: a sidecar next to each photo")
    p.add_argument("--scores", action="store_true", help="add one score:<tag> column per tag (0..1; csv only)")
    p.add_argument("--confirmed-only", action="store_true",
                   help="the tags column holds only tags the user confirmed (sidecars always do, "
                        "unless --include-suggestions)")
    p.add_argument("--include-suggestions", action="store_true",
                   help="xmp only: also write unreviewed suggestions at their threshold into the sidecars "
                        "(other apps will take them as real keywords)")
    p.add_argument("--tag", dest="tags", action="append", default=[], metavar="NAME",
                   help="export only this tag and the tags under it (repeatable)")
    p.add_argument("--min-score", type=_probability, metavar="X",
                   help="a suggestion counts as a tag when its score is >= X (instead of its tag's threshold)")

    p = sub.add_parser("import", help="import tags from CSV, one-hot CSV or JSON (--dry-run: say what would change)")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("csv", type=Path, metavar="FILE",
                   help="CSV with path,tags columns, one-hot CSV (path + one column per tag) or JSON")
    p.add_argument("--format", dest="format", choices=IMPORT_FORMATS, default=None,
                   help="the file's format (default: by extension, then by the CSV header)")
    p.add_argument("--dry-run", action="store_true",
                   help="print what the import would change (confirmed, rejected, unchanged) and change nothing")

    p = sub.add_parser("tags", help="list tags with counts")
    p.add_argument("path", type=Path, help="the photo folder (library)")

    p = sub.add_parser("train", help="retrain the suggestions on your corrections and print the report")
    p.add_argument("path", type=Path, help="the photo folder (library)")
    p.add_argument("--rollback", action="store_true",
                   help="re-activate the previously trained head (or the starting model) instead")
    p.add_argument("--force", action="store_true",
                   help="activate the new head even when it cross-validates below the model in use")
    p.add_argument("--target-precision", type=_target_precision, metavar="P|f1", default=_UNCHANGED,
                   help="choose each tag's threshold to keep at least precision P (0 < P < 1; fewer but"
                        " surer suggestions), or 'f1' to maximise F1 (the default); remembered for the library")
    return parser


_UNCHANGED = object()


def _target_precision(text: str) -> float | None:
    if text.strip().lower() == "f1":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a precision between 0 and 1 or 'f1', not {text!r}") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"precision must be between 0 and 1 (exclusive), not {text}")
    return value


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit
    except BrokenPipeError:
        # The reader (head, less) has gone: stop quietly. Python's "Note on SIGPIPE": point
        # stdout at devnull so the flush at exit does not print "Exception ignored".
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def _main(args_list: list[str]) -> int:
    first_positional = next((a for a in args_list if not a.startswith("-")), None)
    if first_positional not in COMMANDS and not any(a in ("-h", "--help") for a in args_list):
        if first_positional is not None and not Path(first_positional).expanduser().is_dir():
            return _unknown_command(first_positional)
        return _open_app(args_list)
    parser = build_parser()
    args = parser.parse_args(args_list)
    if args.command == "export" and args.format != "xmp" and args.output is None:
        parser.error(f"export --format {args.format} needs -o FILE")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(message)s",
    )
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    try:
        commands = {"index": _index, "export": _export, "import": _import, "tags": _tags, "train": _train}
        return commands[args.command](args)
    except UserError as exc:
        hint = OPTION_HINTS.get(exc.about or "")
        print(f"photo-tagger: {exc}" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("\nphoto-tagger: cancelled; finished work is saved", file=sys.stderr)
        return EXIT_CANCELLED


def _unknown_command(word: str) -> int:
    """Neither a command nor a folder: most likely a typo, so say so instead of opening the app."""
    close = difflib.get_close_matches(word, COMMANDS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    print(f"usage: {USAGE}", file=sys.stderr)
    print(f"photo-tagger: error: {word!r} is neither a command nor a folder{hint}\n"
          f"commands: {', '.join(COMMANDS)} (photo-tagger COMMAND --help); "
          "photo-tagger FOLDER opens the app on a folder", file=sys.stderr)
    return EXIT_USAGE


def _open_app(args_list: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="photo-tagger", usage=USAGE, description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", type=Path, help="photo folder to open")
    args = parser.parse_args(args_list)
    problem = _no_display()
    if problem:
        print(f"photo-tagger: cannot open the desktop app: {problem}; the commands "
              f"({', '.join(COMMANDS)}) work without one", file=sys.stderr)
        return EXIT_USER_ERROR
    try:
        from photo_tagger.gui.app import run_app
    except ImportError as exc:
        print(f"photo-tagger: the desktop app is not available ({exc}); "
              "use the index/export/import/tags commands", file=sys.stderr)
        return EXIT_USER_ERROR
    return run_app(args.path)


def _no_display() -> str | None:
    """Why Qt could not open a window here, or None. Checked before Qt is imported: without a
    display Qt aborts the process (exit 134) with advice to reinstall."""
    if not sys.platform.startswith("linux"):
        return None
    platforms = [p.split(":")[0].strip().lower() for p in os.environ.get("QT_QPA_PLATFORM", "").split(";")]
    if any(p in HEADLESS_QT_PLATFORMS for p in platforms):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set; run it in a desktop session)"


def _index(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, index, set_library_keywords_enabled

    library = Library.open(args.path)
    if args.keywords is not None:
        set_library_keywords_enabled(library, args.keywords)
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
    print(_index_summary(summary))
    if summary.earlier_training:
        print(f"note: your corrections trained the suggestions of an earlier model; your tags are kept, and"
              f" `photo-tagger train {args.path}` learns from them again")
    keywords = summary.keywords
    for warning in keywords.warnings[:20]:
        print(f"  warning: {warning}", file=sys.stderr)
    if keywords.applied or keywords.warnings:
        print(f"keywords: {keywords.applied} tags confirmed from keywords in photos and sidecars, "
              f"{len(keywords.created_tags)} new tags, {len(keywords.warnings)} unreadable")
    return EXIT_OK


def _index_summary(summary) -> str:  # type: ignore[no-untyped-def]
    """One line for a person: what this run did, what it could not, what the library holds."""
    if summary.indexed:
        line = (f"Indexed {_count(summary.indexed, 'new or changed photo')} in {summary.seconds:.1f} s"
                f" ({summary.photos_per_s:.1f} photos/s)")
    else:
        line = f"Nothing new or changed to index ({summary.seconds:.1f} s)"
    if summary.errors:
        shown = "listed above" if summary.errors <= 20 else "the first 20 listed above"
        line += f"; {summary.errors} could not be read ({shown})"
    scan = summary.scan
    line += (f"; library: {_count(summary.photos, 'photo')}. Files since the last index: {scan.new} new,"
             f" {scan.changed} changed, {scan.moved} moved, {scan.missing} missing, {scan.unchanged} unchanged")
    if scan.still_broken:
        line += (f", {scan.still_broken} still unreadable (not retried until"
                 f" {'it changes' if scan.still_broken == 1 else 'they change'})")
    return line + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _export(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import ExportOptions, Library, export_library, export_library_sidecars

    library = Library.open(args.path)
    if args.include_suggestions and (args.format != "xmp" or args.confirmed_only):
        raise UserError("--include-suggestions is for --format xmp, without --confirmed-only "
                        "(the other formats include suggestions unless --confirmed-only)")
    options = ExportOptions(confirmed_only=args.confirmed_only, tags=tuple(args.tags), min_score=args.min_score)
    if args.format == "xmp":
        sidecars = export_library_sidecars(library, options, include_suggestions=args.include_suggestions)
        for problem in sidecars.errors:
            print(f"error: {problem}", file=sys.stderr)
        print(f"wrote {len(sidecars.written)} sidecars ({len(sidecars.backups)} previous versions kept as .bak), "
              f"{sidecars.unchanged} unchanged, {_count(len(sidecars.errors), 'error')}")
        return EXIT_USER_ERROR if sidecars.errors else EXIT_OK
    if str(args.output) != "-":
        result = export_library(library, args.output, fmt=args.format, options=options, scores=args.scores)
        print(f"wrote {result.photos} photos to {result.path}")
        return EXIT_OK
    # `-o -`: the file is written as usual (atomic, same bytes), then copied to stdout, so
    # stdout holds only the data and the summary goes to stderr.
    with tempfile.TemporaryDirectory(prefix="photo-tagger-export-") as folder:
        out = Path(folder) / f"export.{'json' if args.format == 'json' else 'csv'}"
        result = export_library(library, out, fmt=args.format, options=options, scores=args.scores)
        sys.stdout.flush()
        with open(out, "rb") as fh:
            shutil.copyfileobj(fh, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    print(f"wrote {result.photos} photos to stdout", file=sys.stderr)
    return EXIT_OK


def _import(args: argparse.Namespace) -> int:
    from photo_tagger.core.service import Library, apply_library_import, plan_library_import

    library = Library.open(args.path)
    plan = plan_library_import(library, args.csv, args.format)
    print(("would change: " if args.dry_run else "import: ") + plan.summary_text(), flush=True)
    if args.dry_run:
        for problem in plan.problems:
            print(f"warning: {problem}", file=sys.stderr)
        return EXIT_OK
    applied, result = apply_library_import(library, plan)
    if applied.summary_text() != plan.summary_text():  # another writer got in between
        print("import (the library changed meanwhile): " + applied.summary_text(), flush=True)
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


def _train(args: argparse.Namespace) -> int:
    from photo_tagger.core.report import format_report
    from photo_tagger.core.service import Library, rollback, set_training_target_precision, train

    library = Library.open(args.path)
    if args.target_precision is not _UNCHANGED:
        set_training_target_precision(library, args.target_precision)
    job = rollback(library) if args.rollback else train(library, force=args.force)
    try:
        while True:
            progress = next(job)
            if sys.stderr.isatty():
                sys.stderr.write(f"\r\x1b[2K{progress.message} {progress.done}/{progress.total}")
                sys.stderr.flush()
    except StopIteration as done:
        result = done.value
    finally:
        job.close()
        if sys.stderr.isatty():
            sys.stderr.write("\r\x1b[2K")
    if args.rollback:
        print("now using " + ("the starting model (no trained head)" if result is None else f"head {result}"))
    elif result.activated:
        print(format_report(result))
        print(f"head {result.head_id} is active; suggestions updated (undo: photo-tagger train PATH --rollback)")
    else:
        print(format_report(result))
        print(f"head {result.head_id} was NOT activated: it scores below the model in use in cross-validation;"
              " the suggestions stay as they were (use it anyway: photo-tagger train PATH --force)")
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
                    f"{progress.per_s:.1f} photos/s ETA {eta} errors {progress.errors}")
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
