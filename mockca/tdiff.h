/* tdiff.h: `mockca diff OLD NEW`, the protocol regression check over two transcripts
 * (transcript.h).
 *
 * Both sides are normalized first, so that what differs from run to run by design does
 * not count: nonces, ids in URLs (ACME ids, CertCentral numbers), the host and port of
 * every URL, keys and JWKs, dates (RFC 3339 and HTTP-dates), serials and other long hex,
 * tokens and base64url blobs, PEM certificates, and the seq/time of each record. Then the
 * two sequences of exchanges are aligned on listener + method + normalized path (a longest
 * common subsequence), and for each aligned pair the status, the headers (by name) and the
 * JSON fields of both bodies (by path such as "identifiers[0].type", type changes noted)
 * are compared. Unaligned exchanges are reported as new or missing requests.
 *
 * Polling repeats (the same key several times in a row: a client waiting on an order) vary
 * with timing; by default a run of them counts as one exchange, the last. */
#ifndef MOCKCA_TDIFF_H
#define MOCKCA_TDIFF_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define TD_MAX_RECORDS 4000 /* per side, after collapsing; the alignment is quadratic */

struct td_options {
    bool keep_repeats; /* do not collapse polling repeats */
};

/* A normalized copy of one record (caller deletes), NULL when out of memory. */
cJSON *td_normalize(const cJSON *rec);

/* Compares two arrays of records. *out is the result model (caller deletes):
 *   {"equal": bool, "old": N, "new": M, "changes": [{"kind": "missing"|"new"|"changed",
 *    "key": "acme POST /order-plz", "old_index": i|null, "new_index": j|null,
 *    "diffs": [{"what": "status"|"header"|"field", "side": "request"|"response",
 *               "name": NAME or PATH, "change": "added"|"removed"|"changed"|"type",
 *               "old": ..., "new": ...}]}]}
 * Indexes are 0-based positions in the input arrays. MC_ERR_TOO_BIG past TD_MAX_RECORDS. */
MC_MUST_CHECK enum mc_err td_diff(const cJSON *old_recs, const cJSON *new_recs,
                                  const struct td_options *opt, cJSON **out);

/* Prints the result model as text lines ("+ new ...", "- missing ...", "~ changed ...")
 * to f; prints "no protocol changes" when equal. */
void td_print(const cJSON *result, FILE *f);

/* The `mockca diff [--json] [--keep-repeats] OLD NEW` command: argv[0] is "diff". Returns
 * the exit status: 0 equal, 1 different, 2 usage or read error. */
int td_main(int argc, char **argv);

#endif
