"""The code sandbox's boundary: files, processes, signals, network, time and environment.

Each escape seen against the old audit-hook sandbox is fed as a crafted completion through the
real code verifier; the test asserts on the host that nothing changed (and, in the completion's
own tests, that every attempt failed inside). A machine without bubblewrap fails these tests
with the install hint, as code checks do there.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time

import pytest

from curate.sandbox import isolation, run_python
from curate.verifiers import check, get_verifier

ADD = "def add(a, b):\n    return a + b\n"


@pytest.fixture(autouse=True)
def generous_timeout(monkeypatch):
    monkeypatch.setattr(get_verifier("code"), "timeout", 30.0)


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker` (sandboxed processes are visible from outside)."""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as fh:
                    if marker.encode() in fh.read():
                        found.append(int(d))
            except OSError:
                continue
    return found


def attempts(body: str, **values: object) -> str:
    """A completion that defines add() and records in ESCAPED each operation in `body` that succeeded."""
    head = "".join(f"{k} = {v!r}\n" for k, v in values.items())
    return head + "import os, stat, sys\nESCAPED = []\n" + body + ADD


def attempt(name: str, stmt: str) -> str:
    return f"try:\n    {stmt}\n    ESCAPED.append({name!r})\nexcept Exception:\n    pass\n"


CHECK_NONE_ESCAPED = {"test_list": ["assert ESCAPED == []", "assert add(1, 2) == 3"]}


@pytest.fixture
def victim():
    """A directory inside the Python installation, which the sandbox sees read-only."""
    parent = sysconfig.get_paths()["stdlib"]
    path = os.path.join(parent, f"curate-sandbox-victim-{secrets.token_hex(4)}")
    try:
        os.mkdir(path)
    except OSError:
        pytest.skip(f"{parent} is not writable here, so no victim file can be placed where the sandbox sees it")
    with open(os.path.join(path, "victim.txt"), "w") as fh:
        fh.write("intact")
    yield path
    subprocess.run(["rm", "-rf", path], check=True)


def test_files_outside_the_work_dir_cannot_be_written_renamed_or_deleted(victim):
    ops = "".join(
        attempt(name, stmt)
        for name, stmt in [
            ("open-dir_fd", "os.close(os.open('new.txt', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=d))"),
            ("rename-dir_fd", "os.rename('victim.txt', 'moved.txt', src_dir_fd=d, dst_dir_fd=d)"),
            ("unlink-dir_fd", "os.unlink('victim.txt', dir_fd=d)"),
            ("mkdir-dir_fd", "os.mkdir('newdir', dir_fd=d)"),
            ("symlink-dir_fd", "os.symlink('/etc/passwd', 'link', dir_fd=d)"),
            ("chmod-dir_fd", "os.chmod('victim.txt', 0o777, dir_fd=d)"),
            ("mkfifo-outside", "os.mkfifo('fifo', dir_fd=d)"),
            ("mknod-outside", "os.mknod('null', 0o666 | stat.S_IFCHR, os.makedev(1, 3), dir_fd=d)"),
            ("mknod-in-work", "os.mknod('/work/null', 0o666 | stat.S_IFCHR, os.makedev(1, 3))"),
            ("open-append", "open(VICTIM + '/victim.txt', 'a').write('x')"),
            ("write-usr", "os.close(os.open('/usr/curate-escape', os.O_WRONLY | os.O_CREAT))"),
            ("write-root", "os.close(os.open('/curate-escape', os.O_WRONLY | os.O_CREAT))"),
            ("write-dev", "os.close(os.open('/dev/curate-escape', os.O_WRONLY | os.O_CREAT))"),
            ("write-dev-shm", "os.close(os.open('/dev/shm/curate-escape', os.O_WRONLY | os.O_CREAT))"),
        ]
    )
    code = attempts("d = os.open(VICTIM, os.O_RDONLY | os.O_DIRECTORY)\n" + ops, VICTIM=victim)
    r = check("code", code, CHECK_NONE_ESCAPED)
    assert r.ok, r.reason  # the completion's own test: no attempt succeeded inside
    assert os.listdir(victim) == ["victim.txt"]
    with open(os.path.join(victim, "victim.txt")) as fh:
        assert fh.read() == "intact"
    assert not os.path.exists("/usr/curate-escape") and not os.path.exists("/curate-escape")


