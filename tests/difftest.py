#!/usr/bin/env python3
# Differential test: runs each guest program under qemu-riscv64 and under friscy and compares stdout, stderr and exit status.
"""
Builds tests/guests/* into build/guests/ (only when sources, flags or the compiler change), then
runs every test case under both runners with the same argv, stdin and environment.

  tests/difftest.py [--friscy PATH] [--jobs 2] [--timeout 60] [-k SUBSTRING]... [--list]

The qemu run is also checked against the status the case expects, so a guest that broke (or a
qemu that misbehaves) cannot pass by failing the same way under both runners.
"""
import argparse
import concurrent.futures
import difflib
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

GUESTS = harness.TESTS / "guests"
OUT = harness.BUILD / "guests"
FAIL_DIR = harness.BUILD / "difftest-failures"

RVGC = "-march=rv64gc"
ZB = "-march=rv64gc_zba_zbb_zbs"


@dataclass
class Build:
    name: str
    source: str
    flags: list
    libs: list = field(default_factory=list)
    # Needs a twin built with -DFRISCY_QEMU_REF, working around qemu 7.2's gaps (no Zicond, a
    # wrong ctzw), to run under qemu (see harness.QEMU_REF_CPU).
    ref_twin: bool = False


def _variants(base, source, libs=(), variants=("O2", "O0", "zb")):
    flags = {"O2": ["-O2", RVGC], "O0": ["-O0", RVGC], "zb": ["-O2", ZB]}
    return [Build(f"{base}-{v}", source, flags[v], list(libs)) for v in variants]


BUILDS = [
    *_variants("int_ops", "int_ops.c"),
    Build("bitmanip-O2", "bitmanip.c", ["-O2", ZB], ref_twin=True),
    Build("bitmanip-O0", "bitmanip.c", ["-O0", ZB], ref_twin=True),
    Build("zicond", "zicond.S", ["-O2", RVGC], ref_twin=True),
    Build("compressed", "compressed.c", ["-O2", RVGC]),
    Build("fp_ops", "fp_ops.c", ["-O2", RVGC]),
    *_variants("atomics", "atomics.c", ["-latomic"], ("O2", "O0")),
    *_variants("misaligned", "misaligned.c", (), ("O2", "O0")),
    *_variants("libc_printf", "libc_printf.c", ["-lm"]),
    *_variants("libc_malloc", "libc_malloc.c"),
    *_variants("libc_misc", "libc_misc.c", ["-lm"]),
    Build("env_args", "env_args.c", ["-O2", RVGC]),
    Build("exit_codes", "exit_codes.c", ["-O2", RVGC]),
    Build("stdin_io", "stdin_io.c", ["-O2", RVGC]),
    Build("sys_misc", "sys_misc.c", ["-O2", RVGC]),
    Build("signals", "signals.c", ["-O2", RVGC]),
    Build("threads", "threads.c", ["-O2", RVGC, "-pthread"]),
    Build("threads-O0", "threads.c", ["-O0", RVGC, "-pthread"]),
    Build("events", "events.c", ["-O2", RVGC]),
    Build("memfd", "memfd.c", ["-O2", RVGC]),
    Build("waitid_select", "waitid_select.c", ["-O2", RVGC]),
    Build("static_pie", "static_pie.S", ["-nostdlib", "-static-pie", "-fPIE", "-Wl,--no-dynamic-linker", RVGC]),
]
BUILD_BY_NAME = {b.name: b for b in BUILDS}


@dataclass
class Case:
    name: str
    build: str
    args: list = field(default_factory=list)
    stdin: bytes = b""
    env: dict = field(default_factory=dict)  # added to harness.STD_ENV
    status: int = 0  # what the qemu run must return
    # Run friscy with a file system (an otherwise empty host directory holding only the guest,
    # run as /prog): syscalls such as memfd_create need one, and the CLI gives none by default.
    rootfs: bool = False


def _text_input():
    lines = [
        "The first line of input.",
        "  indented\twith\ttabs  ",
        "",
        "ünïcödé bytes: \u00e9\u4e2d\u6587",
        "a" * 5000,
        "last line without newline",
    ]
    return "\n".join(lines).encode()


def _binary_input(n):
    rng = random.Random(20240611)
    return bytes(rng.getrandbits(8) for _ in range(n))


