"""Stage 3, dedup: which story each new article joins.

Takes articles' texts; computes their `Features` (normalised text hash,
64-bit simhash, sentence hashes, figures) and, against the stored items'
index (`DedupIndex`, kept by `store`) and the feed's earlier items, decides
with `assign_stories` whether each is a repost of a stored story (and why)
or a new story. Hands on those decisions to `store`. The rules and the
evidence for their thresholds are in `rules`. Pure computation: the stored
items are read through the small `StoredItems` interface.
"""

from .boilerplate import RECENT, learned, without_boilerplate
from .features import Features, Shingles, compared_many, shingles_of, warm_up
from .index import DedupIndex
from .rules import MIN_SHARED_SENTENCE_SHARE, Candidate, confirmable, headlines_agree
from .stories import Decision, StoredItems, assign_stories, same_article

__all__ = [
    "MIN_SHARED_SENTENCE_SHARE",
    "RECENT",
    "Candidate",
    "Decision",
    "DedupIndex",
    "Features",
    "Shingles",
    "StoredItems",
    "assign_stories",
    "compared_many",
    "confirmable",
    "headlines_agree",
    "learned",
    "same_article",
    "shingles_of",
    "without_boilerplate",
    "warm_up",
]
