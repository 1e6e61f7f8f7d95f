#!/bin/sh
# demo.sh - install what is needed, build, and run `mailtriage diagnose`
# on the bundled example: three Postfix hosts, a day of mail to Chinese
# and Western providers, and a two-hour window in which Netease answers
# every message with "451 4.3.2 Internal server error" after DATA.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh --run
[ -f build/build.ninja ] || meson setup build -Dtests=false >/dev/null
ninja -C build mailtriage >/dev/null
echo "\$ build/mailtriage diagnose --routes examples/routes.txt examples/netease-451.log.gz"
echo
exec build/mailtriage diagnose --routes examples/routes.txt examples/netease-451.log.gz
