"""Operations: commands to benches, the audit log, alarms."""
