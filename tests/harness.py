# Shared plumbing for the friscy end-to-end suites (difftest.py, randtest.py): cross builds keyed by
# content, running a command with stdin/env/timeout, and exit-status normalisation.
import hashlib
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
BUILD = REPO / "build"

CC = os.environ.get("RISCV_CC", "riscv64-linux-gnu-gcc")
QEMU = os.environ.get("QEMU_RISCV64", "qemu-riscv64")
DEFAULT_FRISCY = str(REPO / "target" / "release" / "friscy")

# qemu 7.2 lacks Zicond (its XVentanaCondOps are the same operations under another encoding) and
# gets ctzw wrong when the low word is zero, so programs using those get a twin "reference" build
# that works around both, run under qemu on this CPU model.
QEMU_REF_CPU = "rv64,xventanacondops=true"

# The environment every guest sees unless a test adds to it; given to qemu as its whole process
# environment and to friscy as -e options, so both guests start from identical environments.
STD_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/home/guest",
    "LANG": "C",
    "TERM": "dumb",
}


class BuildError(Exception):
    pass


_cc_identity = None


def cc_identity():
    """The cross compiler's version banner; part of every build key so a toolchain change rebuilds."""
    global _cc_identity
    if _cc_identity is None:
        out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
        _cc_identity = out.stdout.splitlines()[0]
    return _cc_identity


def build_if_needed(out: Path, cmd: list, inputs: list = (), sources: dict = None) -> bool:
    """Runs cmd to produce out unless out was already built from identical inputs and command.
    Content hashes (not mtimes) decide, so switching branches or touching files is harmless.
    `sources` maps paths to generated text: hashed from memory and written only for a build."""
    sources = sources or {}
    h = hashlib.sha256()
    h.update(cc_identity().encode())
    h.update("\0".join(map(str, cmd)).encode())
    for p in sorted(inputs):
        h.update(str(p).encode())
        h.update(Path(p).read_bytes())
    for p, text in sorted(sources.items()):
        h.update(str(p).encode())
        h.update(text.encode())
    key = h.hexdigest()
    stamp = out.with_name(out.name + ".stamp")
    if out.exists() and stamp.exists() and stamp.read_text() == key:
        return False
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    for p, text in sources.items():
        Path(p).write_text(text)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"$ {shlex.join(map(str, cmd))}\n{r.stdout}{r.stderr}")
    stamp.write_text(key)
    return True


@dataclass
class Result:
    stdout: bytes
    stderr: bytes
    status: int  # shell convention: 128+N when killed by signal N
    timed_out: bool
    seconds: float


def normalise_status(returncode: int) -> int:
    # Python reports death by signal N as -N; friscy reports it as 128+N like a shell would.
    return 128 - returncode if returncode < 0 else returncode


def run(cmd, *, env, stdin: bytes = b"", timeout: float, cwd=None) -> Result:
    t0 = time.monotonic()
    # Own session so a timeout can kill the whole tree (a wrapper script and its qemu child),
    # otherwise an orphan keeps the pipes open and communicate() never returns.
    p = subprocess.Popen(
        [str(c) for c in cmd],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    timed_out = False
    try:
        out, err = p.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = p.communicate()
    return Result(out, err, normalise_status(p.returncode), timed_out, time.monotonic() - t0)


def qemu_cmd(prog, args, cpu=None):
    cmd = [QEMU]
    if cpu:
        cmd += ["-cpu", cpu]
    return cmd + [str(prog)] + [str(a) for a in args]


def friscy_cmd(friscy, prog, args, env: dict):
    cmd = [friscy, "run"]
    for k, v in env.items():
        cmd += ["-e", f"{k}={v}"]
    return cmd + ["--", str(prog)] + [str(a) for a in args]


def check_tools(friscy):
    """Fails early, with a readable message, when a tool the suites need is missing."""
    import shutil

    missing = [t for t in (CC, QEMU) if not shutil.which(t)]
    if not (os.path.isfile(friscy) and os.access(friscy, os.X_OK)):
        missing.append(f"{friscy} (build it with `cargo build --release`, or pass --friscy)")
    if missing:
        raise SystemExit("missing: " + ", ".join(missing))