def test_the_host_filesystem_and_environment_are_invisible(tmp_path, monkeypatch):
    monkeypatch.setenv("CURATE_SANDBOX_SECRET", "s3cret")
    (tmp_path / "data.txt").write_text("private")
    code = (
        "import os\n"
        f"SEEN = [p for p in ({str(tmp_path / 'data.txt')!r}, '/etc/passwd', '/home', {os.getcwd()!r}) if os.path.exists(p)]\n"
        "ENV = sorted(os.environ)\n" + ADD
    )
    row = {"test_list": ["assert SEEN == []", "assert ENV == ['HOME', 'LANG', 'PATH', 'PWD', 'PYTHONHASHSEED', 'TMPDIR']"]}
    r = check("code", code, row)
    assert r.ok, r.reason


def test_processes_cannot_be_started_through_any_door():
    mark = f"curate-mark-{secrets.token_hex(6)}"
    spawn = (
        "import _posixsubprocess, os, subprocess, sys, threading\n"
        f"MARK = {mark!r}\n"
        "STARTED = []\n"
        "argv = [sys.executable, '-c', 'import time; time.sleep(60)', MARK]\n"
        "def fork_exec():\n"
        "    r, w = os.pipe()\n"
        "    args = [argv, [sys.executable.encode()], True, (), None, None, -1, -1, -1, -1, -1, -1, r, w, True, True, -1,\n"
        "            None, None, None, -1, None]\n"
        "    if sys.version_info >= (3, 12):\n"
        "        args.append(False)\n"
        "    return _posixsubprocess.fork_exec(*args)\n"
        "for name, start in [('fork_exec', fork_exec), ('fork', os.fork), ('popen', lambda: subprocess.Popen(argv)),\n"
        "                    ('system', lambda: os.system(' '.join(argv))), ('spawn', lambda: os.posix_spawn(argv[0], argv, {})),\n"
        "                    ('thread', lambda: threading.Thread(target=lambda: None).start())]:\n"
        "    for _ in range(20):\n"
        "        try:\n"
        "            pid = start()\n"
        "        except Exception:\n"
        "            continue\n"
        "        if pid == 0:\n"
        "            os._exit(0)\n"
        "        if not (name == 'system' and pid != 0):\n"
        "            STARTED.append(name)\n" + ADD
    )
    r = check("code", spawn, {"test_list": ["assert STARTED == []", "assert add(1, 2) == 3"]})
    assert r.ok, r.reason
    assert processes_with(mark) == []


def test_a_setsid_child_does_not_outlive_a_program_that_exits():
    mark = f"curate-mark-{secrets.token_hex(6)}"
    code = (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)', {mark!r}], start_new_session=True)\n"
    )
    started = time.monotonic()
    r = run_python(code, timeout=30, processes=16)
    assert r.ok, r.stderr
    assert time.monotonic() - started < 25  # not held open until the child's 60 s sleep ends
    assert processes_with(mark) == []


def test_a_setsid_child_does_not_outlive_the_timeout():
    mark = f"curate-mark-{secrets.token_hex(6)}"
    code = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', 'import os, time; os.setsid(); time.sleep(60)', {mark!r}], start_new_session=True)\n"
        "time.sleep(0.5)\nwhile True:\n    pass\n"
    )
    started = time.monotonic()
    r = run_python(code, timeout=2, processes=16)
    assert r.timed_out and not r.ok
    assert time.monotonic() - started < 2 + 20
    assert processes_with(mark) == []


def test_the_verifier_returns_at_its_timeout(monkeypatch):
    monkeypatch.setattr(get_verifier("code"), "timeout", 2.0)
    for body in ("while True:\n    pass\n", "import time\ntime.sleep(600)\n"):
        started = time.monotonic()
        r = check("code", ADD + body, {"test_list": ["assert add(1, 2) == 3"]})
        assert not r.ok and r.reason == "timed out"
        assert time.monotonic() - started < 2 + 20


