/* clock.h: the one source of time for the servers. A clock runs with real time plus an
 * offset, or stands frozen at a set instant; the management APIs freeze, set and advance
 * it so that expiry and renewal windows are testable at once. Thread-safe. */
#ifndef MC_CLOCK_H
#define MC_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct mc_clock;

/* A new running clock at real time (offset 0). NULL when out of memory. */
struct mc_clock *clock_new(void);
void clock_free(struct mc_clock *c); /* NULL ok */

/* Milliseconds since the Unix epoch, virtual. c may be NULL: real time. */
int64_t clock_now_ms(const struct mc_clock *c);
/* Seconds since the Unix epoch, virtual. c may be NULL: real time. */
int64_t clock_now(const struct mc_clock *c);

void clock_freeze(struct mc_clock *c);                 /* stop at the current virtual instant */
void clock_resume(struct mc_clock *c);                 /* run on from the frozen instant */
void clock_set(struct mc_clock *c, int64_t epoch_ms);  /* jump; keeps frozen/running state */
void clock_advance(struct mc_clock *c, int64_t delta_ms); /* may be negative */
void clock_reset(struct mc_clock *c);                  /* back to real time, running */
bool clock_is_frozen(const struct mc_clock *c);

/* Formats epoch_ms as RFC 3339 UTC with milliseconds ("2026-11-24T03:24:15.123Z") into
 * buf (at least 32 bytes). Returns buf. */
const char *clock_format_rfc3339(int64_t epoch_ms, char *buf, size_t n);

#endif
