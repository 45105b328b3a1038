"""Which domain reacts to which event (app/core/events.py), and which code runs which kind of job
(app/jobs/registry.py). Installed once by the web app, the worker and the command line, so a layer can announce
what happened, or enqueue work, without importing the layers above it."""

from __future__ import annotations

from app.assignments.scheduler import OPEN_CYCLES, cycle_schedule
from app.authoring.events import CurrentVersionChanged
from app.certificates.bulk import DEPARTMENT_CERTIFICATES
from app.certificates.expiry_notices import EXPIRY_NOTICES, EXPIRY_SCHEDULE
from app.core import events
from app.core.config import Settings
from app.dashboard.digest import DAILY_DIGEST, DIGEST_SCHEDULE
from app.dashboard.reminders import SEND_REMINDERS
from app.dashboard.snapshots import REFRESH_SNAPSHOT
from app.evidence.jobs import DEPARTMENT_PACK
from app.jobs import registry
from app.jobs.maintenance import PRUNE_SCHEDULE
from app.mail.delivery import DELIVER
from app.progress import standing
from app.users.import_jobs import APPLY_IMPORT


def install(settings: Settings) -> None:
    events.subscribe(CurrentVersionChanged, standing.follow_current_version)
    registry.register(DELIVER, SEND_REMINDERS, standing.RECOMPUTE_STANDINGS, OPEN_CYCLES, EXPIRY_NOTICES, DAILY_DIGEST)
    registry.register(APPLY_IMPORT, DEPARTMENT_PACK, DEPARTMENT_CERTIFICATES, REFRESH_SNAPSHOT)
    registry.schedule(EXPIRY_SCHEDULE, PRUNE_SCHEDULE)
    if settings.cycle_check_minutes:
        registry.schedule(cycle_schedule(settings.cycle_check_minutes))
    else:
        registry.unschedule("training-cycles")
    if settings.daily_digest:
        registry.schedule(DIGEST_SCHEDULE)
    else:
        registry.unschedule(DIGEST_SCHEDULE.name)
