"""The near-X evaluation: does an agent find the hotels near a place? See evalharness.nearx.cases (the set),
evalharness.nearx.phrasings (how its users ask; evaluation only), evalharness.nearx.scoring (task success) and
evalharness.nearx.run (the dialogue loop over the set)."""
