#!/usr/bin/env python3
# End-to-end suite: real Debian riscv64 programs run through `friscy run --rootfs`, each checked against a reference that is not libfriscy.
"""
Runs programs from a Debian trixie riscv64 root file system (built by scripts/debian-rootfs.sh
into build/rootfs unless --rootfs-dir names another) through `friscy run --rootfs ROOTFS.tar`
and compares stdout, stderr and exit status with an independent reference:

  qemu     single-process programs: the same argv, stdin and environment under
           `qemu-riscv64 -L ROOT -0 PROG ROOT/usr/bin/PROG ARGS`, run with an empty scratch cwd.
           (qemu 7.2 does not apply -L to statx, so nothing that prints stat data uses it.)
  host-sh  shell scripts that fork/exec (qemu-user would exec host binaries): the same script
           under the host's /bin/sh (dash) with the host's GNU coreutils, which are the same
           tools the image has; `busybox APPLET` runs the host's APPLET through a shim. Only
           scripts whose output POSIX (or GNU coreutils) fully defines are used. $T is a
           scratch directory (guest: /tmp/t, host: a fresh directory under build/).
  literal  an expected string written from the POSIX/Linux definition, or computed from the
           unpacked image tree (file lists, sizes), where neither of the above can be used.

  tests/rootfs_e2e.py [--friscy PATH] [--rootfs-dir DIR] [-k SUBSTRING]... [--jobs 2]
                      [--timeout 60] [--list] [--strict]

Cases listed in KNOWN_GAPS (a feature libfriscy lacks) and KNOWN_BUGS (libfriscy gives a wrong
result) run too but are reported as "KNOWN GAP" / "KNOWN BUG" lines with the reason, never
counted as passes; --strict makes known bugs fail the run. An entry that starts passing fails
the run until it is removed from its table. Run time is about a minute on 2 cores once
build/rootfs exists (the first build downloads the packages, about 30 s).
"""
import argparse
import concurrent.futures
import difflib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

DEFAULT_ROOTFS_DIR = harness.BUILD / "rootfs"
SCRATCH = harness.BUILD / "rootfs-e2e"
GUEST_T = "/tmp/t"

# What every guest (and every reference) sees unless a case adds to it.
ENV = dict(harness.STD_ENV)


@dataclass
class Case:
    name: str
    argv: list  # guest argv; argv[0] is resolved on the guest PATH
    ref: str  # "qemu", "host-sh" or "literal"
    stdin: bytes = b""
    env: dict = field(default_factory=dict)
    # literal: expected stdout (bytes, or a function of the unpacked root Path giving bytes)
    stdout: object = None
    stderr: bytes = b""
    status: int = 0
    workdir: str = None  # friscy -w (literal cases only)
    rootfs: str = "tar"  # "tar" (rootfs.tar) or "dir" (the unpacked tree)
    plain_env: bool = False  # give friscy no -e at all (tests its default environment)
    timeout: float = None  # seconds, instead of --timeout


def sh(name, script, **kw):
    """A shell script compared against the host's dash + coreutils (see module docstring)."""
    return Case(name, ["sh", "-c", script], "host-sh", **kw)


def q(name, argv, stdin=b"", **kw):
    return Case(name, argv, "qemu", stdin=stdin, **kw)


def lit(name, argv, stdout, status=0, **kw):
    return Case(name, argv, "literal", stdout=stdout, status=status, **kw)


# ---------------------------------------------------------------------------------------------
# Inputs

LINES = b"".join(b"%s\n" % w for w in b"pear apple fig apple banana cherry fig apple date".split())
PASSWD_AWK = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"

LUA_STRINGS = rb"""
local s = "Hello, Lua World"
print(s:upper(), s:lower(), #s, s:sub(8, 10), s:rep(2, "|"))
print(s:find("Lua"), s:match("(%a+), (%a+)"))
print((s:gsub("o", "0")), select(2, s:gsub("l", "L")))
for w in s:gmatch("%a+") do io.write(w, ";") end print()
print(string.format("%5d|%-5s|%05.2f|%x|%q|%g", 42, "ab", 3.14159, 255, "a\nb", 1e20))
print(("abc"):byte(1, -1), string.char(72, 105), ("x"):rep(0) == "")
print(table.concat({"a", "b", "c"}, ", "), tostring(nil), tostring(1.5), 10 // 3, 7 % -3)
print(utf8.char(72, 228, 8364), utf8.len("h\xc3\xa4\xe2\x82\xac"))
print(string.pack(">I4", 0x01020304):byte(1, -1))
"""

LUA_TABLES = rb"""
local t = {}
for i = 1, 20 do t[i] = (i * 7919) % 23 end
table.sort(t)
print(table.concat(t, " "))
table.sort(t, function(a, b) return a > b end)
print(table.concat(t, " ", 1, 5))
table.insert(t, 1, 100) table.remove(t) print(#t, t[1], t[#t])
local d = {zeta = 1, alpha = 2, mid = 3, [10] = "ten"}
local keys = {}
for k in pairs(d) do keys[#keys + 1] = tostring(k) end
table.sort(keys)
print(table.concat(keys, ","))
local m = setmetatable({}, {__index = function(_, k) return k * 2 end,
                            __call = function(_, x) return x + 1 end})
print(m[21], m(41), rawget(m, 21))
print(table.unpack({1, 2, 3}))
local big = {} for i = 1, 100000 do big[i] = i end
local sum = 0 for _, v in ipairs(big) do sum = sum + v end print(sum)
"""

