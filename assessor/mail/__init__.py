"""E-mail: messages written from templates, sent by the worker over SMTP, or kept in an outbox when no SMTP server
is set."""
