#!/bin/bash
# lint.sh format|tidy|fix - keep the C sources clang-format and clang-tidy clean.
#   format  fail if any file is not formatted as .clang-format says
#   tidy    run clang-tidy (checks in .clang-tidy) over the library and CLI
#   fix     reformat in place
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c' 2>/dev/null || find src tests bench -name '*.[ch]')
case "${1:-}" in
format)
    bad=0
    for f in $files; do
        clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || { echo "not clang-formatted: $f (scripts/lint.sh fix)"; bad=1; }
    done
    exit $bad ;;
fix) clang-format -i $files ;;
tidy)
    [ -f build/compile_commands.json ] || { echo "lint: build/ not configured (run meson setup build)"; exit 1; }
    clang-tidy --quiet -p build $(git ls-files 'src/*.c' 2>/dev/null || find src -name '*.c') 2>&1 |
        grep -v "warnings generated" ;
    exit "${PIPESTATUS[0]}" ;;
*) echo "usage: lint.sh format|tidy|fix" >&2; exit 2 ;;
esac
