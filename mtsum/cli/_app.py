"""The `mtsum` Typer app and what every command shares; no command is defined here.

The app with its global options (--verbose, --version), the mapping of library exceptions to exit
codes (`command_errors`), the progress bar, and the output helpers. The command modules
(`mtsum.cli.translate`, `mtsum.cli.batch`, `mtsum.cli.models`) import this module and
`mtsum.cli.options`, never the reverse; `mtsum.cli` registers their commands on `app`.

What reaches stderr: mtsum's own warnings, once per document after the work, and errors as one
line. The libraries' warnings, log records and progress bars are noise to a user (they name
library internals nobody running mtsum can act on); `command_errors` keeps them off for the length
of a command, and ``mtsum --verbose`` (without -q) lets them through. With -q a successful command
prints nothing on stderr at all, native libraries included (see `library_output`).

Exit codes (also in the README):
    0  success
    1  batch finished, but some documents failed (see the report)
    2  usage error (bad option or argument)
    3  bad input (unreadable, empty, invalid UTF-8, ...) or an output that cannot be written
       (an -o that is an input, stdout closed or full, a file mtsum did not write)
    4  model unavailable (not cached and no network, or not loadable)
    5  busy: another `mtsum batch` holds the output folder
    128 + N  stopped by signal N: 130 Ctrl-C (SIGINT), 143 SIGTERM, 129 SIGHUP
    70 internal error (a bug: rerun with --verbose and report the traceback)
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import logging
import os
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from mtsum._version import __version__
from mtsum.cli.options import Backend, ComputeType, Device
from mtsum.errors import InputError, MtsumError
from mtsum.markup import one_line

__all__ = [
    "EXIT_INTERNAL",
    "Stopped",
    "app",
    "check_output",
    "command_errors",
    "interrupted_exit",
    "library_output",
    "model_runtime",
    "progress_bar",
    "say",
    "warn",
    "write",
]

EXIT_INTERNAL = 70

app = typer.Typer(
    name="mtsum",
    help="Translate Arabic news to English, summarize it, and show what supports every sentence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mtsum {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Show the traceback when something fails, and the libraries' own warnings.",
        ),
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Global options; `command_errors` reads --verbose back from the root context."""


def say(line: str) -> None:
    """One line on stderr. A stderr that cannot be written (a terminal hung up: EIO; closed;
    full) loses the line but never turns the command's outcome into another: a batch stopped
    by SIGHUP still exits 129, its report written."""
    with contextlib.suppress(OSError, ValueError):  # ValueError: a closed Python stream
        typer.echo(line, err=True)


def warn(message: str, quiet: bool) -> None:
    """One ``mtsum: warning:`` line on stderr, unless -q."""
    if not quiet:
        say(f"mtsum: warning: {one_line(message)}")


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the main thread is, as Ctrl-C raises KeyboardInterrupt:
    whatever the command does on Ctrl-C (a batch writes its report), it does on these."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interrupted_exit(exc: KeyboardInterrupt) -> int:
    """The exit code of a command that `exc` stopped: 128 + the signal, as shells report it."""
    return 128 + (exc.signum if isinstance(exc, Stopped) else signal.SIGINT)


@contextmanager
def _stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise `Stopped` for the length of a command, then are set back.

    Only where they have their default action (which ends the process with nothing written, a
    batch's report included): a signal a parent set to be ignored (``nohup``) stays ignored.
    Python lets only the main thread set handlers; elsewhere they keep their action.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    wanted = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, stop) for s in wanted if signal.getsignal(s) == signal.SIG_DFL}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def command_errors(ctx: typer.Context) -> Iterator[None]:
    """Map library exceptions to one-line messages and documented exit codes, and keep the
    libraries quiet meanwhile (see `_library_noise`).

    With ``mtsum --verbose`` (a parameter of the root command) the traceback is shown too, and
    the libraries' noise unless the command has ``-q`` (its ``quiet`` parameter).

    Ctrl-C, SIGTERM and SIGHUP stop a command with ``mtsum: interrupted`` and exit 128 + the
    signal (`interrupted_exit`); a command that says more catches KeyboardInterrupt itself.
    """
    verbose = bool(ctx.find_root().params.get("verbose"))
    quiet = bool(ctx.params.get("quiet"))
    try:
        with _stop_signals(), _library_noise(show=verbose and not quiet):
            yield
    except MtsumError as exc:
        if verbose:
            traceback.print_exc()
        say(f"mtsum: error: {one_line(str(exc))}")
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort):
        raise
    except KeyboardInterrupt as exc:
        say("mtsum: interrupted")
        raise typer.Exit(interrupted_exit(exc)) from None
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        say(f"mtsum: internal error: {type(exc).__name__}: {exc} (rerun with --verbose)")
        raise typer.Exit(EXIT_INTERNAL) from None


@contextmanager
def _library_noise(*, show: bool) -> Iterator[None]:
    """Python warnings, log records and library progress bars: dropped until exit unless `show`.

    Set back on exit, so a program that runs the app in-process keeps its own warnings filters,
    logging and progress bars. A sample of what this drops on a first run: transformers'
    "Loading weights" bars and generation notices, huggingface_hub's download bars.
    """
    if show:
        yield
        return
    with _warnings_ignored(), _logging_disabled(), _library_bars_disabled():
        yield


@contextmanager
def _warnings_ignored() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextmanager
def _logging_disabled() -> Iterator[None]:
    # logging.disable also reaches transformers' logger, which has its own handler and does not
    # propagate to the root logger.
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


