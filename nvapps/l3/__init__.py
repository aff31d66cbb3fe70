"""Reserved for the l3 service (see docs/pipeline.md); built in its own issue."""
