"""Fixed vocabularies of the data contracts (``sim.tables``): activities, stages, roles,
seniority, departments, personas."""

from __future__ import annotations

from typing import Literal, get_args

# What marketing sees and the simulated world draws: touches with a person or an account.
MarketingActivity = Literal[
    "impression",
    "ad_click",
    "web_visit",
    "pricing_visit",
    "content_download",
    "email_open",
    "email_click",
    "webinar",
    "event",
    "demo_request",
    "intent_signal",
]
MARKETING_ACTIVITIES: tuple[MarketingActivity, ...] = get_args(MarketingActivity)

# Sales touches, as a CRM logs them: a call, a meeting, an email a salesperson sends, a reply to
# one, a task. Real exports have them; the simulated world does not draw them (its sales side is
# sim.sales). Marketing rules ignore them unless they say ``include_sales_touches: true``.
SalesActivity = Literal["call", "meeting", "sales_email", "email_reply", "task"]
SALES_ACTIVITIES: tuple[SalesActivity, ...] = get_args(SalesActivity)

# Every activity, the marketing ones first (the sales ones are appended, so the index of a
# marketing activity, and the code of an activity Categorical, is what it always was).
# What the email platform logs that is not a touch by a person: a delivery. No rule counts
# it; a policy's declared filters may read it (clicks within seconds of delivery).
SystemActivity = Literal["email_delivered"]
SYSTEM_ACTIVITIES: tuple[SystemActivity, ...] = get_args(SystemActivity)
Activity = Literal[MarketingActivity, SalesActivity, SystemActivity]
ACTIVITIES: tuple[Activity, ...] = (*MARKETING_ACTIVITIES, *SALES_ACTIVITIES, *SYSTEM_ACTIVITIES)


def is_sales_touch(activity: str) -> bool:
    """Is ``activity`` a sales touch (one of :data:`SALES_ACTIVITIES`)?

    >>> is_sales_touch("meeting"), is_sales_touch("demo_request")
    (True, False)
    """
    return activity in SALES_ACTIVITIES


# The latent journey. ``decision`` is where it ends; "background" is the behaviour of people who
# are not (or no longer) in an active buying journey.
JOURNEY_STAGES: tuple[str, ...] = ("unaware", "aware", "engaged", "qualified", "sales_ready")
RateStage = Literal["background", "unaware", "aware", "engaged", "qualified", "sales_ready"]
RATE_STAGES: tuple[str, ...] = get_args(RateStage)
JoinStage = Literal["aware", "engaged", "qualified", "sales_ready"]

Role = Literal["decision_maker", "champion", "influencer", "user", "procurement", "blocker"]
ROLES: tuple[Role, ...] = get_args(Role)
NO_ROLE = "none"

Seniority = Literal["c_level", "vp", "director", "manager", "individual"]
SENIORITIES: tuple[Seniority, ...] = get_args(Seniority)

Department = Literal[
    "security", "it", "engineering", "operations", "finance", "procurement", "legal", "executive"
]
DEPARTMENTS: tuple[Department, ...] = get_args(Department)

Persona = Literal["junior_staff", "student", "job_seeker", "competitor", "existing_user", "partner"]
PERSONAS: tuple[Persona, ...] = get_args(Persona)

# Departments recorded for people outside the buying committee.
PERSONA_DEPARTMENT = {
    "junior_staff": "it",
    "student": "external",
    "job_seeker": "external",
    "competitor": "external",
    "existing_user": "security",
    "partner": "external",
}

DECISIONS: tuple[str, ...] = ("buy", "no_decision")

# A CRM opportunity's status (the opportunities file, sim.tables.OPPORTUNITIES).
OpportunityStatus = Literal["open", "won", "lost"]
OPPORTUNITY_STATUSES: tuple[OpportunityStatus, ...] = get_args(OpportunityStatus)
# The opportunity type an accounts file's single opportunity has, and the default counted type.
NEW_BUSINESS = "new_business"
