/* dnsmock/zone.c: the record store. A chained hash table from canonical names to nodes.
 *
 * Every ancestor of a name that holds something also has a node, whose "below" counts
 * the live nodes under it. That makes the empty non-terminal test of RFC 8020 one lookup
 * (a node exists and is live or has something below) instead of a scan, and it costs at
 * most one small node per label. A node that is neither live nor has anything below is
 * freed at once, so clear calls give their memory back. */
#include "dnsmock/zone.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Stored types, in the order ANY answers them. */
enum { ZT_A = 0, ZT_AAAA, ZT_TXT, ZT_CNAME, ZT_CAA, ZT_NS, ZT_N };

static const ldns_rr_type zone_ldns_type[ZT_N] = {
    LDNS_RR_TYPE_A,     LDNS_RR_TYPE_AAAA, LDNS_RR_TYPE_TXT,
    LDNS_RR_TYPE_CNAME, LDNS_RR_TYPE_CAA,  LDNS_RR_TYPE_NS,
};

/* One stored record's data, type-specific: A 4 bytes, AAAA 16, TXT the raw value, CNAME
 * and NS the canonical target text, CAA [flags][taglen][tag][value]. Two records of a set
 * are equal when their bytes are, which is all RFC 2136 deletes need. */
struct zone_rec {
    uint32_t ttl;
    uint32_t len;
    uint8_t *data;
};

struct zone_set {
    uint32_t n;
    struct zone_rec *recs;
};

struct zone_node {
    struct zone_node *next; /* hash chain */
    uint32_t hash;
    uint32_t below; /* live nodes strictly below this one */
    bool servfail;
    uint32_t soa_ttl;
    struct zone_soa *soa; /* NULL: not an apex */
    struct zone_set sets[ZT_N];
    size_t namelen;
    char name[]; /* canonical, NUL-terminated */
};

#define ZONE_BUCKETS_MIN 1024u
#define ZONE_BUCKETS_MAX (1u << 20)

struct zone_store {
    pthread_rwlock_t lock;
    struct zone_node **buckets;
    size_t nbuckets; /* power of two */
    size_t nnodes;
    size_t nlive;
    enum zone_mode mode;
    uint32_t default_ttl;
    bool have_v4, have_v6;
    uint8_t v4[4];
    uint8_t v6[16];
};

/* ---- names ------------------------------------------------------------------------- */

enum mc_err zone_name_normalize(const char *in, char *out, size_t outn)
{
    if (in == NULL || out == NULL || outn < 2)
        return MC_ERR_INVALID;
    size_t len = strlen(in);
    if (len > 0 && in[len - 1] == '.')
        len--;
    if (len == 0) {
        out[0] = '.';
        out[1] = '\0';
        return MC_OK;
    }
    /* 253 characters is the RFC 1035 text limit without the trailing dot. */
    if (len > 253)
        return MC_ERR_INVALID;
    if (len + 2 > outn)
        return MC_ERR_TOO_BIG;
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c >= 0x7f)
            return MC_ERR_INVALID;
        if (c == '.') {
            /* A dot after a backslash is part of the label (ldns's text form). */
            bool escaped = i > 0 && in[i - 1] == '\\' && (i < 2 || in[i - 2] != '\\');
            if (!escaped) {
                if (label == 0)
                    return MC_ERR_INVALID;
                label = 0;
                out[i] = '.';
                continue;
            }
        }
        if (++label > 63)
            return MC_ERR_INVALID;
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
    }
    if (label == 0)
        return MC_ERR_INVALID; /* "a..": an empty last label */
    out[len] = '.';
    out[len + 1] = '\0';
    return MC_OK;
}

/* The parent of a canonical name, pointing into name; "." for a top-level name; NULL for
 * the root. Skips backslash-escaped dots. */
static const char *zone_parent(const char *name)
{
    if (name[0] == '.' && name[1] == '\0')
        return NULL;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0') {
            p++;
            continue;
        }
        if (*p == '.')
            return p[1] == '\0' ? "." : p + 1;
    }
    return ".";
}

static uint32_t zone_hash(const char *s, size_t *len)
{
    uint32_t h = 2166136261u;
    const char *p = s;
    for (; *p != '\0'; p++) {
        h ^= (uint8_t)*p;
        h *= 16777619u;
    }
    *len = (size_t)(p - s);
    return h;
}

/* ---- table ------------------------------------------------------------------------- */

static bool zone_node_live(const struct zone_node *n)
{
    if (n->servfail || n->soa != NULL)
        return true;
    for (int t = 0; t < ZT_N; t++)
        if (n->sets[t].n > 0)
            return true;
    return false;
}

static bool zone_node_has_records(const struct zone_node *n)
{
    if (n->soa != NULL)
        return true;
    for (int t = 0; t < ZT_N; t++)
        if (n->sets[t].n > 0)
            return true;
    return false;
}

static void zone_set_clear(struct zone_set *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        free(s->recs[i].data);
    free(s->recs);
    s->recs = NULL;
    s->n = 0;
}

static void zone_node_free(struct zone_node *n)
{
    if (n == NULL)
        return;
    for (int t = 0; t < ZT_N; t++)
        zone_set_clear(&n->sets[t]);
    free(n->soa);
    free(n);
}

static struct zone_node *zone_lookup(const struct zone_store *zs, const char *canon)
{
    size_t len;
    uint32_t h = zone_hash(canon, &len);
    for (struct zone_node *n = zs->buckets[h & (zs->nbuckets - 1)]; n != NULL; n = n->next)
        if (n->hash == h && n->namelen == len && memcmp(n->name, canon, len) == 0)
            return n;
    return NULL;
}

