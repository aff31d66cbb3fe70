"""Load with `osken-manager --user-flags nvapps/flags.py` to set nvapps options on the command line.

Adds --nvapps-db-path, --nvapps-rest-host, --nvapps-rest-port, --nvapps-chassis,
--nvapps-trunk-interfaces, --nvapps-uplinks, --nvapps-bgp-as, --nvapps-bgp-speakers, --nvapps-bgp-peers, --nvapps-stats-interval, --nvapps-ra-interval, --nvapps-ovs-appctl-target, --nvapps-store,
--nvapps-controller-name, --nvapps-default-project,
--nvapps-auth-file and --nvapps-no-auth.
"""
from nvapps import config

config.register(cli=True)
