"""Accountable safety: account actions and appeals, the tamper-evident audit log of every
operator action, and (later) reports, notices and the transparency report."""
