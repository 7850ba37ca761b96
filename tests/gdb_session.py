#!/usr/bin/env python3
# Debugs a guest under `friscy run --gdb` with Debian's gdb-multiarch in batch mode and asserts on gdb's output.
"""
Builds tests/gdb/gdb_target.c with `riscv64-linux-gnu-gcc -g -O0 -static` into build/gdb/, then
runs gdb-multiarch sessions against `friscy run --gdb 0` (friscy prints the port it listens on):

  main       break at a function, continue, print arguments, `info registers pc`, `x/s` of a
             string, `stepi` (pc advances by the size objdump gives for that instruction), an FP
             register by its ABI and its numeric name, set a caller's variable and see the guest
             print it, continue to exit with the changed exit code. The values gdb prints are
             also compared with the same session against qemu-riscv64's own gdb stub (`-g`).
  crash      a SIGSEGV is a signal stop at the faulting line; continuing kills the guest (139).
  interrupt  Ctrl-C (SIGINT to gdb) stops a guest spinning in a loop; kill ends it (137).
  detach     after detach the guest runs on by itself and exits normally.
  memory     reads outside guest memory are errors in gdb, and the session goes on.

  tests/gdb_session.py [--friscy PATH] [--timeout 60]

Exits 0 when every session passes; prints a skip notice and exits 0 only if gdb-multiarch is
not installed and cannot be.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SOURCE = harness.TESTS / "gdb" / "gdb_target.c"
OUT = harness.BUILD / "gdb"
GDB = os.environ.get("GDB_MULTIARCH", "gdb-multiarch")


def build_guest() -> Path:
    prog = OUT / "gdb_target"
    OUT.mkdir(parents=True, exist_ok=True)
    harness.build_if_needed(
        prog,
        [harness.CC, "-g", "-O0", "-static", "-o", str(prog), str(SOURCE)],
        [SOURCE],
    )
    return prog


def instruction_sizes(prog: Path) -> dict:
    """Address -> instruction length in bytes, from objdump's disassembly (not from friscy)."""
    objdump = harness.CC.replace("gcc", "objdump")
    text = subprocess.run(
        [objdump, "-d", str(prog)], capture_output=True, text=True, check=True
    ).stdout
    sizes = {}
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+([0-9a-f]+)\s", line)
        if m:
            sizes[int(m.group(1), 16)] = len(m.group(2)) // 2
    return sizes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:port (read from /proc: a probing connect would
    use up qemu's single gdb connection)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
                return True
    return False


def wait_for_port(port: int, proc, deadline: float):
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"stub exited early with {proc.returncode}")
        if listening(port):
            return
        time.sleep(0.05)
    raise RuntimeError("stub did not listen in time")