LUA_CLOSURES = rb"""
local function counter()
  local n = 0
  return function() n = n + 1 return n end
end
local a, b = counter(), counter()
a() a() b()
print(a(), b())
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
print(fib(25))
local co = coroutine.create(function(x, y)
  local z = coroutine.yield(x + y)
  local w = coroutine.yield(z * 2)
  return w, "end"
end)
print(coroutine.resume(co, 1, 2)) print(coroutine.resume(co, 10)) print(coroutine.resume(co, "w"))
print(coroutine.resume(co), coroutine.status(co))
print(select("#", pcall(function() error({code = 7}) end)), type(select(2, pcall(error, {}))))
print(select("#", pcall(error, "x")), (pcall(error, "msg")))
local ok, err = pcall(function() local x = nil; return x.y end) print(ok, err)
"""

LUA_MATH = rb"""
print(math.maxinteger, math.mininteger, math.maxinteger + 1 == math.mininteger)
print(2^53, 2^53 + 1, 1 / 0, -1 / 0, 0 / 0 ~= 0 / 0)
print(string.format("%.17g %.17g %.17g", math.pi, math.sqrt(2), math.exp(1)))
print(string.format("%.15g %.15g %.15g %.15g", math.sin(1), math.cos(1), math.log(10), math.atan(1, 2)))
print(math.floor(-3.5), math.ceil(-3.5), math.fmod(7, 3), math.abs(-4), math.tointeger(3.0))
print(7 // 2, 7.0 // 2, -7 // 2, 7 % 3, -7 % 3, 3 & 5, 3 | 5, 3 ~ 5, 1 << 62, ~0)
print(math.type(1), math.type(1.0), math.type("1"), 10 == 10.0, "10" + 5, 0x10)
print(tonumber("0x1p4"), tonumber("  12  "), tonumber("z", 36), tonumber("1e500"))
local s = 0 for i = 1, 1000000 do s = s + i * 0.5 end print(s)
"""

LUA_IO = rb"""
io.write("a", 1, " ", 2.5, "\n")
local n = 0
for line in io.lines() do n = n + 1 io.write(n, ":", line:reverse(), "\n") end
io.stderr:write("to stderr\n")
print(os.time() > 1600000000, os.time() < 4102444800, type(os.clock()))
print(os.date("!%Y-%m-%d %H:%M:%S", 0), os.date("!%j", 86400 * 40))
print(os.getenv("HOME"), os.getenv("NOPE"))
os.exit(3)
"""

BC_PROGRAM = b"""2^200
obase=16
255
obase=10
ibase=16
FF
ibase=A
scale=30
sqrt(2)
e(1)
l(10)
s(1)+c(1)
define f(n) { if (n < 2) return (1); return (n * f(n - 1)); }
f(60)
scale=0
-7/2
-7%2
"""

AWK_PROG = 'BEGIN { FS = ":" } { n++; u[$7]++; printf "%-8s %5d %s\\n", $1, $3, toupper($6) } END { print n, length(u) }'


def _files_under(root: Path, rel: str) -> bytes:
    # Expected `find DIR | sort` output, computed from the unpacked image tree.
    top = root / rel.lstrip("/")
    paths = [rel]
    for dirpath, dirnames, filenames in os.walk(top):
        for n in dirnames + filenames:
            paths.append(rel + "/" + str(Path(dirpath, n).relative_to(top)))
    return "".join(p + "\n" for p in sorted(paths)).encode()


def _sizes(root: Path, *rels) -> bytes:
    # Expected `du -sb FILE...` output for regular files: their byte sizes in the image tree.
    return "".join(f"{os.path.getsize(root / r.lstrip('/'))}\t{r}\n" for r in rels).encode()


def _stat_line(root: Path, rel: str) -> bytes:
    st = os.lstat(root / rel.lstrip("/"))
    return f"{st.st_size} {st.st_mode & 0o7777:o} regular file {rel}\n".encode()


