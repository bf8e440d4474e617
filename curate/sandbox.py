"""Run untrusted Python (model-written code + a row's unit tests) in an OS sandbox: bubblewrap.

    from curate.sandbox import run_python
    r = run_python("import os, sys\\nos.write(int(sys.argv[1]), b'hi')", timeout=5)
    r.ok, r.channel  # (True, b'hi')

Each run is one `bwrap` process tree (bubblewrap, https://github.com/containers/bubblewrap):

- namespaces: new PID, network (only its own loopback), IPC, UTS and mount namespaces, and
  (modes "user" and "nobody") a user namespace in which no further ones can be made
  (`--disable-userns`);
- filesystem: an empty root holding read-only binds of /usr (+ the /bin, /lib* links), the
  Python installation and /etc/ld.so.cache, a fresh /dev and /proc; the only writable place is
  `/work`, a private tmpfs of `file_mb` (the working dir, HOME and TMPDIR) that vanishes with
  the sandbox. Nothing the code does can create, change or delete a file outside it;
- identity: a non-root uid without capabilities or the means to regain them (no_new_privs).
  Mode "user" (curate run by a normal user): that user's uid. Mode "nobody" (root, with a
  Python installation uid 65534 can read): bwrap itself runs as 65534. Mode "root" (root, e.g.
  pyenv under /root): bwrap runs as root without a user namespace — one made by root would map
  the sandbox to root, which RLIMIT_NPROC exempts — and a prelude drops to uid/gid 65534
  before any untrusted code runs;
- rlimits, set by the prelude before the code runs (hard limits, so the code cannot raise them):
  address space, CPU seconds, file size, open files, no core dumps, and processes — counted for
  that non-root uid, so `processes=1` means no fork, no thread, no subprocess;
- time: the program is PID 1 of its namespace (`--as-pid-1`), so when it exits, or when the
  wall-clock timeout kills it, the kernel kills everything else in the namespace (a `setsid`
  child included); `--die-with-parent` does the same if curate itself dies; an empty environment.

Where bubblewrap is missing or cannot create its namespaces, `run_python` raises
`SandboxUnavailable` naming what to install: there is no weaker fallback. `isolation()` probes
once per process. What this does not isolate: docs/security.md.
"""

from __future__ import annotations

import functools
import json
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from curate.errors import EXIT_USAGE, CurateError

INSTALL = "apt-get install bubblewrap"
SANDBOX_UID = 65534  # "nobody": the uid untrusted code runs as when curate runs as root
WORKDIR = "/work"  # the sandbox's only writable directory (a private tmpfs)
_KEEP_OUTPUT = 64 * 1024  # bytes of stdout/stderr kept (the tail)
_MAX_CHANNEL = 8 * 1024 * 1024  # bytes of the result channel read at most
_MAX_CODE = 100_000  # `python -c CODE` travels in argv (128 KiB per argument); data goes through stdin


class SandboxUnavailable(CurateError):
    """Code checks cannot run here: bubblewrap is missing or cannot create its namespaces."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class SandboxResult:
    ok: bool  # exited with status 0 within the limits (not a verdict: see curate.verifiers.code)
    returncode: int | None  # None when timed out; negative: killed by that signal
    timed_out: bool
    stdout: str
    stderr: str
    channel: bytes = b""  # what the program wrote to its result fd, int(sys.argv[1])
    channel_truncated: bool = False  # it wrote more than 8 MiB there


@dataclass(frozen=True)
class Isolation:
    available: bool
    mode: str = ""  # "user": unprivileged bwrap; "nobody": root starts it as SANDBOX_UID; "root": bwrap as root, code as SANDBOX_UID
    problem: str = ""  # why it is unavailable
    fix: str = ""  # what to do about it

    @property
    def reason(self) -> str:
        """One line for a row's reason column."""
        return f"{self.problem}: {self.fix}" if self.problem else ""


def _python() -> str:
    return os.path.realpath(sys.executable)


def _python_dirs() -> list[str]:
    """The directories the sandboxed interpreter needs beyond /usr: its installation (-S: no site-packages)."""
    exe = _python()
    dirs: list[str] = []
    for d in (sys.base_prefix, sys.base_exec_prefix, os.path.dirname(os.path.dirname(exe))):
        d = os.path.realpath(d)
        if d in ("/", "/usr") or d.startswith("/usr/") or any(d == k or d.startswith(k + "/") for k in dirs):
            continue
        dirs = [k for k in dirs if not k.startswith(d + "/")] + [d]
    return dirs


