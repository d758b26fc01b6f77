/* retry.h: when to try again. Retry-After (RFC 9110 section 10.2.3) in both of its forms,
 * and exponential backoff with jitter (so that many clients refused at once do not all
 * come back at once) for when the server names no time. */
#ifndef CERTCLI_RETRY_H
#define CERTCLI_RETRY_H

#include <stdint.h>

#include "common/err.h"
#include "common/prng.h"

/* The largest wait a Retry-After can express here (about 10 years): a bigger value, or
 * more digits than fit, is clamped to it instead of overflowing. */
#define RETRY_AFTER_MAX_S ((int64_t)315360000)
#define RETRY_MAX_HEADER 128 /* a longer Retry-After value is refused */

/* Parses a Retry-After value into seconds from now (clamped at 0 for dates in the past
 * and at RETRY_AFTER_MAX_S): delta-seconds (1*DIGIT), or an HTTP-date in any of the three
 * forms RFC 9110 section 5.6.7 says a recipient must accept: IMF-fixdate
 * ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form ("Sunday, 06-Nov-94
 * 08:49:37 GMT", its two-digit year read as the latest year that is not more than 50
 * years in the future of now) and asctime ("Sun Nov  6 08:49:37 1994"). now is Unix
 * seconds. Surrounding spaces and tabs are ignored. MC_ERR_INVALID for anything else: a
 * sign, a fraction, a date that does not exist (Feb 29 of a common year), an unknown
 * month or day name, NULL, an empty or over-long value. */
MC_MUST_CHECK enum mc_err retry_after_parse(const char *value, int64_t now, int64_t *out_s);

enum retry_jitter {
    RETRY_JITTER_NONE = 0, /* the plain exponential value */
    RETRY_JITTER_FULL,     /* uniform in [0, d]: the best spread, may retry at once */
    RETRY_JITTER_EQUAL,    /* d/2 + uniform in [0, d/2]: never sooner than half */
};

/* The wait before retry number attempt (0 for the first retry) in milliseconds:
 * d = min(cap_ms, base_ms * 2^attempt) with jitter applied from p (p may be NULL only
 * with RETRY_JITTER_NONE). Never overflows; negative inputs count as 0; a cap below
 * base caps. */
int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, enum retry_jitter j,
                         struct prng *p);

#endif
