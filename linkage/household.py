"""Household evidence: the members of a census household who still live together.

The census records a household; GP and DWP records carry only a current address. People
move as households, so when the other members of a census household are already linked,
with confidence, to GP records at one postcode, a GP candidate for the remaining member at
that same postcode is far more likely to be theirs than a namesake elsewhere (ONS's
"associative" matching of household members).

After Splink has scored the pairs, every pair of a record with a household (census) and a
record of another source gets an extra comparison, ``household``:

- *agrees*: the other record's postcode is the postcode of a record of its source already
  linked directly (at :data:`ANCHOR_PROBABILITY`) to another member of the household;
- *disagrees*: other members are linked in that source, at other postcodes;
- *null*: no other member is linked in that source, the postcode is missing, or the
  candidate is already linked to another member (a relative's own record).

Its m and u are estimated from the scored pairs themselves, one expectation-maximisation
step holding the rest of the model fixed: m is the share of agreeing pairs weighted by each
pair's match probability, u the same weighted by one minus it. The Bayes factor is added to
the pair's match weight (``mw_household``) and its probability recomputed.

The steps are SQL run on the linkage engine (:func:`linkage.sql_steps.add_household_evidence`);
this module holds the idea, the anchor and the weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ANCHOR_PROBABILITY = 0.9
"""Links at least this probable tell where a household's other members are now."""

_BOUND = 1e-6
"""m and u are kept within [bound, 1 - bound] so that no weight is infinite."""


@dataclass(frozen=True)
class HouseholdWeights:
    """The estimated m and u of household agreement, and the weights they give."""

    m: float
    u: float
    pairs_with_information: int

    @property
    def agree_weight(self) -> float:
        """Match weight (log2 Bayes factor) added when the household agrees."""
        return math.log2(self.m / self.u)

    @property
    def disagree_weight(self) -> float:
        """Match weight added when other members are linked at other postcodes."""
        return math.log2((1 - self.m) / (1 - self.u))

    def as_dict(self) -> dict[str, float | int]:
        """For the run summary."""
        return {
            "m": self.m,
            "u": self.u,
            "agree_weight": self.agree_weight,
            "disagree_weight": self.disagree_weight,
            "pairs_with_information": self.pairs_with_information,
            "anchor_probability": ANCHOR_PROBABILITY,
        }


def weights_from_sums(
    agree_p: float, p: float, agree_q: float, q: float, pairs: int
) -> HouseholdWeights:
    """One EM step for the household comparison, from sums over the pairs that carry
    household information (each with match probability ``p`` and ``q = 1 - p``): m is the
    share of agreeing pairs weighted by ``p`` (``agree_p / p``), u the same weighted by
    ``q``. The engine computes the sums (:func:`linkage.sql_steps.household_weights`)."""
    m = agree_p / max(p, _BOUND)
    u = agree_q / max(q, _BOUND)
    bounded = [min(max(x, _BOUND), 1 - _BOUND) for x in (m, u)]
    return HouseholdWeights(bounded[0], bounded[1], pairs)
