/* common/clock.c: real time plus an offset, or a frozen instant. */
#include "common/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* RFC 3339 needs a four-digit year: 0000-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. */
#define CLOCK_MIN_MS (-62167219200000LL)
#define CLOCK_MAX_MS (253402300799999LL)

struct mc_clock {
    /* Readers take the lock too (through a cast: the const in the API means "does not
     * change the virtual time", not "touches no memory"). */
    pthread_mutex_t mu;
    bool frozen;
    int64_t offset_ms; /* running: virtual = real + offset_ms */
    int64_t frozen_ms; /* frozen: virtual = frozen_ms */
};

static int64_t clock_real_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a + b, saturated to the int64 range so that a wild advance cannot overflow. */
static int64_t clock_sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t clock_sat_sub(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int64_t clock_virtual_locked(const struct mc_clock *c)
{
    if (c->frozen)
        return c->frozen_ms;
    return clock_sat_add(clock_real_ms(), c->offset_ms);
}

struct mc_clock *clock_new(void)
{
    struct mc_clock *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return NULL;
    }
    return c;
}

void clock_free(struct mc_clock *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int64_t clock_now_ms(const struct mc_clock *c)
{
    if (c == NULL)
        return clock_real_ms();
    struct mc_clock *m = (struct mc_clock *)c;
    pthread_mutex_lock(&m->mu);
    int64_t now = clock_virtual_locked(m);
    pthread_mutex_unlock(&m->mu);
    return now;
}

int64_t clock_now(const struct mc_clock *c)
{
    int64_t ms = clock_now_ms(c);
    /* Floor division, so an instant before 1970 rounds down like time() would. */
    int64_t s = ms / 1000;
    if (ms % 1000 < 0)
        s--;
    return s;
}

void clock_freeze(struct mc_clock *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (!c->frozen) {
        c->frozen_ms = clock_virtual_locked(c);
        c->frozen = true;
    }
    pthread_mutex_unlock(&c->mu);
}

void clock_resume(struct mc_clock *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->frozen) {
        c->offset_ms = clock_sat_sub(c->frozen_ms, clock_real_ms());
        c->frozen = false;
    }
    pthread_mutex_unlock(&c->mu);
}

void clock_set(struct mc_clock *c, int64_t epoch_ms)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->frozen)
        c->frozen_ms = epoch_ms;
    else
        c->offset_ms = clock_sat_sub(epoch_ms, clock_real_ms());
    pthread_mutex_unlock(&c->mu);
}

void clock_advance(struct mc_clock *c, int64_t delta_ms)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (c->frozen)
        c->frozen_ms = clock_sat_add(c->frozen_ms, delta_ms);
    else
        c->offset_ms = clock_sat_add(c->offset_ms, delta_ms);
    pthread_mutex_unlock(&c->mu);
}

void clock_reset(struct mc_clock *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    c->frozen = false;
    c->offset_ms = 0;
    c->frozen_ms = 0;
    pthread_mutex_unlock(&c->mu);
}

bool clock_is_frozen(const struct mc_clock *c)
{
    if (c == NULL)
        return false;
    struct mc_clock *m = (struct mc_clock *)c;
    pthread_mutex_lock(&m->mu);
    bool f = m->frozen;
    pthread_mutex_unlock(&m->mu);
    return f;
}

const char *clock_format_rfc3339(int64_t epoch_ms, char *buf, size_t n)
{
    if (buf == NULL || n == 0)
        return buf;
    /* Clamp rather than print a five-digit or negative year that RFC 3339 cannot hold. */
    if (epoch_ms < CLOCK_MIN_MS)
        epoch_ms = CLOCK_MIN_MS;
    if (epoch_ms > CLOCK_MAX_MS)
        epoch_ms = CLOCK_MAX_MS;
    int64_t secs = epoch_ms / 1000;
    int64_t ms = epoch_ms % 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        snprintf(buf, n, "1970-01-01T00:00:00.000Z");
        return buf;
    }
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    return buf;
}
