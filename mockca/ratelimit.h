/* ratelimit.h: sliding-window rate limits, keyed by strings ("orders:acct-7",
 * "failed-authz:example.com", "accounts:127.0.0.1"). A limit is N events per window; an
 * event over it is refused with the time until the oldest counted event leaves the window,
 * which the server sends as Retry-After. Time comes from the clock, so a test can advance
 * past a window at once. Bounded: at most RATELIMIT_MAX_KEYS keys and RATELIMIT_MAX_EVENTS
 * events in all, the least recently used keys dropped past either. Thread-safe. */
#ifndef MOCKCA_RATELIMIT_H
#define MOCKCA_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/err.h"

#define RATELIMIT_MAX_KEYS 100000
#define RATELIMIT_MAX_LIMIT 100000  /* events per window one key may count */
#define RATELIMIT_MAX_EVENTS 1000000 /* events held over all keys (8 MB of timestamps); past
                                        it the least recently used keys are dropped */
#define RATELIMIT_KEY_MAX 1024      /* longer keys (and NULL or "") are MC_ERR_INVALID */

struct ratelimit;

struct ratelimit *ratelimit_new(const struct mc_clock *clock); /* NULL when out of memory */
void ratelimit_free(struct ratelimit *rl); /* NULL ok */

/* Counts one event for key against limit per window_ms when it fits: MC_OK. When it does
 * not, nothing is counted, MC_ERR_LIMIT, and *retry_after_ms (if not NULL) is how long until
 * one more would fit (at least 1). limit 0 means no limit (always MC_OK, nothing counted).
 * MC_ERR_INVALID for limit above RATELIMIT_MAX_LIMIT or window_ms <= 0. */
MC_MUST_CHECK enum mc_err ratelimit_take(struct ratelimit *rl, const char *key, unsigned limit,
                                         int64_t window_ms, int64_t *retry_after_ms);
/* Counts an event without checking (for limits on failures, counted after the fact). */
void ratelimit_record(struct ratelimit *rl, const char *key, int64_t window_ms);
/* How many events key has within the last window_ms. */
unsigned ratelimit_count(struct ratelimit *rl, const char *key, int64_t window_ms);
void ratelimit_reset(struct ratelimit *rl); /* forgets every key */

#endif
