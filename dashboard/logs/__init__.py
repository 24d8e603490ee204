"""Live logs: ingest from the Fly log shipper, the filtered live tail, logs_watch.

POST /logs/ingest → views.ingest → ingest.parse_body → ingest.insert_rows → LogEntry
GET /logs/        → views.tail → selectors (opening_lines, poll) → templates/dashboard/logs/
timedify_ops.events logger → handler.LogStoreHandler → ingest.insert_rows (background thread)
manage.py logs_watch → selectors.poll (or `fly logs`) → the same LogFilter
"""
