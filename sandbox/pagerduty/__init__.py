"""A local PagerDuty Events API v2 (`POST /v2/enqueue`) for tests and the dev sandbox.

with PagerDutySandbox() as pd:          # pd.url + "/v2/enqueue"
    ...
    pd.alerts()                          # what PagerDuty would now show, by dedup key
"""

from sandbox.pagerduty.app import PagerDutySandbox, build_app
from sandbox.pagerduty.events import Alert, EventLog, validate_event

__all__ = ["Alert", "EventLog", "PagerDutySandbox", "build_app", "validate_event"]
