/* mockca/acme/nonce.c: the anti-replay nonce store (RFC 8555 section 6.5).
 *
 * Layout: a pool of `capacity` entries addressed by 1-based uint32 index (0 is "none"),
 * threaded on two intrusive lists at once:
 *   - a chained hash set (bucket array of heads, `chain` links) for O(1) lookup by the
 *     nonce string;
 *   - a doubly linked FIFO in issue order (`prev`/`next`), whose head is the oldest unused
 *     nonce: it is the one evicted at capacity, and the one that expires first, so expiry is
 *     done lazily by popping the head while it is older than the TTL.
 * A redeemed nonce is unlinked from both in O(1) (the chain walk is O(1) on average: the
 * keys are uniformly random and an outsider cannot insert any).
 *
 * Both arrays are calloc'ed at full size up front: zero means "empty" in both, so the
 * kernel's lazily zeroed pages keep the resident size proportional to the nonces actually
 * issued, not to the capacity, and no rehash is ever needed. Entries never used yet are
 * handed out by a bump index; redeemed or expired ones go to a free list. */
#include "mockca/acme/nonce.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/b64url.h"
#include "common/log.h"

#define NONCE_RAW_LEN 16
/* Keeps indexes in uint32 and the up-front reservation sane (about 800 MiB virtual). */
#define NONCE_MAX_CAPACITY ((size_t)1 << 24)
/* A duplicate of a live 128-bit nonce means the generator is broken; retry a few times
 * before saying so. */
#define NONCE_ISSUE_TRIES 4

/* 40 bytes a slot: the nonce is kept as its 16 raw bytes, not its 22 base64url characters
 * (48 bytes a slot before, 4.8 MB at the default capacity; 4 MB now). */
struct nonce_ent {
    int64_t issued_ms;
    uint8_t nonce[NONCE_RAW_LEN];
    uint32_t chain;        /* next in the same bucket; in a free entry, next free entry */
    uint32_t prev, next;   /* FIFO neighbours, toward older / newer */
};

struct nonce_store {
    pthread_mutex_t mu;
    const struct mc_clock *clock; /* borrowed */
    int64_t ttl_ms;
    size_t capacity;
    struct nonce_ent *ents; /* ents[i - 1] is entry i */
    uint32_t *buckets;      /* heads of the hash chains */
    uint32_t mask;          /* bucket count - 1 (a power of two) */
    uint32_t fresh;         /* entries 1..fresh have been handed out at least once */
    uint32_t free_head;     /* free list through `chain` */
    uint32_t head, tail;    /* FIFO: oldest, newest */
    size_t count;           /* live (unused, unexpired-as-far-as-we-know) nonces */
};

static struct nonce_ent *nonce_ent(struct nonce_store *ns, uint32_t i)
{
    return &ns->ents[i - 1];
}

/* FNV-1a. Enough here: the keys are random bits, so no one can aim at a bucket. */
static uint32_t nonce_hash(const uint8_t *s)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < NONCE_RAW_LEN; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

static int nonce_b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

/* The 16 bytes of a nonce as nonce_issue writes it: exactly NONCE_LEN base64url
 * characters, canonical (the last one's 4 unused bits zero, so no second spelling of a
 * nonce is accepted). false otherwise. */
