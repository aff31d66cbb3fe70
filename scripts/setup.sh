#!/usr/bin/env bash
# Install everything nvapps needs (idempotent) and start Open vSwitch (userspace datapath) if it is not running.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(python3-venv openvswitch-switch mininet iputils-ping iputils-arping traceroute busybox iperf3 tcpdump ethtool iproute2 netcat-openbsd curl socat prometheus
              chromium chromium-driver      # the web console's test drives Debian's headless chromium
              etcd-server                   # several controllers share their model in etcd
              frr                           # the upstream BGP router of the eBGP tests (run in a namespace)
              isc-dhcp-client)              # dhclient -6: the DHCPv6 client of the IPv6 tests
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
    if [[ " ${missing[*]} " == *" frr "* ]] && [ -x /etc/init.d/frr ]; then
        /etc/init.d/frr stop >/dev/null 2>&1 || true     # the package's own instance: tests start theirs
    fi
fi

# Mininet is Debian's, for /usr/bin/python3: the venv sees it through the system site-packages.
if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt -e .

if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1; then
    /usr/share/openvswitch/scripts/ovs-ctl start
fi
