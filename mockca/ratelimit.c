/* mockca/ratelimit.c: sliding-window rate limits.
 *
 * Per key, a ring of event timestamps (ms, from the clock), oldest first. ratelimit_take
 * first drops the events that have left the window, then counts one more if fewer than
 * `limit` remain, so a key used only through take never holds more than `limit` events
 * and a window slides: each event frees its slot exactly window_ms after it was counted
 * (not at a fixed boundary). An event at t counts while now - t < window_ms.
 *
 * Keys live in a chained hash table (seeded FNV-1a) and on an LRU list; past
 * RATELIMIT_KEY_BOUND keys the least recently used one (take, record or count all count as
 * use) is forgotten, with its events.
 *
 * One key is meant to be used with one (limit, window). If callers mix them:
 *   - events older than the smallest window used are dropped by that caller's take/record,
 *     so a caller with a longer window then counts fewer (is more lenient);
 *   - a take with a lower limit than the events held is refused until enough of them age
 *     out; its retry-after is when the count drops below its own limit;
 *   - ratelimit_count never drops events, so it answers for any window up to the smallest
 *     one the key was pruned with.
 * The clock may be stepped backwards by a test: a new event is then stamped no earlier
 * than the newest one held, so the ring stays sorted (and the limit errs on the strict
 * side until the clock catches up).
 *
 * Memory: a ring grows by doubling as events arrive and shrinks when mostly empty, so it is
 * about 8 bytes per event inside the window, plus about 100 bytes and the key per key. */
#include "mockca/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* A test may #define lower bounds before including this file. */
#ifndef RATELIMIT_KEY_BOUND
#define RATELIMIT_KEY_BOUND RATELIMIT_MAX_KEYS
#endif
#ifndef RATELIMIT_EVENT_BOUND
#define RATELIMIT_EVENT_BOUND RATELIMIT_MAX_EVENTS
#endif
#define RATELIMIT_RING_MIN 4

struct rl_key {
    struct rl_key *chain;         /* next in the same bucket */
    struct rl_key *newer, *older; /* LRU list neighbours */
    uint64_t hash;
    int64_t *ts;             /* ring of cap timestamps */
    uint32_t cap, head, len; /* head: index of the oldest */
    char name[];             /* NUL-terminated key */
};

struct ratelimit {
    pthread_mutex_t mu;
    const struct mc_clock *clock; /* borrowed */
    uint64_t seed;                /* so an outsider cannot aim keys at one bucket */
    struct rl_key **buckets;
    size_t mask;
    size_t nkeys;
    size_t nevents;           /* events held over every key: the memory bound */
    struct rl_key *mru, *lru; /* LRU list ends */
};

