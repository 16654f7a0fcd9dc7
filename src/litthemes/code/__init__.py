"""Code stage: deductive coding of segments and records with the codebook.

The model, per segment (a title, sentence or passage) and code:

- lexical evidence (:mod:`litthemes.code.lexical`): the code's cue occurrences, each
  counting 1 (a term or token pattern) or ``weak_cue_weight`` (a weak term, or a term
  right after a negation); ``lexical`` is that count capped at 1;
- semantic evidence (:mod:`litthemes.code.semantic`): the probability of the code given
  the segment's embedding, from a logistic regression fitted on the codebook's
  prototypes with its ``background`` texts as "none of the codes" (or, with
  ``code.training``, on human-coded passages: :mod:`litthemes.code.train`);
- both kinds of theme evidence are scaled by the segment's reach, 0 for a segment unlike
  every prototype of the codebook (``semantic_min_similarity``), where a cue is another
  sense of the word and the probabilities an extrapolation;
- ``score`` = ``lexical_weight`` * lexical + (1 - ``lexical_weight``) * semantic, in
  [0, 1] for every code;
- ``evidence`` = cue count + ``semantic_weight`` * semantic, and ``share``, the code's
  part of the evidence of all codes of its dimension in that segment.

A segment carries a code (``present``) when a cue occurs and the score reaches
``present_threshold`` (a term, two weak terms, or a weak term the embedding supports),
or, without a cue, when the code is the segment's most likely one, its probability
reaches ``semantic_threshold`` and the segment's similarity to the code's closest
prototype reaches ``semantic_only_min_similarity`` (codes learnt from human codes always
pass); a theme must also have at least ``min_share`` of the segment's theme evidence, so
that a passing mention in a sentence about something else is not coded.

Per record and code (:func:`aggregate`): ``present`` when some segment carries the
code, or, for the record's main theme, when its evidence in segments near the codebook
(``near``: as close as ``semantic_only_min_similarity``) adds up to ``main_min_evidence``;
``salience``, the code's share of the record's evidence for its dimension (how
much of the text is about it); ``rank``, 1 for the record's main theme by salience
(ties broken by score, then codebook order; 0 where a code has no evidence); ``score``,
the best segment's score.
"""

from __future__ import annotations

from litthemes.code.lexical import CueHit, LexicalCoder, cue_mass, lexical_fingerprint
from litthemes.code.score import aggregate, code_segments, evidence, main_theme
from litthemes.code.semantic import PrototypeClassifier
from litthemes.codebook import THEME

__all__ = [
    "THEME",
    "CueHit",
    "LexicalCoder",
    "PrototypeClassifier",
    "aggregate",
    "code_segments",
    "cue_mass",
    "evidence",
    "lexical_fingerprint",
    "main_theme",
]
