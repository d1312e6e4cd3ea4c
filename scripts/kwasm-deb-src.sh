#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Makes `apt-get source` work: adds deb-src entries for the installed Debian
# release (main, updates, security) if apt has none, and updates apt's
# lists. Used by the benchmarks that build from Debian source packages
# (bench-calls: QEMU's plugin header; bench-codegen: the C programs).
#
#   scripts/kwasm-deb-src.sh LOGFILE

set -euo pipefail

log=${1:?usage: kwasm-deb-src.sh LOGFILE}
list=/etc/apt/sources.list.d/kwasm-deb-src.sources
sudo=()

grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/ && exit 0
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$codename" ]; then
	echo "kwasm-deb-src: no deb-src entries in apt's sources, and no Debian codename to add them" >&2
	exit 1
fi
echo "kwasm-deb-src: adding deb-src entries for $codename to apt's sources" >&2
[ "$(id -u)" = 0 ] || sudo=(sudo)
"${sudo[@]}" tee "$list" >/dev/null <<END
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
END
if ! "${sudo[@]}" apt-get update -q >>"$log" 2>&1; then
	tail -n 20 "$log" >&2
	exit 1
fi