static void zone_grow(struct zone_store *zs)
{
    size_t nb = zs->nbuckets * 2;
    struct zone_node **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < zs->nbuckets; i++) {
        struct zone_node *n = zs->buckets[i];
        while (n != NULL) {
            struct zone_node *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(zs->buckets);
    zs->buckets = b;
    zs->nbuckets = nb;
}

static enum mc_err zone_ensure(struct zone_store *zs, const char *canon, struct zone_node **out)
{
    struct zone_node *n = zone_lookup(zs, canon);
    if (n != NULL) {
        *out = n;
        return MC_OK;
    }
    size_t len;
    uint32_t h = zone_hash(canon, &len);
    n = calloc(1, sizeof(*n) + len + 1);
    if (n == NULL)
        return MC_ERR_NOMEM;
    n->hash = h;
    n->namelen = len;
    memcpy(n->name, canon, len + 1);
    n->next = zs->buckets[h & (zs->nbuckets - 1)];
    zs->buckets[h & (zs->nbuckets - 1)] = n;
    zs->nnodes++;
    if (zs->nnodes > zs->nbuckets && zs->nbuckets < ZONE_BUCKETS_MAX)
        zone_grow(zs);
    *out = n;
    return MC_OK;
}

static void zone_unlink(struct zone_store *zs, struct zone_node *n)
{
    struct zone_node **pp = &zs->buckets[n->hash & (zs->nbuckets - 1)];
    while (*pp != NULL && *pp != n)
        pp = &(*pp)->next;
    if (*pp == n) {
        *pp = n->next;
        zs->nnodes--;
    }
    zone_node_free(n);
}

/* Begins a change at canon: the node and every ancestor exist afterwards, so the change
 * itself and zone_mut_end allocate nothing. *was_live tells zone_mut_end what changed. */
static enum mc_err zone_mut_begin(struct zone_store *zs, const char *canon, struct zone_node **out,
                                  bool *was_live)
{
    struct zone_node *n = NULL;
    enum mc_err err = MC_OK;
    for (const char *p = zone_parent(canon); p != NULL; p = zone_parent(p)) {
        err = zone_ensure(zs, p, &n);
        if (err != MC_OK)
            return err;
    }
    err = zone_ensure(zs, canon, &n);
    if (err != MC_OK)
        return err;
    *out = n;
    *was_live = zone_node_live(n);
    return MC_OK;
}

/* Ends a change: fixes the ancestors' counts if n's liveness changed and frees nodes that
 * hold nothing, from n upward. n may be freed. */
static void zone_mut_end(struct zone_store *zs, struct zone_node *n, bool was_live)
{
    bool live = zone_node_live(n);
    char name[ZONE_NAME_MAX];
    memcpy(name, n->name, n->namelen + 1);
    if (live != was_live) {
        if (live)
            zs->nlive++;
        else
            zs->nlive--;
        for (const char *p = zone_parent(name); p != NULL; p = zone_parent(p)) {
            struct zone_node *a = zone_lookup(zs, p);
            if (a == NULL)
                continue; /* cannot happen after zone_mut_begin */
            if (live)
                a->below++;
            else if (a->below > 0)
                a->below--;
        }
    }
    if (!live && n->below == 0)
        zone_unlink(zs, n);
    for (const char *p = zone_parent(name); p != NULL; p = zone_parent(p)) {
        struct zone_node *a = zone_lookup(zs, p);
        if (a == NULL)
            continue;
        if (zone_node_live(a) || a->below > 0)
            break;
        zone_unlink(zs, a);
    }
}

/* Bound check before a change that may make a node live. */
static bool zone_full(const struct zone_store *zs, bool was_live)
{
    return !was_live && zs->nlive >= ZONE_MAX_NAMES;
}

/* ---- lifecycle and settings -------------------------------------------------------- */

struct zone_store *zone_store_new(void)
{
    struct zone_store *zs = calloc(1, sizeof(*zs));
    if (zs == NULL)
        return NULL;
    zs->buckets = calloc(ZONE_BUCKETS_MIN, sizeof(*zs->buckets));
    if (zs->buckets == NULL) {
        free(zs);
        return NULL;
    }
    zs->nbuckets = ZONE_BUCKETS_MIN;
    /* Writers first: a flood of queries must not starve the management API. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&zs->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (rc != 0) {
        free(zs->buckets);
        free(zs);
        return NULL;
    }
    return zs;
}

static void zone_free_nodes(struct zone_store *zs)
{
    for (size_t i = 0; i < zs->nbuckets; i++) {
        struct zone_node *n = zs->buckets[i];
        while (n != NULL) {
            struct zone_node *next = n->next;
            zone_node_free(n);
            n = next;
        }
        zs->buckets[i] = NULL;
    }
    zs->nnodes = 0;
    zs->nlive = 0;
}

void zone_store_free(struct zone_store *zs)
{
    if (zs == NULL)
        return;
    zone_free_nodes(zs);
    free(zs->buckets);
    pthread_rwlock_destroy(&zs->lock);
    free(zs);
}

void zone_rdlock(struct zone_store *zs)
{
    pthread_rwlock_rdlock(&zs->lock);
}

void zone_wrlock(struct zone_store *zs)
{
    pthread_rwlock_wrlock(&zs->lock);
}

void zone_unlock(struct zone_store *zs)
{
    pthread_rwlock_unlock(&zs->lock);
}

void zone_set_mode(struct zone_store *zs, enum zone_mode mode)
{
    zone_wrlock(zs);
    zs->mode = mode;
    zone_unlock(zs);
}

enum zone_mode zone_get_mode(struct zone_store *zs)
{
    zone_rdlock(zs);
    enum zone_mode m = zs->mode;
    zone_unlock(zs);
    return m;
}

enum zone_mode zone_get_mode_locked(struct zone_store *zs)
{
    return zs->mode;
}

void zone_set_default_ttl(struct zone_store *zs, uint32_t ttl)
{
    zone_wrlock(zs);
    zs->default_ttl = ttl;
    zone_unlock(zs);
}

static enum mc_err zone_set_default(struct zone_store *zs, int af, const char *ip)
{
    uint8_t buf[16];
    bool have = ip != NULL && ip[0] != '\0';
    if (have && inet_pton(af, ip, buf) != 1)
        return MC_ERR_INVALID;
    zone_wrlock(zs);
    if (af == AF_INET) {
        zs->have_v4 = have;
        if (have)
            memcpy(zs->v4, buf, 4);
    } else {
        zs->have_v6 = have;
        if (have)
            memcpy(zs->v6, buf, 16);
    }
    zone_unlock(zs);
    return MC_OK;
}

enum mc_err zone_set_default_ipv4(struct zone_store *zs, const char *ip)
{
    return zone_set_default(zs, AF_INET, ip);
}

enum mc_err zone_set_default_ipv6(struct zone_store *zs, const char *ip)
{
    return zone_set_default(zs, AF_INET6, ip);
}

bool zone_default_a_locked(struct zone_store *zs, uint8_t out[4])
{
    if (zs->have_v4)
        memcpy(out, zs->v4, 4);
    return zs->have_v4;
}

bool zone_default_aaaa_locked(struct zone_store *zs, uint8_t out[16])
{
    if (zs->have_v6)
        memcpy(out, zs->v6, 16);
    return zs->have_v6;
}

/* ---- generic set changes (lock held) ----------------------------------------------- */

/* Adds data to name's set zt (replace: the set becomes just this record, for CNAME). An
 * equal record keeps one copy with the new TTL. */
static enum mc_err zone_add_locked(struct zone_store *zs, const char *canon, int zt,
                                   const uint8_t *data, uint32_t len, uint32_t ttl, bool replace)
{
    struct zone_node *n = NULL;
    bool was_live = false;
    enum mc_err err = zone_mut_begin(zs, canon, &n, &was_live);
    if (err != MC_OK)
        return err;
    if (zone_full(zs, was_live)) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    struct zone_set *s = &n->sets[zt];
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->recs[i].len == len && memcmp(s->recs[i].data, data, len) == 0) {
            s->recs[i].ttl = ttl;
            if (replace && s->n > 1) {
                struct zone_rec keep = s->recs[i];
                s->recs[i].data = NULL;
                zone_set_clear(s);
                s->recs = malloc(sizeof(*s->recs));
                if (s->recs == NULL) {
                    free(keep.data);
                    err = MC_ERR_NOMEM;
                    goto out;
                }
                s->recs[0] = keep;
                s->n = 1;
            }
            goto out;
        }
    }
    if (!replace && s->n >= ZONE_MAX_PER_RRSET) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (len > 0)
        memcpy(copy, data, len);
    if (replace)
        zone_set_clear(s);
    struct zone_rec *r = realloc(s->recs, (s->n + 1) * sizeof(*r));
    if (r == NULL) {
        free(copy);
        err = MC_ERR_NOMEM;
        goto out;
    }
    s->recs = r;
    s->recs[s->n].ttl = ttl;
    s->recs[s->n].len = len;
    s->recs[s->n].data = copy;
    s->n++;
out:
    zone_mut_end(zs, n, was_live);
    return err;
}

