"""The acl service: port security (anti-spoofing), stateless network ACLs and stateful security groups."""
