"""Background work: a duplicate search started from the screen runs in a worker."""

from __future__ import annotations

from django_tasks import task


@task()
def scan_duplicates_in_background(user_id: int | None) -> int:
    """Search the active parties for likely duplicates and queue them; return the pairs found."""
    from comptoir.core.models import User
    from comptoir.customerfile.merging import scan_duplicates

    by = User.objects.filter(pk=user_id).first() if user_id else None
    return scan_duplicates(by=by).pairs
