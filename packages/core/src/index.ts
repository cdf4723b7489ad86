/** Pure domain rules: thresholds, mode decision, prune-height safety, availability budget, schemas. */
export {}
