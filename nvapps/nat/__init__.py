"""Reserved for the nat service (see docs/pipeline.md); built in its own issue."""