static enum mc_err zone_clear_set_locked(struct zone_store *zs, const char *canon, int zt)
{
    struct zone_node *n = zone_lookup(zs, canon);
    if (n == NULL || n->sets[zt].n == 0)
        return MC_OK;
    bool was_live = zone_node_live(n);
    zone_set_clear(&n->sets[zt]);
    zone_mut_end(zs, n, was_live);
    return MC_OK;
}

static enum mc_err zone_del_rec_locked(struct zone_store *zs, const char *canon, int zt,
                                       const uint8_t *data, uint32_t len)
{
    struct zone_node *n = zone_lookup(zs, canon);
    if (n == NULL)
        return MC_OK;
    struct zone_set *s = &n->sets[zt];
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->recs[i].len == len && memcmp(s->recs[i].data, data, len) == 0) {
            bool was_live = zone_node_live(n);
            free(s->recs[i].data);
            memmove(&s->recs[i], &s->recs[i + 1], (s->n - i - 1) * sizeof(s->recs[0]));
            s->n--;
            if (s->n == 0) {
                free(s->recs);
                s->recs = NULL;
            }
            zone_mut_end(zs, n, was_live);
            return MC_OK;
        }
    }
    return MC_OK;
}

/* Write-locked wrappers for the management API. */
static enum mc_err zone_add_public(struct zone_store *zs, const char *host, int zt,
                                   const uint8_t *data, uint32_t len, bool replace)
{
    char canon[ZONE_NAME_MAX];
    enum mc_err err = zone_name_normalize(host, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    zone_wrlock(zs);
    err = zone_add_locked(zs, canon, zt, data, len, zs->default_ttl, replace);
    zone_unlock(zs);
    return err;
}

static enum mc_err zone_clear_public(struct zone_store *zs, const char *host, int zt)
{
    char canon[ZONE_NAME_MAX];
    enum mc_err err = zone_name_normalize(host, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    zone_wrlock(zs);
    err = zone_clear_set_locked(zs, canon, zt);
    zone_unlock(zs);
    return err;
}

/* ---- the management API's calls ---------------------------------------------------- */

enum mc_err zone_add_a(struct zone_store *zs, const char *host, const char *ip)
{
    uint8_t a[4];
    if (ip == NULL || inet_pton(AF_INET, ip, a) != 1)
        return MC_ERR_INVALID;
    return zone_add_public(zs, host, ZT_A, a, 4, false);
}

enum mc_err zone_clear_a(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_A);
}

enum mc_err zone_add_aaaa(struct zone_store *zs, const char *host, const char *ip)
{
    uint8_t a[16];
    if (ip == NULL || inet_pton(AF_INET6, ip, a) != 1)
        return MC_ERR_INVALID;
    return zone_add_public(zs, host, ZT_AAAA, a, 16, false);
}

enum mc_err zone_clear_aaaa(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_AAAA);
}