@functools.lru_cache(maxsize=4)
def _bwrap_args(bwrap: str, mode: str) -> tuple[str, ...]:
    """Everything but the per-run arguments: namespaces, identity, the filesystem and the environment."""
    args = [bwrap, "--die-with-parent", "--new-session", "--as-pid-1"]
    args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--hostname", "sandbox"]
    if mode == "root":
        # No user namespace (bwrap run by root would map the sandbox uid to root, whom process
        # limits exempt): the prelude drops to SANDBOX_UID with these two capabilities, which
        # the drop then clears.
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:  # "user", or "nobody": root starts an unprivileged bwrap as SANDBOX_UID
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    args += ["--ro-bind", "/usr", "/usr"]
    for d in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(d):
            args += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            args += ["--ro-bind", d, d]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    made: set[str] = set()
    for d in _python_dirs():
        parts = d.strip("/").split("/")
        for i in range(1, len(parts)):  # parents readable by anyone (bwrap would copy e.g. /root's 0700)
            parent = "/" + "/".join(parts[:i])
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", d, d]
    args += ["--dev", "/dev", "--remount-ro", "/dev", "--proc", "/proc"]
    args += [
        "--chdir",
        WORKDIR,
        "--clearenv",
        "--setenv",
        "PATH",
        "/usr/bin:/bin",
        "--setenv",
        "HOME",
        WORKDIR,
        "--setenv",
        "TMPDIR",
        WORKDIR,
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "PYTHONHASHSEED",
        "0",
    ]
    return tuple(args)


def _prelude(mode: str, timeout: float, memory_mb: int, file_mb: int, open_files: int, processes: int) -> str:
    """Trusted code run before the untrusted code: drop root (root mode), then set hard rlimits."""
    cpu = max(1, math.ceil(timeout)) + 1
    limits = [
        (resource.RLIMIT_AS, memory_mb << 20, memory_mb << 20),
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_FSIZE, file_mb << 20, file_mb << 20),
        (resource.RLIMIT_NOFILE, open_files, open_files),
        (resource.RLIMIT_CORE, 0, 0),
        (resource.RLIMIT_NPROC, processes, processes),
    ]
    drop = ""
    if mode == "root":
        u = SANDBOX_UID
        drop = f"_os.setgroups([]); _os.setresgid({u}, {u}, {u}); _os.setresuid({u}, {u}, {u})\n"
    return f"import os as _os, resource as _r\n{drop}for _l in {limits!r}:\n    _r.setrlimit(_l[0], _l[1:])\ndel _os, _r, _l\n"


