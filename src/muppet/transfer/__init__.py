"""Transfer: which tasks help which (``muppet affinity``)."""
