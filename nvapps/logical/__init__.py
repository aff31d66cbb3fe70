"""The logical layer: the model placed on the chassis known now (bound ports, routers and their gateways,
what each chassis must know), built once per round and read by every service and the REST status."""
