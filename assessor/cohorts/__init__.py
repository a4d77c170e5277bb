"""Cohorts: their dashboards, the people in them, enrolment, assessor assignment and withdrawal."""
