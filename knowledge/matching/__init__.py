"""The matcher's pipeline: normalise, features, index, score, band; the live index per worker; calibration and evaluation."""
