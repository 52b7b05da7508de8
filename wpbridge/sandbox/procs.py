"""Background processes of a sandbox: started in their own session, recorded by pid, stopped by pid.

Why a session per process: `php -S` with PHP_CLI_SERVER_WORKERS forks workers that survive a TERM sent to
their master (they keep serving the port). Started with `start_new_session`, the master is the leader of a
process group that its workers inherit, so `stop()` can find every worker by group id even after the master is
gone. A process is only ever signalled when its group and session are the recorded ones and its command line
still names the sandbox dir (pid reuse guard); nothing else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Popen objects of processes this Python process started, so that stop() can reap them (no zombies, no
# "subprocess is still running" ResourceWarning when they are garbage-collected).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class ProcRecord:
    """What `DIR/run/<name>.json` holds about one started process (the leader of its own group)."""

    name: str
    pid: int
    starttime: int
    marker: str  # a string the command line of the leader and its workers contains (the sandbox dir)


def spawn(name: str, argv: Sequence[str], run_dir: Path, log_path: Path, marker: str,
          env: Mapping[str, str] | None = None) -> ProcRecord:
    """Start `argv` in the background, stdio to `log_path` (never the caller's pipes), and record it at once."""
    with open(os.devnull, "rb") as devnull, open(log_path, "ab") as log:
        proc = subprocess.Popen(
            list(argv), stdin=devnull, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=dict(env) if env is not None else None, close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    record = ProcRecord(name=name, pid=proc.pid, starttime=_starttime(proc.pid) or 0, marker=marker)
    path = run_dir / f"{name}.json"
    path.write_text(json.dumps(record.__dict__) + "\n")
    return record


def records(run_dir: Path) -> list[ProcRecord]:
    """The recorded processes of a sandbox dir (those that may still be running)."""
    out: list[ProcRecord] = []
    for path in sorted(run_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            out.append(ProcRecord(name=str(data["name"]), pid=int(data["pid"]),
                                  starttime=int(data["starttime"]), marker=str(data["marker"])))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    return out


def is_running(record: ProcRecord) -> bool:
    """The recorded leader itself is still alive (same pid and start time, not a zombie)."""
    stat = _stat(record.pid)
    return stat is not None and stat.state not in "ZX" and stat.starttime == record.starttime


def members(record: ProcRecord) -> list[int]:
    """Live processes of the record's group (leader and workers) whose command line names the sandbox dir."""
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is None or stat.state in "ZX" or stat.pgid != record.pid or stat.sid != record.pid:
            continue
        if record.marker in _cmdline(pid):
            out.append(pid)
    return out


def stop(record: ProcRecord, term_timeout: float = 15.0) -> list[int]:
    """TERM the record's group members, KILL what is left after `term_timeout`; returns the pids signalled."""
    pids = members(record)
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + term_timeout
    while time.monotonic() < deadline and _alive(pids):
        _reap(pids)
        time.sleep(0.05)
    left = _alive(pids)
    for pid in left:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and _alive(pids):
        _reap(pids)
        time.sleep(0.05)
    _reap(pids)
    return pids


def wait_exited(proc_pid: int) -> int | None:
    """The exit code of a child this process started, if it has exited (None while it runs or if unknown)."""
    proc = _CHILDREN.get(proc_pid)
    if proc is None:
        return None
    return proc.poll()


# --------------------------------------------------------------------------- /proc helpers


@dataclass(frozen=True)
class _Stat:
    state: str
    pgid: int
    sid: int
    starttime: int


def _stat(pid: int) -> _Stat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
    fields = raw[raw.rfind(")") + 2:].split()
    try:
        return _Stat(state=fields[0], pgid=int(fields[2]), sid=int(fields[3]), starttime=int(fields[19]))
    except (IndexError, ValueError):
        return None


def _starttime(pid: int) -> int | None:
    stat = _stat(pid)
    return stat.starttime if stat else None


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _alive(pids: Sequence[int]) -> list[int]:
    out = []
    for pid in pids:
        stat = _stat(pid)
        if stat is not None and stat.state not in "ZX":
            out.append(pid)
    return out


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _reap(pids: Sequence[int]) -> None:
    """Collect the exit status of our own children among `pids` so they do not linger as zombies."""
    for pid in pids:
        proc = _CHILDREN.get(pid)
        if proc is not None and proc.poll() is not None:
            del _CHILDREN[pid]
