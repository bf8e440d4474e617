"""Code: run the candidate with the row's unit tests in the sandbox (curate.sandbox).

The candidate is the last ```python fenced block of the completion (or the whole completion when
there is none). The reference is the row's tests: a list of statements (MBPP `test_list`, e.g.
`assert add(1, 2) == 3`) or one string of test code (HumanEval-style `check(candidate)` code
works when the row names the function in `entry_point`).

How a pass is decided (the candidate runs in the same interpreter as the tests, so neither its
exit status nor anything it prints can count):

1. Assertions of the form `assert EXPR == LITERAL` (or `LITERAL == EXPR`, or `EXPR is
   True/False/None`) at the top level of the tests or of `def check(...)` are split before the
   tests leave curate: the sandbox only evaluates EXPR and reports its value as plain data
   (exact built-in types, encoded by the harness with the built-in types' own methods); curate
   compares it with LITERAL, which never enters the sandbox. The code cannot make such a test
   pass without producing the expected value.
2. The harness (trusted code that runs first) reads the job from stdin, loads the candidate as
   module `solution`, then runs the tests in a separate namespace with the original builtins
   (names that shadow builtins are not carried over, except the entry point). Only if the whole
   test program returns normally does it read a per-run random token from the tail of stdin
   (the code's own reads stop before it) and write `P <token> ...` with the split values to a
   result pipe; then it exits at once with os._exit, so atexit handlers never run.
3. curate passes the completion only when that record is there, carries the token, is the only
   thing in the pipe, every split assertion ran and matched, and the exit status is 0.
   `sys.exit`, `os._exit`, SystemExit or any BaseException, signals, being killed, printing
   fake results, or redefining functions after the tests all fail.

Limits: the remaining (non-split) assertions are judged inside the candidate's interpreter,
so code written against this harness (pread-ing its stdin, walking its frames) can forge those;
and `==` on values the candidate returns is the test's own choice. See docs/security.md.
"""

from __future__ import annotations

import ast
import functools
import marshal
import re
import secrets
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from curate.verifiers import VERIFIERS, Verifier, VerifyResult

_FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
RECORD = "__curate_record__"  # the name split assertions call inside the sandbox

