#!/bin/bash
# dns_usage.sh - usage errors and help of `check-domain` and `spf` (no DNS needed).
source "$(dirname "$0")/lib.sh"
code() { "$@" >/dev/null 2>&1; echo $?; }
expect_eq "check-domain --help" "$(code "$MT" check-domain --help)" 0
expect_eq "spf --help" "$(code "$MT" spf --help)" 0
expect_eq "help check-domain" "$(code "$MT" help check-domain)" 0
expect_eq "check-domain without a domain" "$(code "$MT" check-domain)" 2
expect_eq "check-domain with two domains" "$(code "$MT" check-domain a.test b.test)" 2
expect_eq "check-domain bad --timeout" "$(code "$MT" check-domain a.test --timeout x)" 2
expect_eq "check-domain bad resolver" "$(code "$MT" check-domain a.test --resolver not-an-ip)" 2
expect_eq "check-domain missing --file" "$(code "$MT" check-domain --file "$T/none" --resolver 127.0.0.1:9)" 1
expect_eq "spf without --ip" "$(code "$MT" spf --mail-from a@b.test)" 2
expect_eq "spf null sender without --helo" "$(code "$MT" spf --ip 192.0.2.1 --mail-from '')" 2
expect_eq "spf bad --jobs" "$(code "$MT" spf --batch - --jobs 0)" 2
"$MT" help | grep -q 'check-domain' && ok "help lists check-domain" || notok "help lists check-domain"
"$MT" help | grep -q '  spf ' && ok "help lists spf" || notok "help lists spf"
finish
