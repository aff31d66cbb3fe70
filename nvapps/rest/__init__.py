"""The REST API (Neutron v2.0 shapes) and the os-ken app that serves it and owns the model."""