class Session:
    """One guest under a gdb stub and one batch gdb run against it."""

    def __init__(self, stub_cmd, prog: Path, commands, timeout: float, friscy: bool):
        self.stub_cmd = stub_cmd
        self.prog = prog
        self.commands = commands
        self.timeout = timeout
        self.friscy = friscy

    def run(self):
        deadline = time.monotonic() + self.timeout
        stub = subprocess.Popen(
            self.stub_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
        try:
            if self.friscy:
                # friscy prints "waiting for gdb on 127.0.0.1:PORT" once it listens.
                line = stub.stderr.readline().decode()
                m = re.search(r"127\.0\.0\.1:(\d+)", line)
                if not m:
                    raise RuntimeError(f"friscy did not announce its port: {line!r}")
                port = int(m.group(1))
            else:
                port = int(self.stub_cmd[self.stub_cmd.index("-g") + 1])
                wait_for_port(port, stub, deadline)
            args = [GDB, "-nx", "-batch", "-ex", "set pagination off",
                    "-ex", f"target remote 127.0.0.1:{port}"]
            for c in self.commands:
                args += ["-ex", c]
            args.append(str(self.prog))
            gdb = subprocess.run(args, capture_output=True, text=True,
                                 timeout=max(1, deadline - time.monotonic()), stdin=subprocess.DEVNULL)
            out, err = stub.communicate(timeout=max(1, deadline - time.monotonic()))
        finally:
            if stub.poll() is None:
                stub.kill()
                stub.wait()
        self.gdb_out = gdb.stdout + gdb.stderr
        self.stdout = out.decode(errors="replace")
        self.status = harness.normalise_status(stub.returncode)
        return self


class Checker:
    def __init__(self, name: str, session: Session):
        self.name = name
        self.s = session
        self.failures = []

    def has(self, pattern: str, what: str):
        m = re.search(pattern, self.s.gdb_out, re.M)
        if not m:
            self.failures.append(f"{what}: gdb output lacks /{pattern}/")
        return m

    def lacks(self, pattern: str, what: str):
        if re.search(pattern, self.s.gdb_out, re.M):
            self.failures.append(f"{what}: gdb output has /{pattern}/")

    def equal(self, got, want, what: str):
        if got != want:
            self.failures.append(f"{what}: got {got!r}, want {want!r}")

    def report(self) -> bool:
        if self.failures:
            print(f"FAIL {self.name}")
            for f in self.failures:
                print(f"  {f}")
            print("  --- gdb output ---")
            print("  " + self.s.gdb_out.replace("\n", "\n  "))
            print(f"  --- guest stdout ---\n  {self.s.stdout!r}, status {self.s.status}")
            return False
        print(f"ok   {self.name}")
        return True


MAIN_COMMANDS = [
    "break combine",
    "continue",
    "print base",
    "print factor",
    "info registers pc",
    "x/s greeting",
    "stepi",
    "info registers pc",
    "info registers fa0",
    "print $f10",
    "print $fcsr",
    "up",
    "print counter",
    "set var counter = 12",
    "continue",
]


def values(out: str) -> list:
    """The lines of a main session that carry values both stubs must agree on."""
    keep = []
    for line in out.splitlines():
        if re.match(r"(\$\d+ = |pc |fa0 |0x[0-9a-f]+ <greeting>:|Breakpoint 1, |\[Inferior 1 )", line):
            # qemu names its inferior after the host pid; friscy's is process 1.
            keep.append(re.sub(r"\(process \d+\)", "(process N)", line))
    return keep


def check_main(friscy, prog, timeout, sizes, qemu_ok) -> bool:
    s = Session([friscy, "run", "--gdb", "0", str(prog)], prog, MAIN_COMMANDS, timeout, True).run()
    c = Checker("main: break, print, registers, x/s, stepi, FP, set var, exit code", s)
    c.has(r"^Breakpoint 1, combine \(base=7, factor=1\.75\) at .*gdb_target\.c:\d+", "breakpoint hit")
    c.has(r"^\$1 = 7$", "print base")
    c.has(r"^\$2 = 1\.75$", "print factor")
    pcs = re.findall(r"^pc\s+(0x[0-9a-f]+)\s+0x[0-9a-f]+ <combine\+(\d+)>", s.gdb_out, re.M)
    if len(pcs) != 2:
        c.failures.append(f"info registers pc: want two pc lines in combine, got {pcs}")
    else:
        before, after = int(pcs[0][0], 16), int(pcs[1][0], 16)
        size = sizes.get(before)
        if size is None:
            c.failures.append(f"objdump has no instruction at {before:#x}")
        else:
            c.equal(after - before, size, f"stepi from {before:#x} advances pc by the instruction size")
    c.has(r'^0x[0-9a-f]+ <greeting>:\s+"hello from the guest"$', "x/s greeting")
    c.has(r"^fa0\s+\{float = 0, double = 1\.75\}\s+\(raw 0x3ffc000000000000\)$", "info registers fa0")
    c.has(r"^\$3 = \{float = 0, double = 1\.75\}$", "print $f10 (numeric alias of fa0)")
    c.has(r"^\$4 = 0$", "print $fcsr")
    c.has(r"^\$5 = 7$", "print counter in main")
    c.has(r"^\[Inferior 1 \(process \d+\) exited with code 014\]$", "exit reported with the changed code")
    c.equal(s.stdout, "hello from the guest\ncounter=12 total=25\n", "guest output after set var")
    c.equal(s.status, 12, "friscy exit status")
    if qemu_ok:
        port = free_port()
        q = Session([harness.QEMU, "-g", str(port), str(prog)], prog, MAIN_COMMANDS, timeout, False).run()
        c.equal(len(values(s.gdb_out)), 11, "value lines in friscy's session")
        c.equal(values(s.gdb_out), values(q.gdb_out), "values gdb printed: friscy vs qemu-riscv64 -g")
        c.equal(s.stdout, q.stdout, "guest output: friscy vs qemu-riscv64 -g")
        c.equal(s.status, q.status, "exit status: friscy vs qemu-riscv64 -g")
    return c.report()


def check_crash(friscy, prog, timeout) -> bool:
    cmds = ["continue", "print where", "continue"]
    s = Session([friscy, "run", "--gdb", "0", str(prog), "crash"], prog, cmds, timeout, True).run()
    c = Checker("crash: SIGSEGV is a signal stop, continuing kills the guest", s)
    c.has(r"^Program received signal SIGSEGV, Segmentation fault\.$", "signal stop")
    c.has(r"in crash \(where=0x0\) at .*gdb_target\.c:\d+", "stopped in crash()")
    c.has(r"^\$1 = \(volatile int \*\) 0x0$", "print where")
    c.has(r"^Program terminated with signal SIGSEGV, Segmentation fault\.$", "death reported")
    c.equal(s.status, 139, "friscy exit status")
    return c.report()


def check_interrupt(friscy, prog, timeout) -> bool:
    # gdb turns its own SIGINT into the protocol's Ctrl-C while the guest runs; the signal is
    # sent a second after gdb resumes the guest, however long gdb took to get there.
    cmds = [
        "python import os, signal, threading; gdb.events.cont.connect(lambda event: "
        "threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start())",
        "continue",
        "bt 1",
        "print n > 0",
        "kill",
    ]
    s = Session([friscy, "run", "--gdb", "0", str(prog), "spin"], prog, cmds, timeout, True).run()
    c = Checker("interrupt: Ctrl-C stops a spinning guest, kill ends it", s)
    c.has(r"^Program received signal SIGINT, Interrupt\.$", "interrupt stop")
    c.has(r"^#0 .* in spin \(\) at .*gdb_target\.c:\d+", "stopped in spin()")
    c.has(r"^\$1 = 1$", "the loop ran")
    c.equal(s.stdout, "", "guest output")
    c.equal(s.status, 137, "friscy exit status after kill")
    return c.report()


def check_detach(friscy, prog, timeout) -> bool:
    cmds = ["break combine", "continue", "detach"]
    s = Session([friscy, "run", "--gdb", "0", str(prog)], prog, cmds, timeout, True).run()
    c = Checker("detach: the guest runs on without breakpoints", s)
    c.has(r"^Breakpoint 1, combine", "breakpoint hit")
    c.has(r"^\[Inferior 1 \(process \d+\) detached\]$", "detached")
    c.equal(s.stdout, "hello from the guest\ncounter=7 total=25\n", "guest output")
    c.equal(s.status, 7, "friscy exit status")
    return c.report()


def check_memory(friscy, prog, timeout) -> bool:
    cmds = [
        "x/4xb 0",
        "x/2xb 0xfffffffffff0",
        "print *(int *)0x10",
        "set var *(int *)0x8 = 1",
        "x/s greeting",
        "continue",
    ]
    s = Session([friscy, "run", "--gdb", "0", "--memory", "64", str(prog)], prog, cmds, timeout, True).run()
    c = Checker("memory: accesses outside guest memory are gdb errors", s)
    c.has(r"^Cannot access memory at address 0x0$", "x at 0")
    c.has(r"^Cannot access memory at address 0xfffffffffff0$", "x beyond the end")
    c.has(r"^Cannot access memory at address 0x10$", "print *(int *)0x10")
    c.has(r"^Cannot access memory at address 0x8$", "write to the guard page")
    c.has(r'"hello from the guest"', "x/s still works after the errors")
    c.equal(s.status, 7, "friscy exit status")
    return c.report()


def ensure_gdb() -> bool:
    if shutil.which(GDB):
        return True
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "gdb-multiarch"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which(GDB) is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--friscy", default=harness.DEFAULT_FRISCY)
    ap.add_argument("--timeout", type=float, default=60)
    opts = ap.parse_args()
    if not ensure_gdb():
        print("gdb_session: SKIP: gdb-multiarch is not installed and could not be installed")
        return 0
    prog = build_guest()
    sizes = instruction_sizes(prog)
    qemu_ok = shutil.which(harness.QEMU) is not None
    checks = [
        lambda: check_main(opts.friscy, prog, opts.timeout, sizes, qemu_ok),
        lambda: check_crash(opts.friscy, prog, opts.timeout),
        lambda: check_interrupt(opts.friscy, prog, opts.timeout),
        lambda: check_detach(opts.friscy, prog, opts.timeout),
        lambda: check_memory(opts.friscy, prog, opts.timeout),
    ]
    passed = sum(1 for check in checks if check())
    failed = len(checks) - passed
    print(f"gdb_session: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