@contextmanager
def _library_bars_disabled() -> Iterator[None]:
    """huggingface_hub's and transformers' progress bars off, then back as they were.

    transformers is imported by the loaders, if at all, and takes its switch from
    huggingface_hub's when imported; one first imported meanwhile is set back to what its import
    would otherwise have made it. Importing transformers here would cost the CTranslate2 path,
    which never needs it, half a second.
    """
    hub = importlib.import_module("huggingface_hub.utils.tqdm")
    hub_states = dict(hub.progress_bar_states)
    hub_on = not hub.are_progress_bars_disabled()
    hf = sys.modules.get("transformers.utils.logging")
    hf_on = hf.is_progress_bar_enabled() if hf is not None else hub_on
    hub.disable_progress_bars()
    if hf is not None:
        hf.disable_progress_bar()
    try:
        yield
    finally:
        hf = sys.modules.get("transformers.utils.logging")
        if hf is not None:
            # Both switch huggingface_hub's bars too; its own states are restored after.
            (hf.enable_progress_bar if hf_on else hf.disable_progress_bar)()
        hub.progress_bar_states.clear()
        hub.progress_bar_states.update(hub_states)


@contextmanager
def library_output(quiet: bool) -> Iterator[None]:
    """The span in which a command runs the library.

    Whatever the libraries print goes to stderr, never into the output on stdout (CTranslate2's
    converter prints tensor-loading progress for some models). With -q, what native code
    (CTranslate2's logger, MKL, OpenMP) writes straight to file descriptors 1 and 2 is dropped
    too, so a successful run prints nothing at all; mtsum itself writes nothing there meanwhile.
    """
    with contextlib.redirect_stdout(sys.stderr):
        if quiet:
            with _descriptors_silenced():
                yield
        else:
            yield


@contextmanager
def _descriptors_silenced() -> Iterator[None]:
    """File descriptors 1 and 2 point at the null device until exit."""
    saved: list[int] = []
    try:
        for fd in (1, 2):
            saved.append(os.dup(fd))
    except OSError:  # no such descriptor (a daemon): nothing can reach a terminal anyway
        for copy in saved:
            os.close(copy)
        yield
        return
    _flush()
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            os.dup2(null, 2)
        finally:
            os.close(null)
        yield
    finally:
        _flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def _flush() -> None:
    """Flush Python's and C's buffered output, so it lands before descriptors are switched."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(None).fflush(None)


@contextmanager
def progress_bar(quiet: bool, desc: str, unit: str = "tok") -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed with (done, total), around the library work (see
    `library_output`); silent with -q or when stderr is no TTY."""
    from tqdm import tqdm

    bar = tqdm(desc=desc, unit=unit, disable=True if quiet else None, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        # A bar is never a reason to fail: a hung-up terminal (EIO) loses the bar, not the run.
        with contextlib.suppress(OSError, ValueError):
            bar.refresh()

    try:
        with library_output(quiet):
            yield update
    finally:
        with contextlib.suppress(OSError, ValueError):
            bar.close()


def model_runtime(
    device: Device,
    threads: int | None,
    backend: Backend,
    compute_type: ComputeType | None,
    cache_dir: Path | None,
) -> dict[str, Any]:
    """The keyword arguments every model loader takes, from the shared CLI options."""
    return {
        "device": device.value,
        "threads": threads,
        "backend": backend.value,
        "compute_type": compute_type.value if compute_type is not None else None,
        "cache_dir": cache_dir,
    }


_STDOUT_CLOSED = "stdout is closed; pass -o FILE, or redirect stdout to a file"


def check_output(output: str | None, inputs: Sequence[str | Path] = ()) -> None:
    """Fail now, before any model runs, on an output that can never be written: a closed stdout
    (``>&-``), or an ``-o`` that is a folder, under a file, or one of the command's `inputs`
    (files it reads, ``-`` for stdin: see `mtsum.atomic.output_target`).

    Raises:
        InputError: The message names the output and what to do.
    """
    _refuse_closed(output)
    if output is None or output == "-":
        return
    from mtsum.atomic import output_target

    output_target(output, inputs=inputs)


def _refuse_closed(output: str | None) -> None:
    """Refuse stdout (no ``-o``, ``-o -``, ``-o /dev/stdout``, ``/dev/fd/1``) or stderr when
    that descriptor was closed at start: Python then has no ``sys.stdout``/``sys.stderr``, and
    `mtsum.cli.main` has put the null device there, so the text would vanish without a word."""
    from mtsum.atomic import standard_stream

    fd = 1 if output is None or output == "-" else standard_stream(output)
    if fd == 1 and sys.stdout is None:
        raise InputError(_STDOUT_CLOSED)
    if fd == 2 and sys.stderr is None:
        raise InputError(f"-o {output}: stderr is closed; pass -o FILE")


def write(text: str, output: str | None) -> None:
    """Print `text`, or write it where ``-o`` points (see `mtsum.atomic.write_output`).

    Raises:
        InputError: It cannot be written: stdout closed or full (``> /dev/full``, a full disk),
            or as `mtsum.atomic.write_output`.
    """
    _refuse_closed(output)  # typer.echo would drop the text without a word
    if output is None or output == "-":
        try:
            typer.echo(text, nl=False)  # flushes: a full disk fails here, not at exit
        except OSError as exc:
            raise InputError(f"stdout: cannot be written ({exc.strerror or exc})") from None
    else:
        from mtsum.atomic import write_output

        # surrogateescape: a file name that was not UTF-8 goes back out as the bytes it was.
        write_output(output, text.encode("utf-8", "surrogateescape"))