enum mc_err zone_add_txt(struct zone_store *zs, const char *host, const char *value, size_t len)
{
    if (value == NULL && len > 0)
        return MC_ERR_INVALID;
    if (len > ZONE_TXT_MAX)
        return MC_ERR_TOO_BIG;
    return zone_add_public(zs, host, ZT_TXT, (const uint8_t *)(value != NULL ? value : ""),
                           (uint32_t)len, false);
}

enum mc_err zone_clear_txt(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_TXT);
}

/* A target name as stored: canonical text without the NUL. */
static enum mc_err zone_target(const char *target, char *canon, uint32_t *len)
{
    enum mc_err err = zone_name_normalize(target, canon, ZONE_NAME_MAX);
    if (err != MC_OK)
        return err;
    *len = (uint32_t)strlen(canon);
    return MC_OK;
}

enum mc_err zone_set_cname(struct zone_store *zs, const char *host, const char *target)
{
    char t[ZONE_NAME_MAX];
    uint32_t len = 0;
    enum mc_err err = zone_target(target, t, &len);
    if (err != MC_OK)
        return err;
    return zone_add_public(zs, host, ZT_CNAME, (const uint8_t *)t, len, true);
}

enum mc_err zone_clear_cname(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_CNAME);
}

#define ZONE_CAA_VALUE_MAX 1024

static enum mc_err zone_caa_data(uint8_t flags, const char *tag, const uint8_t *value, size_t vlen,
                                 uint8_t *buf, size_t bufn, uint32_t *len)
{
    size_t tlen = tag != NULL ? strlen(tag) : 0;
    if (tlen < 1 || tlen > 15)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < tlen; i++) {
        char c = tag[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!ok)
            return MC_ERR_INVALID;
    }
    if (vlen > ZONE_CAA_VALUE_MAX || 2 + tlen + vlen > bufn)
        return MC_ERR_TOO_BIG;
    buf[0] = flags;
    buf[1] = (uint8_t)tlen;
    memcpy(buf + 2, tag, tlen);
    if (vlen > 0)
        memcpy(buf + 2 + tlen, value, vlen);
    *len = (uint32_t)(2 + tlen + vlen);
    return MC_OK;
}

enum mc_err zone_add_caa(struct zone_store *zs, const char *host, uint8_t flags, const char *tag,
                         const char *value)
{
    uint8_t buf[2 + 15 + ZONE_CAA_VALUE_MAX];
    uint32_t len = 0;
    const char *v = value != NULL ? value : "";
    enum mc_err err =
        zone_caa_data(flags, tag, (const uint8_t *)v, strlen(v), buf, sizeof(buf), &len);
    if (err != MC_OK)
        return err;
    return zone_add_public(zs, host, ZT_CAA, buf, len, false);
}

enum mc_err zone_clear_caa(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_CAA);
}

enum mc_err zone_add_ns(struct zone_store *zs, const char *host, const char *ns)
{
    char t[ZONE_NAME_MAX];
    uint32_t len = 0;
    enum mc_err err = zone_target(ns, t, &len);
    if (err != MC_OK)
        return err;
    return zone_add_public(zs, host, ZT_NS, (const uint8_t *)t, len, false);
}

enum mc_err zone_clear_ns(struct zone_store *zs, const char *host)
{
    return zone_clear_public(zs, host, ZT_NS);
}

