"""Imported first by `wpbridge.cli`: Ctrl-C or SIGTERM while Python is still importing wpbridge (the first second
of a run) is one line and exit 130 / 143, never a KeyboardInterrupt traceback. Only in the `wpbridge` program
itself (a library user's or a test runner's signals are left alone); the command's own handlers replace these
(`signals.default_handlers`)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def _quiet(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    os.write(2, f"wpbridge: interrupted ({name}) while starting; nothing done\n".encode())
    os._exit(128 + signum)


def install() -> bool:
    """The quiet handlers, when this process is the `wpbridge` program (its main thread)."""
    if Path(sys.argv[0] if sys.argv else "").name != "wpbridge":
        return False
    if threading.current_thread() is not threading.main_thread():
        return False
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _quiet)
    return True


install()
