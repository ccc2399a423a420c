"""The score a scoring tool (HubSpot, Mautic, Marketo) is given for any policy: the points
model of an ``mql`` or ``weighted_titles`` policy, or, for rules that count people
(``mqa_count``, ``stages``), a company score of counting activities as a pre-filter with the
account criteria in words beside it (what the tool cannot score, stated, never dropped)."""

from __future__ import annotations

from policies.export.abm import criteria_lines
from policies.export.common import Limitation
from policies.export.scoring import ScoreModel, count_model, score_model
from policies.schema import MqaCount, PolicyBase, Stages


def prepare(
    policy: PolicyBase, target: str, company_score: bool = True
) -> tuple[ScoreModel, list[Limitation], list[str]]:
    """(the score, limitations beyond the score's own, the account criteria in words: empty
    for a score policy). ``company_score``: whether the target can score a company from its
    contacts' activities. Another kind is a ``ValueError``."""
    model = score_model(policy, target)
    if model is not None:
        return model, [], []
    if isinstance(policy, MqaCount | Stages):
        model, extra = count_model(policy, target, company_score)
        return model, extra, criteria_lines(policy)
    raise ValueError(f"kind {policy.kind!r} cannot be exported to {target}")