/* Sets canon's SOA (lock held); soa already normalized. */
static enum mc_err zone_put_soa_locked(struct zone_store *zs, const char *canon,
                                       const struct zone_soa *soa, uint32_t ttl)
{
    struct zone_node *n = NULL;
    bool was_live = false;
    enum mc_err err = zone_mut_begin(zs, canon, &n, &was_live);
    if (err != MC_OK)
        return err;
    if (zone_full(zs, was_live)) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    if (n->soa == NULL) {
        n->soa = malloc(sizeof(*n->soa));
        if (n->soa == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    *n->soa = *soa;
    n->soa_ttl = ttl;
out:
    zone_mut_end(zs, n, was_live);
    return err;
}

enum mc_err zone_add_zone(struct zone_store *zs, const char *apex, const struct zone_soa *soa,
                          const char *ns)
{
    char canon[ZONE_NAME_MAX];
    char nscanon[ZONE_NAME_MAX];
    uint32_t nslen = 0;
    struct zone_soa s;
    enum mc_err err = zone_name_normalize(apex, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    if (ns != NULL) {
        err = zone_target(ns, nscanon, &nslen);
        if (err != MC_OK)
            return err;
    }
    memset(&s, 0, sizeof(s));
    if (soa == NULL) {
        const char *suffix = strcmp(canon, ".") == 0 ? "" : canon;
        int a = snprintf(s.mname, sizeof(s.mname), "ns1.%s", suffix);
        int b = snprintf(s.rname, sizeof(s.rname), "hostmaster.%s", suffix);
        if (a < 0 || (size_t)a >= sizeof(s.mname) || b < 0 || (size_t)b >= sizeof(s.rname))
            return MC_ERR_INVALID;
        s.serial = 1;
        s.refresh = 3600;
        s.retry = 900;
        s.expire = 604800;
        s.minimum = 0;
    } else {
        s = *soa;
    }
    /* Stored canonical so the wire form is predictable. */
    err = zone_name_normalize(s.mname, s.mname, sizeof(s.mname));
    if (err == MC_OK)
        err = zone_name_normalize(s.rname, s.rname, sizeof(s.rname));
    if (err != MC_OK)
        return err;
    zone_wrlock(zs);
    err = zone_put_soa_locked(zs, canon, &s, zs->default_ttl);
    if (err == MC_OK && ns != NULL)
        err = zone_add_locked(zs, canon, ZT_NS, (const uint8_t *)nscanon, nslen, zs->default_ttl,
                              false);
    zone_unlock(zs);
    return err;
}

/* True if canon is sub or equal to apex (both canonical). */
static bool zone_is_under(const char *canon, const char *apex)
{
    if (strcmp(apex, ".") == 0)
        return true;
    size_t cl = strlen(canon), al = strlen(apex);
    if (cl < al || memcmp(canon + cl - al, apex, al) != 0)
        return false;
    return cl == al || canon[cl - al - 1] == '.';
}

static void zone_node_strip(struct zone_node *n)
{
    for (int t = 0; t < ZT_N; t++)
        zone_set_clear(&n->sets[t]);
    free(n->soa);
    n->soa = NULL;
    n->servfail = false;
}

enum mc_err zone_remove_zone(struct zone_store *zs, const char *apex)
{
    char canon[ZONE_NAME_MAX];
    enum mc_err err = zone_name_normalize(apex, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    zone_wrlock(zs);
    struct zone_node *a = zone_lookup(zs, canon);
    if (a == NULL || a->soa == NULL) {
        zone_unlock(zs);
        return MC_ERR_NOT_FOUND;
    }
    /* Strip every node at or below apex. Collect names first: stripping frees nodes. A
     * full scan is fine here: removing a zone is a rare management call. */
    for (size_t i = 0; i < zs->nbuckets; i++) {
        struct zone_node *n = zs->buckets[i];
        while (n != NULL) {
            struct zone_node *next = n->next;
            if (zone_node_live(n) && zone_is_under(n->name, canon)) {
                char name[ZONE_NAME_MAX];
                memcpy(name, n->name, n->namelen + 1);
                bool was_live = true;
                zone_node_strip(n);
                /* zone_mut_end may free next (an ancestor in the same bucket), so restart
                 * this bucket after each removal. */
                zone_mut_end(zs, n, was_live);
                next = zs->buckets[i];
            }
            n = next;
        }
    }
    zone_unlock(zs);
    return MC_OK;
}

static enum mc_err zone_servfail(struct zone_store *zs, const char *host, bool on)
{
    char canon[ZONE_NAME_MAX];
    enum mc_err err = zone_name_normalize(host, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    zone_wrlock(zs);
    struct zone_node *n = NULL;
    bool was_live = false;
    err = zone_mut_begin(zs, canon, &n, &was_live);
    if (err == MC_OK) {
        if (on && zone_full(zs, was_live))
            err = MC_ERR_LIMIT;
        else
            n->servfail = on;
        zone_mut_end(zs, n, was_live);
    }
    zone_unlock(zs);
    return err;
}

enum mc_err zone_set_servfail(struct zone_store *zs, const char *host)
{
    return zone_servfail(zs, host, true);
}

enum mc_err zone_clear_servfail(struct zone_store *zs, const char *host)
{
    return zone_servfail(zs, host, false);
}

void zone_clear_all(struct zone_store *zs)
{
    zone_wrlock(zs);
    zone_free_nodes(zs);
    zone_unlock(zs);
}

/* ---- reads ------------------------------------------------------------------------- */

static struct zone_node *zone_find(struct zone_store *zs, const char *name)
{
    char canon[ZONE_NAME_MAX];
    if (zone_name_normalize(name, canon, sizeof(canon)) != MC_OK)
        return NULL;
    return zone_lookup(zs, canon);
}

bool zone_name_exists_locked(struct zone_store *zs, const char *name)
{
    struct zone_node *n = zone_find(zs, name);
    return n != NULL && (zone_node_has_records(n) || n->below > 0);
}

bool zone_find_apex_locked(struct zone_store *zs, const char *name, char *out, size_t outn)
{
    char canon[ZONE_NAME_MAX];
    if (zone_name_normalize(name, canon, sizeof(canon)) != MC_OK)
        return false;
    for (const char *p = canon; p != NULL; p = zone_parent(p)) {
        struct zone_node *n = zone_lookup(zs, p);
        if (n != NULL && n->soa != NULL) {
            size_t len = strlen(p);
            if (len + 1 > outn)
                return false;
            memcpy(out, p, len + 1);
            return true;
        }
    }
    return false;
}

bool zone_is_servfail_locked(struct zone_store *zs, const char *name)
{
    struct zone_node *n = zone_find(zs, name);
    return n != NULL && n->servfail;
}

/* A dname rdf from canonical text; NULL when out of memory or unparsable. */
static ldns_rdf *zone_dname(const char *canon)
{
    return ldns_dname_new_frm_str(canon);
}

static ldns_rdf *zone_dname_n(const uint8_t *text, uint32_t len)
{
    char buf[ZONE_NAME_MAX];
    if (len >= sizeof(buf))
        return NULL;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return zone_dname(buf);
}

/* Appends rdfs for one stored record of type zt to rr. */
static enum mc_err zone_rec_rdata(int zt, const struct zone_rec *r, ldns_rr *rr)
{
    ldns_rdf *f = NULL;
    switch (zt) {
    case ZT_A:
        f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_A, 4, r->data);
        break;
    case ZT_AAAA:
        f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_AAAA, 16, r->data);
        break;
    case ZT_CNAME:
    case ZT_NS:
        f = zone_dname_n(r->data, r->len);
        break;
    case ZT_TXT: {
        /* RFC 1035 section 3.3.14: character-strings of at most 255 bytes; an empty value
         * is one empty string. */
        uint32_t off = 0;
        do {
            uint32_t chunk = r->len - off > 255 ? 255 : r->len - off;
            uint8_t buf[256];
            buf[0] = (uint8_t)chunk;
            memcpy(buf + 1, r->data + off, chunk);
            f = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_STR, chunk + 1, buf);
            if (f == NULL || !ldns_rr_push_rdf(rr, f)) {
                ldns_rdf_deep_free(f);
                return MC_ERR_NOMEM;
            }
            off += chunk;
        } while (off < r->len);
        return MC_OK;
    }
    case ZT_CAA: {
        uint8_t tlen = r->data[1];
        ldns_rdf *fl = ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, r->data[0]);
        ldns_rdf *tag = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TAG, (size_t)tlen + 1, r->data + 1);
        uint32_t vlen = r->len - 2 - tlen;
        /* An empty value still needs an rdf; ldns writes its zero bytes. */
        ldns_rdf *val = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_LONG_STR, vlen,
                                              vlen > 0 ? r->data + 2 + tlen : (const uint8_t *)"");
        if (fl == NULL || tag == NULL || val == NULL) {
            ldns_rdf_deep_free(fl);
            ldns_rdf_deep_free(tag);
            ldns_rdf_deep_free(val);
            return MC_ERR_NOMEM;
        }
        ldns_rr_push_rdf(rr, fl);
        ldns_rr_push_rdf(rr, tag);
        ldns_rr_push_rdf(rr, val);
        return MC_OK;
    }
    default:
        return MC_ERR_UNSUPPORTED;
    }
    if (f == NULL || !ldns_rr_push_rdf(rr, f)) {
        ldns_rdf_deep_free(f);
        return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static ldns_rr *zone_rr_new(const ldns_rdf *owner, ldns_rr_type type, uint32_t ttl)
{
    ldns_rr *rr = ldns_rr_new();
    ldns_rdf *o = ldns_rdf_clone(owner);
    if (rr == NULL || o == NULL) {
        ldns_rr_free(rr);
        ldns_rdf_deep_free(o);
        return NULL;
    }
    ldns_rr_set_owner(rr, o);
    ldns_rr_set_type(rr, type);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(rr, ttl);
    return rr;
}

static enum mc_err zone_soa_rr(const ldns_rdf *owner, const struct zone_soa *s, uint32_t ttl,
                               ldns_rr **out)
{
    ldns_rr *rr = zone_rr_new(owner, LDNS_RR_TYPE_SOA, ttl);
    if (rr == NULL)
        return MC_ERR_NOMEM;
    ldns_rdf *f[7] = {
        zone_dname(s->mname),
        zone_dname(s->rname),
        ldns_native2rdf_int32(LDNS_RDF_TYPE_INT32, s->serial),
        ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, s->refresh),
        ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, s->retry),
        ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, s->expire),
        ldns_native2rdf_int32(LDNS_RDF_TYPE_PERIOD, s->minimum),
    };
    bool ok = true;
    for (int i = 0; i < 7; i++)
        if (f[i] == NULL)
            ok = false;
    for (int i = 0; i < 7; i++) {
        if (ok)
            ldns_rr_push_rdf(rr, f[i]);
        else
            ldns_rdf_deep_free(f[i]);
    }
    if (!ok) {
        ldns_rr_free(rr);
        return MC_ERR_NOMEM;
    }
    *out = rr;
    return MC_OK;
}

