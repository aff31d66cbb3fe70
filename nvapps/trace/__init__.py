"""Packet traces: where a packet goes through the pipeline, in logical terms."""