# The trusted program that runs first in the sandbox. Everything it uses after the candidate
# has run is bound before the candidate runs, so patched builtins or modules cannot change it.
_HARNESS = r"""
def _harness():
    import builtins, marshal, os, sys
    chan = int(sys.argv[1])
    write, read, pread, lseek, exit_, getcwd, abspath = os.write, os.read, os.pread, os.lseek, os._exit, os.getcwd, os.path.abspath
    compile_, exec_, type_, isinstance_, issubclass_ = compile, exec, type, isinstance, issubclass
    len_, repr_, hex_, str_ = len, repr, hex, str
    float_repr, complex_repr, str_repr, bytes_repr = float.__repr__, complex.__repr__, str.__repr__, bytes.__repr__
    list_iter, tuple_iter, set_iter, frozenset_iter, dict_items = list.__iter__, tuple.__iter__, set.__iter__, frozenset.__iter__, dict.items
    BaseException_, Exception_, PermissionError_ = BaseException, Exception, PermissionError
    RecursionError_, MemoryError_, Ellipsis_ = RecursionError, MemoryError, Ellipsis
    int_, float_, complex_, bytes_, bytearray_, memoryview_ = int, float, complex, bytes, bytearray, memoryview
    list_, tuple_, set_, frozenset_, dict_ = list, tuple, set, frozenset, dict
    settrace, setprofile, addaudithook, ModuleType = sys.settrace, sys.setprofile, sys.addaudithook, type(sys)

    def read_n(n, at):
        out = b""
        while len_(out) < n:
            chunk = pread(0, n - len_(out), at + len_(out))
            if not chunk:
                break
            out += chunk
        return out

    size = int.from_bytes(read_n(8, 0), "big")
    setup, code, tests, entry, token_len = marshal.loads(read_n(size, 8))
    token_at = 8 + size
    lseek(0, 0, 2)  # the candidate reads EOF from stdin

    def send(data):
        view = memoryview(data)
        while view:
            view = view[write(chan, view):]

    def fail(phase, exc):
        try:
            name, msg = str_(type_(exc).__name__), str_(exc)
        except BaseException_:
            name, msg = "Exception", ""
        send(("F\t%s\t%s\t%s\n" % (phase, repr_(name[:100]), repr_(msg[:300]))).encode("utf-8", "replace"))
        exit_(1)

    class Unencodable(Exception_):
        pass

    def enc(v, depth):
        if depth > 64:
            raise Unencodable("nested too deeply")
        if v is None or v is True or v is False or v is Ellipsis_:
            return repr_(v)
        t = type_(v)  # the real type: isinstance() would believe a forged __class__
        if issubclass_(t, int_):
            return hex_(v)  # exact for any size (decimal str() of big ints is capped)
        if issubclass_(t, float_):
            s = float_repr(v)
            if s.endswith("nan"):
                raise Unencodable("nan")
            return "1e999" if s == "inf" else "-1e999" if s == "-inf" else s
        if issubclass_(t, complex_):
            s = complex_repr(v)
            if "nan" in s or "inf" in s:
                raise Unencodable("complex with nan or inf")
            return s
        if issubclass_(t, str_):
            return str_repr(v)
        if issubclass_(t, (bytes_, bytearray_)):
            return bytes_repr(bytes_(memoryview_(v)))
        if issubclass_(t, list_):
            return "[" + ", ".join([enc(x, depth + 1) for x in list_iter(v)]) + "]"
        if issubclass_(t, tuple_):
            items = [enc(x, depth + 1) for x in tuple_iter(v)]
            return "(" + ", ".join(items) + ("," if len_(items) == 1 else "") + ")"
        if issubclass_(t, (set_, frozenset_)):
            items = [enc(x, depth + 1) for x in (set_iter(v) if issubclass_(t, set_) else frozenset_iter(v))]
            return "{" + ", ".join(items) + "}" if items else "set()"
        if issubclass_(t, dict_):
            return "{" + ", ".join([enc(k, depth + 1) + ": " + enc(x, depth + 1) for k, x in dict_items(v)]) + "}"
        raise Unencodable(str_(t.__name__)[:60])

    records = []

    def record(site, value):
        try:
            text = enc(value, 0)
            if len_(text) > 1000000:
                text = "!a value too large to compare"
        except Unencodable as exc:
            text = "!" + str_(exc.args[0])
        except (RecursionError_, MemoryError_):
            text = "!a value too large to compare"
        except Exception_:  # e.g. a forged type whose methods raise
            text = "!an object that cannot be read as plain data"
        records.append("%d %s" % (site, text))

    work = getcwd()
    net = {"socket.__new__", "socket.bind", "socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr"}
    procs = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "pty.spawn"}
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def policy(event, args):
        # Clear messages for what the OS sandbox refuses anyway (the boundary is bubblewrap, not this).
        if event in net:
            raise PermissionError_("sandbox: network access is not allowed")
        if event in procs:
            raise PermissionError_("sandbox: starting processes is not allowed")
        if event == "open" and len_(args) > 2 and isinstance_(args[0], (str, bytes)) and isinstance_(args[2], int) and args[2] & writing:
            p = abspath(args[0] if isinstance_(args[0], str) else args[0].decode("utf-8", "replace"))
            if p != work and not p.startswith(work + "/"):
                raise PermissionError_("sandbox: writing outside the working dir: " + p)

    try:
        setup_code = compile_(setup, "<setup>", "exec")
        test_code = compile_(tests, "<tests>", "exec")
    except BaseException_ as exc:
        fail("tests", exc)
    try:
        cand_code = compile_(code, "<candidate>", "exec")
    except BaseException_ as exc:
        fail("candidate", exc)
    pristine = dict_(builtins.__dict__)
    mod = ModuleType("solution")
    sys.modules["solution"] = mod
    g = mod.__dict__
    addaudithook(policy)
    try:
        exec_(setup_code, g)
        exec_(cand_code, g)
    except BaseException_ as exc:
        fail("candidate", exc)
    settrace(None)
    setprofile(None)
    tg = {}
    for k, v in dict_items(g):
        if k not in pristine or k == entry:
            tg[k] = v
    tg.update({"__name__": "tests", "__builtins__": dict_(pristine), RECORD: record})
    try:
        exec_(test_code, tg)
    except BaseException_ as exc:
        fail("tests", exc)
    token = read_n(token_len, token_at)
    send(b"P " + token + b" " + str_(len_(records)).encode() + b"\n" + "".join([r + "\n" for r in records]).encode("utf-8", "replace"))
    exit_(0)


_harness()
""".replace("RECORD", repr(RECORD))


