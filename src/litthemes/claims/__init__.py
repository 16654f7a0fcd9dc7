"""Claims stage: the quantitative statements sources make, with their source.

Percentages, money amounts, counts of learners, badges or credentials, and growth
statements in abstracts and full texts (:mod:`litthemes.claims.spans`), each with its
sentence and a citation (:mod:`litthemes.claims.ledger`): the ledger a policy brief cites.
The ledger depends on the texts, not on the coding, so a codebook edit leaves it be.
"""

from __future__ import annotations

from litthemes.claims.ledger import CLAIM_COLUMNS, ledger
from litthemes.claims.run import find_claims
from litthemes.claims.spans import PATTERNS, claim_spans, may_hold_claim

__all__ = ["CLAIM_COLUMNS", "PATTERNS", "claim_spans", "find_claims", "ledger", "may_hold_claim"]
