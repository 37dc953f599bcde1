"""Writing results safely: a run goes to a fresh directory, atomically.

Files are written into a hidden staging directory beside the target
(``.NAME.partial-XXXX``), which takes the target's place only when everything succeeded.
The promises, and how they are kept:

* **Nothing half-written.** A failure, Ctrl-C or SIGTERM removes the staging directory
  (the CLI turns SIGTERM into the same interrupt as Ctrl-C). A process killed outright
  (SIGKILL, power loss) cannot clean up; its staging directory is removed by the next
  write to the same target. Each staging directory is locked (``flock``) by the process
  writing it for as long as it lives, so a later run removes only directories whose
  writer is gone, never one still being written by a concurrent run.
* **Never clobbered without force.** An existing non-empty target is refused unless
  ``force``; and even with ``force`` only a directory simcore wrote (it holds one of
  :data:`OUTPUT_MARKERS`) is replaced, so a mistyped ``--out`` cannot delete a folder of
  other files.
* **Replaced atomically.** With ``force``, the new directory and the old one swap places
  in one ``renameat2(RENAME_EXCHANGE)`` call on Linux: at every instant the target is the
  complete old run or the complete new one. Where that call is missing (other systems,
  some network file systems) the old run is first renamed to ``.NAME.old-XXXX`` and the
  new one renamed into place; if the process dies between the two renames, the target is
  briefly missing, and the next write to it (or :func:`recover`) renames the old run back
  before doing anything else. Ctrl-C and SIGTERM are held back during the swap.
* **Checked first.** :func:`check_target` refuses a target that exists as a file, is
  occupied without ``force``, or lies in a folder that cannot be written (a file is
  created and removed there to find out), before any expensive work.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Iterator

from simcore.errors import OutputError, Problem

#: Files that mark a directory as simcore's own output, which ``force`` may replace: the
#: manifest of a run, the saved fits of a run or fit, the schema of a demo workspace.
OUTPUT_MARKERS = ("manifest.json", "saved_fits.json", "simcore.schema.json")

try:
    import fcntl  # noqa: F401 - only whether it exists matters here
    _HAS_FLOCK = True
except ImportError:  # pragma: no cover - not a POSIX system
    _HAS_FLOCK = False

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _staging_prefix(name: str) -> str:
    return f".{name}.partial-"


def _retired_prefix(name: str) -> str:
    return f".{name}.old-"


def _occupied(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


def _default_permissions(root: Path) -> None:
    """Temporary files and directories are created private (0600/0700); results are
    ordinary files, so give them the permissions the user's umask asks for."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(root, 0o777 & ~mask)
    for path in root.rglob("*"):
        os.chmod(path, (0o777 if path.is_dir() else 0o666) & ~mask)


# ---------------------------------------------------------------------------- checks


def _probe_writable(target: Path) -> None:
    """Create and remove a file in the nearest existing folder of ``target``."""
    folder = target.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise OutputError(Problem(f"{folder} is a file, so the output cannot be created below it",
                                  "choose another output directory", source=str(target)))
    try:
        handle, probe = tempfile.mkstemp(prefix=".simcore-write-test-", dir=folder)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(Problem(f"cannot write in {folder}: {error.strerror or error}",
                                  "choose a directory you can write to, or fix its permissions",
                                  source=str(target))) from None


def check_target(target: str | Path, *, force: bool = False) -> None:
    """Refuse early (before any expensive work) when ``target`` cannot be written.

    Raises
    ------
    OutputError
        ``target`` is a file; is a non-empty directory and ``force`` is not given; is a
        non-empty directory that simcore did not write (even with ``force``); or its
        folder cannot be written.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(Problem("exists and is a file", "choose a directory name", source=str(target)))
    if _occupied(target):
        if not force:
            raise OutputError(Problem(
                "already exists and is not empty",
                "choose another directory, or pass --force to replace it",
                source=str(target),
            ))
        if not any((target / marker).is_file() for marker in OUTPUT_MARKERS):
            raise OutputError(Problem(
                "is not a directory simcore wrote (it has no manifest.json), so --force will not replace it "
                "and nothing was deleted",
                "choose another output directory, or empty this one yourself",
                source=str(target),
            ))
    _probe_writable(target)


def prepare_target(target: str | Path, *, force: bool = False) -> None:
    """What a command does before its work: tidy up after killed runs (:func:`recover`),
    then :func:`check_target`."""
    recover(target)
    check_target(target, force=force)


# ----------------------------------------------------------------------------- locks


def _lock(path: Path) -> int | None:
    """An open descriptor of directory ``path`` holding an exclusive ``flock``, or None
    when another process holds it, the directory is gone, or the system has no
    ``flock`` (then no directory is ever taken for abandoned, and none is removed)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not a POSIX system
        return None
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # The directory may have been removed (and its name reused) between open and lock.
        if os.stat(path).st_ino != os.fstat(descriptor).st_ino:
            raise FileNotFoundError(path)
    except OSError:
        os.close(descriptor)
        return None
    return descriptor


