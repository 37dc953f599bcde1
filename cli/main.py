"""The ``simcore`` command group and its error contract.

Errors a user can fix (:class:`simcore.errors.SimcoreError`) print one line per
problem on stderr and exit with status 1; usage errors exit 2 (click's convention);
anything unexpected prints one line and exits 70. ``--debug`` (anywhere on the command
line) or ``SIMCORE_DEBUG=1`` shows the traceback instead. Ctrl-C (SIGINT) and SIGTERM
are handled alike: whatever was being written is removed, one line says so, and the
exit status is 130 or 143 (128 + the signal number). Every line passes
:func:`simcore.errors.redact`, so no URL's password is ever printed.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import signal
import sys

import click

from simcore._version import __version__

#: command name -> "module:attribute"; modules are imported only when the command
#: runs or when help lists it (each command module imports nothing but click).
COMMANDS: dict[str, str] = {
    "accounts": "simcore.cli.accounts:accounts",
    "backtest": "simcore.cli.backtest:backtest",
    "demo": "simcore.cli.demo:demo",
    "fit": "simcore.cli.fit:fit",
    "plan-cs": "simcore.cli.plan_cs:plan_cs",
    "report": "simcore.cli.report_command:report",
    "run": "simcore.cli.run:run",
    "schema": "simcore.cli.schema:schema",
    "segments": "simcore.cli.segments:segments",
    "sensitivity": "simcore.cli.sensitivity:sensitivity",
    "validate": "simcore.cli.validate:validate",
}

EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs for both."""

    def __init__(self, signal_number: int):
        super().__init__(f"signal {signal_number}")
        self.signal_number = signal_number


#: Seconds the main thread gets to act on Ctrl-C or SIGTERM before the process exits
#: anyway. Python runs signal handlers between bytecodes only, and a long numba kernel
#: holds the main thread in machine code; nothing is being written at that point (files
#: are written after the simulation), so exiting directly loses nothing.
SIGNAL_GRACE_SECONDS = 3.0


def _on_signal(signal_number, frame) -> None:
    if signal_number == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signal_number)


def _watch(read_end: int, stop) -> None:
    """Exit the process when a signal was not acted on within the grace period."""
    import time

    while not stop.is_set():
        try:
            data = os.read(read_end, 16)
        except OSError:
            return
        if not data or stop.is_set():
            return
        numbers = [n for n in data if n in (signal.SIGINT, signal.SIGTERM)]
        if not numbers:
            continue
        number = numbers[-1]
        deadline = time.monotonic() + SIGNAL_GRACE_SECONDS
        while time.monotonic() < deadline:
            if stop.wait(0.05):
                return
        what = "terminated" if number == signal.SIGTERM else "interrupted"
        os.write(2, f"{what} during a computation; nothing was written\n".encode())
        os._exit(128 + number)


@contextlib.contextmanager
def _signals_as_interrupts():
    """SIGINT and SIGTERM raise an interrupt while the command runs (main thread only),
    with a watchdog for when the main thread is busy in machine code; the previous
    handlers are restored afterwards."""
    import threading

    try:
        previous = {number: signal.signal(number, _on_signal) for number in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    stop = threading.Event()
    previous_wakeup = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    watcher = threading.Thread(target=_watch, args=(read_end, stop), name="simcore-signal-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        signal.set_wakeup_fd(previous_wakeup)
        os.close(write_end)  # ends the watcher's read
        watcher.join(timeout=1.0)
        os.close(read_end)
        for number, handler in previous.items():
            signal.signal(number, handler)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def resolve_command(self, ctx, args):
        # Suggest the closest command name for a typo ("simcore segmnts").
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            import difflib

            if args and not args[0].startswith("-"):
                close = difflib.get_close_matches(args[0], list(COMMANDS), n=1)
                if close:
                    raise click.UsageError(
                        f"no command '{args[0]}'; did you mean '{close[0]}'?", ctx
                    ) from error
            raise


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("SIMCORE_DEBUG", "") not in ("", "0")


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="simcore")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """simcore: per-segment unit economics (LTV, CAC, cost to serve, retention)
    simulated as distributions under pricing, discount, downturn and staffing scenarios.

    Every command takes a YAML config, or a data file plus flags for quick use.
    Run `simcore COMMAND --help` for details.
    """


def _print_problem_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(f"error: {line}", err=True)


def _show_usage_error(usage: click.ClickException) -> None:
    from simcore.errors import redact

    buffer = io.StringIO()
    usage.show(file=buffer)
    click.echo(redact(buffer.getvalue()), err=True, nl=False)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: runs the group under the error contract."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(argv)
    # --debug is accepted anywhere on the line; the group's own option documents it.
    args = [a for a in argv if a != "--debug"]

    from simcore.errors import SimcoreError, redact

    try:
        with _signals_as_interrupts():
            cli.main(args=args, prog_name="simcore", standalone_mode=False)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as usage:
        _show_usage_error(usage)
        sys.exit(usage.exit_code)
    except SimcoreError as error:
        if debug:
            raise
        _print_problem_lines(error.lines())
        sys.exit(error.exit_code)
    except (KeyboardInterrupt, click.Abort) as stopped:
        # click turns an interrupt inside a command into Abort; the signal is its cause.
        interrupt = stopped if isinstance(stopped, KeyboardInterrupt) else stopped.__cause__ or stopped.__context__
        if debug and interrupt is not None:
            raise
        number = getattr(interrupt, "signal_number", signal.SIGINT)
        if interrupt is None:
            click.echo("aborted", err=True)
        else:
            what = "terminated" if number == signal.SIGTERM else "interrupted"
            click.echo(f"{what}; output being written was removed, earlier output is untouched", err=True)
        sys.exit(128 + int(number))
    except Exception as error:  # noqa: BLE001 - the contract: one line, no traceback
        if debug:
            raise
        click.echo(redact(
            f"internal error: {type(error).__name__}: {error} "
            "(run again with --debug for the traceback, and please report it)"),
            err=True,
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
