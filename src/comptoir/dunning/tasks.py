"""Background work: a dunning run started from the screen runs in a worker (`comptoir worker`)."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django_tasks import task

from comptoir.dunning.models import DunningRun, RunStatus


@task()
def run_dunning_in_background(run_date: str, user_id: int | None) -> int:
    """Run the dunning of a date and write its progress on the run row; return the emails sent."""
    from comptoir.core.models import User
    from comptoir.dunning.actions import run_dunning

    on = date.fromisoformat(run_date)
    by = User.objects.filter(pk=user_id).first() if user_id else None
    done = {"count": 0}

    def progress(step: int) -> None:
        done["count"] += step
        if done["count"] % 200 == 0:
            DunningRun.objects.filter(run_date=on).update(summary={"delivered": done["count"]})

    try:
        report = run_dunning(on, by=by, progress=progress)
    except Exception as exc:
        DunningRun.objects.filter(run_date=on).update(
            status=RunStatus.DONE,
            finished_at=timezone.now(),
            summary={"error": str(exc)[:500]},
        )
        raise
    return report.emails_sent