enum mc_err zone_collect_locked(struct zone_store *zs, const char *name, ldns_rr_type type,
                                ldns_rr_list *out)
{
    enum mc_err err = MC_OK;
    ldns_rdf *owner = NULL;
    struct zone_node *n = zone_find(zs, name);
    if (n == NULL)
        return MC_OK;
    bool any = type == LDNS_RR_TYPE_ANY;
    owner = zone_dname(n->name);
    if (owner == NULL)
        return MC_ERR_NOMEM;
    for (int t = 0; t < ZT_N; t++) {
        if (!any && zone_ldns_type[t] != type)
            continue;
        const struct zone_set *s = &n->sets[t];
        for (uint32_t i = 0; i < s->n; i++) {
            ldns_rr *rr = zone_rr_new(owner, zone_ldns_type[t], s->recs[i].ttl);
            if (rr == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            err = zone_rec_rdata(t, &s->recs[i], rr);
            if (err == MC_OK && !ldns_rr_list_push_rr(out, rr))
                err = MC_ERR_NOMEM;
            if (err != MC_OK) {
                ldns_rr_free(rr);
                goto out;
            }
        }
    }
    if (n->soa != NULL && (any || type == LDNS_RR_TYPE_SOA)) {
        ldns_rr *rr = NULL;
        err = zone_soa_rr(owner, n->soa, n->soa_ttl, &rr);
        if (err != MC_OK)
            goto out;
        if (!ldns_rr_list_push_rr(out, rr)) {
            ldns_rr_free(rr);
            err = MC_ERR_NOMEM;
        }
    }
out:
    ldns_rdf_deep_free(owner);
    return err;
}

/* ---- RFC 2136 ---------------------------------------------------------------------- */

/* Canonical text of a dname rdf into out. */
static enum mc_err zone_rdf_name(const ldns_rdf *f, char *out, size_t outn)
{
    if (f == NULL || ldns_rdf_get_type(f) != LDNS_RDF_TYPE_DNAME)
        return MC_ERR_INVALID;
    char *s = ldns_rdf2str(f);
    if (s == NULL)
        return MC_ERR_NOMEM;
    enum mc_err err = zone_name_normalize(s, out, outn);
    free(s);
    return err;
}

/* Converts rr's rdata to the stored form. *zt is -1 for SOA (then *soa is filled). */
static enum mc_err zone_rr_data(const ldns_rr *rr, int *zt, uint8_t *buf, size_t bufn,
                                uint32_t *len, struct zone_soa *soa)
{
    ldns_rr_type t = ldns_rr_get_type(rr);
    size_t nrd = ldns_rr_rd_count(rr);
    switch (t) {
    case LDNS_RR_TYPE_A:
    case LDNS_RR_TYPE_AAAA: {
        size_t want = t == LDNS_RR_TYPE_A ? 4 : 16;
        const ldns_rdf *f = ldns_rr_rdf(rr, 0);
        if (nrd != 1 || f == NULL || ldns_rdf_size(f) != want)
            return MC_ERR_INVALID;
        memcpy(buf, ldns_rdf_data(f), want);
        *len = (uint32_t)want;
        *zt = t == LDNS_RR_TYPE_A ? ZT_A : ZT_AAAA;
        return MC_OK;
    }
    case LDNS_RR_TYPE_CNAME:
    case LDNS_RR_TYPE_NS: {
        if (nrd != 1)
            return MC_ERR_INVALID;
        enum mc_err err = zone_rdf_name(ldns_rr_rdf(rr, 0), (char *)buf, bufn);
        if (err != MC_OK)
            return err;
        *len = (uint32_t)strlen((char *)buf);
        *zt = t == LDNS_RR_TYPE_CNAME ? ZT_CNAME : ZT_NS;
        return MC_OK;
    }
    case LDNS_RR_TYPE_TXT: {
        /* The character-strings are joined: the store keeps one value per record. */
        size_t off = 0;
        for (size_t i = 0; i < nrd; i++) {
            const ldns_rdf *f = ldns_rr_rdf(rr, i);
            size_t fs = ldns_rdf_size(f);
            if (fs < 1 || (size_t)ldns_rdf_data(f)[0] + 1 != fs)
                return MC_ERR_INVALID;
            if (off + fs - 1 > ZONE_TXT_MAX || off + fs - 1 > bufn)
                return MC_ERR_TOO_BIG;
            memcpy(buf + off, ldns_rdf_data(f) + 1, fs - 1);
            off += fs - 1;
        }
        *len = (uint32_t)off;
        *zt = ZT_TXT;
        return MC_OK;
    }
    case LDNS_RR_TYPE_CAA: {
        if (nrd != 3)
            return MC_ERR_INVALID;
        const ldns_rdf *fl = ldns_rr_rdf(rr, 0), *tag = ldns_rr_rdf(rr, 1),
                       *val = ldns_rr_rdf(rr, 2);
        if (ldns_rdf_size(fl) != 1 || ldns_rdf_size(tag) < 2 ||
            (size_t)ldns_rdf_data(tag)[0] + 1 != ldns_rdf_size(tag))
            return MC_ERR_INVALID;
        char tagtxt[16];
        size_t tl = ldns_rdf_size(tag) - 1;
        if (tl > 15)
            return MC_ERR_INVALID;
        memcpy(tagtxt, ldns_rdf_data(tag) + 1, tl);
        tagtxt[tl] = '\0';
        *zt = ZT_CAA;
        return zone_caa_data(ldns_rdf_data(fl)[0], tagtxt, ldns_rdf_data(val), ldns_rdf_size(val),
                             buf, bufn, len);
    }
    case LDNS_RR_TYPE_SOA: {
        if (nrd != 7)
            return MC_ERR_INVALID;
        enum mc_err err = zone_rdf_name(ldns_rr_rdf(rr, 0), soa->mname, sizeof(soa->mname));
        if (err == MC_OK)
            err = zone_rdf_name(ldns_rr_rdf(rr, 1), soa->rname, sizeof(soa->rname));
        if (err != MC_OK)
            return err;
        uint32_t v[5];
        for (int i = 0; i < 5; i++) {
            const ldns_rdf *f = ldns_rr_rdf(rr, (size_t)i + 2);
            if (ldns_rdf_size(f) != 4)
                return MC_ERR_INVALID;
            v[i] = ldns_rdf2native_int32(f);
        }
        soa->serial = v[0];
        soa->refresh = v[1];
        soa->retry = v[2];
        soa->expire = v[3];
        soa->minimum = v[4];
        *zt = -1;
        return MC_OK;
    }
    default:
        return MC_ERR_UNSUPPORTED;
    }
}

/* Owner of rr in canonical text. */
static enum mc_err zone_rr_owner(const ldns_rr *rr, char *out)
{
    return zone_rdf_name(ldns_rr_owner(rr), out, ZONE_NAME_MAX);
}

enum mc_err zone_add_rr_locked(struct zone_store *zs, const ldns_rr *rr)
{
    char canon[ZONE_NAME_MAX];
    uint8_t *buf = NULL;
    struct zone_soa soa;
    int zt = 0;
    uint32_t len = 0;
    enum mc_err err = MC_OK;
    if (rr == NULL)
        return MC_ERR_INVALID;
    err = zone_rr_owner(rr, canon);
    if (err != MC_OK)
        return err;
    buf = malloc(ZONE_TXT_MAX + ZONE_NAME_MAX);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    memset(&soa, 0, sizeof(soa));
    err = zone_rr_data(rr, &zt, buf, ZONE_TXT_MAX + ZONE_NAME_MAX, &len, &soa);
    if (err != MC_OK)
        goto out;
    if (zt < 0)
        err = zone_put_soa_locked(zs, canon, &soa, ldns_rr_ttl(rr));
    else
        err = zone_add_locked(zs, canon, zt, buf, len, ldns_rr_ttl(rr), zt == ZT_CNAME);
out:
    free(buf);
    return err;
}

enum mc_err zone_del_rr_locked(struct zone_store *zs, const ldns_rr *rr)
{
    char canon[ZONE_NAME_MAX];
    uint8_t *buf = NULL;
    struct zone_soa soa;
    int zt = 0;
    uint32_t len = 0;
    enum mc_err err = MC_OK;
    if (rr == NULL)
        return MC_ERR_INVALID;
    err = zone_rr_owner(rr, canon);
    if (err != MC_OK)
        return err;
    buf = malloc(ZONE_TXT_MAX + ZONE_NAME_MAX);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    err = zone_rr_data(rr, &zt, buf, ZONE_TXT_MAX + ZONE_NAME_MAX, &len, &soa);
    /* RFC 2136 section 3.4.2.4: an SOA is never deleted this way. */
    if (err == MC_OK && zt >= 0)
        err = zone_del_rec_locked(zs, canon, zt, buf, len);
    free(buf);
    return err;
}

enum mc_err zone_del_rrset_locked(struct zone_store *zs, const char *name, ldns_rr_type type)
{
    char canon[ZONE_NAME_MAX];
    enum mc_err err = zone_name_normalize(name, canon, sizeof(canon));
    if (err != MC_OK)
        return err;
    struct zone_node *n = zone_lookup(zs, canon);
    if (n == NULL)
        return MC_OK;
    bool apex = n->soa != NULL;
    bool was_live = zone_node_live(n);
    if (type == LDNS_RR_TYPE_ANY) {
        for (int t = 0; t < ZT_N; t++)
            if (!(apex && t == ZT_NS))
                zone_set_clear(&n->sets[t]);
    } else if (type == LDNS_RR_TYPE_SOA || (apex && type == LDNS_RR_TYPE_NS)) {
        /* RFC 2136 section 3.4.2.3: the apex SOA and NS RRsets stay. */
        return MC_OK;
    } else {
        bool found = false;
        for (int t = 0; t < ZT_N; t++) {
            if (zone_ldns_type[t] == type) {
                zone_set_clear(&n->sets[t]);
                found = true;
            }
        }
        if (!found)
            return MC_OK;
    }
    zone_mut_end(zs, n, was_live);
    return MC_OK;
}

/* ---- the query fast path ----------------------------------------------------------- */

static uint8_t *zone_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *zone_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}

