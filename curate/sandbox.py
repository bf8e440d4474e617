"""Run untrusted Python (model-written code + a row's unit tests) in a separate, limited process.

Layers, each cheap and each independent of the others:
  1. a separate process in its own session, killed (whole process group) on timeout;
  2. rlimits set in the child before exec: address space (memory), CPU seconds, file size,
     open files, and no core dumps;
  3. no network: where util-linux `unshare --net` works (root, or an unprivileged user
     namespace via `unshare -r --net`), the child runs in an empty network namespace; a socket
     then cannot reach anything. Probed once per process; without it, layer 4 still blocks sockets;
  4. a Python audit hook installed before the candidate runs (PEP 578; it cannot be removed from
     Python code) refuses sockets, subprocesses/exec/fork, and file writes, deletes and renames
     outside the temp working dir;
  5. a fresh temp working dir (deleted afterwards), an empty environment, `python -I -S`.

Why not bubblewrap/nsjail/firejail: none is installed in the slim Debian images curate targets
and they are not pip-installable; `unshare` ships with util-linux (always present on Debian) and
gives the network namespace. The audit hook is what stops writes outside the dir without needing
mount namespaces. This is isolation for buggy or careless code, not a boundary against an
adversary who uses ctypes to escape the interpreter: run curate in a container for that.
"""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

_PRELUDE = r'''
import os, sys
_ROOT = os.path.realpath(os.getcwd())
def _inside(p):
    try:
        p = os.path.realpath(os.fsdecode(p) if not isinstance(p, int) else "")
    except Exception:
        return False
    return p == _ROOT or p.startswith(_ROOT + os.sep)
_BLOCKED = {"socket.__new__", "socket.bind", "socket.connect", "socket.getaddrinfo", "socket.sendto",
            "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
            "ctypes.dlopen", "pty.spawn"}
def _hook(event, args):
    if event in _BLOCKED:
        raise PermissionError(f"sandbox: {event} is not allowed")
    if event == "open" and args and not isinstance(args[0], int):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else ""
        flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
        writing = any(c in (mode or "") for c in "wax+") or (flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND))
        if writing and not _inside(args[0]):
            raise PermissionError(f"sandbox: writing outside the working dir: {args[0]}")
    elif event in ("os.remove", "os.rmdir", "os.mkdir", "os.rename", "os.chmod", "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime", "shutil.rmtree"):
        for a in args[:2]:
            if isinstance(a, (str, bytes, os.PathLike)) and not _inside(a):
                raise PermissionError(f"sandbox: {event} outside the working dir: {a}")
sys.addaudithook(_hook)
del _hook
'''


@dataclass(frozen=True)
class SandboxResult:
    ok: bool  # exited with status 0 within the limits
    returncode: int | None
    timed_out: bool
    stdout: str
    stderr: str


@functools.lru_cache(maxsize=1)
def network_isolation() -> tuple[str, ...]:
    """The `unshare` prefix that works here for an empty network namespace, or () if none does."""
    exe = shutil.which("unshare")
    if not exe:
        return ()
    for prefix in ((exe, "--net"), (exe, "-r", "--net")):
        try:
            r = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return prefix
    return ()


def _limits(memory_mb: int, cpu_seconds: int, file_mb: int):
    def apply() -> None:
        import resource

        mem = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 1024 * 1024,) * 2)
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_python(
    code: str, *, timeout: float = 10.0, memory_mb: int = 1024, file_mb: int = 16, network: bool = False, python: str | None = None
) -> SandboxResult:
    """Run `code` as a script in a temp dir under the limits above; never raises for the code's faults."""
    workdir = tempfile.mkdtemp(prefix="curate-sandbox-")
    try:
        script = os.path.join(workdir, "main.py")
        with open(script, "w", encoding="utf-8") as fh:
            fh.write(_PRELUDE)
            fh.write("\n")
            fh.write(code)
            fh.write("\n")
        cmd = [python or sys.executable, "-I", "-S", "-B", script]
        if not network:
            cmd = [*network_isolation(), *cmd]
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0", "HOME": workdir, "TMPDIR": workdir}
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limits(memory_mb, max(1, int(timeout) + 1), file_mb),
        )
        try:
            out, err = proc.communicate(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
            timed_out = True
        rc = None if timed_out else proc.returncode
        return SandboxResult(
            ok=rc == 0,
            returncode=rc,
            timed_out=timed_out,
            stdout=out.decode("utf-8", "replace")[-4000:],
            stderr=err.decode("utf-8", "replace")[-4000:],
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