def make_cases():
    cases = []
    for b in BUILDS:
        if b.source in ("fp_ops.c", "env_args.c", "exit_codes.c", "stdin_io.c", "threads.c", "events.c",
                        "memfd.c"):
            continue
        cases.append(Case(b.name, b.name))
    for g in ("s-arith", "d-arith", "fma", "cvt", "misc", "csr"):
        cases.append(Case(f"fp_ops-{g}", "fp_ops", [g]))
    cases.append(Case("fp_ops-illegal-frm", "fp_ops", ["illegal-frm"], status=128 + 4))
    cases.append(
        Case(
            "env_args",
            "env_args",
            ["first", "with space", "", "\u00fcn\u00efc\u00f6d\u00e9", "--flag=x", "-e", "--", "*"],
            env={"FRISCY_TEST_VAR": "value with spaces", "EMPTY": "", "EQUALS": "a=b=c"},
        )
    )
    cases.append(Case("env_args-many", "env_args", [f"arg{i}" * (i % 7) for i in range(400)],
                      env={f"VAR{i:03d}": "x" * i for i in range(120)}))
    for mode, code, status in [
        ("return", "0", 0), ("return", "7", 7), ("exit", "42", 42), ("exit", "300", 44),
        ("exit", "255", 255), ("_exit", "3", 3), ("stderr-only", "0", 3),
        ("abort", "0", 128 + 6), ("segv", "0", 128 + 11), ("kill", "0", 128 + 15),
    ]:
        cases.append(Case(f"exit_codes-{mode}-{code}", "exit_codes", [mode, code], status=status))
    cases.append(Case("stdin_io-lines", "stdin_io", ["lines"], stdin=_text_input()))
    cases.append(Case("stdin_io-empty", "stdin_io", ["lines"], stdin=b""))
    cases.append(Case("stdin_io-raw-1M", "stdin_io", ["raw"], stdin=_binary_input(1 << 20)))
    for mode in ("many", "pingpong", "futex", "tls", "exit", "kill", "pipe", "ids"):
        cases.append(Case(f"threads-{mode}", "threads", [mode]))
    for mode in ("many", "pingpong", "pipe"):
        cases.append(Case(f"threads-O0-{mode}", "threads-O0", [mode]))
    cases.append(Case("threads-segv", "threads", ["segv"], status=128 + 11))
    cases.append(Case("threads-segv-handler", "threads", ["segv-handler"], status=3))
    for mode in ("epoll", "eventfd", "timerfd", "alarm", "itimer"):
        cases.append(Case(f"events-{mode}", "events", [mode]))
    cases.append(Case("events-alarm-kill", "events", ["alarm-kill"], status=128 + 14))
    cases.append(Case("memfd", "memfd", rootfs=True))
    for c in cases:
        if c.name == "static_pie":
            c.status = 5
        if c.name == "signals":
            c.status = 128 + 15
    return cases


def build_all(builds, jobs):
    """Builds in parallel; returns {build name: (program, reference program, ref cpu)}."""
    headers = sorted(GUESTS.glob("*.h"))

    def one(b):
        src = GUESTS / b.source
        out = OUT / b.name
        link = [] if "-static-pie" in b.flags else ["-static"]
        base = [harness.CC, *link, "-Wall", *b.flags]
        built = harness.build_if_needed(out, [*base, "-o", str(out), str(src), *b.libs], [src, *headers])
        if not b.ref_twin:
            return b.name, (out, out, None), built
        ref = OUT / (b.name + ".ref")
        cmd = [*base, "-DFRISCY_QEMU_REF", "-o", str(ref), str(src), *b.libs]
        built |= harness.build_if_needed(ref, cmd, [src, *headers])
        return b.name, (out, ref, harness.QEMU_REF_CPU), built

    progs, nbuilt, errors = {}, 0, []
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        for fut in [ex.submit(one, b) for b in builds]:
            try:
                name, p, built = fut.result()
                progs[name] = p
                nbuilt += built
            except harness.BuildError as e:
                errors.append(str(e))
    if errors:
        raise SystemExit("guest build failed:\n" + "\n".join(errors))
    return progs, nbuilt


def _diff(kind, a: bytes, b: bytes, limit):
    al = a.decode("utf-8", "replace").splitlines(keepends=True)
    bl = b.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(al, bl, f"{kind} (qemu)", f"{kind} (friscy)", n=2))
    if not lines and a != b:  # differ only in bytes that decode the same
        lines = [f"--- {kind}: {len(a)} bytes (qemu) vs {len(b)} bytes (friscy), same text\n"]
    shown = [l if l.endswith("\n") else l + "\n\\ no newline\n" for l in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"... {len(lines) - limit} more diff lines\n")
    return "".join(shown)


