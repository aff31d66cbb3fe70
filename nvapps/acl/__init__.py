"""Reserved for the acl service (see docs/pipeline.md); built in its own issue."""
