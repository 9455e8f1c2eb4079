"""Load against a real server process: what each request got back, for the fault tests.

Every answer is classified once (`Outcome`), so a test asserts over the whole run: which
statuses and codes came back, and which writes were acknowledged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_LATER = {"SERVICE_UNAVAILABLE", "TRY_AGAIN"}


@dataclass(frozen=True)
class Outcome:
    """One answer: `ok` (200, no errors), `retry:<CODE>` (503 with Retry-After and a
    retry code), `transport:<error>` (no HTTP answer) or `bad:<status>` (anything else)."""

    kind: str
    body: Any = None


def classify(response: httpx.Response) -> Outcome:
    try:
        body = response.json()
    except ValueError:
        return Outcome(f"bad:{response.status_code}", response.text)
    errors = body.get("errors") or []
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    if response.status_code == 200 and not errors:
        return Outcome("ok", body)
    if (
        response.status_code == 503
        and response.headers.get("retry-after", "").isdigit()
        and len(codes) == 1
        and codes <= RETRY_LATER
    ):
        return Outcome(f"retry:{codes.pop()}", body)
    return Outcome(f"bad:{response.status_code}", body)


@dataclass
class Tally:
    """Outcomes of a run, by kind, with one example body per unexpected kind."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, Any] = field(default_factory=dict)

    def add(self, outcome: Outcome) -> None:
        self.counts[outcome.kind] += 1
        if outcome.kind != "ok":
            self.examples.setdefault(outcome.kind, outcome.body)

    def unexpected(self) -> dict[str, Any]:
        """The kinds a fault test must never see, with an example of each."""
        return {
            kind: self.examples.get(kind)
            for kind in self.counts
            if kind != "ok" and not kind.startswith("retry:")
        }