static bool nonce_decode(const char *s, uint8_t out[NONCE_RAW_LEN])
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < NONCE_LEN; i++) {
        int v = nonce_b64_value(s[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o < NONCE_RAW_LEN)
                out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return o == NONCE_RAW_LEN && acc == 0;
}

/* True once now is ttl_ms or more past issue. Overflow-safe for wild clock values. */
static bool nonce_expired(const struct nonce_store *ns, const struct nonce_ent *e, int64_t now)
{
    int64_t age;
    if (__builtin_sub_overflow(now, e->issued_ms, &age))
        return now > e->issued_ms;
    return age >= ns->ttl_ms;
}

static uint32_t nonce_lookup(struct nonce_store *ns, const uint8_t *s, uint32_t h)
{
    uint32_t i = ns->buckets[h & ns->mask];
    while (i != 0) {
        struct nonce_ent *e = nonce_ent(ns, i);
        if (memcmp(e->nonce, s, NONCE_RAW_LEN) == 0)
            return i;
        i = e->chain;
    }
    return 0;
}

/* Unlinks entry i from its chain and the FIFO and puts it on the free list. */
static void nonce_remove(struct nonce_store *ns, uint32_t i)
{
    struct nonce_ent *e = nonce_ent(ns, i);
    uint32_t *link = &ns->buckets[nonce_hash(e->nonce) & ns->mask];

    while (*link != i)
        link = &nonce_ent(ns, *link)->chain;
    *link = e->chain;

    if (e->prev != 0)
        nonce_ent(ns, e->prev)->next = e->next;
    else
        ns->head = e->next;
    if (e->next != 0)
        nonce_ent(ns, e->next)->prev = e->prev;
    else
        ns->tail = e->prev;

    memset(e, 0, sizeof(*e));
    e->chain = ns->free_head;
    ns->free_head = i;
    ns->count--;
}

/* Drops expired nonces from the old end. Issue order is time order unless the clock was
 * stepped backwards; then an older-stamped entry may sit behind a newer one and is caught
 * when it reaches the head, or by nonce_redeem's own check. */
static void nonce_expire(struct nonce_store *ns, int64_t now)
{
    while (ns->head != 0 && nonce_expired(ns, nonce_ent(ns, ns->head), now))
        nonce_remove(ns, ns->head);
}

/* An entry to fill: a free one, a never-used one, or, at capacity, the oldest live one. */
static uint32_t nonce_alloc(struct nonce_store *ns)
{
    uint32_t i;
    if (ns->free_head == 0 && ns->fresh < ns->capacity)
        return ++ns->fresh;
    if (ns->free_head == 0)
        nonce_remove(ns, ns->head); /* at capacity: forget the oldest unused nonce */
    i = ns->free_head;
    ns->free_head = nonce_ent(ns, i)->chain;
    return i;
}

struct nonce_store *nonce_store_new(size_t capacity, int64_t ttl_ms, const struct mc_clock *clock)
{
    struct nonce_store *ns = NULL;
    size_t nb = 1;

    if (capacity == 0)
        capacity = NONCE_DEFAULT_CAPACITY;
    if (capacity > NONCE_MAX_CAPACITY)
        capacity = NONCE_MAX_CAPACITY;
    /* A negative TTL would expire every nonce at birth; treat it like 0 (the default). */
    if (ttl_ms <= 0)
        ttl_ms = NONCE_DEFAULT_TTL_MS;
    while (nb < capacity)
        nb <<= 1;

    ns = calloc(1, sizeof(*ns));
    if (ns == NULL)
        return NULL;
    if (pthread_mutex_init(&ns->mu, NULL) != 0) {
        free(ns);
        return NULL;
    }
    ns->clock = clock;
    ns->ttl_ms = ttl_ms;
    ns->capacity = capacity;
    ns->mask = (uint32_t)(nb - 1);
    ns->ents = calloc(capacity, sizeof(*ns->ents));
    ns->buckets = calloc(nb, sizeof(*ns->buckets));
    if (ns->ents == NULL || ns->buckets == NULL) {
        nonce_store_free(ns);
        return NULL;
    }
    return ns;
}

void nonce_store_free(struct nonce_store *ns)
{
    if (ns == NULL)
        return;
    pthread_mutex_destroy(&ns->mu);
    free(ns->ents);
    free(ns->buckets);
    free(ns);
}

enum mc_err nonce_issue(struct nonce_store *ns, char out[NONCE_LEN + 1])
{
    uint8_t raw[NONCE_RAW_LEN];
    char *enc = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    if (ns == NULL || out == NULL)
        return MC_ERR_INVALID;
    out[0] = '\0';
    for (int tries = 0; tries < NONCE_ISSUE_TRIES; tries++) {
        if (RAND_bytes(raw, sizeof(raw)) != 1) {
            log_openssl_errors(LOGL_ERROR, "nonce.rand");
            err = MC_ERR_CRYPTO;
            goto out;
        }
        free(enc);
        enc = NULL;
        err = b64url_encode(raw, sizeof(raw), &enc);
        if (err != MC_OK)
            goto out;

        uint32_t h = nonce_hash(raw);
        pthread_mutex_lock(&ns->mu);
        int64_t now = clock_now_ms(ns->clock);
        nonce_expire(ns, now);
        if (nonce_lookup(ns, raw, h) != 0) {
            pthread_mutex_unlock(&ns->mu);
            err = MC_ERR_CRYPTO;
            continue;
        }
        uint32_t i = nonce_alloc(ns);
        struct nonce_ent *e = nonce_ent(ns, i);
        memcpy(e->nonce, raw, NONCE_RAW_LEN);
        e->issued_ms = now;
        e->chain = ns->buckets[h & ns->mask];
        ns->buckets[h & ns->mask] = i;
        e->prev = ns->tail;
        e->next = 0;
        if (ns->tail != 0)
            nonce_ent(ns, ns->tail)->next = i;
        else
            ns->head = i;
        ns->tail = i;
        ns->count++;
        pthread_mutex_unlock(&ns->mu);

        memcpy(out, enc, NONCE_LEN);
        out[NONCE_LEN] = '\0';
        err = MC_OK;
        goto out;
    }
    log_msg(LOGL_ERROR, "nonce.duplicate", "tries=%d", NONCE_ISSUE_TRIES);
out:
    free(enc);
    OPENSSL_cleanse(raw, sizeof(raw));
    return err;
}

enum mc_err nonce_redeem(struct nonce_store *ns, const char *nonce)
{
    enum mc_err err = MC_ERR_NOT_FOUND;
    uint8_t raw[NONCE_RAW_LEN];

    /* Malformed input is refused before the lock: it can never match, and a flood of
     * garbage nonces should not contend with real traffic. */
    if (ns == NULL || nonce == NULL || strnlen(nonce, NONCE_LEN + 1) != NONCE_LEN ||
        !nonce_decode(nonce, raw))
        return MC_ERR_NOT_FOUND;

    uint32_t h = nonce_hash(raw);
    pthread_mutex_lock(&ns->mu);
    int64_t now = clock_now_ms(ns->clock);
    nonce_expire(ns, now);
    uint32_t i = nonce_lookup(ns, raw, h);
    if (i != 0) {
        /* Expired but not yet at the head (the clock went backwards in between): used up
         * either way. */
        if (!nonce_expired(ns, nonce_ent(ns, i), now))
            err = MC_OK;
        nonce_remove(ns, i);
    }
    pthread_mutex_unlock(&ns->mu);
    return err;
}

size_t nonce_store_count(struct nonce_store *ns)
{
    size_t n;
    if (ns == NULL)
        return 0;
    pthread_mutex_lock(&ns->mu);
    nonce_expire(ns, clock_now_ms(ns->clock));
    n = ns->count;
    pthread_mutex_unlock(&ns->mu);
    return n;
}