def extract_code(completion: str) -> str:
    blocks = _FENCE.findall(completion or "")
    if blocks:
        return max(blocks, key=lambda b: ("def " in b, len(b)))
    open_fence = re.search(r"```[ \t]*(?:python|py)?[ \t]*\n(.*)$", completion or "", re.DOTALL | re.IGNORECASE)  # unterminated
    return open_fence.group(1) if open_fence else (completion or "")


@dataclass(frozen=True)
class Site:
    """One split assertion: the sandbox reports EXPR's value, curate compares it here."""

    text: str  # the assertion's comparison, for failure reasons
    expected: Any
    identity: bool = False  # `is True/False/None` rather than `==`


@dataclass(frozen=True)
class SplitTests:
    source: str  # what runs in the sandbox (split assertions replaced by __curate_record__ calls)
    sites: tuple[Site, ...]


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _split(stmt: ast.stmt) -> tuple[ast.expr, Site] | None:
    if not isinstance(stmt, ast.Assert) or not isinstance(stmt.test, ast.Compare):
        return None
    cmp = stmt.test
    if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], (ast.Eq, ast.Is)):
        return None
    identity = isinstance(cmp.ops[0], ast.Is)
    for expr, lit in ((cmp.left, cmp.comparators[0]), (cmp.comparators[0], cmp.left)):
        is_lit, value = _literal(lit)
        if is_lit and not _literal(expr)[0]:
            if identity and not any(value is c for c in (True, False, None)):
                return None
            return expr, Site(ast.unparse(cmp)[:160], value, identity)
    return None


@functools.lru_cache(maxsize=512)
def prepare_tests(source: str) -> SplitTests:
    """Split the top-level `assert EXPR == LITERAL` statements (module and `def check` bodies) out of `source`."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return SplitTests(source, ())  # the sandbox reports the error
    sites: list[Site] = []

    def rewrite(body: list[ast.stmt]) -> None:
        for i, stmt in enumerate(body):
            split = _split(stmt)
            if split:
                expr, site = split
                call = ast.Call(ast.Name(RECORD, ast.Load()), [ast.Constant(len(sites)), expr], [])
                body[i] = ast.copy_location(ast.Expr(call), stmt)
                sites.append(site)

    rewrite(tree.body)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            rewrite(node.body)
    if not sites:
        return SplitTests(source, ())
    return SplitTests(ast.unparse(ast.fix_missing_locations(tree)), tuple(sites))


def join_tests(tests: Any, row: Mapping[str, Any]) -> str:
    """The row's tests as one program; HumanEval-style `def check` gets `check(<entry_point>)` appended."""
    src = "\n".join(str(t) for t in tests) if isinstance(tests, list | tuple) else str(tests)
    entry = str(row.get("entry_point") or "")
    if entry.isidentifier() and "def check(" in src:
        src += f"\ncheck({entry})\n"
    return src


def _decode(text: str) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _short(value: Any) -> str:
    try:
        s = repr(value)
    except ValueError:  # an int too long for str()
        s = hex(value) if isinstance(value, int) else "?"
    return s if len(s) <= 80 else s[:77] + "..."


def judge(channel: bytes, token: bytes, sites: tuple[Site, ...]) -> VerifyResult | None:
    """The verdict from the harness's record, or None when there is no record at all."""
    if not channel:
        return None
    head, _, rest = channel.partition(b"\n")
    if head.startswith(b"F\t"):
        try:
            _, phase, name, msg = head.decode("utf-8", "replace").split("\t")
            name, msg = ast.literal_eval(name), ast.literal_eval(msg)
        except (ValueError, SyntaxError):
            return VerifyResult(False, reason="the result channel was tampered with")
        where = "" if phase == "tests" else "while loading the code: "
        return VerifyResult(False, reason=f"{where}{name}: {msg}" if msg else f"{where}{name}")
    parts = head.split(b" ")
    if len(parts) != 3 or parts[0] != b"P" or not secrets.compare_digest(parts[1], token) or not parts[2].isdigit():
        return VerifyResult(False, reason="the result channel was tampered with")
    lines = rest.split(b"\n")
    if lines[-1] != b"" or len(lines) - 1 != int(parts[2]):
        return VerifyResult(False, reason="the result channel was tampered with")
    seen = [False] * len(sites)
    for line in lines[:-1]:
        k, _, text = line.decode("utf-8", "replace").partition(" ")
        if not k.isdigit() or int(k) >= len(sites):
            return VerifyResult(False, reason="the result channel was tampered with")
        site = sites[int(k)]
        seen[int(k)] = True
        if text.startswith("!"):
            return VerifyResult(False, reason=f"AssertionError: {site.text}: got {text[1:]}, which is not plain data to compare")
        ok, got = _decode(text)
        if not ok:
            return VerifyResult(False, reason="the result channel was tampered with")
        try:
            same = got is site.expected if site.identity else bool(got == site.expected)
        except RecursionError:
            same = False
        if not same:
            return VerifyResult(False, reason=f"AssertionError: {site.text}: got {_short(got)}")
    if not all(seen):
        return VerifyResult(False, reason=f"a test never ran: {sites[seen.index(False)].text}")
    return VerifyResult(True)


@VERIFIERS.register("code")
class CodeVerifier(Verifier):
    name = "code"
    reference_field = "tests"
    timeout = 10.0
    memory_mb = 1024

    def unavailable(self) -> str | None:
        from curate.sandbox import isolation

        iso = isolation()
        return None if iso.available else iso.reason

    def check(self, completion: str, reference: Any, row: Mapping[str, Any]) -> VerifyResult:
        from curate.sandbox import run_python

        code = extract_code(completion)
        if not code.strip():
            return VerifyResult(False, None, "no code found")
        program = prepare_tests(join_tests(reference, row))
        entry = str(row.get("entry_point") or "")
        token = secrets.token_hex(16).encode()
        job = marshal.dumps((str(row.get("test_setup_code") or ""), code, program.source, entry, len(token)))
        res = run_python(_HARNESS, stdin=len(job).to_bytes(8, "big") + job + token, timeout=self.timeout, memory_mb=self.memory_mb)
        if res.timed_out:
            return VerifyResult(False, code, "timed out")
        if res.channel_truncated:
            return VerifyResult(False, code, "the result channel was tampered with")
        verdict = judge(res.channel, token, program.sites)
        if verdict is None:
            return VerifyResult(False, code, _no_record(res.returncode, res.stderr))
        if verdict.ok and res.returncode != 0:
            return VerifyResult(False, code, f"exited with status {res.returncode} after the tests")
        return VerifyResult(verdict.ok, code, verdict.reason)


def _no_record(returncode: int | None, stderr: str) -> str:
    """Why a run ended without a result record (it exited or was killed before the tests finished)."""
    last = (stderr.strip().splitlines() or [""])[-1][:200]
    if last.startswith("bwrap:"):
        return f"sandbox error: {last}"
    if returncode is not None and returncode < 0:
        sig = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        what = {"SIGXCPU": "CPU time limit", "SIGXFSZ": "file size limit"}.get(sig, sig)
        return f"killed by {what} before the tests finished"
    return f"exited with status {returncode} before the tests finished" + (f" ({last})" if last else "")
