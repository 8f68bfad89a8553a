import os
import sys

import pytest

from foresight.envs.sandbox import PythonSandbox, SandboxConfig

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox uses POSIX rlimits and /proc")

MODES = ["process", "worker"]


@pytest.fixture(scope="module", params=MODES)
def sandbox(request):
    with PythonSandbox(SandboxConfig(mode=request.param, timeout_s=5.0, cpu_s=5)) as box:
        yield box


@pytest.fixture(params=MODES)
def make(request):
    """Builds sandboxes of the parametrized mode and closes them after the test."""
    boxes = []

    def build(**settings) -> PythonSandbox:
        boxes.append(PythonSandbox(SandboxConfig(mode=request.param, **settings)))
        return boxes[-1]

    yield build
    for box in boxes:
        box.close()


@pytest.fixture
def worker():
    with PythonSandbox(SandboxConfig(mode="worker", timeout_s=5.0)) as box:
        yield box


def _pid(box: PythonSandbox) -> int:
    return int(box.step("python", "import os\nprint(os.getpid())"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_code_prints_its_result_and_other_actions_are_refused(sandbox):
    assert sandbox.step("python", "print(16 - 3 - 4)\nprint(7 / 2)") == "9\n3.5\n"
    assert sandbox.step("python", "x = 2 ** 10").startswith("(no output")
    with pytest.raises(ValueError):
        sandbox.step("search", "print(1)")


def test_exceptions_become_one_line_errors_with_the_user_line(sandbox):
    assert sandbox.step("python", "a = 1\nprint(a / 0)") == "Error: ZeroDivisionError: division by zero (line 2)"
    assert sandbox.step("python", "print(1\n").startswith("Error: SyntaxError:")
    result = sandbox.run("print('partial')\nraise ValueError('bad value')")
    assert result.error == "ValueError: bad value (line 2)" and result.stdout == "partial\n"
    assert result.observation.startswith("Error: ValueError: bad value") and result.observation.endswith("partial\n")
    assert sandbox.step("python", "import sys\nsys.exit(3)") == "Error: SystemExit: 3"
    assert sandbox.step("python", "import sys\nprint('bye')\nsys.exit(0)") == "bye\n"


def test_infinite_loop_times_out_and_kills_the_child(make):
    result = make(timeout_s=1.0, cpu_s=3).run("while True:\n    pass")
    assert result.observation == "Error: TimeoutError: execution exceeded 1.0 s"
    assert result.returncode == -9 and result.duration_s < 3.0


def test_cpu_limit_stops_computation_inside_c_code(make):
    result = make(timeout_s=10.0, cpu_s=1).run("x = 9 ** 9 ** 9")
    assert result.observation.startswith("Error: TimeoutError: CPU time limit of 1 s exceeded")


def test_memory_blowup_is_a_memory_error(sandbox):
    assert sandbox.step("python", "x = bytearray(10 * 1024 ** 3)") == "Error: MemoryError (line 1)"
    assert sandbox.step("python", "print(len(bytearray(1024)))") == "1024\n"


@pytest.mark.parametrize("code", [
    "import socket\ns = socket.socket()\ns.connect(('127.0.0.1', 9))",
    "import socket\nsocket.getaddrinfo('example.com', 80)",
    "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)",
])
def test_network_is_refused(sandbox, code):
    assert sandbox.step("python", code).startswith("Error: PermissionError: network access is disabled in the sandbox")


@pytest.mark.parametrize("code", [
    "import subprocess\nsubprocess.run(['touch', {target!r}])",
    "import os\nos.system('touch ' + {target!r})",
    "import os\nos.execv('/usr/bin/touch', ['touch', {target!r}])",
    "import os\nos.fork()",
    "import os\nos.posix_spawn('/usr/bin/touch', ['touch', {target!r}], {{}})",
    "import _posixsubprocess\n_posixsubprocess.fork_exec(['touch', {target!r}])",
])
def test_child_processes_are_refused(sandbox, tmp_path, code):
    target = str(tmp_path / "created")
    observation = sandbox.step("python", code.format(target=target))
    assert observation.startswith("Error: PermissionError: creating processes is disabled in the sandbox")
    assert not os.path.exists(target)


@pytest.mark.parametrize("code", [
    "open({target!r}, 'w').write('x')",
    "import pathlib\npathlib.Path({target!r}).write_text('x')",
    "import os\nfd = os.open({target!r}, os.O_WRONLY | os.O_CREAT)",
    "import os\nos.mkdir({target!r})",
    "open('inside', 'w').close()\nimport os\nos.rename('inside', {target!r})",
    "import os\nos.chdir(os.path.dirname({target!r}))\nopen('created', 'w')",
    "open('../' * 30 + {target!r}.lstrip('/'), 'w')",
    # the hook keeps its own references: rebinding what it uses changes nothing
    "import os\nos.fspath = lambda p: 'x'\nopen({target!r}, 'w')",
    "import builtins\nbuiltins.isinstance = lambda a, b: True\nopen({target!r}, 'w')",
])
def test_writes_outside_the_working_directory_are_refused(sandbox, tmp_path, code):
    target = str(tmp_path / "created")
    observation = sandbox.step("python", code.format(target=target))
    assert observation.startswith("Error: PermissionError: writing outside the sandbox directory is disabled")
    assert os.listdir(tmp_path) == []


def test_existing_files_outside_cannot_be_removed_changed_or_linked(sandbox, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    for code in [f"import os\nos.remove({str(victim)!r})", f"import os\nos.chmod({str(victim)!r}, 0o777)",
                 f"import os\nos.truncate({str(victim)!r}, 0)", f"import os\nos.symlink({str(victim)!r}, 'link')",
                 f"import shutil\nshutil.rmtree({str(tmp_path)!r})"]:
        assert sandbox.step("python", code).startswith("Error: PermissionError:"), code
    assert victim.read_text() == "keep" and oct(victim.stat().st_mode)[-3:] != "777"


def test_ctypes_and_reads_outside_are_refused(sandbox, tmp_path):
    (tmp_path / "secret.txt").write_text("token")
    assert sandbox.step("python", "import ctypes\nctypes.CDLL(None).system(b'true')") == \
        "Error: PermissionError: ctypes is disabled in the sandbox (line 2)"
    assert sandbox.step("python", f"print(open({str(tmp_path / 'secret.txt')!r}).read())").startswith(
        "Error: PermissionError: reading outside the sandbox directory is disabled")


@pytest.mark.parametrize("path", ["/dev/tty", "/dev/pts/0", "/dev/console"])
def test_terminals_are_refused_even_with_unrestricted_reads(make, path):
    observation = make(restrict_reads=False).step("python", f"open({path!r}, 'rb')")
    assert observation.startswith("Error: PermissionError: terminals are not accessible in the sandbox")


def test_writing_inside_the_working_directory_works_and_it_is_removed(sandbox):
    code = ("import os, tempfile\nopen('a.txt', 'w').write('hello')\nos.makedirs('d/e')\n"
            "with tempfile.NamedTemporaryFile(dir='d') as f:\n    f.write(b'x')\n"
            "print(open('a.txt').read())\nprint(sorted(os.listdir('.')))\nprint(os.getcwd())\n"
            "print(tempfile.gettempdir() == os.getcwd() == os.environ['HOME'])")
    result = sandbox.run(code)
    assert result.error is None, result.observation
    assert result.stdout.splitlines() == ["hello", "['a.txt', 'd']", result.workdir, "True"]
    assert not os.path.exists(result.workdir)
    assert sandbox.step("python", "import os\nprint(os.listdir('.'))") == "[]\n"  # the next call starts empty


def test_file_size_limit(make):
    small = make(file_size_mb=1)
    assert small.step("python", "open('big', 'wb').write(b'x' * (2 << 20))").startswith("Error: OSError: [Errno 27] File too large")


def test_stdout_is_truncated_even_when_flooded(make):
    short = make(max_output_chars=50, timeout_s=1.0)
    observation = short.step("python", "print('y' * 10_000)")
    assert observation.startswith("y" * 50 + "\n[output truncated to the first 50 characters]")
    flooded = short.run("while True:\n    print('x' * 1000)")
    assert flooded.error.startswith("TimeoutError") and len(flooded.stdout) < 200
    assert short.step("python", "print('after')") == "after\n"


def test_scientific_packages_are_importable(sandbox):
    observation = sandbox.step("python", "import sympy\nx = sympy.symbols('x')\nprint(sympy.solve(x**2 - 4, x))")
    assert observation == "[-2, 2]\n"


# Worker mode only


def test_worker_restarts_after_a_timeout_and_the_next_call_works():
    with PythonSandbox(SandboxConfig(timeout_s=1.0)) as box:
        first = _pid(box)
        result = box.run("print('started', flush=True)\nwhile True:\n    pass")
        assert result.observation == "Error: TimeoutError: execution exceeded 1.0 s\nOutput before the error:\nstarted\n"
        assert result.returncode == -9 and not _alive(first)
        assert box.step("python", "print(6 * 7)") == "42\n"
        assert _pid(box) != first


def test_a_worker_that_leaves_its_process_group_is_still_killed_on_timeout():
    with PythonSandbox(SandboxConfig(timeout_s=1.0)) as box:
        pid = _pid(box)
        result = box.run("import os\nos.setpgid(0, os.getpgid(os.getppid()))\nwhile True:\n    pass")
        assert result.error.startswith("TimeoutError") and not _alive(pid)


def test_state_does_not_leak_between_calls(worker):
    assert worker.step("python", "x = 41\ndef f():\n    return x") == "(no output; print() what you need to see)"
    assert worker.step("python", "print(x)") == "Error: NameError: name 'x' is not defined (line 1)"
    assert worker.step("python", "print(f())").startswith("Error: NameError: name 'f' is not defined")
    # interpreter-wide settings a snippet changes are put back before the next call
    worker.run("import builtins, sys, decimal, os\nbuiltins.print = None\nbuiltins.abs = len\n"
               "sys.set_int_max_str_digits(100_000)\ndecimal.getcontext().prec = 5\nos.environ['LEAK'] = '1'\n"
               "os.chdir('/')")
    assert worker.step("python", "print(abs(-2), 'LEAK' in __import__('os').environ)") == "2 False\n"
    assert worker.step("python", "print(str(10 ** 5000)[:3])").startswith("Error: ValueError: Exceeds the limit (4300")
    assert worker.step("python", "import decimal\nprint(decimal.Decimal(1) / 3)") == "0.3333333333333333333333333333\n"


def test_worker_is_replaced_after_max_calls_per_worker():
    with PythonSandbox(SandboxConfig(max_calls_per_worker=3)) as box:
        # module state survives within one worker (documented), not beyond it
        assert box.step("python", "import math\nmath.tau = 1\nprint(math.tau)") == "1\n"
        first = _pid(box)
        assert box.step("python", "import math\nprint(math.tau)") == "1\n"
        assert not _alive(first)  # retired after its third call
        assert box.step("python", "import math\nprint(math.tau)") == "6.283185307179586\n"
        second = _pid(box)
        assert second != first and _pid(box) == second


@pytest.mark.parametrize("code, error", [
    ("import os\nprint('before', flush=True)\nos.abort()", "Error: the sandbox worker was killed by SIGABRT"),
    ("import faulthandler\nfaulthandler._sigsegv()", "Error: the sandbox worker was killed by SIGSEGV"),
    ("import os\nos._exit(3)", "Error: the process exited with status 3"),
])
def test_a_worker_that_dies_gives_an_error_and_is_replaced(worker, code, error):
    first = _pid(worker)
    result = worker.run(code)
    assert result.observation.startswith(error), result.observation
    assert ("before" in result.stdout) == ("before" in code)
    assert worker.step("python", "print(1 + 1)") == "2\n" and _pid(worker) != first


@pytest.mark.parametrize("code", [
    "import signal\nsignal.alarm(1)",  # would kill a later call
    "import os\nos.close(1)",
    "import os\nos.dup2(os.open('f', os.O_WRONLY | os.O_CREAT), 1)",
    "x = [bytes(64 << 20) for _ in range(100)]",  # MemoryError
])
def test_calls_that_leave_the_worker_damaged_retire_it(worker, code):
    first = _pid(worker)
    worker.run(code)
    assert not _alive(first)
    assert worker.step("python", "print('fine')") == "fine\n"


def test_a_thread_left_running_retires_the_worker(worker):
    first = _pid(worker)
    observation = worker.step("python", "import threading, time\n"
                                        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\nprint('started')")
    if observation.startswith("Error: RuntimeError: can't start new thread"):
        pytest.skip("RLIMIT_NPROC = 0 forbids threads here (not root)")
    assert observation == "started\n" and not _alive(first)
    assert worker.step("python", "import threading\nprint(threading.active_count())") == "1\n"


def test_cpu_limit_is_per_call_not_per_worker():
    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\nprint('ok')"
    with PythonSandbox(SandboxConfig(cpu_s=1, timeout_s=10.0)) as box:
        assert [box.step("python", burn) for _ in range(2)] == ["ok\n", "ok\n"]


def test_writes_beside_the_working_directory_are_removed_after_the_call(worker):
    result = worker.run("open('../beside', 'w').write('x')\nimport os\nos.mkdir('../dir')\nprint(sorted(os.listdir('..')))")
    root = os.path.dirname(result.workdir)
    assert result.stdout == f"{sorted([os.path.basename(result.workdir), 'beside', 'dir'])}\n"
    assert os.listdir(root) == []


def test_close_stops_the_worker_and_removes_its_directory():
    box = PythonSandbox()
    with box:
        root = os.path.dirname(box.run("print(1)").workdir)
        pid = _pid(box)
    assert not _alive(pid) and not os.path.exists(root)
    assert box.step("python", "print(2)") == "2\n"  # a later call starts a new worker
    box.close()
