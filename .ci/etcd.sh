#!/usr/bin/env bash
# Installs etcd for the Chaos Mesh plugin's tests, which start their own
# etcd process on free loopback ports. Safe to run more than once.
set -euo pipefail
if command -v etcd >/dev/null 2>&1; then
	echo "== etcd: $(etcd --version | head -n 1)"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q etcd-server
# The package starts a system etcd on the default ports; the tests need
# only the binary.
systemctl disable --now etcd >/dev/null 2>&1 || true
echo "== etcd: $(etcd --version | head -n 1)"
