"""Retention: when evidence content falls due, legal holds, and erasure that leaves the audit trail verifiable."""
