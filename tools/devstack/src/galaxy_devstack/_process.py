"""Child-process helpers: die with the parent, signal a whole process group."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading


def die_with_parent_prefix() -> list[str]:
    """An argv prefix asking Linux to SIGTERM the child when its parent dies (PR_SET_PDEATHSIG).

    util-linux's `setpriv --pdeathsig` sets it and then execs the real command.
    We deliberately do not use a `preexec_fn`: it forces a real fork() instead of
    vfork(), and a real fork runs gRPC's pthread_atfork handlers in the child,
    whose restarted poller can abort on the epoll fd that `close_fds` just closed
    (grpc/grpc#43055) — the child then dies before exec, at random.

    The signal fires when the *thread* that spawned the child ends, so it is only
    armed from the main thread (whose end is the process's end). Returns [] where
    unsupported; callers then rely on their own shutdown.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process group led by `pid`, ignoring a group that is already gone."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass
