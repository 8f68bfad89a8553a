"""Python code-interpreter tool for the math domain (the paper's ReTool-style setting).

:class:`PythonSandbox` runs each ``<python>`` action in a sandboxed child of the same
interpreter (``sys.executable -I -S -B -X utf8``), in a fresh temporary working directory that
is removed afterwards. The observation is the program's stdout (truncated), or a one-line error
such as ``Error: TimeoutError: execution exceeded 5.0 s``, ``Error: MemoryError`` or
``Error: ZeroDivisionError: division by zero (line 3)``; :meth:`PythonSandbox.step` never
raises for anything the code does. Two modes (``SandboxConfig.mode``):

- ``"worker"`` (default): one long-lived sandboxed child per :class:`PythonSandbox`, started
  on the first call, receives each snippet over a pipe (length-prefixed plain bytes, no
  pickle) and runs it in a fresh ``__main__`` namespace, with stdout/stderr on its own pipes,
  in a fresh per-call working directory (its cwd, ``HOME`` and ``TMPDIR``). The parent
  enforces the wall-clock timeout per call by killing the worker's process group (the next
  call starts a new worker), moves the worker's ``RLIMIT_CPU`` soft limit to "CPU used so far
  + ``cpu_s``" before each call (``prlimit``; exceeding it kills the worker with SIGXCPU), and
  replaces the worker after ``max_calls_per_worker`` calls, after a ``MemoryError``, or when
  a call left threads running, timers armed or standard/protocol file descriptors changed.
  A call costs well under a millisecond instead of ~37 ms, and ``import numpy``/``sympy`` is
  paid once per worker instead of once per call.
- ``"process"``: every call gets a fresh child process (the reference behaviour: nothing at
  all survives a call, ``RLIMIT_CPU`` applies per call as a hard limit).

What the child gets in both modes, before the first line of user code runs:

- an emptied environment (only ``HOME``/``TMPDIR`` = the working directory, ``LC_ALL`` and
  one-thread BLAS settings);
- resource limits, hard limits included (``resource.setrlimit`` is refused too): address space
  (``RLIMIT_AS``), CPU time (``RLIMIT_CPU``; process mode: SIGXCPU becomes a ``TimeoutError``
  and the hard limit one second later kills; worker mode: see above), file size
  (``RLIMIT_FSIZE``, a too-large write raises ``OSError``), no child processes
  (``RLIMIT_NPROC = 0``), no core dumps; the parent also enforces a wall-clock timeout and
  kills the child and its whole process group (process mode: the child runs in its own
  session; worker mode: in its own process group within the parent's session, because a
  new session also means a new scheduler autogroup, and then on a busy machine every
  request/reply handoff waits for a scheduler tick: ~4 ms a call instead of ~0.5 ms);
- a ``sys.addaudithook`` hook (PEP 578) that raises ``PermissionError`` on: any socket
  operation (connect, bind, getaddrinfo, ...); process creation (``subprocess``,
  ``os.system``, ``os.exec*``, ``os.fork``, ``os.posix_spawn``, ``os.kill``, and
  ``_posixsubprocess.fork_exec``, which is replaced by a stub since it is not audited);
  ``ctypes`` beyond ``import ctypes`` (no library loading, symbol lookup or foreign calls);
  opening for write, remove, rename, mkdir, chmod, chown, utime, truncate, mkfifo, xattrs
  outside the sandbox directory, and every link/symlink; opening a directory outside it
  (its fd could be used as a ``dir_fd``); reads outside the sandbox directory and the
  Python installation (``restrict_reads``); ``resource.setrlimit``; the introspection
  that could reach the hook (``gc.get_objects``/``get_referrers``, ``code.__new__``); and
  importing ``sqlite3``/``dbm`` C modules (they write files from C code); opening a
  terminal (``/dev/tty``, ``/dev/pts/*``, ``/dev/console``: ``TIOCSTI`` could type into
  it), even with ``restrict_reads`` off. The sandbox
  directory is the per-call working directory in process mode; in worker mode it is the
  worker's own temporary directory, which holds only the current call's working directory
  and is emptied by the parent after every call (the hook keeps no state that a call could
  change, so it cannot be pointed elsewhere: a snippet can write next to its working
  directory, and that is removed with it);
- ``sys.path`` = the standard library plus, with ``site_packages``, the parent's
  site-packages (numpy, sympy, ... importable; ``.pth`` files are not processed, so this
  project's editable install is not importable).

What worker mode shares between calls (until the worker is replaced, at the latest after
``max_calls_per_worker`` calls): the interpreter, hence imported modules and anything stored
in them (a monkeypatched ``math.sqrt``, ``numpy`` print options, caches, ``sys.path``
additions, import hooks, a module attribute used as a global), objects reachable from the
worker's own frames, and the heap. Each call gets a fresh ``__main__`` module and fresh
``sys.stdout``/``stderr``/``stdin``; afterwards the worker restores the attributes of
``builtins`` and of the modules loaded when it started (``os``, ``os.path``, ``io``,
``codecs``, ...: ``os.fspath = ...`` does not outlive the call), the recursion and
int-digits limits, the switch interval, ``gc``, the umask, ``os.environ``, signal handlers,
the trace/profile functions, the ``decimal`` context and mpmath's precision.
These resets are hygiene against accidents, not isolation: a snippet written to influence a
later one can do so (it could even forge its own reply); what it cannot do is get around the
audit hook or the limits, which are the same as in process mode.

What this does NOT protect against (it is defense in depth, not a security boundary):

- Audit hooks only see Python-level operations. C extension code (numpy, sympy's
  compiled parts, anything importable from site-packages) can open files, sockets or
  processes without raising an event, and PEP 578 itself says hooks are no sandbox:
  crafted bytecode or ``marshal`` data, interpreter bugs or memory corruption can escape.
- ``RLIMIT_NPROC`` is not enforced for root, and no limit here stops a root process from
  using its privileges through C code. Reads are restricted only at the Python level.
- There is no namespace, seccomp or cgroup isolation: the child shares the parent's user,
  filesystem view, network namespace and kernel.
- In worker mode, one call can affect the next ones through the shared interpreter (above);
  a snippet that ignores SIGXCPU is stopped by the wall-clock timeout only.

At scale, or with any untrusted model, run the policy rollouts (or just this sandbox) inside
a container or jail with no network, a read-only root, a non-root user and cgroup limits
(e.g. nsjail, gVisor, a Docker container with ``--network none --read-only``); these
checks then only catch accidents early with readable errors.

Latency (2-core CPU busy with other jobs, ``benchmarks/sandbox_latency.py``): process mode
costs 28-40 ms a call (median; 23 ms at best), of which 15-23 ms is the bare
``python -I -S`` start (without ``-S`` the start alone is 50-70 ms: site processing of a
large venv, hence ``-S`` with site-packages added to ``sys.path`` by hand), and code that
imports numpy (0.2 s) or sympy (0.4-0.8 s) pays that on every call. Worker mode: 0.5-0.6 ms
median for ``print(a * b)`` snippets (p90 2-3 ms, when a scheduler tick intervenes), of which
~0.15 ms is the worker's own per-call work (fresh namespace, streams, resets, audit hook);
its start (~25 ms) is paid by the first call and every ``max_calls_per_worker`` calls; a
sympy snippet costs ~7 ms after the first call instead of ~0.5 s.
"""

from __future__ import annotations

import logging
import marshal
import math
import os
import resource
import select
import selectors
import shutil
import signal
import site
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

logger = logging.getLogger(__name__)

# Marks the error line the child writes to stderr, so user stderr is never mistaken for it.
_ERROR_MARK = "\x00sandbox-error:"
# Extra stdout bytes kept beyond max_output_chars (UTF-8 uses up to 4 bytes a character);
# the rest is read and dropped so a print loop cannot exhaust the parent's memory.
_BYTES_PER_CHAR = 4
_READ_CHUNK = 1 << 16
# Worker protocol, plain bytes both ways (big-endian integers):
#   request: seq (8) | len(workdir) (4) | len(code) (4) | workdir (UTF-8) | code (UTF-8)
#   reply:   seq (8) | status (1: 0 ok, 1 error) | retire (1) | len(message) (4) | message (UTF-8)
_REPLY_HEADER = 14

# Runs in the child (python -I -S -c). Process mode: the user code arrives on stdin and runs
# once. Worker mode: requests arrive on cfg["request_fd"], replies go to cfg["reply_fd"].
# Everything the hook needs is bound in _install's scope: rebinding os.* or other module
# globals from user code does not change what the hook calls, and no function reachable
# after _install returns shares a variable with the hook.
_BOOTSTRAP = r'''
import sys


def _install(cfg):
    """Limits and the audit hook; returns (process mode: the code, else None; a /dev/null stdin)."""
    # _signal and marshal, not signal and json: those import enum/re, +30 ms per start
    import _signal, os, resource, stat
    code = None
    if cfg["worker"]:
        # Its own process group (for the parent's killpg) but the parent's session: setsid
        # would also put it in a new scheduler autogroup, and every request/reply handoff
        # would then wait for a scheduler tick on a busy machine (~4 ms instead of ~0.5 ms).
        os.setpgid(0, 0)
        stdin = sys.stdin  # the parent gave the worker /dev/null
    else:
        code = sys.stdin.read()
        sys.stdin.close()
        stdin = sys.stdin = open(os.devnull, encoding="utf-8")
    sys.path.extend(cfg["paths"])

    def limit(kind, soft, hard=None):
        hard = soft if hard is None else hard
        _, current = resource.getrlimit(kind)
        if current != resource.RLIM_INFINITY:  # never above the inherited hard limit
            soft, hard = min(soft, current), min(hard, current)
        resource.setrlimit(kind, (soft, hard))

    limit(resource.RLIMIT_AS, cfg["memory_bytes"])
    if cfg["worker"]:
        # RLIMIT_CPU counts the whole life of the worker: the parent moves the soft limit to
        # "used so far + cpu_s" before each call (hard limit untouched, raising it needs
        # privileges), and SIGXCPU's default action ends the worker.
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = cfg["cpu_s"] if hard == resource.RLIM_INFINITY else min(cfg["cpu_s"], hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        _signal.signal(_signal.SIGXCPU, _signal.SIG_DFL)
    else:
        limit(resource.RLIMIT_CPU, cfg["cpu_s"], cfg["cpu_s"] + 1)  # hard + 1 s: SIGKILL if SIGXCPU is ignored

        def cpu_exceeded(signum, frame):
            raise TimeoutError(f"CPU time limit of {cfg['cpu_s']} s exceeded")

        _signal.signal(_signal.SIGXCPU, cpu_exceeded)
    limit(resource.RLIMIT_FSIZE, cfg["file_bytes"])
    limit(resource.RLIMIT_NPROC, 0)
    limit(resource.RLIMIT_CORE, 0)
    _signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)  # a too-large write raises OSError(EFBIG) instead

    # subprocess.Popen is audited, but the C function it calls is not: replace it.
    import _posixsubprocess

    def fork_exec(*args, **kwargs):
        raise PermissionError("creating processes is disabled in the sandbox")

    _posixsubprocess.fork_exec = fork_exec

    # the sandbox directory: process mode, the working directory; worker mode, the worker's
    # directory, which holds each call's working directory (fixed: nothing can move it later)
    work = os.path.realpath(os.getcwd())
    # C functions only: os.fsdecode and the like are Python code that looks up os.* at call time
    getcwd, fspath, readlink, os_stat = os.getcwd, os.fspath, os.readlink, os.stat
    fs_encoding = sys.getfilesystemencoding()
    s_isdir = stat.S_ISDIR
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    restrict_reads = cfg["restrict_reads"]
    read_roots = tuple(r.rstrip("/") for r in (*cfg["read_roots"], *sys.path, work) if r.startswith("/"))
    no_dir_fd = (None, -1, -100)  # -100 = AT_FDCWD
    terminals = ("/dev/tty", "/dev/console", "/dev/ptmx")

    # The builtins the hook uses, bound now: user code can rebind builtins.isinstance & co.
    _isinstance, _int, _bytes, _OSError, _Denied = isinstance, int, bytes, OSError, PermissionError

    def absolute(path, dir_fd=None):
        """Lexically normalized absolute path ('..' resolved); None for a file descriptor.

        Lexical is enough for the write check: no symlink or hard link can be created, so
        nothing below the fresh working directory leads out of it.
        """
        if _isinstance(path, _int):
            return None
        path = fspath(path)
        if _isinstance(path, _bytes):
            path = path.decode(fs_encoding, "surrogateescape")
        if not path.startswith("/"):
            if dir_fd in no_dir_fd:
                base = getcwd()
            else:
                try:
                    base = readlink(f"/proc/self/fd/{dir_fd}")
                except _OSError:
                    raise _Denied("dir_fd cannot be resolved in the sandbox") from None
            path = base + "/" + path
        parts = []
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(part)
        return "/" + "/".join(parts)

    def under(path, roots):
        for root in roots:
            if root == "" or path == root or path.startswith(root + "/"):
                return True
        return False

    def check_write(path, dir_fd=None):
        resolved = absolute(path, dir_fd)
        if resolved is None or not under(resolved, (work,)):
            shown = path if resolved is None else resolved
            raise _Denied(f"writing outside the sandbox directory is disabled: {shown}")

    def check_open(path, mode, flags):
        resolved = absolute(path)
        if resolved is None:  # an fd that is already open
            return
        if resolved in terminals or resolved.startswith(("/dev/pts/", "/dev/tty")):  # TIOCSTI could type into it
            raise _Denied(f"terminals are not accessible in the sandbox: {resolved}")
        if _isinstance(flags, _int):
            writing = (flags & write_flags) != 0
        else:
            writing = False
            for char in mode or "":
                writing = writing or char in "wax+"
        if writing:
            check_write(path)
            return
        if under(resolved, (work,)):
            return
        if restrict_reads and not under(resolved, read_roots):
            raise _Denied(f"reading outside the sandbox directory is disabled: {resolved}")
        if mode is None:  # os.open: an outside directory fd would let dir_fd writes escape
            try:
                is_dir = s_isdir(os_stat(resolved).st_mode)
            except _OSError:
                is_dir = False
            if is_dir:
                raise _Denied(f"opening a directory outside the sandbox directory is disabled: {resolved}")

    network = "network access is disabled in the sandbox"
    processes = "creating processes is disabled in the sandbox"
    refused = {
        "os.system": processes, "os.exec": processes, "os.posix_spawn": processes, "os.spawn": processes,
        "os.fork": processes, "os.forkpty": processes, "subprocess.Popen": processes, "pty.spawn": processes,
        "os.startfile": processes, "os.kill": "sending signals is disabled in the sandbox",
        "os.killpg": "sending signals is disabled in the sandbox",
        "signal.pthread_kill": "sending signals is disabled in the sandbox",
        "resource.setrlimit": "changing resource limits is disabled in the sandbox",
        "resource.prlimit": "changing resource limits is disabled in the sandbox",
        "os.link": "creating links is disabled in the sandbox",
        "os.symlink": "creating links is disabled in the sandbox",
        "gc.get_objects": "gc introspection is disabled in the sandbox",
        "gc.get_referrers": "gc introspection is disabled in the sandbox",
        "gc.get_referents": "gc introspection is disabled in the sandbox",
        "code.__new__": "creating code objects is disabled in the sandbox",
        "sqlite3.connect": "sqlite is disabled in the sandbox",
    }
    refused_imports = {"_sqlite3", "_dbm", "_gdbm", "_testcapi", "_testinternalcapi", "_xxsubinterpreters"}
    # event -> (index of the path argument, index of its dir_fd argument or None)
    path_events = {
        "os.remove": (0, 1), "os.rmdir": (0, 1), "os.mkdir": (0, 2), "os.chmod": (0, 2),
        "os.chown": (0, 3), "os.chflags": (0, None), "os.lchflags": (0, None), "os.lchmod": (0, None),
        "os.utime": (0, 3), "os.truncate": (0, None), "os.mkfifo": (0, 2), "os.mknod": (0, 3),
        "os.setxattr": (0, None), "os.removexattr": (0, None), "shutil.rmtree": (0, 1),
    }

    def hook(event, args):
        if event == "open":
            check_open(*args[:3])
        elif event in refused:
            raise _Denied(refused[event])
        elif event.startswith("socket."):
            raise _Denied(network)
        elif event.startswith("ctypes."):
            if event != "ctypes.dlopen" or args[0] is not None:  # dlopen(None): `import ctypes` itself
                raise _Denied("ctypes is disabled in the sandbox")
        elif event == "import":
            if args[0] in refused_imports:
                raise _Denied(f"importing {args[0]} is disabled in the sandbox")
        elif event in ("os.listdir", "os.scandir"):
            if restrict_reads and args[0] is not None:
                resolved = absolute(args[0])
                if resolved is not None and not under(resolved, read_roots):
                    raise _Denied(f"reading outside the sandbox directory is disabled: {resolved}")
        elif event == "os.rename":  # also os.replace
            check_write(args[0], args[2])
            check_write(args[1], args[3])
        elif event in path_events:
            where, fd_at = path_events[event]
            if _isinstance(args[where], _int) and event != "os.truncate":
                # fchmod/fchown/futime work on fds opened for reading too
                raise _Denied(f"{event} on a file descriptor is disabled in the sandbox")
            check_write(args[where], args[fd_at] if fd_at is not None else None)

    sys.addaudithook(hook)
    return code, stdin


def _describer():
    """describe(exception) -> its one-line error, or None for a clean exit; builtins bound now."""
    _isinstance, _str, _type, _SyntaxError, _SystemExit, _BaseException = (
        isinstance, str, type, SyntaxError, SystemExit, BaseException)

    def describe(err):
        try:
            if _isinstance(err, _SystemExit):
                return None if err.code in (None, 0) else f"SystemExit: {err.code}"
            kind = _type(err)
            name = kind.__qualname__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__qualname__}"
            try:
                text = err.msg if _isinstance(err, _SyntaxError) else _str(err)
            except _BaseException:  # a broken __str__ must not hide the error
                text = ""
            line = err.lineno if _isinstance(err, _SyntaxError) else None
            tb = err.__traceback__
            while tb is not None:  # the innermost frame of the user's own code
                if tb.tb_frame.f_code.co_filename == "<sandbox>":
                    line = tb.tb_lineno
                tb = tb.tb_next
            message = f"{name}: {text}" if text else name
            if line:
                message += f" (line {line})"
            return " ".join(message.split())[:500]
        except _BaseException:  # an exception class that breaks formatting (or memory ran out)
            return "the code raised an exception that cannot be described"

    return describe


def _run(code, describe):
    """Process mode: run the code once in __main__, report, exit."""
    import os
    import sys
    write, exit_now, first_stdout = os.write, os._exit, sys.stdout
    _BaseException = BaseException  # bound before the user code runs, which may rebind builtins
    namespace = sys.modules["__main__"].__dict__
    for name in [name for name in namespace if not name.startswith("__")]:  # user code starts from a clean __main__
        del namespace[name]
    message = None
    try:
        exec(compile(code, "<sandbox>", "exec"), namespace)
    except _BaseException as err:  # everything the user code raises becomes the error line
        message = describe(err)
    for stream in (sys.stdout, first_stdout):  # the code may have replaced or closed stdout
        try:
            stream.flush()
        except _BaseException:
            pass
    if message is not None:
        write(2, ("\n\x00sandbox-error:" + message + "\n").encode("utf-8", "replace"))
    exit_now(0 if message is None else 1)


def _serve(cfg, stdin, describe):
    """Worker mode: run requests until the parent closes the request pipe (or kills us)."""
    import _signal, _thread, builtins, gc, io, os, sys
    # bound once: user code may rebind builtins and module attributes
    read, write, chdir, fstat, umask, exit_now = os.read, os.write, os.chdir, os.fstat, os.umask, os._exit
    environ, modules, module_type, open_fd = os.environ, sys.modules, type(sys), io.open
    _exec, _compile, _len, _bytes, _int, _dict, _list, _getattr, _isinstance, _BaseException, _MemoryError = (
        exec, compile, len, bytes, int, dict, list, getattr, isinstance, BaseException, MemoryError)
    gettrace, settrace, getprofile, setprofile = sys.gettrace, sys.settrace, sys.getprofile, sys.setprofile
    settings = [(_getattr(sys, "get" + name), _getattr(sys, "set" + name))
                for name in ("recursionlimit", "switchinterval", "_int_max_str_digits") if hasattr(sys, "get" + name)]
    getsignal, set_signal, getitimer, setitimer = _signal.getsignal, _signal.signal, _signal.getitimer, _signal.setitimer
    threads_running, gc_isenabled, gc_enable = _thread._count, gc.isenabled, gc.enable
    request_fd, reply_fd = cfg["request_fd"], cfg["reply_fd"]
    builtins_dict, saved_builtins = builtins.__dict__, dict(builtins.__dict__)
    # the modules loaded now (os, io, posixpath, codecs, ...), the import system left alone
    import_system = ("sys", "builtins", "__main__", "_frozen_importlib", "_frozen_importlib_external", "_imp", "zipimport")
    saved_modules = [(module.__dict__, dict(module.__dict__)) for name, module in _list(modules.items())
                     if name not in import_system]
    base_env, saved_argv = dict(environ), list(sys.argv)
    environ_data, base_data, encode = environ._data, dict(environ._data), os.fsencode  # os.environ's bytes
    saved_settings = [(get, set_, get()) for get, set_ in settings]
    saved_umask = umask(0o077)
    umask(saved_umask)
    signals = [_getattr(_signal, name) for name in (
        "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ", "SIGPIPE", "SIGINT", "SIGTERM",
        "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGCHLD") if hasattr(_signal, name)]
    saved_handlers = [(number, getsignal(number)) for number in signals]
    timers = (_signal.ITIMER_REAL, _signal.ITIMER_VIRTUAL, _signal.ITIMER_PROF)

    def identity(fd):
        try:
            st = fstat(fd)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    watched_fds = (0, 1, 2, request_fd, reply_fd)
    saved_fds = [identity(fd) for fd in watched_fds]

    def receive(size):
        data = b""
        while _len(data) < size:
            chunk = read(request_fd, size - _len(data))
            if not chunk:  # the parent closed the pipe: shut down
                exit_now(0)
            data += chunk
        return data

    def send(data):
        view = memoryview(data)
        while view:
            view = view[write(reply_fd, view):]

    def execute(workdir, code):
        """Run one snippet; returns (status, message, retire)."""
        chdir(workdir)
        environ["HOME"] = environ["TMPDIR"] = workdir
        wanted = _dict(base_data)
        wanted[b"HOME"] = wanted[b"TMPDIR"] = encode(workdir)
        if environ_data != wanted:  # the last call changed os.environ: put it back
            for key in [key for key in environ if encode(key) not in wanted]:
                del environ[key]
            environ.update(base_env)
            environ["HOME"] = environ["TMPDIR"] = workdir
        tempfile = modules.get("tempfile")
        if tempfile is not None:
            tempfile.tempdir = None  # gettempdir() recomputes from TMPDIR
        main = module_type("__main__")
        modules["__main__"] = main
        namespace = main.__dict__
        namespace["__builtins__"] = builtins
        out = open_fd(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
        err = open_fd(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
        sys.stdout = sys.__stdout__ = out
        sys.stderr = sys.__stderr__ = err
        sys.stdin = sys.__stdin__ = stdin
        sys.argv = _list(saved_argv)
        message, retire = None, False
        try:
            _exec(_compile(code, "<sandbox>", "exec"), namespace)
        except _BaseException as exc:  # everything the user code raises becomes the error line
            message = describe(exc)
            retire = _isinstance(exc, _MemoryError)  # memory ran out somewhere: start clean
        for stream in (sys.stdout, sys.stderr, out, err):  # the code may have replaced or closed them
            try:
                stream.flush()
            except _BaseException:
                pass
        try:
            namespace.clear()  # frees the snippet's objects now (their __del__ may raise)
        except _BaseException:
            pass
        return (0, "", retire) if message is None else (1, message, retire)

    def restore():
        """Undo interpreter-wide changes a snippet may have made; True when the worker must go."""
        retire = False
        if gettrace() is not None:
            settrace(None)
        if getprofile() is not None:
            setprofile(None)
        builtins_dict.update(saved_builtins)
        if _len(builtins_dict) != _len(saved_builtins):  # a snippet's "global" left in builtins
            for name in [name for name in builtins_dict if name not in saved_builtins]:
                del builtins_dict[name]
        for namespace, saved in saved_modules:  # rebinds what a snippet replaced (os.fspath = ...);
            namespace.update(saved)  # new names stay: they include submodules imported since
        for get, set_, value in saved_settings:
            if get() != value:
                set_(value)
        if not gc_isenabled():
            gc_enable()
        umask(saved_umask)
        for number, handler in saved_handlers:
            if getsignal(number) is not handler:
                set_signal(number, handler)
        for timer in timers:
            if getitimer(timer) != (0.0, 0.0):  # an alarm would hit a later call
                setitimer(timer, 0)
                retire = True
        decimal = modules.get("decimal")
        if decimal is not None:
            decimal.setcontext(decimal.Context())
        mp = _getattr(modules.get("mpmath"), "mp", None)
        if mp is not None:
            mp.prec, mp.pretty = 53, False
        # threads still running, or stdin/stdout/stderr/protocol fds closed or replaced
        return retire or threads_running() > 0 or stdin.closed or [identity(fd) for fd in watched_fds] != saved_fds

    try:
        while True:
            header = receive(16)
            seq = header[:8]
            workdir = receive(_int.from_bytes(header[8:12], "big")).decode("utf-8", "surrogateescape")
            code = receive(_int.from_bytes(header[12:], "big")).decode("utf-8", "replace")
            status, message, retire = execute(workdir, code)
            try:
                retire = restore() or retire
            except _BaseException:  # e.g. decimal or mpmath monkeypatched into failing
                retire = True
            body = message.encode("utf-8", "replace")
            send(seq + _bytes((status, retire)) + _len(body).to_bytes(4, "big") + body)
    except _BaseException as exc:  # the worker itself failed (not the user code): report and end
        write(2, ("\n\x00sandbox-error:SandboxError: the sandbox worker failed: "
                  + (describe(exc) or "exit") + "\n").encode("utf-8", "replace"))
        exit_now(70)


def _main():
    import marshal
    cfg = marshal.loads(bytes.fromhex(sys.argv[1]))
    code, stdin = _install(cfg)
    describe = _describer()
    if cfg["worker"]:
        _serve(cfg, stdin, describe)
    else:
        _run(code, describe)


_main()
'''


class SandboxConfig(BaseModel):
    """Limits and mode of :class:`PythonSandbox`; a worker reads them when it starts."""

    mode: Literal["worker", "process"] = Field(
        "worker", description='"worker": one long-lived sandboxed child per sandbox runs every call in a fresh '
                              'namespace and working directory (sub-millisecond calls; modules and interpreter state '
                              'are shared until the worker is replaced); "process": a fresh child process per call '
                              '(~37 ms; nothing survives a call)')
    max_calls_per_worker: int = Field(500, ge=1, description="worker mode: calls before the worker is replaced by a fresh one")
    timeout_s: float = Field(5.0, gt=0, description="wall-clock limit per call, interpreter start included")
    cpu_s: int = Field(5, ge=1, description="CPU-time limit per call (RLIMIT_CPU), whole seconds")
    memory_mb: int = Field(1024, ge=64, description="address-space limit (RLIMIT_AS); importing numpy+sympy fits in 256 MB")
    file_size_mb: int = Field(16, ge=0, description="largest file the code may write (RLIMIT_FSIZE)")
    max_output_chars: int = Field(1000, ge=1, description="stdout characters kept in the observation")
    site_packages: bool = Field(True, description="make this interpreter's site-packages (numpy, sympy) importable")
    restrict_reads: bool = Field(True, description="refuse reads outside the working directory and the Python installation")
    extra_readable_paths: list[str] = Field(default_factory=lambda: ["/usr/share/zoneinfo", "/etc/localtime", "/dev/null"],
                                            description="further absolute paths the code may read")
    work_root: str | None = Field(None, description="where working directories are created (system temp dir if None)")


@dataclass
class ExecutionResult:
    """What one sandboxed run produced.

    Attributes:
        observation: the text the agent sees (stdout, or the error line first).
        stdout: decoded stdout, truncated to ``max_output_chars``.
        error: the one-line error (without the ``Error:`` prefix), None on success.
        returncode: process mode: the child's exit status. Worker mode: 0 or 1 for a call
            that returned (success or error), else the worker's exit status. Negative: killed
            by that signal (-9 on a timeout); None: nothing ran.
        duration_s: wall time of the call, process start and cleanup included.
        workdir: the per-call working directory (already removed when this is returned).
    """

    observation: str
    stdout: str
    error: str | None
    returncode: int | None
    duration_s: float
    workdir: str


class PythonSandbox:
    """Executes ``python`` actions: code in, stdout (or a one-line error) out.

    Args:
        config: limits and mode; the defaults suit short math computations.

    POSIX only (uses ``resource``, ``prlimit`` and process groups). See the module docstring
    for what the isolation covers and what it does not. In worker mode calls are serialized
    by a lock (one worker per instance); :meth:`close` (or leaving a ``with`` block) stops the
    worker, which is also stopped when the sandbox is garbage collected or the interpreter
    exits. A later call after :meth:`close` starts a new worker.
    """

    def __init__(self, config: SandboxConfig | None = None):
        self.config = config or SandboxConfig()
        self._lock = threading.Lock()
        self._slot = _WorkerSlot()
        # runs at garbage collection or interpreter exit; must not reference self
        self._finalizer = weakref.finalize(self, self._slot.stop)

    def __enter__(self) -> PythonSandbox:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __getstate__(self) -> dict:
        return {"config": self.config}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["config"])

    def close(self) -> None:
        """Stop the worker, if one runs (process mode: nothing to do)."""
        with self._lock:
            self._slot.stop()

    def step(self, action_type: str, action: str) -> str:
        """Run ``action`` as Python code and return the observation text.

        Raises:
            ValueError: for an action type other than "python" (nothing else ever raises).
        """
        if action_type != "python":
            raise ValueError(f"PythonSandbox cannot execute a {action_type!r} action")
        return self.run(action).observation

    def run(self, code: str) -> ExecutionResult:
        """Run ``code`` in a fresh working directory (and namespace, or process); never raises."""
        if self.config.mode == "process":
            return self._run_process(code)
        with self._lock:
            return self._run_worker(code)

    def _run_process(self, code: str) -> ExecutionResult:
        cfg = self.config
        start = time.monotonic()
        workdir = ""
        try:
            workdir = os.path.realpath(tempfile.mkdtemp(prefix="foresight-sandbox-", dir=cfg.work_root))
            stdout, stderr, returncode, timed_out, clipped = self._execute(code, workdir, start)
            error = _error_of(stderr, returncode, timed_out, cfg)
        except OSError as err:  # no temp dir or no child (disk full, no memory, too many open files)
            stdout, returncode, clipped = b"", None, False
            error = f"SandboxError: could not run the code: {err}"
        finally:
            if workdir:
                _remove_tree(workdir)
        return _result(stdout, clipped, error, returncode, start, workdir, cfg)

    def _run_worker(self, code: str) -> ExecutionResult:
        cfg = self.config
        start = time.monotonic()
        workdir, worker, retire = "", None, True
        try:
            worker = self._slot.get(self)
            workdir = tempfile.mkdtemp(prefix="call-", dir=worker.root)
            exchange = worker.call(code, workdir, start + cfg.timeout_s, cfg)
            stdout, clipped, returncode, retire = exchange.stdout, exchange.clipped, exchange.returncode, exchange.retire
            if exchange.timed_out or exchange.message is None:  # killed, or ended without a reply
                error = _error_of(exchange.stderr, returncode, exchange.timed_out, cfg, worker=True)
            else:
                error = exchange.message or None
        except OSError as err:  # no temp dir, no worker, or its pipes failed
            stdout, returncode, clipped = b"", None, False
            error = f"SandboxError: could not run the code: {err}"
        finally:
            if worker is not None and (retire or worker.calls >= cfg.max_calls_per_worker):
                self._slot.stop()  # removes its directory, this call's included
            elif workdir:
                _empty_directory(worker.root, workdir)
        return _result(stdout, clipped, error, returncode, start, workdir, cfg)

    def _child_config(self, workdir: str) -> dict:
        cfg = self.config
        paths = [p for p in site.getsitepackages() if os.path.isdir(p)] if cfg.site_packages else []
        prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
        env = {
            "HOME": workdir, "TMPDIR": workdir, "LC_ALL": "C.UTF-8",
            # one BLAS/OpenMP thread: threads multiply reserved address space under RLIMIT_AS
            "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        }
        return {
            "paths": paths, "env": env, "restrict_reads": cfg.restrict_reads, "worker": False,
            "read_roots": sorted(prefixes | {os.path.realpath(p) for p in paths} | set(cfg.extra_readable_paths)),
            "memory_bytes": cfg.memory_mb << 20, "cpu_s": cfg.cpu_s, "file_bytes": cfg.file_size_mb << 20,
        }

    def _execute(self, code: str, workdir: str, start: float) -> tuple[bytes, bytes, int, bool, bool]:
        """Process mode: start the child, feed it ``code``, collect capped output until exit or deadline.

        Returns:
            (stdout, stderr, returncode, timed_out, stdout_clipped).
        """
        cfg = self.config
        child = self._child_config(workdir)
        argv = [sys.executable, "-I", "-S", "-B", "-X", "utf8", "-c", _BOOTSTRAP, marshal.dumps(child).hex()]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=workdir,
            env=child["env"], start_new_session=True, close_fds=True,
        )
        deadline = start + cfg.timeout_s
        timed_out = False
        try:
            out, err, clipped, timed_out = _communicate(proc, code.encode("utf-8", "replace"), deadline,
                                                        cfg.max_output_chars * _BYTES_PER_CHAR + 1)
            if not timed_out:
                try:
                    proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
                except subprocess.TimeoutExpired:  # closed its pipes but kept running
                    timed_out = True
        finally:
            # Only a child not yet reaped: after wait() its pid (= process group) may be reused.
            if timed_out or proc.poll() is None:
                _kill_group(proc)
            proc.wait()
            for pipe in (proc.stdin, proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        return out, err, proc.returncode, timed_out, clipped


@dataclass
class _Exchange:
    """One worker call as the parent saw it (message None: no reply came)."""

    stdout: bytes
    stderr: bytes
    clipped: bool
    message: str | None
    returncode: int | None
    timed_out: bool
    retire: bool


class _WorkerSlot:
    """A sandbox's current worker, if any: what weakref.finalize stops (no reference to the sandbox)."""

    def __init__(self):
        self.worker: _Worker | None = None

    def get(self, sandbox: PythonSandbox) -> _Worker:
        worker = self.worker
        if worker is not None and (worker.owner != os.getpid() or worker.proc.poll() is not None):
            self.stop()  # inherited through fork (left to its owner), or died between calls
            worker = None
        if worker is None:
            worker = self.worker = _Worker(sandbox)
        return worker

    def stop(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop()


class _Worker:
    """A running worker process and the parent's ends of its pipes (used under the sandbox's lock)."""

    def __init__(self, sandbox: PythonSandbox):
        cfg = sandbox.config
        self.owner = os.getpid()
        self.calls = self.seq = 0
        self.cpu_s = cfg.cpu_s
        self.cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)[1]  # what the worker inherits
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="foresight-sandbox-worker-", dir=cfg.work_root))
        request_r = request_w = reply_r = reply_w = -1
        try:
            request_r, request_w = os.pipe()
            reply_r, reply_w = os.pipe()
            child = sandbox._child_config(self.root)
            child.update(worker=True, request_fd=request_r, reply_fd=reply_w)
            argv = [sys.executable, "-I", "-S", "-B", "-X", "utf8", "-c", _BOOTSTRAP, marshal.dumps(child).hex()]
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=self.root,
                env=child["env"], close_fds=True, pass_fds=(request_r, reply_w),  # setpgid: see _BOOTSTRAP
            )
        except BaseException:
            for fd in (request_w, reply_r):
                if fd >= 0:
                    os.close(fd)
            _remove_tree(self.root)
            raise
        finally:
            for fd in (request_r, reply_w):  # the worker's ends
                if fd >= 0:
                    os.close(fd)
        self.request_fd, self.reply_fd = request_w, reply_r
        self.stdout_fd, self.stderr_fd = self.proc.stdout.fileno(), self.proc.stderr.fileno()
        for fd in (self.request_fd, self.reply_fd, self.stdout_fd, self.stderr_fd):
            os.set_blocking(fd, False)
        self.poller = select.poll()
        for fd in (self.reply_fd, self.stdout_fd, self.stderr_fd):
            self.poller.register(fd, select.POLLIN)
        logger.debug("sandbox worker %d started in %s", self.proc.pid, self.root)

    def call(self, code: str, workdir: str, deadline: float, cfg: SandboxConfig) -> _Exchange:
        """Send one snippet and collect its reply and output until the deadline."""
        self.calls += 1
        self.seq += 1
        self._limit_cpu()
        seq = self.seq.to_bytes(8, "big")
        where, text = workdir.encode("utf-8", "surrogateescape"), code.encode("utf-8", "replace")
        request = memoryview(seq + len(where).to_bytes(4, "big") + len(text).to_bytes(4, "big") + where + text)
        cap = cfg.max_output_chars * _BYTES_PER_CHAR + 1
        out, err, reply = bytearray(), bytearray(), bytearray()
        clipped = ended = False
        request = self._send(request)
        if request is None:
            ended = True
        elif request:
            self.poller.register(self.request_fd, select.POLLOUT)
        while not ended and not _reply_complete(reply):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._timed_out(out, err, clipped, cap)
            for fd, _events in self.poller.poll(math.ceil(remaining * 1000)):
                if fd == self.request_fd:
                    request = self._send(request)
                    if not request:  # all sent, or the worker is gone
                        self.poller.unregister(fd)
                        ended = request is None
                    continue
                try:
                    chunk = os.read(fd, _READ_CHUNK)
                except BlockingIOError:
                    continue
                if fd == self.reply_fd:
                    reply += chunk
                    ended = not chunk
                elif not chunk:
                    self.poller.unregister(fd)  # the worker is ending; its exit status tells why
                else:
                    dropped = _keep(out if fd == self.stdout_fd else err, chunk, cap)
                    clipped = clipped or (dropped and fd == self.stdout_fd)
        if request:
            self.poller.unregister(self.request_fd)
        if ended and not _reply_complete(reply):
            return self._ended(out, err, clipped, cap, deadline)
        clipped = self._drain(out, err, cap) or clipped
        size = int.from_bytes(reply[10:14], "big")
        status, retire = reply[8], reply[9] != 0
        if bytes(reply[:8]) != seq or status not in (0, 1) or len(reply) != _REPLY_HEADER + size or self._more_reply():
            # another reply than this call's (the code wrote to the reply pipe): not to be trusted
            _kill_group(self.proc)
            self.proc.wait()
            return _Exchange(bytes(out), bytes(err), clipped, "SandboxError: the sandbox worker sent an unexpected reply",
                             self.proc.returncode, False, True)
        message = bytes(reply[_REPLY_HEADER:]).decode("utf-8", "replace") if status else ""
        return _Exchange(bytes(out), bytes(err), clipped, message, status, False, retire)

    def _send(self, request: memoryview) -> memoryview | None:
        """Write what the pipe takes now; returns the rest, None when the worker is gone."""
        try:
            return request[os.write(self.request_fd, request):]
        except BlockingIOError:
            return request
        except BrokenPipeError:
            return None

    def _more_reply(self) -> bool:
        try:
            return bool(os.read(self.reply_fd, 1))
        except BlockingIOError:
            return False

    def _drain(self, out: bytearray, err: bytearray, cap: int) -> bool:
        """Read what the pipes already hold (written before the reply, or before the end)."""
        clipped = False
        for fd, buffer in ((self.stdout_fd, out), (self.stderr_fd, err)):
            while True:
                try:
                    chunk = os.read(fd, _READ_CHUNK)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                dropped = _keep(buffer, chunk, cap)
                clipped = clipped or (dropped and fd == self.stdout_fd)
        return clipped

    def _timed_out(self, out: bytearray, err: bytearray, clipped: bool, cap: int) -> _Exchange:
        _kill_group(self.proc)  # not reaped yet, so its pid (= process group) is still its own
        self.proc.wait()
        clipped = self._drain(out, err, cap) or clipped
        return _Exchange(bytes(out), bytes(err), clipped, None, self.proc.returncode, True, True)

    def _ended(self, out: bytearray, err: bytearray, clipped: bool, cap: int, deadline: float) -> _Exchange:
        """The reply pipe closed without a reply: the worker died (or closed it and is about to)."""
        grace = min(max(deadline - time.monotonic(), 0.0), 1.0)
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return self._timed_out(out, err, clipped, cap)
            _kill_group(self.proc)  # not reaped yet
            self.proc.wait()
            clipped = self._drain(out, err, cap) or clipped
            return _Exchange(bytes(out), bytes(err), clipped, "SandboxError: the sandbox worker closed its reply pipe",
                             self.proc.returncode, False, True)
        clipped = self._drain(out, err, cap) or clipped
        return _Exchange(bytes(out), bytes(err), clipped, None, self.proc.returncode, False, True)

    def _limit_cpu(self) -> None:
        """Move the worker's RLIMIT_CPU soft limit to its CPU time so far + cpu_s (0 = disabled)."""
        if not self.cpu_s:
            return
        pid = self.proc.pid
        try:
            fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
            try:
                fields = os.read(fd, 4096).rsplit(b")", 1)[1].split()
            finally:
                os.close(fd)
            used = (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime + stime
            soft = math.ceil(used) + self.cpu_s
            if self.cpu_hard != resource.RLIM_INFINITY:
                soft = min(soft, self.cpu_hard)
            resource.prlimit(pid, resource.RLIMIT_CPU, (soft, self.cpu_hard))
        except (ProcessLookupError, FileNotFoundError):  # it just died: the call will tell
            return
        except (OSError, ValueError, IndexError) as err:  # no /proc or no prlimit: the wall clock still applies
            logger.warning("sandbox worker %d: cannot set its CPU limit (%s); relying on the wall-clock timeout", pid, err)
            self.cpu_s = 0

    def stop(self) -> None:
        """Kill the worker and remove its directory (in a forked copy of the owner: only close the fds)."""
        owner = self.owner == os.getpid()
        if owner and self.proc.poll() is None:
            _kill_group(self.proc)
        for fd in (self.request_fd, self.reply_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if owner:
            self.proc.wait()
        for pipe in (self.proc.stdout, self.proc.stderr):
            pipe.close()
        if owner:
            _remove_tree(self.root)


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _reply_complete(reply: bytearray) -> bool:
    return len(reply) >= _REPLY_HEADER and len(reply) >= _REPLY_HEADER + int.from_bytes(reply[10:14], "big")


def _keep(buffer: bytearray, chunk: bytes, cap: int) -> bool:
    """Append ``chunk`` to ``buffer`` up to ``cap`` bytes; True when something was dropped."""
    room = cap - len(buffer)
    if len(chunk) > room:
        buffer += chunk[:max(room, 0)]
        return True
    buffer += chunk
    return False


def _result(stdout: bytes, clipped: bool, error: str | None, returncode: int | None, start: float, workdir: str,
            cfg: SandboxConfig) -> ExecutionResult:
    text = _truncate(stdout.decode("utf-8", "replace"), cfg.max_output_chars, clipped)
    if error is None:
        observation = text if text.strip() else "(no output; print() what you need to see)"
    else:
        observation = f"Error: {error}" + (f"\nOutput before the error:\n{text}" if text.strip() else "")
    return ExecutionResult(observation, text, error, returncode, time.monotonic() - start, workdir)


def _communicate(proc: subprocess.Popen, data: bytes, deadline: float, cap: int) -> tuple[bytes, bytes, bool, bool]:
    """Write ``data`` to stdin and read stdout/stderr, keeping at most ``cap`` bytes of each.

    Returns:
        (stdout, stderr, stdout_clipped, timed_out).
    """
    buffers = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    clipped = False
    pending = memoryview(data)
    with selectors.DefaultSelector() as selector:
        stdin_fd = proc.stdin.fileno()
        os.set_blocking(stdin_fd, False)
        if pending:
            selector.register(stdin_fd, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        for fd in buffers:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), clipped, True
            for key, _events in selector.select(remaining):
                fd = key.fd
                if fd == stdin_fd:
                    try:
                        pending = pending[os.write(fd, pending[:_READ_CHUNK]):]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # the child exited without reading all its code
                        pending = pending[:0]
                    if not pending:
                        selector.unregister(fd)
                        proc.stdin.close()
                    continue
                chunk = os.read(fd, _READ_CHUNK)
                if not chunk:
                    selector.unregister(fd)
                    continue
                buffer = buffers[fd]
                room = cap - len(buffer)
                if len(chunk) > room:
                    clipped = clipped or fd == proc.stdout.fileno()
                    chunk = chunk[:max(room, 0)]
                buffer += chunk
    return bytes(buffers[proc.stdout.fileno()]), bytes(buffers[proc.stderr.fileno()]), clipped, False


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the child and its process group (its own), if anything is left of them.

    Only for a child not yet reaped (after wait() its pid may be reused). The child itself
    is killed by pid too: a worker shares the parent's session, so it could have moved
    itself to another process group.
    """
    for kill in (os.killpg, os.kill):
        try:
            kill(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _error_of(stderr: bytes, returncode: int | None, timed_out: bool, cfg: SandboxConfig,
              worker: bool = False) -> str | None:
    """The one-line error of a finished run (or of a worker that ended), None when it succeeded."""
    if timed_out:
        return f"TimeoutError: execution exceeded {cfg.timeout_s} s"
    if returncode == 0:
        return None
    text = stderr.decode("utf-8", "replace")
    marked = [line for line in text.splitlines() if line.startswith(_ERROR_MARK)]
    if marked:
        return marked[-1][len(_ERROR_MARK):]
    if returncode == -signal.SIGXCPU or (returncode == -signal.SIGKILL and not worker):
        # SIGKILL we did not send: the RLIMIT_CPU hard limit (or the kernel's OOM killer);
        # a worker has no hard CPU limit, SIGXCPU's default action ends it
        return f"TimeoutError: CPU time limit of {cfg.cpu_s} s exceeded"
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the {'sandbox worker' if worker else 'process'} was killed by {name} (out of memory?)"
    last = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
    return last[:500] or f"the process exited with status {returncode}"


def _truncate(text: str, limit: int, clipped: bool) -> str:
    if len(text) <= limit and not clipped:
        return text
    return text[:limit] + f"\n[output truncated to the first {limit} characters]"


def _remove_tree(path: str) -> None:
    """Remove a working directory, also where the code took permissions off parts of it."""

    def make_writable_and_retry(func, target, _exc_info):
        for p in (os.path.dirname(target), target):
            try:
                os.chmod(p, stat.S_IRWXU)
            except OSError:
                pass
        func(target)

    try:
        shutil.rmtree(path, onerror=make_writable_and_retry)
    except OSError as err:  # reported, not raised: a leftover temp dir must not fail an episode
        logger.warning("could not remove sandbox directory %s: %s", path, err)


def _empty_directory(root: str, workdir: str) -> None:
    """After a worker call: remove its working directory and anything the code put beside it."""
    try:
        os.rmdir(workdir)  # the common case: nothing was written
    except FileNotFoundError:
        pass
    except OSError:
        _remove_tree(workdir)
    try:
        leftovers = os.listdir(root)
    except OSError as err:
        logger.warning("could not list sandbox directory %s: %s", root, err)
        return
    for name in leftovers:
        path = os.path.join(root, name)
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                _remove_tree(path)
            else:
                os.unlink(path)
        except OSError as err:
            logger.warning("could not remove %s: %s", path, err)
