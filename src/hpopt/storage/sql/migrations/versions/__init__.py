"""Schema revisions, oldest first: ``rev0001_initial``, ``rev0002_trial_indexes``."""