def test_nothing_survives_when_curate_itself_is_killed():
    mark = f"curate-mark-{secrets.token_hex(6)}"
    driver = f"from curate.sandbox import run_python\nrun_python('import time\\ntime.sleep(120)  # {mark}', timeout=120)\n"
    proc = subprocess.Popen([sys.executable, "-c", driver], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    deadline = time.monotonic() + 60
    while not processes_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(mark), "the sandbox never started"
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while processes_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_with(mark) == []


def test_unrelated_processes_cannot_be_signalled():
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        code = attempts(
            attempt("kill-pid", "os.kill(PID, signal.SIGKILL)")
            + attempt("killpg", "os.killpg(PID, signal.SIGKILL)")
            + "try:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n",
            PID=bystander.pid,
        ).replace("import os, stat, sys", "import os, signal, stat, sys")
        r = check("code", code, CHECK_NONE_ESCAPED)
        assert r.ok, r.reason
        time.sleep(0.2)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_no_network_even_bypassing_the_socket_module():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    name = f"curate-test-{secrets.token_hex(4)}"
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind("\0" + name)
    unix.listen()
    unix.settimeout(0.5)
    port = listener.getsockname()[1]
    setup = textwrap.dedent(
        """\
        import ctypes, struct
        libc = ctypes.CDLL(None, use_errno=True)
        def raw_connect(family, addr):
            fd = libc.socket(family, 1, 0)
            assert fd >= 0
            return libc.connect(fd, addr, len(addr)) == 0
        inet = struct.pack("=H", 2) + struct.pack("!H", PORT) + bytes([127, 0, 0, 1]) + bytes(8)
        """
    )
    code = attempts(
        setup
        + attempt("tcp-ctypes", "assert raw_connect(2, inet)")
        + attempt("unix-abstract-ctypes", f"assert raw_connect(1, struct.pack('=H', 1) + b'\\0{name}')")
        + attempt("tcp-socket", f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=2)")
        + attempt("dns", "__import__('socket').getaddrinfo('localhost', 80)"),
        PORT=port,
    )
    try:
        r = check("code", code, CHECK_NONE_ESCAPED)
        assert r.ok, r.reason
        for server in (listener, unix):
            with pytest.raises(TimeoutError):
                server.accept()
    finally:
        listener.close()
        unix.close()


def test_memory_is_limited():
    r = check("code", ADD + "x = bytearray(8 * 1024 ** 3)\n", {"test_list": ["assert add(1, 2) == 3"]})
    assert not r.ok and "MemoryError" in r.reason


def test_the_probe_is_cached_and_names_the_mode():
    iso = isolation()
    assert iso.available and iso.mode in ("user", "nobody", "root")
    assert isolation() is iso


SYSTEM_PYTHON = "/usr/bin/python3"
MODE_PROBE = r"""
import json
from curate.sandbox import isolation, run_python
code = '''
import ctypes, json, os
res = {"uid": os.getuid()}
try:
    if os.fork() == 0:
        os._exit(0)
    res["fork"] = "started"
except OSError as e:
    res["fork"] = e.errno
res["userns"] = ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0
try:
    open("/usr/curate-escape", "w")
    res["write"] = "written"
except OSError as e:
    res["write"] = e.errno
print(json.dumps(res))
'''
r = run_python(code)
print(json.dumps({"mode": isolation().mode, "inside": json.loads(r.stdout)}))
"""


def _system_python_ok() -> bool:
    if os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON) or not shutil.which("setpriv"):
        return False
    out = subprocess.run([SYSTEM_PYTHON, "-c", "import sys; print(sys.version_info >= (3, 11))"], check=False, capture_output=True, text=True)
    return out.stdout.strip() == "True"


@pytest.mark.skipif(not _system_python_ok(), reason="needs root, setpriv and a system Python 3.11+ to run curate in the other modes")
@pytest.mark.parametrize("mode", ["user", "nobody"])
def test_the_other_isolation_modes_hold_too(mode):
    """'user': curate run by a normal user; 'nobody': root with a Python uid 65534 can read (vs this venv's 'root' mode)."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cmd = [SYSTEM_PYTHON, "-c", MODE_PROBE]
    if mode == "user":
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *cmd]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd="/", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": root}, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["mode"] == mode
    assert got["inside"] == {"uid": got["inside"]["uid"], "fork": errno.EAGAIN, "userns": False, "write": errno.EROFS}
    assert got["inside"]["uid"] != 0
