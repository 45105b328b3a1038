"""Which domain reacts to which event (app/core/events.py). Installed once by the web app and the command line,
so a layer can announce what happened without importing the layers above it."""

from __future__ import annotations

from app.authoring.events import CurrentVersionChanged
from app.core import events
from app.progress import standing


def install() -> None:
    events.subscribe(CurrentVersionChanged, standing.follow_current_version)
