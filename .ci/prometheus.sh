#!/usr/bin/env bash
# Installs Debian's Prometheus server, promtool and Pushgateway, which the
# metrics tests of mockforged run themselves on loopback. Run it as root on
# Debian:
#
#   sudo bash .ci/prometheus.sh
#
# The packages' services are not started: each test starts its own server
# with a temporary config and storage directory. Running the script again
# does nothing when the programs are already installed.
set -euo pipefail

log() { echo "prometheus.sh: $*"; }
die() { echo "prometheus.sh: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: sudo bash .ci/prometheus.sh"

# Debian's prometheus package contains both prometheus and promtool.
missing=()
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
	missing+=(prometheus)
fi
command -v prometheus-pushgateway >/dev/null 2>&1 || missing+=(prometheus-pushgateway)
if [ "${#missing[@]}" -eq 0 ]; then
	log "prometheus, promtool and prometheus-pushgateway are installed"
	exit 0
fi

# Keep the packages' maintainer scripts from starting the default services
# on the standard ports 9090 and 9091.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	added_policy=1
fi
log "installing ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
if [ "$added_policy" -eq 1 ]; then
	rm -f "$policy"
fi

prometheus --version 2>&1 | head -n 1
command -v promtool >/dev/null 2>&1 || die "promtool is missing after installing prometheus"
command -v prometheus-pushgateway >/dev/null 2>&1 || die "prometheus-pushgateway is missing after installing it"