CASES = [
    # --- bc (qemu) ---------------------------------------------------------------------------
    q("bc/pi-1000", ["bc", "-lq"], b"scale=1000; 4*a(1)\n"),
    q("bc/program", ["bc", "-lq"], BC_PROGRAM),
    q("bc/divide-by-zero", ["bc", "-q"], b"1/0\n3+4\n"),
    q("bc/syntax-error", ["bc", "-q"], b"2 +* 3\nquit\n"),
    # --- lua5.4 (qemu) -------------------------------------------------------------------------
    q("lua/strings", ["lua5.4", "-"], LUA_STRINGS),
    q("lua/tables", ["lua5.4", "-"], LUA_TABLES),
    q("lua/closures-coroutines", ["lua5.4", "-"], LUA_CLOSURES),
    q("lua/math", ["lua5.4", "-"], LUA_MATH),
    # io.lines() reads stdin, so the script comes with -e.
    q("lua/io-os", ["lua5.4", "-e", LUA_IO.decode()], b"first\nsecond\n"),
    q("lua/error-exit", ["lua5.4", "-e", "print(1) error('boom')"]),
    q("lua/version", ["lua5.4", "-v"]),
    # --- busybox applets run directly (qemu) ---------------------------------------------------
    q("busybox/awk", ["busybox", "awk", AWK_PROG, "/etc/passwd"]),
    q("busybox/awk-stdin", ["busybox", "awk", "{ s += $1; p = p $1 } END { print s, p, s / 7 }"],
      b"".join(b"%d\n" % i for i in range(1, 101))),
    q("busybox/sed", ["busybox", "sed", "-e", "s/a/A/g", "-e", "/fig/d", "-e", "3q"], LINES),
    q("busybox/sed-n", ["busybox", "sed", "-n", "s/^\\([a-z]*\\):.*:\\([^:]*\\)$/\\2 \\1/p", "/etc/passwd"]),
    q("busybox/sort-uniq", ["busybox", "sort", "-r"], LINES),
    q("busybox/sort-n", ["busybox", "sort", "-n", "-k", "2", "-t", ","], b"a,10\nb,9\nc,100\nd,-1\n"),
    q("busybox/uniq-c", ["busybox", "uniq", "-c"], b"a\na\nb\na\n"),
    q("busybox/md5sum", ["busybox", "md5sum", "/etc/passwd", "/usr/bin/bc"]),
    q("busybox/sha256sum", ["busybox", "sha256sum"], LINES * 1000),
    q("busybox/wc", ["busybox", "wc", "/etc/passwd"]),
    q("busybox/head", ["busybox", "head", "-n", "3"], LINES),
    q("busybox/tail", ["busybox", "tail", "-n", "2"], LINES),
    q("busybox/cut", ["busybox", "cut", "-d:", "-f1,7", "/etc/passwd"]),
    q("busybox/tr", ["busybox", "tr", "a-z", "A-Z"], LINES),
    q("busybox/ls", ["busybox", "ls", "-1", "/usr/share/doc/bc", "/usr/share/doc"]),
    q("busybox/echo", ["busybox", "echo", "-n", "no newline"]),
    q("busybox/gzip-gunzip", ["busybox", "gunzip", "-c", "/usr/share/doc/bc/NEWS.gz"]),
    q("busybox/expr", ["busybox", "expr", "6", "*", "7"]),
    q("busybox/unknown-applet", ["busybox", "nosuchapplet"]),
    lit("busybox/find", ["busybox", "find", "/usr/share/doc/bc"],
        # find's order is readdir order, so compare as a set: sorted by the case runner.
        lambda root: _files_under(root, "/usr/share/doc/bc")),
    lit("busybox/readlink-proc-self-exe", ["busybox", "readlink", "/proc/self/exe"], b"/usr/bin/busybox\n"),
    # --- coreutils run directly (qemu) ---------------------------------------------------------
    q("coreutils/cat", ["cat", "/etc/passwd", "-", "/etc/group"], b"middle\n"),
    q("coreutils/cat-missing", ["cat", "/etc/passwd", "/nonexistent"]),
    q("coreutils/sort", ["sort"], LINES),
    q("coreutils/sort-uniq-options", ["sort", "-u", "-r"], LINES),
    q("coreutils/uniq", ["uniq", "-c"], b"".join(sorted(LINES.splitlines(True)))),
    q("coreutils/seq", ["seq", "-w", "1", "3", "25"]),
    q("coreutils/seq-float", ["seq", "-s", ",", "0", "0.25", "2"]),
    q("coreutils/expr", ["expr", "length", "hello", "+", "3", "*", "4"]),
    q("coreutils/expr-false", ["expr", "3", "=", "4"]),
    q("coreutils/printf", ["printf", "%05.2f|%x|%o|%s|%5.3s|%c|%e|%d\\n", "3.14159", "255", "8", "abc", "abcdef", "xyz", "12345.678", "-42"]),
    q("coreutils/date-epoch", ["date", "-d", "@0", "-u"]),
    q("coreutils/date-format", ["date", "-u", "-d", "@1234567890", "+%Y-%m-%dT%H:%M:%S %s %j %A %B"]),
    q("coreutils/wc", ["wc", "-lwc", "/etc/passwd", "/usr/share/doc/bc/README"]),
    q("coreutils/head-tail", ["tail", "-c", "+3"], LINES),
    q("coreutils/cut-tr", ["cut", "-c", "2-4"], LINES),
    q("coreutils/tr-delete", ["tr", "-d", "aeiou\\n"], LINES),
    q("coreutils/md5sum", ["md5sum", "/usr/bin/bc", "/etc/passwd"]),
    q("coreutils/sha256sum-stdin", ["sha256sum", "-"], bytes(range(256)) * 4096),
    q("coreutils/base64", ["base64"], bytes(range(256)) * 3),
    q("coreutils/od", ["od", "-A", "x", "-t", "x1z", "-N", "64", "/usr/bin/bc"]),
    q("coreutils/factor", ["factor", "1234567890123", "600851475143"]),
    q("coreutils/nl-fold", ["fold", "-w", "7"], LINES.replace(b"\n", b" ")),
    q("coreutils/echo", ["echo", "-e", "a\\tb\\x41"]),
    q("coreutils/basename-dirname", ["basename", "/usr/share/doc/bc/README", "ME"]),
    q("coreutils/true-false", ["false"]),
    q("coreutils/cat-proc-self-cmdline", ["cat", "/proc/self/cmdline"]),
    q("coreutils/dev-null", ["cat", "/dev/null"]),
    lit("coreutils/stat", ["stat", "-c", "%s %a %F %n", "/etc/passwd"],
        lambda root: _stat_line(root, "/etc/passwd")),
    lit("coreutils/du-sb-files", ["du", "-sb", "/etc/passwd", "/usr/share/doc/bc/README"],
        lambda root: _sizes(root, "/etc/passwd", "/usr/share/doc/bc/README")),
    # --- environment and working directory (literal: these are friscy options) -------------
    lit("env/-e-visible", ["sh", "-c", 'echo "$FOO|$EMPTY|${UNSET-unset}"'], b"bar||unset\n",
        env={"FOO": "bar", "EMPTY": ""}),
    lit("env/default", ["sh", "-c", 'echo "$PATH" "$HOME"; pwd'],
        b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /root\n/\n", plain_env=True),
    lit("env/-w-pwd", ["pwd"], b"/tmp\n", workdir="/tmp"),
    lit("env/-w-relative", ["sh", "-c", "pwd; ls ../../etc/passwd; cd ..; pwd; head -n 1 ../etc/group"],
        b"/usr/share\n../../etc/passwd\n/usr\nroot:x:0:\n", workdir="/usr/share"),
    lit("env/-w-dir-rootfs", ["sh", "-c", "pwd; head -n 1 ../etc/passwd"],
        b"/home\nroot:x:0:0:root:/root:/bin/sh\n", workdir="/home", rootfs="dir"),
    lit("env/cmdline", ["sh", "-c", "cat /proc/self/cmdline | tr '\\0' '|'; echo"],
        b"cat|/proc/self/cmdline|\n"),
    lit("dev/urandom", ["sh", "-c", "head -c 16 /dev/urandom | wc -c; head -c 100000 /dev/urandom | wc -c"],
        b"16\n100000\n"),
    lit("dev/null-zero", ["sh", "-c", "echo gone > /dev/null; wc -c < /dev/null; head -c 8 /dev/zero | od -An -tx1"],
        b"0\n 00 00 00 00 00 00 00 00\n"),
    lit("proc/self-exe-in-shell", ["sh", "-c", "busybox readlink /proc/self/exe; readlink /proc/self/exe"],
        b"/usr/bin/busybox\n/usr/bin/readlink\n"),
    # --- writes outside /tmp (literal: the host reference cannot write to /root) -------------
    lit("fs/root-home-writes",
        ["sh", "-c", "cd /root && mkdir -p a/b && echo 1 > a/b/f && echo 2 >> a/b/f && mv a/b/f a/g "
         "&& cat a/g && ls -R /root && rm -r a && ls -A /root && echo empty"],
        b"1\n2\n/root:\na\n\n/root/a:\nb\ng\n\n/root/a/b:\nempty\n"),
    lit("fs/overwrite-image-file",
        ["sh", "-c", "echo changed > /etc/group && cat /etc/group && rm /etc/passwd && cat /etc/passwd; echo $?"],
        b"changed\n1\n", stderr=b"cat: /etc/passwd: No such file or directory\n"),
    lit("fs/exit-7", ["sh", "-c", "exit 7"], b"", status=7),
    lit("fs/false", ["false"], b"", status=1),
]

# --- shell scripts (host-sh: dash + host coreutils; see the docstring) ------------------------
CASES += [
    sh("sh/pipeline-wc", "echo hi | wc -c"),
    sh("sh/long-pipeline", "seq 1 2000 | sort -rn | head -n 3 | tr '\\n' ' '; echo"),
    sh("sh/pipe-100k-lines", "seq 1 100000 | md5sum; seq 1 100000 | wc -l"),
    sh("sh/command-substitution", 'x=$(echo a $(echo b) "$(printf c)"); echo "[$x]"; echo `echo back`; n=$(seq 3 | wc -l); echo $((n + 1))'),
    sh("sh/redirections",
       'echo one > f; echo two >> f; cat < f; wc -l < f; cat f /nonexistent 2>/dev/null; echo "st=$?"; '
       '{ echo out; echo err >&2; } > o 2> e; cat e o; exec 3> g; echo fd3 >&3; exec 3>&-; cat g; '
       'printf "x\\ny\\n" > h; while read -r l; do echo "<$l>"; done < h'),
    sh("sh/here-document",
       'v=world\ncat <<EOF\nhello $v $((1+2))\n  indented\nEOF\ncat <<\'EOF\'\nno $v expansion\nEOF\n'
       'tr a-z A-Z <<END\nshout\nEND'),
    sh("sh/loops",
       'for i in 1 2 3; do printf "%s," $i; done; echo; i=0; while [ $i -lt 5 ]; do i=$((i+1)); '
       '[ $i -eq 2 ] && continue; [ $i -eq 4 ] && break; echo w$i; done; until [ $i -eq 0 ]; do i=$((i-1)); done; echo u$i; '
       'for f in a b; do for g in 1 2; do echo $f$g; done; done | tr "\\n" " "; echo'),
    sh("sh/case", 'for w in apple Banana 42 x.c ""; do case $w in a*) echo A;; [A-Z]*) echo U;; *[0-9]) echo N;; *.c) echo C;; "") echo E;; esac; done'),
    sh("sh/functions",
       'fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1 - 1))) )); fi; }; fact 10; '
       'f() { echo "n=$# 1=$1 all=$*"; return 3; }; f a "b c"; echo "ret=$?"; '
       'g() { set -- x y z; shift; echo "$@"; }; g'),
    sh("sh/arithmetic",
       'echo $((1 + 2 * 3)) $(( (1 + 2) * 3 )) $((17 / 5)) $((17 % 5)) $((-17 / 5)) $((1 << 10)) $((0x1F)) $((010)) '
       '$((5 > 3)) $((5 == 3)) $((!0)) $((~5)) $((7 & 3 | 8 ^ 1)) $((2147483647 + 1)) $((9223372036854775807)); '
       'a=5; : $((a += 10)); echo $a $((a > 10 ? 1 : 2))'),
    sh("sh/exit-statuses",
       'false; echo $?; true; echo $?; (exit 3); echo $?; ! true; echo $?; true && false || echo or; '
       'sh -c "exit 42"; echo $?; nosuchcmd 2>/dev/null; echo $?; '
       'if false; then :; else echo else; fi; sh -c "kill -9 \\$\\$"; echo $?; exit 9', status=9),
    sh("sh/exit-7", "exit 7", status=7),
    sh("sh/false", "false", status=1),
    sh("sh/subshells", 'x=1; (x=2; echo in $x); echo out $x; (exit 5); echo $?; { echo g1; echo g2; } | sort -r; (cd /; pwd); basename "$(pwd)"'),
    sh("sh/background-wait", '(exit 5) & p=$!; wait $p; echo waited $?; (sleep 0.2; echo late) & echo early; wait; echo done',
       timeout=15),
    sh("sh/exec-not-executable",
       # Linux execve gives EACCES for a file without x permission and for a directory: 126.
       "printf '#!/bin/sh\necho ran\n' > s; chmod 644 s; ./s 2>/dev/null; echo $?; /etc/passwd 2>/dev/null; echo $?; "
       "/tmp 2>/dev/null; echo $?; chmod 755 s; ./s; echo $?"),
    sh("sh/pipe-slow-writer", "(sleep 0.2; echo x) | cat; echo $?"),
    sh("sh/exec", 'sh -c "exec echo replaced; echo never"; sh -c "exec 1>/dev/null; echo hidden"; echo after'),
    sh("sh/nested-sh", "sh -c 'sh -c \"echo deep; exit 4\"; echo mid $?'; echo top $?"),
    sh("sh/ifs-read", 'printf "a:b:c\\n" | { IFS=: read -r x y z; echo "$z $y $x"; }; s="1  2   3"; set -- $s; echo $#; echo "${s%% *}" "${s#* }" "${#s}"'),
    sh("sh/params", 'u=${U:-def}; v=${V:=set}; echo $u $v ${v:+alt} ${W+w}; x=abc.tar.gz; echo ${x%.*} ${x%%.*} ${x#*.} ${x##*.}'),
    sh("sh/xargs", "printf 'a\\nb\\nc\\nd\\ne\\n' | busybox xargs echo; printf '1 2 3 4 5' | busybox xargs -n 2 echo"),
    sh("sh/awk-sed-pipeline",
       "seq 1 100 | busybox awk '{ s += $1 } END { print s }'; seq 1 10 | busybox sed -n '2,4p;/7/,$p' | tr '\\n' ,; echo; "
       "printf 'b 2\\na 1\\nc 3\\n' | busybox sort -k 2 -n | busybox cut -d ' ' -f 1 | busybox tr -d '\\n'; echo"),
    sh("sh/tar-gzip-roundtrip",
       "mkdir -p d/sub && echo x > d/a && seq 1 500 > d/sub/b && "
       "busybox tar cf - d | busybox gzip | busybox gunzip | busybox tar tf - | sort; "
       "mkdir out && busybox tar cf - d | busybox gzip -c | busybox gunzip -c | (cd out && busybox tar xf -) && "
       "cat out/d/a && md5sum < out/d/sub/b && cmp_a=$(md5sum < d/sub/b) && [ \"$cmp_a\" = \"$(md5sum < out/d/sub/b)\" ] && echo same"),
    sh("sh/gzip-pipe-large", "seq 1 50000 | busybox gzip -9 | busybox gunzip | md5sum"),
    sh("sh/find-sort", "mkdir -p f/x/y f/z && touch f/x/y/1 f/z/2 f/3 && busybox find f | sort; busybox find f -type f -name '[12]' | sort"),
    sh("sh/fs-write-read",
       "echo a > f1 && echo b >> f1 && mv f1 f2 && cat f2 && mkdir -p x/y/z && cp f2 x/y/z/c && ls -R x && "
       "rm -r x/y && ls x | wc -l && [ ! -e f1 ] && echo moved && rm f2 && ls -A . | wc -l && "
       "printf 'abc' > s && wc -c s && du -sb s && stat -c '%s %a %F' s && chmod 600 s && stat -c '%a %n' s"),
    sh("sh/cp-mv-dirs",
       "mkdir -p src/in && echo 1 > src/in/f && cp -r src dst && mv dst/in dst/out && ls -R src dst && "
       "rmdir src/in 2>/dev/null; echo rmdir=$? && rm -rf src && ls"),
    sh("sh/ls-la-fixed",
       # `total` and the size of directories depend on the file system's block allocation, not on
       # POSIX, so the listing skips the `total` line and shows only files and a file symlink.
       "mkdir d && printf 12345 > d/five && printf '' > d/empty && ln -s five d/link && chmod 640 d/five && "
       "chmod 755 d/empty && touch -h -d @86400 d/five d/empty d/link && "
       "ls -la --time-style=+%s d | busybox grep -v -e '^total' -e ' \\.\\.*$'; ls -l --time-style=long-iso d/five"),
    sh("sh/sort-uniq-coreutils", "printf 'b\\na\\nb\\nc\\na\\nb\\n' | sort | uniq -c; printf '3\\n10\\n2\\n' | sort -n | tr '\\n' ' '; echo"),
    sh("sh/seq-expr-printf", "for n in $(seq 5 5 20); do printf '%03d ' $(expr $n \\* 2); done; echo; expr 10 / 3; expr substr hello 2 3"),
    sh("sh/test-builtin", '[ -d /etc ] && [ -f /etc/passwd ] && [ ! -e /nope ] && [ -r /etc/passwd ] && echo ok; [ 2 -lt 10 ] && [ abc \\< abd ] && echo cmp; [ -z "" ] && [ -n x ] && echo str'),
    sh("sh/dev-null-urandom", "cat /dev/null | wc -c; echo x > /dev/null; echo $?; head -c 16 /dev/urandom | wc -c"),
    sh("sh/files-no-pipes",
       # Large data through files only (no pipes): sort, split, tac, tee, dd, truncate.
       "seq 1 20000 > n && sort -rn n -o s && head -n 2 s && tail -n 1 s && wc -l < s && md5sum n s && "
       "split -l 7000 n part && ls part* && cat part* > joined && md5sum < joined && tac n > r && head -n 1 r && "
       "dd if=/dev/zero of=z bs=1024 count=64 2>/dev/null && wc -c < z && truncate -s 10 z && wc -c < z && "
       "echo tee-out > /dev/null && echo x | tee t1 t2 > /dev/null && cat t1 t2"),
    sh("sh/links-times",
       "echo data > f && ln f hard && ln -s f soft && stat -c '%h %F' f hard && stat -c '%F' soft && readlink soft && "
       "cat soft && touch -d @1000000000 f && stat -c %Y f hard && date -u -r f +%Y && rm f && cat hard && "
       "[ -L soft ] && [ ! -e soft ] && echo dangling && realpath -m soft | busybox sed 's,.*/,,'"),
    sh("sh/append-many", "i=0; while [ $i -lt 300 ]; do echo line$i >> log; i=$((i+1)); done; wc -l < log; tail -n 1 log; md5sum < log"),
    sh("sh/env-cmd", "env -i A=1 B='two words' env; printenv HOME; env -u HOME sh -c 'echo ${HOME-none}'"),
    sh("sh/mktemp-mkfifo-free", 'f=$(mktemp -p "$T") && [ -f "$f" ] && echo file && d=$(mktemp -d -p "$T") && [ -d "$d" ] && echo dir && rm -r "$f" "$d" && ls -A | wc -l'),
    sh("sh/dev-stdin", "printf 'a\\nb\\n' > in.txt; cat /dev/stdin < in.txt; echo via-fd | cat /dev/fd/0"),
    sh("sh/sleep", "sleep 0.3; echo slept"),
    sh("sh/timeout-cmd", "timeout 5 sleep 0.1; echo $?", timeout=15),
    # coreutils timeout arms an alarm (its timer_create falls back to alarm) and sleeps in
    # sigsuspend: SIGALRM must interrupt it while the child sleeps or computes.
    sh("sh/timeout-expires", "timeout 0.3 sleep 5; echo $?; timeout -s INT 0.2 sleep 5; echo $?", timeout=20),
    sh("sh/timeout-busy-child", "timeout 0.3 sh -c 'while :; do :; done'; echo $?", timeout=20),
    # busybox timeout execs the command and leaves a grandchild that sleeps, then sends SIGTERM
    # (143 = 128 + 15, and dash reports the signal); the host has no busybox to compare with.
    lit("busybox/timeout-kills", ["sh", "-c", "busybox timeout 1 sleep 5; echo $?"], b"143\n",
        stderr=b"Terminated\n", timeout=20),
    lit("busybox/timeout-kills-first-process", ["busybox", "timeout", "1", "sleep", "5"], b"", status=143,
        timeout=20),
    lit("lua/file-io",
        ["lua5.4", "-e", 'local f = assert(io.open("/tmp/x.txt", "w")) f:write("abc\\n", 42, "\\n") f:close() '
         'f = io.open("/tmp/x.txt", "a") f:write("more\\n") f:close() '
         'for l in io.lines("/tmp/x.txt") do io.write("[", l, "]") end print() '
         'print(os.rename("/tmp/x.txt", "/tmp/y.txt"), io.open("/tmp/x.txt") == nil, os.remove("/tmp/y.txt"), '
         'select(2, os.remove("/tmp/y.txt")))'],
        b"[abc][42][more]\ntrue\ttrue\ttrue\t/tmp/y.txt: No such file or directory\t2\n"),
    q("lua/read-image-file", ["lua5.4", "-e", 'for l in io.lines("/etc/passwd") do print(#l, l:match("^[^:]*")) end']),
    q("coreutils/uname-id", ["uname", "-m", "-s"]),
    lit("coreutils/id-whoami", ["sh", "-c", "id -u; id -g; whoami; id -un"], b"0\n0\nroot\nroot\n"),
    lit("coreutils/date-now", ["sh", "-c", 'd=$(date +%s); [ "$d" -gt 1600000000 ] && [ "$d" -lt 4102444800 ] && echo sane'], b"sane\n"),
    sh("sh/many-processes", "i=0; while [ $i -lt 60 ]; do i=$(expr $i + 1); done; echo $i; for j in $(seq 1 30); do echo $j | cat | cat; done > out; tail -n 1 out"),
    sh("sh/loop-into-pipe", "for j in $(seq 1 30); do echo $j | cat; done | tail -n 1"),
]

# Cases that fail because libfriscy lacks something, with the precise reason. They still run,
# and are reported as "KNOWN GAP" (not passes); one that starts passing must be removed here.
KNOWN_GAPS: dict = {}

# Cases that fail because libfriscy gives wrong results (bugs, not missing features): reported as
# "KNOWN BUG" and not counted as passes; --strict makes them fail the run. Remove an entry once
# the bug is fixed (an entry that passes fails the run).
KNOWN_BUGS: dict = {}


# ---------------------------------------------------------------------------------------------
# Running


def ensure_rootfs(rootfs_dir: Path):
    if (rootfs_dir / "rootfs.tar").is_file() and (rootfs_dir / "root" / "usr" / "bin").is_dir():
        return
    print(f"rootfs_e2e: building {rootfs_dir} with scripts/debian-rootfs.sh", flush=True)
    r = subprocess.run([str(harness.REPO / "scripts" / "debian-rootfs.sh"), str(rootfs_dir)])
    if r.returncode != 0:
        raise SystemExit("rootfs_e2e: scripts/debian-rootfs.sh failed")


def guest_binary(root: Path, prog: str) -> Path:
    for d in ENV["PATH"].split(":"):
        p = root / d.lstrip("/") / prog
        if p.exists():
            return p
    raise SystemExit(f"rootfs_e2e: {prog} not found on PATH in {root}")


def make_shim(dirpath: Path):
    # `busybox APPLET ARGS` on the host runs the host's APPLET (the reference for host-sh cases).
    dirpath.mkdir(parents=True, exist_ok=True)
    shim = dirpath / "busybox"
    shim.write_text('#!/bin/sh\nexec "$@"\n')
    shim.chmod(0o755)


def reference(case: Case, root: Path, timeout: float) -> harness.Result:
    env = dict(ENV, **case.env)
    with tempfile.TemporaryDirectory(dir=SCRATCH, prefix="ref-") as tmp:
        if case.ref == "qemu":
            prog = guest_binary(root, case.argv[0])
            cmd = [harness.QEMU, "-L", str(root), "-0", case.argv[0], str(prog), *case.argv[1:]]
            return harness.run(cmd, env=env, stdin=case.stdin, timeout=timeout, cwd=tmp)
        if case.ref == "host-sh":
            t = Path(tmp) / "t"
            t.mkdir()
            env["T"] = str(t)
            env["PATH"] = f"{SCRATCH / 'shim'}:/usr/bin:/bin"
            script = case.argv[2]
            return harness.run(["/bin/sh", "-c", script], env=env, stdin=case.stdin, timeout=timeout, cwd=t)
    out = case.stdout(root) if callable(case.stdout) else case.stdout
    return harness.Result(out, case.stderr, case.status, False, 0.0)


def run_friscy(case: Case, friscy: str, rootfs_dir: Path, timeout: float) -> harness.Result:
    rootfs = rootfs_dir / ("rootfs.tar" if case.rootfs == "tar" else "root")
    cmd = [friscy, "run", "--rootfs", str(rootfs)]
    env = {} if case.plain_env else dict(ENV, **case.env)
    argv = list(case.argv)
    if case.ref == "host-sh":
        env["T"] = GUEST_T
        argv[2] = 'mkdir -p "$T" && cd "$T" || exit 99\n' + argv[2]
    for k, v in env.items():
        cmd += ["-e", f"{k}={v}"]
    if case.workdir:
        cmd += ["-w", case.workdir]
    cmd += ["--", *argv]
    with tempfile.TemporaryDirectory(dir=SCRATCH, prefix="friscy-") as tmp:
        return harness.run(cmd, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                           stdin=case.stdin, timeout=timeout, cwd=tmp)


def _diff(what, want: bytes, got: bytes, limit=40):
    if want == got:
        return []
    a = want.decode("utf-8", "replace").splitlines(keepends=True)
    b = got.decode("utf-8", "replace").splitlines(keepends=True)
    lines = list(difflib.unified_diff(a, b, f"{what} (reference)", f"{what} (friscy)", n=2))
    if not lines:  # differ only in bytes that decode the same
        lines = [f"{what}: {want[:200]!r} != {got[:200]!r}\n"]
    if len(lines) > limit:
        lines = lines[:limit] + [f"... ({len(lines) - limit} more diff lines)\n"]
    return [ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n" for ln in lines]


def check(case: Case, root: Path, friscy: str, rootfs_dir: Path, timeout: float):
    timeout = case.timeout or timeout
    ref = reference(case, root, timeout)
    got = run_friscy(case, friscy, rootfs_dir, timeout)
    problems = []
    if ref.timed_out:
        problems.append(f"reference timed out after {timeout}s\n")
    if got.timed_out:
        problems.append(f"friscy timed out after {timeout}s\n")
    want_out, got_out = ref.stdout, got.stdout
    if case.name == "busybox/find":  # readdir order is unspecified
        got_out = b"".join(sorted(got_out.splitlines(True)))
    problems += _diff("stdout", want_out, got_out)
    problems += _diff("stderr", ref.stderr, got.stderr)
    if ref.status != got.status:
        problems.append(f"exit status: reference {ref.status}, friscy {got.status}\n")
    return problems, got.seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--friscy", default=harness.DEFAULT_FRISCY)
    ap.add_argument("--rootfs-dir", default=str(DEFAULT_ROOTFS_DIR),
                    help="holds rootfs.tar and root/ (built with scripts/debian-rootfs.sh if missing)")
    ap.add_argument("-k", action="append", default=[], metavar="SUBSTRING", help="run only cases whose name contains it")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--strict", action="store_true", help="KNOWN_BUGS entries that fail fail the run")
    args = ap.parse_args()

    cases = [c for c in CASES if not args.k or any(k in c.name for k in args.k)]
    if args.list:
        for c in cases:
            mark = "  (known gap)" if c.name in KNOWN_GAPS else "  (known bug)" if c.name in KNOWN_BUGS else ""
            print(f"{c.name:40} {c.ref}{mark}")
        return 0
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    assert set(KNOWN_GAPS) | set(KNOWN_BUGS) <= set(names), "KNOWN_GAPS/KNOWN_BUGS name a case that does not exist"

    friscy = os.path.abspath(args.friscy)
    if not (os.path.isfile(friscy) and os.access(friscy, os.X_OK)):
        raise SystemExit(f"missing: {friscy} (build it with `cargo build --release`, or pass --friscy)")
    if not shutil.which(harness.QEMU):
        raise SystemExit(f"missing: {harness.QEMU}")
    rootfs_dir = Path(args.rootfs_dir).resolve()
    ensure_rootfs(rootfs_dir)
    root = rootfs_dir / "root"
    SCRATCH.mkdir(parents=True, exist_ok=True)
    make_shim(SCRATCH / "shim")

    t0 = time.monotonic()
    lock = threading.Lock()
    counts = {"pass": 0, "fail": 0, "gap": 0, "bug": 0}

    def one(case):
        try:
            problems, secs = check(case, root, friscy, rootfs_dir, args.timeout)
        except Exception as e:  # a harness error is a failure of that case, not of the run
            problems, secs = [f"harness error: {e!r}\n"], 0.0
        with lock:
            gap, bug = KNOWN_GAPS.get(case.name), KNOWN_BUGS.get(case.name)
            if gap and problems:
                counts["gap"] += 1
                print(f"KNOWN GAP {case.name} ({case.ref}): {gap}", flush=True)
            elif bug and problems:
                counts["fail" if args.strict else "bug"] += 1
                print(f"KNOWN BUG {case.name} ({case.ref}): {bug}\n"
                      + "".join("    " + p for p in "".join(problems).splitlines(True)), end="", flush=True)
            elif gap or bug:
                counts["fail"] += 1
                print(f"FAIL {case.name}: listed in KNOWN_{'GAPS' if gap else 'BUGS'} but passes now; "
                      "remove it from the table", flush=True)
            elif problems:
                counts["fail"] += 1
                print(f"FAIL {case.name} ({case.ref}, {secs:.1f}s)\n" + "".join("    " + p for p in "".join(problems).splitlines(True)), end="", flush=True)
            else:
                counts["pass"] += 1
                print(f"PASS {case.name} ({case.ref}, {secs:.1f}s)", flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        list(ex.map(one, cases))
    print(f"rootfs_e2e: {counts['pass']} passed, {counts['fail']} failed, {counts['gap']} known gaps, "
          f"{counts['bug']} known bugs "
          f"({time.monotonic() - t0:.0f}s)")
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