static uint64_t rl_hash(const struct ratelimit *rl, const char *key, size_t n)
{
    uint64_t h = 14695981039346656037ull ^ rl->seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static int64_t rl_at(const struct rl_key *k, uint32_t i)
{
    return k->ts[(k->head + i) % k->cap];
}

/* True if an event at t is still inside a window of window_ms ending at now. */
static bool rl_in_window(int64_t t, int64_t now, int64_t window_ms)
{
    int64_t age;
    if (__builtin_sub_overflow(now, t, &age))
        return now < t;
    return age < window_ms;
}

/* Number of events held by k that are inside the window. The ring is sorted, so the
 * expired ones are a prefix: binary search for its end. */
static uint32_t rl_expired_prefix(const struct rl_key *k, int64_t now, int64_t window_ms)
{
    uint32_t lo = 0, hi = k->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (rl_in_window(rl_at(k, mid), now, window_ms))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Copies the ring into a new array of newcap slots (newcap >= len). False when out of
 * memory, with k unchanged. */
static bool rl_resize(struct rl_key *k, uint32_t newcap)
{
    int64_t *ts = malloc((size_t)newcap * sizeof(*ts));
    if (ts == NULL)
        return false;
    for (uint32_t i = 0; i < k->len; i++)
        ts[i] = rl_at(k, i);
    free(k->ts);
    k->ts = ts;
    k->cap = newcap;
    k->head = 0;
    return true;
}

static void rl_prune(struct ratelimit *rl, struct rl_key *k, int64_t now, int64_t window_ms)
{
    uint32_t n = rl_expired_prefix(k, now, window_ms);
    if (n == 0)
        return;
    k->head = (k->head + n) % k->cap;
    k->len -= n;
    rl->nevents -= n;
    /* Give back a ring left mostly empty by a burst long gone; failing to shrink is
     * harmless. */
    if (k->cap > RATELIMIT_RING_MIN && k->len < k->cap / 4) {
        uint32_t c = k->cap / 2;
        if (c < RATELIMIT_RING_MIN)
            c = RATELIMIT_RING_MIN;
        (void)rl_resize(k, c);
    }
}

/* Appends an event at now. At RATELIMIT_MAX_LIMIT events the oldest is dropped (only
 * ratelimit_record can get there). */
static enum mc_err rl_push(struct ratelimit *rl, struct rl_key *k, int64_t now)
{
    if (k->len > 0) {
        int64_t newest = rl_at(k, k->len - 1);
        if (now < newest)
            now = newest;
    }
    if (k->len == k->cap) {
        if (k->cap >= RATELIMIT_MAX_LIMIT) {
            k->head = (k->head + 1) % k->cap;
            k->len--;
            rl->nevents--;
        } else {
            uint32_t c = k->cap == 0 ? RATELIMIT_RING_MIN : k->cap * 2;
            if (c > RATELIMIT_MAX_LIMIT)
                c = RATELIMIT_MAX_LIMIT;
            if (!rl_resize(k, c))
                return MC_ERR_NOMEM;
        }
    }
    k->ts[(k->head + k->len) % k->cap] = now;
    k->len++;
    rl->nevents++;
    return MC_OK;
}

static void rl_lru_unlink(struct ratelimit *rl, struct rl_key *k)
{
    if (k->newer != NULL)
        k->newer->older = k->older;
    else
        rl->mru = k->older;
    if (k->older != NULL)
        k->older->newer = k->newer;
    else
        rl->lru = k->newer;
    k->newer = NULL;
    k->older = NULL;
}

static void rl_lru_push(struct ratelimit *rl, struct rl_key *k)
{
    k->newer = NULL;
    k->older = rl->mru;
    if (rl->mru != NULL)
        rl->mru->newer = k;
    else
        rl->lru = k;
    rl->mru = k;
}

static void rl_key_free(struct rl_key *k)
{
    if (k == NULL)
        return;
    free(k->ts);
    free(k);
}

static void rl_drop(struct ratelimit *rl, struct rl_key *k)
{
    struct rl_key **link = &rl->buckets[k->hash & rl->mask];
    while (*link != k)
        link = &(*link)->chain;
    *link = k->chain;
    rl_lru_unlink(rl, k);
    rl->nkeys--;
    rl->nevents -= k->len;
    rl_key_free(k);
}

/* Past the event bound, drops whole keys from the least recently used end (never keep,
 * the key just used), so memory stays bounded however many keys and events arrive. */
static void rl_enforce_bound(struct ratelimit *rl, const struct rl_key *keep)
{
    while (rl->nevents > RATELIMIT_EVENT_BOUND && rl->lru != NULL && rl->lru != keep)
        rl_drop(rl, rl->lru);
}

/* Finds key (length n) and marks it most recently used; with create, adds it when absent
 * (dropping the least recently used key at the bound). NULL when absent, or out of
 * memory. */
static struct rl_key *rl_find(struct ratelimit *rl, const char *key, size_t n, bool create)
{
    uint64_t h = rl_hash(rl, key, n);
    struct rl_key *k = rl->buckets[h & rl->mask];

    for (; k != NULL; k = k->chain) {
        if (k->hash == h && memcmp(k->name, key, n + 1) == 0) {
            rl_lru_unlink(rl, k);
            rl_lru_push(rl, k);
            return k;
        }
    }
    if (!create)
        return NULL;
    k = calloc(1, sizeof(*k) + n + 1);
    if (k == NULL)
        return NULL;
    memcpy(k->name, key, n + 1);
    k->hash = h;
    if (rl->nkeys >= RATELIMIT_KEY_BOUND)
        rl_drop(rl, rl->lru);
    k->chain = rl->buckets[h & rl->mask];
    rl->buckets[h & rl->mask] = k;
    rl_lru_push(rl, k);
    rl->nkeys++;
    return k;
}

/* Length of key, or 0 when it is NULL, empty or over the cap. */
static size_t rl_key_len(const char *key)
{
    size_t n;
    if (key == NULL)
        return 0;
    n = strnlen(key, RATELIMIT_KEY_MAX + 1);
    return n > RATELIMIT_KEY_MAX ? 0 : n;
}

struct ratelimit *ratelimit_new(const struct mc_clock *clock)
{
    struct ratelimit *rl = NULL;
    size_t nb = 1;

    while (nb < RATELIMIT_KEY_BOUND)
        nb <<= 1;
    rl = calloc(1, sizeof(*rl));
    if (rl == NULL)
        return NULL;
    if (pthread_mutex_init(&rl->mu, NULL) != 0) {
        free(rl);
        return NULL;
    }
    rl->clock = clock;
    rl->mask = nb - 1;
    /* The seed is only a defence against bucket flooding: a failed RAND_bytes leaves it 0,
     * which still works. */
    if (RAND_bytes((unsigned char *)&rl->seed, sizeof(rl->seed)) != 1)
        rl->seed = 0;
    rl->buckets = calloc(nb, sizeof(*rl->buckets));
    if (rl->buckets == NULL) {
        ratelimit_free(rl);
        return NULL;
    }
    return rl;
}

static void rl_clear(struct ratelimit *rl)
{
    struct rl_key *k = rl->mru;
    while (k != NULL) {
        struct rl_key *older = k->older;
        rl_key_free(k);
        k = older;
    }
    rl->mru = NULL;
    rl->lru = NULL;
    rl->nkeys = 0;
    rl->nevents = 0;
    memset(rl->buckets, 0, (rl->mask + 1) * sizeof(*rl->buckets));
}

void ratelimit_free(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    if (rl->buckets != NULL)
        rl_clear(rl);
    pthread_mutex_destroy(&rl->mu);
    free(rl->buckets);
    free(rl);
}

enum mc_err ratelimit_take(struct ratelimit *rl, const char *key, unsigned limit, int64_t window_ms,
                           int64_t *retry_after_ms)
{
    enum mc_err err = MC_OK;
    size_t n = rl_key_len(key);

    if (retry_after_ms != NULL)
        *retry_after_ms = 0;
    if (rl == NULL || key == NULL)
        return MC_ERR_INVALID;
    if (limit == 0)
        return MC_OK;
    if (limit > RATELIMIT_MAX_LIMIT || window_ms <= 0 || n == 0)
        return MC_ERR_INVALID;

    pthread_mutex_lock(&rl->mu);
    int64_t now = clock_now_ms(rl->clock);
    struct rl_key *k = rl_find(rl, key, n, true);
    if (k == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    rl_prune(rl, k, now, window_ms);
    if (k->len < limit) {
        err = rl_push(rl, k, now);
        rl_enforce_bound(rl, k);
        goto out;
    }
    /* One more fits once all but limit - 1 of the held events have left the window, i.e.
     * when the event at len - limit does (the oldest one when a single limit is used). */
    err = MC_ERR_LIMIT;
    if (retry_after_ms != NULL) {
        int64_t t = rl_at(k, k->len - limit), r;
        if (__builtin_add_overflow(t, window_ms, &r) || __builtin_sub_overflow(r, now, &r))
            r = window_ms;
        *retry_after_ms = r < 1 ? 1 : r;
    }
out:
    pthread_mutex_unlock(&rl->mu);
    return err;
}

void ratelimit_record(struct ratelimit *rl, const char *key, int64_t window_ms)
{
    size_t n = rl_key_len(key);

    if (rl == NULL || n == 0 || window_ms <= 0)
        return;
    pthread_mutex_lock(&rl->mu);
    int64_t now = clock_now_ms(rl->clock);
    struct rl_key *k = rl_find(rl, key, n, true);
    if (k != NULL) {
        rl_prune(rl, k, now, window_ms);
        /* Out of memory loses one event: an undercount is the only safe failure of a
         * void function. */
        (void)rl_push(rl, k, now);
        rl_enforce_bound(rl, k);
    }
    pthread_mutex_unlock(&rl->mu);
}

unsigned ratelimit_count(struct ratelimit *rl, const char *key, int64_t window_ms)
{
    size_t n = rl_key_len(key);
    unsigned c = 0;

    if (rl == NULL || n == 0 || window_ms <= 0)
        return 0;
    pthread_mutex_lock(&rl->mu);
    int64_t now = clock_now_ms(rl->clock);
    struct rl_key *k = rl_find(rl, key, n, false);
    if (k != NULL)
        c = k->len - rl_expired_prefix(k, now, window_ms);
    pthread_mutex_unlock(&rl->mu);
    return c;
}

void ratelimit_reset(struct ratelimit *rl)
{
    if (rl == NULL)
        return;
    pthread_mutex_lock(&rl->mu);
    rl_clear(rl);
    pthread_mutex_unlock(&rl->mu);
}