def _spawn(
    mode: str, bwrap: str, code: str, stdin: bytes, timeout: float, memory_mb: int, file_mb: int, open_files: int, processes: int
) -> SandboxResult:
    if len(code) > _MAX_CODE:
        raise ValueError(f"sandboxed program is {len(code)} characters; pass data through stdin instead (limit {_MAX_CODE})")
    started = time.monotonic()
    chan_r, chan_w = os.pipe()
    info_r, info_w = os.pipe()
    stdin_fd = os.memfd_create("curate-sandbox-stdin")
    try:
        _write_all(stdin_fd, stdin)
        os.lseek(stdin_fd, 0, os.SEEK_SET)
        program = _prelude(mode, timeout, memory_mb, file_mb, open_files, processes) + code
        argv = [
            *_bwrap_args(bwrap, mode),
            "--size",
            str(file_mb << 20),
            "--perms",
            "0777",
            "--tmpfs",
            WORKDIR,
            "--remount-ro",
            "/",
            "--info-fd",
            str(info_w),
            _python(),
            "-S",
            "-s",
            "-B",
            "-P",
            "-c",
            program,
            str(chan_w),
        ]
        nobody = mode == "nobody"
        proc = subprocess.Popen(
            argv,
            stdin=stdin_fd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(chan_w, info_w),
            start_new_session=True,
            user=SANDBOX_UID if nobody else None,
            group=SANDBOX_UID if nobody else None,
            extra_groups=[] if nobody else None,
        )
    except BaseException:
        for fd in (chan_r, info_r):
            os.close(fd)
        raise
    finally:
        for fd in (chan_w, info_w, stdin_fd):
            os.close(fd)
    assert proc.stdout is not None and proc.stderr is not None
    out, err, chan = bytearray(), bytearray(), bytearray()
    truncated = False
    timed_out = False
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout.fileno(), selectors.EVENT_READ, out)
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ, err)
    sel.register(chan_r, selectors.EVENT_READ, chan)
    deadline = started + timeout
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for key, _ in sel.select(left):
                data = os.read(key.fd, 1 << 16)
                if not data:
                    sel.unregister(key.fd)
                    continue
                buf = key.data
                if buf is chan:
                    room = _MAX_CHANNEL - len(chan)
                    truncated = truncated or len(data) > room
                    chan += data[: max(room, 0)]
                else:
                    buf += data
                    del buf[: max(0, len(buf) - _KEEP_OUTPUT)]
        if not timed_out:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                timed_out = True
        if timed_out:
            _kill(proc, info_r)
            proc.wait()
    finally:
        if proc.poll() is None:  # interrupted (e.g. KeyboardInterrupt): leave nothing running
            _kill(proc, info_r)
            proc.wait()
        sel.close()
        for fd in (chan_r, info_r):
            os.close(fd)
        proc.stdout.close()
        proc.stderr.close()
    rc = None if timed_out else proc.returncode
    return SandboxResult(
        ok=rc == 0,
        returncode=rc,
        timed_out=timed_out,
        stdout=out.decode("utf-8", "replace")[-4000:],
        stderr=err.decode("utf-8", "replace")[-4000:],
        channel=bytes(chan),
        channel_truncated=truncated,
    )


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _kill(proc: subprocess.Popen, info_r: int) -> None:
    """SIGKILL the namespace's PID 1 and wait for bwrap, which exits once the kernel has killed every process in it."""
    os.set_blocking(info_r, False)
    try:
        pid = int(json.loads(os.read(info_r, 4096) or b"{}").get("child-pid", 0))
    except (OSError, ValueError, AttributeError):
        pid = 0
    if pid > 0 and proc.poll() is None:  # bwrap has not reaped its child yet, so the pid is still that child's
        try:
            os.kill(pid, signal.SIGKILL)
            proc.wait(10)
            return
        except (ProcessLookupError, subprocess.TimeoutExpired):
            pass
    try:  # no child pid: kill bwrap, whose death kills the namespace (--die-with-parent)
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """Can code run in the sandbox here? Probed once per process by starting one sandbox."""
    if not sys.platform.startswith("linux"):
        return Isolation(False, problem="code checks need Linux namespaces (bubblewrap)", fix="run curate on Linux")
    bwrap = shutil.which("bwrap")
    if not bwrap:
        return Isolation(False, problem="code checks need bubblewrap", fix=INSTALL)
    # As root, prefer an unprivileged bwrap started as SANDBOX_UID (it can also forbid new user
    # namespaces); it needs the Python installation readable by that uid. Else bwrap as root.
    modes = ("nobody", "root") if os.geteuid() == 0 else ("user",)
    last = ""
    for mode in modes:
        try:
            r = _spawn(mode, bwrap, "import os, sys\nos.write(int(sys.argv[1]), b'ok')\n", b"", 60.0, 256, 1, 16, 1)
        except OSError as exc:
            last = f"{bwrap}: {exc}"
            continue
        if r.ok and r.channel == b"ok":
            return Isolation(True, mode)
        last = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[-1]
    return Isolation(
        False,
        problem=f"code checks need a working bubblewrap sandbox, and it failed here ({last[:200]})",
        fix="allow user namespaces (sysctl user.max_user_namespaces > 0; kernel.unprivileged_userns_clone=1 where it exists) "
        "or run curate as root; in a container, allow unshare (e.g. docker --security-opt seccomp=unconfined)",
    )


def require_isolation() -> Isolation:
    iso = isolation()
    if not iso.available:
        raise SandboxUnavailable(iso.problem, iso.fix)
    return iso


def run_python(
    code: str,
    *,
    stdin: bytes = b"",
    timeout: float = 10.0,
    memory_mb: int = 1024,
    file_mb: int = 16,
    open_files: int = 64,
    processes: int = 1,
) -> SandboxResult:
    """Run `code` as `python -S -c CODE FD` in the sandbox; never raises for the code's faults.

    `stdin` is the program's standard input (an in-memory file). FD (sys.argv[1]) is the
    write end of a result channel: what the program writes there comes back as `channel`, apart
    from its stdout and stderr. `processes` caps the tasks (processes and threads) the sandbox
    uid may run; the default 1 allows none besides the program. Raises SandboxUnavailable when
    bubblewrap cannot run here.
    """
    iso = require_isolation()
    bwrap = shutil.which("bwrap") or "bwrap"
    return _spawn(iso.mode, bwrap, code, stdin, timeout, memory_mb, file_mb, open_files, processes)
