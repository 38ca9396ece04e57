/* suggest.h - "did you mean ...?" for a mistyped name (a flag, a store
 * scheme): the candidate closest to the word by edit distance, when it is
 * close enough to be the one meant. Pure functions; any thread. */
#ifndef TP_SUGGEST_H
#define TP_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance (insertions, deletions, substitutions; an adjacent
 * swap counts 1) between a and b, compared case-insensitively, capped at
 * 64-character words (longer ones count as far apart). */
size_t tp_edit_distance(const char *a, size_t alen, const char *b);

/* The candidate nearest to word (the first of equals), if its distance
 * is at most 2 and under half the word's length; else NULL. */
const char *tp_suggest(const char *word, size_t wlen, const char *const *cands, size_t n);

#endif
