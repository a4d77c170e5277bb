"""The ceiling the throughput figures are measured against: a hello-world Flask app answering every request with
40 KB of HTML, about what a trainee's enrolment page weighs, served by gunicorn with the app's own settings."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)
PAGE = "<!doctype html><html><body>" + "<p>Hello, world.</p>" * 2_000 + "</body></html>"  # 40 KB


@app.get("/")
def hello() -> str:
    return PAGE
