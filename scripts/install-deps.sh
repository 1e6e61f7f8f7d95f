#!/bin/sh
# install-deps.sh - install the Debian packages mailtriage needs to build,
# run and test.  Does nothing when they are all there already.
#   scripts/install-deps.sh          build + run + test packages
#   scripts/install-deps.sh --run    only what building and running need
set -eu

BUILD="build-essential pkg-config meson ninja-build libpcre2-dev libjansson-dev zlib1g-dev libzstd-dev libc-ares-dev libpsl-dev libssl-dev"
# issue 5 (bounces): GMime 3 for MIME and charsets; Sisimai (Perl) for bench/bounces.sh
BUILD="$BUILD libgmime-3.0-dev"
RUN_EXAMPLE="make"
TEST="libcmocka-dev clang libclang-rt-dev clang-format clang-tidy postfix pflogsumm python3 time zstd gzip chromium"
# issue 4: the shared libraries of Debian's exim4-daemon-light, which
# scripts/start-exim-instance.sh fetches with apt-get download and unpacks
# privately (installing exim4 would remove Postfix); perl runs eximstats
TEST="$TEST libidn12 libgnutls-dane0 libgnutls30 libnsl2 libdb5.3 perl"
# issue 6: a real DNS server (Knot) for the test zones, pyspf to compare
TEST="$TEST knot openssl python3-yaml python3-spf python3-dnspython"
TEST="$TEST libsisimai-perl"
# issue 7 (check-message, matrix): GMime, OpenSSL, libpsl above; the PSL data; dkimpy signs the DKIM test messages
BUILD="$BUILD publicsuffix"
TEST="$TEST python3-dkim python3-nacl"

want="$BUILD $RUN_EXAMPLE"
[ "${1:-}" = "--run" ] || want="$want $TEST"

missing=""
for p in $want; do
    # dpkg-query prints "install ok installed" for a package that is there
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: need root (or sudo) to install:$missing" >&2; exit 1
    fi
fi
echo "install-deps: installing$missing" >&2
# Postfix asks how to configure itself; the tests run their own instance.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
