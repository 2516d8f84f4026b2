"""Audit trail of access to patient data (UU 27/2022): who, what, when, from where, and with what outcome."""
