#!/bin/bash
# lint.sh format|tidy|fix - keep the C sources clang-format and clang-tidy clean.
#   format  fail if any file is not formatted as .clang-format says
#   tidy    run clang-tidy (checks in .clang-tidy) over the library and CLI
#   fix     reformat in place
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c' 2>/dev/null)
[ -n "$files" ] || files=$(find src tests bench -name '*.[ch]')
case "${1:-}" in
format)
    bad=0
    for f in $files; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || { echo "not clang-formatted: $f (scripts/lint.sh fix)"; bad=1; }
    done
    exit $bad
    ;;
fix)
    clang-format -i $files
    ;;
tidy)
    [ -f build/compile_commands.json ] || { echo "lint: build/ not configured (run meson setup build)"; exit 1; }
    srcs=$(echo "$files" | tr ' ' '\n' | grep '^src/.*\.c$')
    rc=0
    # one clang-tidy per core, a few files each: the checks are per file
    out=$(echo "$srcs" | xargs -n 4 -P "$(nproc)" clang-tidy --quiet -p build 2>&1) || rc=$?
    printf '%s\n' "$out" | grep -vE "warnings? generated" | grep . || true
    exit $rc
    ;;
*)
    echo "usage: lint.sh format|tidy|fix" >&2
    exit 2
    ;;
esac
