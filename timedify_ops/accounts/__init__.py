"""Accounts and roles: the `viewer` and `operator` groups (timedify_ops.permissions reads them)
and the first operator of a fresh installation."""
