#!/usr/bin/env bash
# Runs the friscy-run example on the guest's modes and checks output and exit status (usage: check-friscy-run.sh FRISCY_RUN GUEST).
set -uo pipefail
run="$1"
guest="$2"
passed=0
failed=0

# expect NAME STATUS EXPECTED_STDOUT -- COMMAND... (stdin comes from $input)
expect() {
    local name="$1" want_status="$2" want_out="$3"
    shift 4
    local out status
    out="$(printf '%b' "$input" | "$@" 2>"$tmp/stderr")"
    status=$?
    if [ "$status" = "$want_status" ] && [ "$out" = "$want_out" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: status $status (want $want_status), stdout:" >&2
        printf '%s\n' "$out" >&2
        echo "-- want:" >&2
        printf '%s\n' "$want_out" >&2
        echo "-- stderr:" >&2
        cat "$tmp/stderr" >&2
    fi
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

input=""
expect hello 0 "hello from riscv64, argc=3 [x]
WHO=me cwd=/" -- "$run" -e WHO=me "$guest" hello x
input=""
expect syscall 42 "host_add(20, 22) = 42, host_log returned 14
host_log(bad pointer) = -14" -- "$run" "$guest" syscall
grep -q "guest says: guest log line" "$tmp/stderr" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL syscall: no host log line" >&2; }
input="one\ntwo\nthree\n"
expect echo 3 "ONE
TWO
THREE" -- "$run" "$guest" echo
# Input that arrives later: the guest's read pends until the pipe has data, then resumes.
out="$( (sleep 1; printf 'late\n') | "$run" "$guest" echo 2>"$tmp/stderr")"
status=$?
if [ "$status" = 1 ] && [ "$out" = "LATE" ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL late input: $status '$out'" >&2; fi
input=""
expect stop 5 "before stop
after stop (0)" -- "$run" "$guest" stop
expect slices 0 "spin 300000 -> 05ccf7e7a204eee1" -- "$run" -s 777 "$guest" spin 300000
expect abort 134 "" -- "$run" "$guest" abort
expect segv 139 "" -- "$run" "$guest" segv
expect not-elf 126 "" -- "$run" "$0"
grep -q "not an ELF file" "$tmp/stderr" && passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL not-elf: message" >&2; }

echo "check-friscy-run ($run): $passed passed, $failed failed"
[ "$failed" = 0 ]