/* Wire size of one stored record's rdata. */
static size_t zone_rdata_len(int zt, const struct zone_rec *r)
{
    if (zt != ZT_TXT)
        return r->len;
    /* 255-byte character-strings, each with its length byte; "" is one empty string. */
    size_t chunks = r->len == 0 ? 1 : (r->len + 254) / 255;
    return r->len + chunks;
}

enum mc_err zone_answer_wire_locked(struct zone_store *zs, const char *name, uint16_t type,
                                    uint8_t *buf, size_t bufn, size_t *len, uint16_t *count,
                                    bool *has_cname)
{
    int zt;
    *count = 0;
    *has_cname = false;
    if (type == LDNS_RR_TYPE_A)
        zt = ZT_A;
    else if (type == LDNS_RR_TYPE_AAAA)
        zt = ZT_AAAA;
    else if (type == LDNS_RR_TYPE_TXT)
        zt = ZT_TXT;
    else
        return MC_ERR_UNSUPPORTED;
    struct zone_node *n = zone_find(zs, name);
    if (n == NULL)
        return MC_OK;
    if (n->sets[ZT_CNAME].n > 0) {
        *has_cname = true;
        return MC_OK;
    }
    const struct zone_set *s = &n->sets[zt];
    size_t need = 0;
    for (uint32_t i = 0; i < s->n; i++)
        need += 12 + zone_rdata_len(zt, &s->recs[i]);
    if (*len > bufn || need > bufn - *len)
        return MC_ERR_TOO_BIG;
    uint8_t *p = buf + *len;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct zone_rec *r = &s->recs[i];
        p = zone_put16(p, 0xc00c);
        p = zone_put16(p, type);
        p = zone_put16(p, LDNS_RR_CLASS_IN);
        p = zone_put32(p, r->ttl);
        p = zone_put16(p, (uint16_t)zone_rdata_len(zt, r));
        if (zt != ZT_TXT) {
            memcpy(p, r->data, r->len);
            p += r->len;
            continue;
        }
        uint32_t off = 0;
        do {
            uint32_t chunk = r->len - off > 255 ? 255 : r->len - off;
            *p++ = (uint8_t)chunk;
            memcpy(p, r->data + off, chunk);
            p += chunk;
            off += chunk;
        } while (off < r->len);
    }
    *len = (size_t)(p - buf);
    *count = (uint16_t)s->n;
    return MC_OK;
}

bool zone_name_from_rdf(const ldns_rdf *rdf, char out[ZONE_NAME_MAX])
{
    char *s = NULL;
    bool ok = false;

    if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
        return false;
    s = ldns_rdf2str(rdf);
    if (s == NULL)
        return false;
    if (strchr(s, '\\') == NULL && zone_name_normalize(s, out, ZONE_NAME_MAX) == MC_OK)
        ok = true;
    free(s);
    return ok;
}
