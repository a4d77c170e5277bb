"""Evidence: recording and editing it with its mappings and judgements, attachments, and acknowledgements."""
