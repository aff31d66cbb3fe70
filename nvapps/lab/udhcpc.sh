#!/bin/sh
# udhcpc hook for tests: configure only the test host's interface (never /etc/resolv.conf), record the lease.
case "$1" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/$mask" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        echo "ip=$ip mask=$mask router=$router dns=$dns mtu=$mtu lease=$lease" > "$NVAPPS_DHCP_RESULT"
        ;;
esac
exit 0
