"""QA e-monitoring: sampled agent replies, automatic pre-checks, scorecards, calibration and reports."""
