"""What the channel page's retention card and the overview's audience card draw: the
JSON their charts read (safe inside a script tag); the tables beside them are rendered
from the same values by the templates. Thin over :mod:`wxqr.service.stats.insights`."""

from __future__ import annotations

import json

from wxqr.i18n import N_, Language
from wxqr.service.stats.audience import AudiencePoint
from wxqr.service.stats.retention import RetentionPoint

__all__ = ["KEY_DAYS", "RETENTION_WEEKS", "audience_json", "retention_json"]

#: The channel page's cohorts: followers acquired in the last twelve weeks.
RETENTION_WEEKS = 12
#: The retention figures shown as cards above the curve.
KEY_DAYS = (1, 7, 30)


def _safe(data: object) -> str:
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def retention_json(curve: list[RetentionPoint], lang: Language) -> str:
    """The curve as percentages (null where no follower has reached the day)."""
    return _safe(
        {
            "label": N_("Still following").render(lang),
            "labels": [N_("D%(day)s", day=p.day).render(lang) for p in curve],
            "values": [None if p.rate is None else round(100 * p.rate, 2) for p in curve],
        }
    )


def audience_json(points: list[AudiencePoint], lang: Language) -> str:
    """Followers at the end of each day (cumulative)."""
    return _safe(
        {
            "label": N_("Followers").render(lang),
            "labels": [lang.date(p.start.date(), "short") for p in points],
            "values": [p.followers for p in points],
        }
    )