def run_case(case, progs, friscy, timeout, diff_lines):
    prog, ref_prog, cpu = progs[case.build]
    env = dict(harness.STD_ENV, **case.env)
    with tempfile.TemporaryDirectory(prefix="difftest-") as cwd:
        ref = harness.run(harness.qemu_cmd(ref_prog, case.args, cpu), env=env, stdin=case.stdin,
                          timeout=timeout, cwd=cwd)
    with tempfile.TemporaryDirectory(prefix="difftest-") as cwd:
        # friscy itself runs in the harness's environment; the guest gets exactly `env` via -e.
        cmd = harness.friscy_cmd(friscy, prog, case.args, env)
        if case.rootfs:
            root = Path(cwd) / "rootfs"
            root.mkdir()
            shutil.copy(prog, root / "prog")
            cmd = harness.friscy_cmd(friscy, "/prog", case.args, env)
            cmd[2:2] = ["--rootfs", str(root)]
        sub = harness.run(cmd, env=os.environ, stdin=case.stdin, timeout=timeout, cwd=cwd)
    problems, details = [], []
    if ref.timed_out:
        problems.append(f"qemu timed out after {timeout}s")
    elif ref.status != case.status:
        problems.append(f"qemu exited {ref.status}, case expects {case.status} (guest or harness broken)")
        details.append(ref.stderr.decode("utf-8", "replace")[-2000:])
    if sub.timed_out:
        problems.append(f"friscy timed out after {timeout}s")
    if ref.status != sub.status and not sub.timed_out:
        problems.append(f"exit status {ref.status} (qemu) vs {sub.status} (friscy)")
    for kind, a, b in (("stdout", ref.stdout, sub.stdout), ("stderr", ref.stderr, sub.stderr)):
        if a != b:
            problems.append(f"{kind} differs")
            if not sub.timed_out:  # a truncated run's diff is just noise
                details.append(_diff(kind, a, b, diff_lines))
    if problems:
        FAIL_DIR.mkdir(parents=True, exist_ok=True)
        for who, r in (("qemu", ref), ("friscy", sub)):
            (FAIL_DIR / f"{case.name}.{who}.stdout").write_bytes(r.stdout)
            (FAIL_DIR / f"{case.name}.{who}.stderr").write_bytes(r.stderr)
    return problems, details, ref.seconds, sub.seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--friscy", default=harness.DEFAULT_FRISCY, help="friscy binary (default: %(default)s)")
    ap.add_argument("--jobs", "-j", type=int, default=2, help="parallel tests (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per run (default: %(default)s)")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING",
                    help="only cases whose name contains SUBSTRING (repeatable)")
    ap.add_argument("--diff-lines", type=int, default=60, help="diff lines shown per stream")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    opts = ap.parse_args()

    cases = make_cases()
    if opts.k:
        cases = [c for c in cases if any(k in c.name for k in opts.k)]
    if opts.list:
        for c in cases:
            print(c.name)
        return 0
    if not cases:
        print("no cases selected")
        return 1
    harness.check_tools(opts.friscy)
    friscy = str(Path(opts.friscy).resolve())

    t0 = time.monotonic()
    needed = [BUILD_BY_NAME[n] for n in sorted({c.build for c in cases})]
    progs, nbuilt = build_all(needed, opts.jobs)
    print(f"difftest: {len(needed)} guest builds ({nbuilt} rebuilt) in {time.monotonic() - t0:.1f}s, "
          f"{len(cases)} cases, friscy={friscy}", flush=True)

    lock = threading.Lock()
    failed = []

    def one(case):
        try:
            problems, details, tq, tf = run_case(case, progs, friscy, opts.timeout, opts.diff_lines)
        except Exception as e:  # a harness bug must still show up as a failure, not a hang
            problems, details, tq, tf = [f"harness error: {e!r}"], [], 0, 0
        with lock:
            if problems:
                failed.append(case.name)
                print(f"FAIL {case.name}: " + "; ".join(problems))
                for d in details:
                    print(d, end="" if d.endswith("\n") else "\n")
            else:
                print(f"PASS {case.name} (qemu {tq:.2f}s, friscy {tf:.2f}s)")
            sys.stdout.flush()

    with concurrent.futures.ThreadPoolExecutor(opts.jobs) as ex:
        list(ex.map(one, cases))
    dt = time.monotonic() - t0
    if failed:
        print(f"difftest: {len(failed)} of {len(cases)} FAILED in {dt:.1f}s "
              f"(outputs in {FAIL_DIR}): {' '.join(sorted(failed))}")
        return 1
    print(f"difftest: all {len(cases)} passed in {dt:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
