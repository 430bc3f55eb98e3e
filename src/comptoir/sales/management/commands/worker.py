"""`comptoir worker`: run background tasks (batch invoicing…) from the database queue.

The same options as django-tasks-db's ``db_worker``; start one or more on any host that
reaches the database (PostgreSQL for several).
"""

from __future__ import annotations

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorker


class Command(DatabaseWorker):
    help = "Run the background worker (batch invoicing and other long jobs)."
