"""The simulated city: ground truth, camera traffic through the real pipeline, a review desk
and an auditor. `manage.py simulate_city` runs it; see README "Fairness, measured"."""
