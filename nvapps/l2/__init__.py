"""L2 service: per-network switching, flooding by group, datapath learning of unknown MACs."""
