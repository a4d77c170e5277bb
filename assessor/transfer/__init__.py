"""Spreadsheets in and out: importing trainees and enrolments, and the four exports."""
