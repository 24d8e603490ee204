"""The audit trail every room writes to: AuditEntry and record_audit (services)."""
