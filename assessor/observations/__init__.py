"""Group observations: one activity observed for several trainees, each judged on their own."""
