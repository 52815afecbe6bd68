"""Over-the-air updates: signature checks, release folders with an atomic switch, trial and rollback."""
