#!/bin/bash
# check.sh - install what is needed, build, and run the whole test suite:
# unit tests, corpus tests, the real-Postfix end-to-end test, the same
# suite under AddressSanitizer+UBSan, the fuzz targets over their seed
# corpora, and the clang-format / clang-tidy checks.  Ends with one line
# "N passed, M failed"; exits non-zero if anything failed.
#
# MAILTRIAGE_CORPUS names the shared public corpus (default ../shared/corpus);
# tests that need it say so and are skipped when it is absent.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
export MAILTRIAGE_CORPUS=${MAILTRIAGE_CORPUS:-$ROOT/../shared/corpus}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

sh scripts/install-deps.sh || { echo "check: could not install the packages"; echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0
failures=()
record() { # record NAME STATUS(0 ok, 77 skip, other fail)
    case "$2" in
        0) passed=$((passed + 1)); echo "ok - $1" ;;
        77) skipped=$((skipped + 1)); echo "skip - $1" ;;
        *) failed=$((failed + 1)); failures+=("$1"); echo "not ok - $1" ;;
    esac
}
step() { # step NAME CMD... : run, show output on failure
    local name=$1; shift
    local log; log=$(mktemp)
    "$@" >"$log" 2>&1; local rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then sed 's/^/    /' "$log" | tail -n 60; fi
    [ $rc -eq 77 ] && sed 's/^/    /' "$log" | tail -n 3
    rm -f "$log"
    record "$name" $rc
}
# meson_tests DIR LABEL: every meson test counts on its own
meson_tests() {
    local dir=$1 label=$2 log; log=$(mktemp)
    meson test -C "$dir" --print-errorlogs >"$log" 2>&1
    while read -r line; do
        name=$(echo "$line" | sed -E 's/^ *[0-9]+\/[0-9]+ +//; s/ +(OK|FAIL|SKIP|ERROR|TIMEOUT|EXPECTEDFAIL|UNEXPECTEDPASS) .*//; s/ +(OK|FAIL|SKIP|ERROR|TIMEOUT)$//')
        if echo "$line" | grep -q " OK "; then record "$label $name" 0;
        elif echo "$line" | grep -q " SKIP "; then record "$label $name" 77;
        else record "$label $name" 1; fi
    done < <(grep -E '^ *[0-9]+/[0-9]+ ' "$log")
    if grep -qE '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' "$log"; then
        grep -vE '^ *[0-9]+/[0-9]+ ' "$log" | tail -n 80 | sed 's/^/    /'
    fi
    rm -f "$log"
}

echo "== build (gcc, -Werror)"
if [ ! -f build/build.ninja ]; then
    meson setup build --werror >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
else
    meson configure build --werror >/dev/null
fi
step "build" ninja -C build
[ -x build/mailtriage ] || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }

echo "== unit tests"
meson_tests build unit

echo "== command-line and corpus tests"
for t in tests/cli/*.sh; do
    [ "$(basename "$t")" = lib.sh ] && continue
    step "cli $(basename "$t" .sh)" bash "$t" "$ROOT/build/mailtriage"
done

echo "== end-to-end with a real Postfix"
step "e2e postfix" bash tests/e2e/postfix_e2e.sh
step "e2e postfix scenarios" bash tests/e2e/postfix_scenarios.sh

echo "== end-to-end with a real Exim (unpacked privately, beside Postfix)"
step "e2e exim" bash tests/e2e/exim_e2e.sh

echo "== AddressSanitizer + UndefinedBehaviorSanitizer"
if [ ! -f build-asan/build.ninja ]; then
    meson setup build-asan --werror -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debug >/dev/null
fi
step "build asan+ubsan" ninja -C build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson_tests build-asan "asan unit"
for t in tests/cli/*.sh; do
    [ "$(basename "$t")" = lib.sh ] && continue
    step "asan cli $(basename "$t" .sh)" bash "$t" "$ROOT/build-asan/mailtriage"
done

echo "== fuzz targets over their seed corpora (${FUZZ_SECONDS}s each)"
if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
        -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link -Dbuildtype=debugoptimized >/dev/null
fi
step "build fuzz (clang)" ninja -C build-fuzz
for f in build-fuzz/fuzz_*; do
    [ -f "$f" ] && [ -x "$f" ] || continue
    name=${f#build-fuzz/fuzz_}
    seeds="tests/fuzz/seeds/$name"
    extra=()
    if [ "$name" = postfix ] && [ -d "$MAILTRIAGE_CORPUS/mta-logs/lightmeter" ]; then
        extra=("$MAILTRIAGE_CORPUS/mta-logs/lightmeter/individual_files" "$MAILTRIAGE_CORPUS/mta-logs/lightmeter/logparser-corpus")
    fi
    if [ "$name" = message ] && [ -d "$MAILTRIAGE_CORPUS/auth/mail-dkim/corpus" ]; then
        extra=("$MAILTRIAGE_CORPUS/auth/mail-dkim/corpus" "$MAILTRIAGE_CORPUS/sisimai/maildir/bsd")
    fi
    if [ "$name" = spf ] && [ -d "$MAILTRIAGE_CORPUS/auth/openspf-rfc7208" ]; then
        spfseeds=$(mktemp -d) # the OpenSPF suites' records, extracted for this run only
        /usr/bin/python3 tests/fuzz/spf_corpus_seeds.py "$MAILTRIAGE_CORPUS" "$spfseeds" >/dev/null && extra=("$spfseeds")
    fi
    if [ "$name" = bounce ] && [ -d "$MAILTRIAGE_CORPUS/sisimai/maildir" ]; then
        for d in "$MAILTRIAGE_CORPUS"/sisimai/maildir/* "$MAILTRIAGE_CORPUS/sisimai/mailbox"; do
            [ -d "$d" ] && extra+=("$d")
        done
    fi
    work=$(mktemp -d)
    # libFuzzer exits 77 on a crash by default: our "skipped"; make it a failure
    step "fuzz $name" "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -error_exitcode=1 -timeout_exitcode=1 "$work" "$seeds" "${extra[@]}"
    rm -rf "$work"
    [ "$name" = spf ] && rm -rf "${spfseeds:-/nonexistent}"
done

echo "== style: clang-format and clang-tidy"
step "clang-format" bash scripts/lint.sh format
step "clang-tidy" bash scripts/lint.sh tidy

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