def _new_staging(parent: Path, name: str) -> tuple[Path, int]:
    """A fresh, locked staging directory beside the target."""
    for _ in range(100):
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(name), dir=parent))
        descriptor = _lock(staging)
        if descriptor is not None:
            return staging, descriptor
        if not _HAS_FLOCK:  # pragma: no cover - without flock nobody else removes it either
            return staging, -1
        # A clean-up by another run took it between creation and locking; try another.
    raise OutputError(Problem("cannot lock a staging directory", "try again", source=str(parent / name)))


def recover(target: str | Path) -> list[Path]:
    """Tidy up after runs that were killed while writing ``target``.

    A previous run left aside by an interrupted two-rename swap is renamed back to
    ``target`` when ``target`` is missing (the newest one, if several); every other
    staging or retired directory whose writer is gone is removed. Directories still
    locked by a live process are left alone.

    Returns
    -------
    list of Path
        The directories removed or restored.
    """
    target = Path(target)
    parent = target.absolute().parent
    if not parent.is_dir():
        return []
    name = target.name
    touched: list[Path] = []
    def age(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0

    retired = sorted((p for p in parent.iterdir() if p.name.startswith(_retired_prefix(name))),
                     key=age, reverse=True)
    staging = [p for p in parent.iterdir() if p.name.startswith(_staging_prefix(name))]
    for path in retired + staging:
        descriptor = _lock(path)
        if descriptor is None:
            continue
        try:
            if path in retired and not os.path.lexists(target):
                os.rename(path, target)  # the previous run, back in place
            else:
                shutil.rmtree(path, ignore_errors=True)
            touched.append(path)
        finally:
            os.close(descriptor)
    return touched


# ------------------------------------------------------------------------------ swap


def _exchange(first: Path, second: Path) -> bool:
    """Swap two directories in one system call (Linux ``renameat2``); False when the
    call is not available here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint)
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP)):
        return False
    raise OSError(code, os.strerror(code), str(second))


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back while the target changes hands; one that arrives
    meanwhile is raised again right after, for the usual handler. (Python runs handlers
    in the main thread whichever thread the signal reached, so handlers are swapped
    rather than the thread's signal mask.)"""
    pending: list[int] = []

    def record(number, frame) -> None:
        pending.append(number)

    try:
        previous = {number: signal.signal(number, record) for number in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: signals cannot reach this code
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if pending:
            signal.raise_signal(pending[0])


def _publish(staging: Path, target: Path, *, exchange=_exchange) -> Path | None:
    """Put ``staging`` in ``target``'s place; returns a directory left to remove (the
    old run), if any."""
    if not target.exists():
        os.replace(staging, target)
        return None
    if exchange(staging, target):
        return staging  # the old run now lives under the staging name
    if not _occupied(target):
        os.replace(staging, target)  # an empty directory is replaced in one rename
        return None
    old_lock = _lock(target)
    retired = Path(tempfile.mkdtemp(prefix=_retired_prefix(target.name), dir=target.absolute().parent))
    os.rmdir(retired)
    try:
        os.rename(target, retired)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(retired, target)
            raise
    finally:
        if old_lock is not None:
            os.close(old_lock)
    return retired


@contextlib.contextmanager
def atomic_directory(target: str | Path, *, force: bool = False, exchange=_exchange) -> Iterator[Path]:
    """Yield a temporary directory; on success it becomes ``target``.

    Parameters
    ----------
    target
        The directory to write.
    force
        Replace an existing directory simcore wrote (see the module notes).
    exchange
        How two directories swap places (tests pass a stand-in to exercise the
        two-rename fallback).

    Raises
    ------
    OutputError
        See :func:`check_target`; or the staging directory cannot be created.
    """
    target = Path(target)
    check_target(target, force=force)
    parent = target.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        recover(target)
        check_target(target, force=force)  # a recovered previous run is now the target
        staging, descriptor = _new_staging(parent, target.name)
    except OSError as error:
        raise OutputError(Problem(f"cannot create the output directory: {error.strerror}", "", source=str(target))) from None
    try:
        try:
            yield staging
            _default_permissions(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            with _signals_held():
                leftover = _publish(staging, target, exchange=exchange)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            raise OutputError(Problem(f"cannot put the output in place: {error.strerror or error}",
                                      "check the folder's permissions; the earlier output is untouched",
                                      source=str(target))) from None
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if leftover is not None:
        shutil.rmtree(leftover, ignore_errors=True)
