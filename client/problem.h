/* problem.h: reading an RFC 7807 / RFC 8555 section 6.7 problem document into a struct
 * sess_problem, for the session (a refused request's body) and the issuance flow (an
 * authorization's or order's "error" member). Internal to libcertcli. Prefix prob_. */
#ifndef CLIENT_PROBLEM_H
#define CLIENT_PROBLEM_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "client/session.h"
#include "common/err.h"

#define PROB_MAX_TYPE 256    /* a longer type or subproblem type is truncated */
#define PROB_MAX_DETAIL 2048 /* a longer detail is truncated */

/* Frees what p holds and zeroes it (retry_after_s -1). p may be NULL. */
void prob_clear(struct sess_problem *p);

/* Fills p's type, detail and subproblems (at most max_sub) from problem document j, which
 * may be NULL or not an object: type is "about:blank" when absent (RFC 7807 section 3.1),
 * detail NULL when absent; a subproblem that is not an object is skipped (RFC 8555 section
 * 6.7.1), one without a type gets "about:blank", its identifier is kept only with both type
 * and value strings. Strings are capped (PROB_MAX_*). status and retry_after_s are left to
 * the caller. p must be zeroed or cleared first; on MC_ERR_NOMEM it holds a part, which
 * prob_clear frees. */
enum mc_err prob_from_json(const cJSON *j, size_t max_sub, struct sess_problem *p) MC_MUST_CHECK;

#endif
