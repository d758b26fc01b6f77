/* store.c: mockca's ACME objects and their state machines (see store.h).
 *
 * One mutex guards everything. Each kind has a hash table keyed by id (challenges map to
 * the authorization that holds them inline), accounts are also indexed by the RFC 7638
 * thumbprint of their key, and valid authorizations by (account, identifier, wildcard) for
 * reuse. Links between objects are pointers, kept safe by the drop order: an order goes
 * first (unlinking itself from its authorizations and its account), an authorization only
 * once no order uses it, an account only once it has neither orders nor authorizations.
 *
 * Expiry is lazy: every get and transition first applies it to the object it touches, with
 * the object's own expiry instant as the time of the change, so retention counts from when
 * the object really expired, not from when somebody looked.
 *
 * An order that becomes invalid because it (or one of its authorizations) expired or was
 * deactivated carries no ACME error type, as in Pebble (core/types.go GetStatus: an expired
 * or deactivated authorization makes the order "invalid" with no error) and Boulder (an
 * expired order is shown invalid without an error document); only the detail says why, for
 * logs. A failed challenge's error is carried to its orders, type kept. */
#include "mockca/store.h"

#include <pthread.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "common/b64url.h"
#include "common/jose.h"

/* The per-kind bound; a test may lower it before #include-ing this file. */
#ifndef STORE_OBJECT_BOUND
#define STORE_OBJECT_BOUND STORE_MAX_OBJECTS
#endif

#define ST_DEF_ORDER_LIFETIME_MS (24LL * 3600 * 1000)
#define ST_DEF_AUTHZ_LIFETIME_MS (3600LL * 1000)
#define ST_DEF_VALID_AUTHZ_LIFETIME_MS (30LL * 24 * 3600 * 1000)
#define ST_DEF_RETENTION_MS (24LL * 3600 * 1000)
#define ST_MAX_TYPES 16        /* cap on req->types before de-duplication */
#define ST_MAX_FIELD_LEN 1024  /* profile, replaces, serial, contacts, eab kid */
#define ST_ID_TRIES 4          /* fresh ids collide with probability 2^-128; still checked */

/* ---- a string-keyed chained hash table ------------------------------------------------ */

struct hent {
    struct hent *next;
    uint64_t hash;
    void *val;
    char key[];
};

struct hmap {
    struct hent **b;
    size_t mask; /* buckets - 1, a power of two minus one */
    size_t n;
};

static uint64_t hm_hash(const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a: ids and thumbprints are random already */
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

static bool hm_init(struct hmap *m)
{
    m->b = calloc(64, sizeof(*m->b));
    m->mask = 63;
    m->n = 0;
    return m->b != NULL;
}

static void hm_destroy(struct hmap *m)
{
    if (m->b == NULL)
        return;
    for (size_t i = 0; i <= m->mask; i++) {
        struct hent *e = m->b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->b);
    m->b = NULL;
}

static void *hm_get(const struct hmap *m, const char *key)
{
    uint64_t h = hm_hash(key);
    for (struct hent *e = m->b[h & m->mask]; e != NULL; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->val;
    return NULL;
}

/* Grows at a load of 1; a failed grow is harmless (chains just get longer). */
static void hm_grow(struct hmap *m)
{
    size_t nb = (m->mask + 1) * 2;
    struct hent **b = calloc(nb, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i <= m->mask; i++) {
        struct hent *e = m->b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = next;
        }
    }
    free(m->b);
    m->b = b;
    m->mask = nb - 1;
}

/* Inserts or replaces key -> val. */
static enum mc_err hm_put(struct hmap *m, const char *key, void *val)
{
    uint64_t h = hm_hash(key);
    for (struct hent *e = m->b[h & m->mask]; e != NULL; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0) {
            e->val = val;
            return MC_OK;
        }
    size_t len = strlen(key);
    struct hent *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return MC_ERR_NOMEM;
    e->hash = h;
    e->val = val;
    memcpy(e->key, key, len + 1);
    e->next = m->b[h & m->mask];
    m->b[h & m->mask] = e;
    m->n++;
    if (m->n > m->mask + 1)
        hm_grow(m);
    return MC_OK;
}

/* Removes key; when only_val is non-NULL, only if it maps to only_val. */
static void hm_del(struct hmap *m, const char *key, const void *only_val)
{
    uint64_t h = hm_hash(key);
    for (struct hent **link = &m->b[h & m->mask]; *link != NULL; link = &(*link)->next) {
        struct hent *e = *link;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            if (only_val != NULL && e->val != only_val)
                return;
            *link = e->next;
            free(e);
            m->n--;
            return;
        }
    }
}

/* ---- the objects ------------------------------------------------------------------------ */

struct s_order;
struct s_authz;

/* An error as an object keeps it: allocated only when the object fails and sized to its
 * detail. struct acme_error carries a 512-byte detail inline; held in every challenge (four
 * per authorization) and every order, that was 2.5 KiB per issuance kept for the 30 days a
 * valid authorization lives, which is most of what a long run's memory grew by. */
struct st_err {
    enum acme_problem type;
    int status;
    char detail[];
};

struct s_account {
    char id[STORE_ID_LEN + 1];
    enum acct_status status;
    EVP_PKEY *key;
    char *thumb; /* key index entry */
    char *contacts[STORE_MAX_CONTACTS];
    size_t n_contacts;
    bool tos_agreed;
    char *eab_kid;
    int64_t created_ms, last_change_ms;
    struct s_order *newest_order; /* orders, newest first (acct_next goes older) */
    size_t n_orders;
    struct s_authz *authzs; /* every authorization of the account, unordered */
    size_t n_authzs;
};

struct s_chall {
    char id[STORE_ID_LEN + 1];
    enum chall_type type;
    enum chall_status status;
    char token[64];
    int64_t validated_ms;
    struct st_err *error; /* when invalid; NULL otherwise */
};

struct s_authz {
    char id[STORE_ID_LEN + 1];
    struct s_account *acct;
    struct s_authz *acct_prev, *acct_next;
    struct ident ident; /* owned value, no "*." */
    bool wildcard;
    enum authz_status status;
    int64_t expires_ms, last_change_ms;
    struct s_chall ch[STORE_MAX_CHALLENGES];
    size_t n_ch;
    struct s_order **orders; /* orders that use it (several through reuse) */
    size_t n_orders, cap_orders;
    bool indexed; /* in the reuse index */
};

struct s_order {
    char id[STORE_ID_LEN + 1];
    struct s_account *acct;
    struct s_order *acct_newer, *acct_older;
    enum order_status status;
    struct ident_list idents;
    struct s_authz **authzs;
    size_t n_authz;
    int64_t expires_ms, last_change_ms, created_ms;
    int64_t not_before, not_after;
    char *profile, *replaces, *cert_serial;
    struct st_err *error; /* when invalid; NULL otherwise */
};

/* An issued certificate, for download (cert_snap). */
struct s_cert {
    char serial[STORE_SERIAL_MAX + 1];
    char account_id[STORE_ID_LEN + 1];
    char order_id[STORE_ID_LEN + 1];
    char *leaf_pem;
    int64_t issued_ms;
    /* RFC 9773: a window set through the management API, and whether an order replaces it. */
    bool window_set, replaced;
    int64_t win_start, win_end;
    char *explanation;
};

struct store {
    pthread_mutex_t mu;
    const struct mc_clock *clock;
    int64_t order_lifetime_ms, authz_lifetime_ms, valid_authz_lifetime_ms, retention_ms;
    size_t max_objects; /* per kind; a field so that a test can lower it */
    bool shuffle;
    uint64_t (*rand64)(void *ctx);
    void *rand_ctx;
    struct hmap accounts, orders, authzs, challs, by_thumb, reuse;
    struct hmap certs; /* serial -> s_cert */
};

/* ---- names -------------------------------------------------------------------------- */

const char *acct_status_name(enum acct_status s)
{
    switch (s) {
    case ACCT_VALID: return "valid";
    case ACCT_DEACTIVATED: return "deactivated";
    case ACCT_REVOKED: return "revoked";
    }
    return "unknown";
}

const char *order_status_name(enum order_status s)
{
    switch (s) {
    case ORDER_PENDING: return "pending";
    case ORDER_READY: return "ready";
    case ORDER_PROCESSING: return "processing";
    case ORDER_VALID: return "valid";
    case ORDER_INVALID: return "invalid";
    }
    return "unknown";
}

const char *authz_status_name(enum authz_status s)
{
    switch (s) {
    case AUTHZ_PENDING: return "pending";
    case AUTHZ_VALID: return "valid";
    case AUTHZ_INVALID: return "invalid";
    case AUTHZ_DEACTIVATED: return "deactivated";
    case AUTHZ_EXPIRED: return "expired";
    case AUTHZ_REVOKED: return "revoked";
    }
    return "unknown";
}

const char *chall_status_name(enum chall_status s)
{
    switch (s) {
    case CHALL_PENDING: return "pending";
    case CHALL_PROCESSING: return "processing";
    case CHALL_VALID: return "valid";
    case CHALL_INVALID: return "invalid";
    }
    return "unknown";
}

const char *chall_type_name(enum chall_type t)
{
    switch (t) {
    case CHALL_HTTP01: return "http-01";
    case CHALL_DNS01: return "dns-01";
    case CHALL_TLSALPN01: return "tls-alpn-01";
    case CHALL_DNSACCOUNT01: return "dns-account-01";
    }
    return "unknown";
}

/* ---- helpers ------------------------------------------------------------------------ */

static int64_t st_now(const struct store *st)
{
    return clock_now_ms(st->clock);
}

static enum mc_err st_random_b64(size_t nbytes, char *out, size_t outsz)
{
    uint8_t raw[32];
    char *enc = NULL;
    enum mc_err err;
    if (nbytes > sizeof(raw) || b64url_encoded_len(nbytes) + 1 > outsz)
        return MC_ERR_INVALID;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        return MC_ERR_CRYPTO;
    err = b64url_encode(raw, nbytes, &enc);
    if (err != MC_OK)
        return err;
    memcpy(out, enc, strlen(enc) + 1);
    free(enc);
    return MC_OK;
}

/* A fresh id not yet in m (or, for challenges, in the challenge map). */
static enum mc_err st_new_id(const struct hmap *m, char out[STORE_ID_LEN + 1])
{
    for (int i = 0; i < ST_ID_TRIES; i++) {
        enum mc_err err = st_random_b64(16, out, STORE_ID_LEN + 1);
        if (err != MC_OK)
            return err;
        if (hm_get(m, out) == NULL)
            return MC_OK;
    }
    return MC_ERR_EXISTS;
}

static char *st_strdup_capped(const char *s)
{
    if (s == NULL || strnlen(s, ST_MAX_FIELD_LEN + 1) > ST_MAX_FIELD_LEN)
        return NULL;
    return strdup(s);
}

/* Replaces *slot with a compact copy of e. Out of memory leaves no error (the status alone
 * still tells the client the object failed). */
static void st_err_set(struct st_err **slot, const struct acme_error *e)
{
    size_t n = strnlen(e->detail, sizeof(e->detail) - 1);
    struct st_err *c = malloc(sizeof(*c) + n + 1);

    free(*slot);
    *slot = c;
    if (c == NULL)
        return;
    c->type = e->type;
    c->status = e->status;
    memcpy(c->detail, e->detail, n);
    c->detail[n] = '\0';
}

static void st_err_get(const struct st_err *c, struct acme_error *out)
{
    memset(out, 0, sizeof(*out));
    if (c == NULL)
        return;
    out->type = c->type;
    out->status = c->status;
    snprintf(out->detail, sizeof(out->detail), "%s", c->detail);
}

static void st_set_error(struct acme_error *e, enum acme_problem type, const char *detail)
{
    memset(e, 0, sizeof(*e));
    e->type = type;
    snprintf(e->detail, sizeof(e->detail), "%s", detail);
}

/* Key of the reuse index: one valid authorization per (account, identifier, wildcard). */
static void st_reuse_key(const char *acct_id, enum ident_type t, bool wildcard,
                         const char *value, char *buf, size_t n)
{
    snprintf(buf, n, "%s|%d|%d|%s", acct_id, (int)t, wildcard ? 1 : 0, value);
}

#define ST_REUSE_KEY_LEN (STORE_ID_LEN + IDENT_MAX_LEN + 16)

static void st_reuse_unindex(struct store *st, struct s_authz *a)
{
    char key[ST_REUSE_KEY_LEN];
    if (!a->indexed)
        return;
    st_reuse_key(a->acct->id, a->ident.type, a->wildcard, a->ident.value, key, sizeof(key));
    hm_del(&st->reuse, key, a);
    a->indexed = false;
}

static void st_reuse_index(struct store *st, struct s_authz *a)
{
    char key[ST_REUSE_KEY_LEN];
    struct s_authz *old;
    st_reuse_key(a->acct->id, a->ident.type, a->wildcard, a->ident.value, key, sizeof(key));
    old = hm_get(&st->reuse, key);
    if (old != NULL && old != a)
        old->indexed = false;
    /* A failed insert only means this one is not offered for reuse. */
    a->indexed = hm_put(&st->reuse, key, a) == MC_OK;
}

/* A uniform draw in [0, n) from the caller's generator (n small: the bias of a modulo over
 * 64 bits is nil). Lock held. */
static size_t st_draw(struct store *st, size_t n)
{
    return (size_t)(st->rand64(st->rand_ctx) % n);
}

/* Fisher-Yates over n elements of size sz (at most one s_chall). Lock held. */
static void st_shuffle(struct store *st, void *base, size_t n, size_t sz)
{
    unsigned char tmp[sizeof(struct s_chall)];
    unsigned char *b = base;

    if (!st->shuffle || n < 2 || sz > sizeof(tmp))
        return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = st_draw(st, i + 1);
        if (j == i)
            continue;
        memcpy(tmp, b + i * sz, sz);
        memcpy(b + i * sz, b + j * sz, sz);
        memcpy(b + j * sz, tmp, sz);
    }
}

/* ---- state changes (lock held) -------------------------------------------------------- */

static void st_order_set_invalid(struct s_order *o, int64_t when, const struct acme_error *e)
{
    o->status = ORDER_INVALID;
    o->last_change_ms = when;
    st_err_set(&o->error, e);
}

/* An authorization left pending or valid for a dead end: pending and ready orders that
 * use it can never be finalized honestly, so they become invalid. */
static void st_authz_orders_fail(struct s_authz *a, int64_t when, const struct acme_error *e)
{
    for (size_t i = 0; i < a->n_orders; i++) {
        struct s_order *o = a->orders[i];
        if (o->status == ORDER_PENDING || o->status == ORDER_READY)
            st_order_set_invalid(o, when, e);
    }
}

static void st_authz_expire(struct store *st, struct s_authz *a, int64_t now)
{
    struct acme_error e;
    if ((a->status != AUTHZ_PENDING && a->status != AUTHZ_VALID) || now < a->expires_ms)
        return;
    /* RFC 8555 section 7.1.6: pending and valid authorizations both expire. */
    a->status = AUTHZ_EXPIRED;
    a->last_change_ms = a->expires_ms;
    st_reuse_unindex(st, a);
    st_set_error(&e, ACME_P_NONE, "authorization expired");
    st_authz_orders_fail(a, a->expires_ms, &e);
}

static void st_order_expire(struct store *st, struct s_order *o, int64_t now)
{
    struct acme_error e;
    for (size_t i = 0; i < o->n_authz; i++)
        st_authz_expire(st, o->authzs[i], now);
    if ((o->status == ORDER_PENDING || o->status == ORDER_READY) && now >= o->expires_ms) {
        st_set_error(&e, ACME_P_NONE, "order expired");
        st_order_set_invalid(o, o->expires_ms, &e);
    }
}

static void st_authz_deactivate(struct store *st, struct s_authz *a, int64_t now)
{
    struct acme_error e;
    a->status = AUTHZ_DEACTIVATED;
    a->last_change_ms = now;
    st_reuse_unindex(st, a);
    st_set_error(&e, ACME_P_NONE, "authorization deactivated");
    st_authz_orders_fail(a, now, &e);
}

/* After a authorization turned valid: every pending order whose authorizations are now all
 * valid becomes ready. */
static void st_authz_orders_advance(struct store *st, struct s_authz *a, int64_t now)
{
    for (size_t i = 0; i < a->n_orders; i++) {
        struct s_order *o = a->orders[i];
        bool all = true;
        st_order_expire(st, o, now);
        if (o->status != ORDER_PENDING)
            continue;
        for (size_t j = 0; j < o->n_authz && all; j++)
            all = o->authzs[j]->status == AUTHZ_VALID;
        if (all) {
            o->status = ORDER_READY;
            o->last_change_ms = now;
        }
    }
}

/* ---- freeing and dropping ------------------------------------------------------------ */

static void st_account_destroy(struct s_account *a)
{
    if (a == NULL)
        return;
    EVP_PKEY_free(a->key);
    free(a->thumb);
    for (size_t i = 0; i < a->n_contacts; i++)
        free(a->contacts[i]);
    free(a->eab_kid);
    free(a);
}

static void st_authz_destroy(struct s_authz *a)
{
    if (a == NULL)
        return;
    free(a->ident.value);
    free(a->orders);
    for (size_t i = 0; i < STORE_MAX_CHALLENGES; i++)
        free(a->ch[i].error);
    free(a);
}

static void st_order_destroy(struct s_order *o)
{
    if (o == NULL)
        return;
    ident_list_free(&o->idents);
    free(o->authzs);
    free(o->profile);
    free(o->replaces);
    free(o->cert_serial);
    free(o->error);
    free(o);
}

static void st_order_drop(struct store *st, struct s_order *o)
{
    for (size_t i = 0; i < o->n_authz; i++) {
        struct s_authz *a = o->authzs[i];
        for (size_t j = 0; j < a->n_orders; j++)
            if (a->orders[j] == o) {
                a->orders[j] = a->orders[--a->n_orders];
                break;
            }
    }
    if (o->acct_newer != NULL)
        o->acct_newer->acct_older = o->acct_older;
    else
        o->acct->newest_order = o->acct_older;
    if (o->acct_older != NULL)
        o->acct_older->acct_newer = o->acct_newer;
    o->acct->n_orders--;
    hm_del(&st->orders, o->id, o);
    st_order_destroy(o);
}

/* Only for an authorization no order uses. */
static void st_authz_drop(struct store *st, struct s_authz *a)
{
    st_reuse_unindex(st, a);
    for (size_t i = 0; i < a->n_ch; i++)
        hm_del(&st->challs, a->ch[i].id, a);
    if (a->acct_prev != NULL)
        a->acct_prev->acct_next = a->acct_next;
    else
        a->acct->authzs = a->acct_next;
    if (a->acct_next != NULL)
        a->acct_next->acct_prev = a->acct_prev;
    a->acct->n_authzs--;
    hm_del(&st->authzs, a->id, a);
    st_authz_destroy(a);
}

/* Creates an authorization for (ident, wildcard) with one challenge per usable type, linked
 * to its account; the caller links orders. */
static enum mc_err st_authz_create(struct store *st, struct s_account *acct,
                                   enum ident_type itype, const char *value, bool wildcard,
                                   const enum chall_type *types, size_t n_types, int64_t now,
                                   struct s_authz **out)
{
    struct s_authz *a = NULL;
    enum mc_err err = MC_OK;
    size_t i;

    *out = NULL;
    if (st->authzs.n >= st->max_objects || st->challs.n + STORE_MAX_CHALLENGES > st->max_objects)
        return MC_ERR_LIMIT;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return MC_ERR_NOMEM;
    a->ident.type = itype;
    a->ident.value = strdup(value);
    if (a->ident.value == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    a->acct = acct;
    a->wildcard = wildcard;
    a->status = AUTHZ_PENDING;
    a->expires_ms = now + st->authz_lifetime_ms;
    a->last_change_ms = now;
    for (i = 0; i < n_types && a->n_ch < STORE_MAX_CHALLENGES; i++) {
        enum chall_type t = types[i];
        bool dup = false;
        /* RFC 8555 section 7.1.3: a wildcard is proven through DNS only; RFC 8738 section
         * 7: an IP address has no DNS challenge. */
        if (t != CHALL_HTTP01 && t != CHALL_DNS01 && t != CHALL_TLSALPN01 &&
            t != CHALL_DNSACCOUNT01)
            continue;
        if (wildcard && t != CHALL_DNS01 && t != CHALL_DNSACCOUNT01)
            continue;
        if (itype == IDENT_IP && (t == CHALL_DNS01 || t == CHALL_DNSACCOUNT01))
            continue;
        for (size_t j = 0; j < a->n_ch; j++)
            dup = dup || a->ch[j].type == t;
        if (dup)
            continue;
        struct s_chall *c = &a->ch[a->n_ch];
        c->type = t;
        c->status = CHALL_PENDING;
        err = st_new_id(&st->challs, c->id);
        if (err != MC_OK)
            goto out;
        err = st_random_b64(32, c->token, sizeof(c->token));
        if (err != MC_OK)
            goto out;
        a->n_ch++;
    }
    if (a->n_ch == 0) {
        err = MC_ERR_UNSUPPORTED; /* no offered type can prove this identifier */
        goto out;
    }
    st_shuffle(st, a->ch, a->n_ch, sizeof(a->ch[0]));
    err = st_new_id(&st->authzs, a->id);
    if (err != MC_OK)
        goto out;
    err = hm_put(&st->authzs, a->id, a);
    if (err != MC_OK)
        goto out;
    for (i = 0; i < a->n_ch; i++) {
        err = hm_put(&st->challs, a->ch[i].id, a);
        if (err != MC_OK) {
            while (i-- > 0)
                hm_del(&st->challs, a->ch[i].id, a);
            hm_del(&st->authzs, a->id, a);
            goto out;
        }
    }
    a->acct_next = acct->authzs;
    if (acct->authzs != NULL)
        acct->authzs->acct_prev = a;
    acct->authzs = a;
    acct->n_authzs++;
    *out = a;
    a = NULL;
out:
    st_authz_destroy(a);
    return err;
}

static enum mc_err st_authz_add_order(struct s_authz *a, struct s_order *o)
{
    if (a->n_orders == a->cap_orders) {
        size_t nc = a->cap_orders == 0 ? 2 : a->cap_orders * 2;
        struct s_order **v = realloc(a->orders, nc * sizeof(*v));
        if (v == NULL)
            return MC_ERR_NOMEM;
        a->orders = v;
        a->cap_orders = nc;
    }
    a->orders[a->n_orders++] = o;
    return MC_OK;
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static void st_cert_destroy(struct s_cert *c)
{
    if (c == NULL)
        return;
    free(c->leaf_pem);
    free(c->explanation);
    free(c);
}

enum mc_err store_new(const struct store_config *cfg, struct store **out)
{
    struct store *st = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    *out = NULL;
    st = calloc(1, sizeof(*st));
    if (st == NULL)
        return MC_ERR_NOMEM;
    if (cfg != NULL) {
        if (cfg->order_lifetime_ms < 0 || cfg->authz_lifetime_ms < 0 ||
            cfg->valid_authz_lifetime_ms < 0 || cfg->retention_ms < 0) {
            err = MC_ERR_INVALID;
            goto out;
        }
        st->clock = cfg->clock;
        st->order_lifetime_ms = cfg->order_lifetime_ms;
        st->authz_lifetime_ms = cfg->authz_lifetime_ms;
        st->valid_authz_lifetime_ms = cfg->valid_authz_lifetime_ms;
        st->retention_ms = cfg->retention_ms;
        st->shuffle = cfg->shuffle && cfg->rand64 != NULL;
        st->rand64 = cfg->rand64;
        st->rand_ctx = cfg->rand_ctx;
    }
    if (st->order_lifetime_ms == 0)
        st->order_lifetime_ms = ST_DEF_ORDER_LIFETIME_MS;
    if (st->authz_lifetime_ms == 0)
        st->authz_lifetime_ms = ST_DEF_AUTHZ_LIFETIME_MS;
    if (st->valid_authz_lifetime_ms == 0)
        st->valid_authz_lifetime_ms = ST_DEF_VALID_AUTHZ_LIFETIME_MS;
    if (st->retention_ms == 0)
        st->retention_ms = ST_DEF_RETENTION_MS;
    st->max_objects = STORE_OBJECT_BOUND;
    if (!hm_init(&st->accounts) || !hm_init(&st->orders) || !hm_init(&st->authzs) ||
        !hm_init(&st->challs) || !hm_init(&st->by_thumb) || !hm_init(&st->reuse) ||
        !hm_init(&st->certs))
        goto out;
    if (pthread_mutex_init(&st->mu, NULL) != 0)
        goto out;
    *out = st;
    st = NULL;
    err = MC_OK;
out:
    if (st != NULL) {
        hm_destroy(&st->accounts);
        hm_destroy(&st->orders);
        hm_destroy(&st->authzs);
        hm_destroy(&st->challs);
        hm_destroy(&st->by_thumb);
        hm_destroy(&st->reuse);
        hm_destroy(&st->certs);
        free(st);
    }
    return err;
}

void store_free(struct store *st)
{
    if (st == NULL)
        return;
    for (size_t i = 0; i <= st->orders.mask; i++)
        for (struct hent *e = st->orders.b[i]; e != NULL; e = e->next)
            st_order_destroy(e->val);
    for (size_t i = 0; i <= st->authzs.mask; i++)
        for (struct hent *e = st->authzs.b[i]; e != NULL; e = e->next)
            st_authz_destroy(e->val);
    for (size_t i = 0; i <= st->accounts.mask; i++)
        for (struct hent *e = st->accounts.b[i]; e != NULL; e = e->next)
            st_account_destroy(e->val);
    for (size_t i = 0; i <= st->certs.mask; i++)
        for (struct hent *e = st->certs.b[i]; e != NULL; e = e->next)
            st_cert_destroy(e->val);
    hm_destroy(&st->accounts);
    hm_destroy(&st->orders);
    hm_destroy(&st->authzs);
    hm_destroy(&st->challs);
    hm_destroy(&st->by_thumb);
    hm_destroy(&st->reuse);
    hm_destroy(&st->certs);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

/* ---- snapshots ---------------------------------------------------------------------- */

void account_snap_clear(struct account_snap *a)
{
    if (a == NULL)
        return;
    EVP_PKEY_free(a->key);
    for (size_t i = 0; i < a->n_contacts && i < STORE_MAX_CONTACTS; i++)
        free(a->contacts[i]);
    free(a->eab_kid);
    memset(a, 0, sizeof(*a));
}

void authz_snap_clear(struct authz_snap *a)
{
    if (a == NULL)
        return;
    free(a->ident.value);
    memset(a, 0, sizeof(*a));
}

void order_snap_clear(struct order_snap *o)
{
    if (o == NULL)
        return;
    ident_list_free(&o->idents);
    free(o->authz_ids);
    free(o->profile);
    free(o->replaces);
    free(o->cert_serial);
    memset(o, 0, sizeof(*o));
}

static enum mc_err st_snap_account(const struct s_account *a, struct account_snap *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, a->id, sizeof(out->id));
    out->status = a->status;
    out->tos_agreed = a->tos_agreed;
    out->created_ms = a->created_ms;
    if (EVP_PKEY_up_ref(a->key) != 1)
        return MC_ERR_CRYPTO;
    out->key = a->key;
    for (size_t i = 0; i < a->n_contacts; i++) {
        out->contacts[i] = strdup(a->contacts[i]);
        if (out->contacts[i] == NULL)
            goto nomem;
        out->n_contacts++;
    }
    if (a->eab_kid != NULL) {
        out->eab_kid = strdup(a->eab_kid);
        if (out->eab_kid == NULL)
            goto nomem;
    }
    return MC_OK;
nomem:
    account_snap_clear(out);
    return MC_ERR_NOMEM;
}

static void st_snap_chall(const struct s_authz *a, const struct s_chall *c,
                          struct challenge_snap *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, c->id, sizeof(out->id));
    memcpy(out->authz_id, a->id, sizeof(out->authz_id));
    out->type = c->type;
    out->status = c->status;
    memcpy(out->token, c->token, sizeof(out->token));
    out->validated_ms = c->validated_ms;
    st_err_get(c->error, &out->error);
}

static enum mc_err st_snap_authz(const struct s_authz *a, struct authz_snap *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, a->id, sizeof(out->id));
    memcpy(out->account_id, a->acct->id, sizeof(out->account_id));
    out->ident.type = a->ident.type;
    out->ident.value = strdup(a->ident.value);
    if (out->ident.value == NULL)
        return MC_ERR_NOMEM;
    out->wildcard = a->wildcard;
    out->status = a->status;
    out->expires_ms = a->expires_ms;
    for (size_t i = 0; i < a->n_ch; i++)
        st_snap_chall(a, &a->ch[i], &out->challenges[i]);
    out->n_challenges = a->n_ch;
    return MC_OK;
}

static enum mc_err st_snap_order(const struct s_order *o, struct order_snap *out)
{
    memset(out, 0, sizeof(*out));
    memcpy(out->id, o->id, sizeof(out->id));
    memcpy(out->account_id, o->acct->id, sizeof(out->account_id));
    out->status = o->status;
    out->expires_ms = o->expires_ms;
    out->not_before = o->not_before;
    out->not_after = o->not_after;
    st_err_get(o->error, &out->error);
    out->created_ms = o->created_ms;
    out->idents.v = calloc(o->idents.n, sizeof(*out->idents.v));
    if (out->idents.v == NULL)
        goto nomem;
    for (size_t i = 0; i < o->idents.n; i++) {
        out->idents.v[i].type = o->idents.v[i].type;
        out->idents.v[i].value = strdup(o->idents.v[i].value);
        if (out->idents.v[i].value == NULL)
            goto nomem;
        out->idents.n++;
    }
    out->authz_ids = calloc(o->n_authz, sizeof(*out->authz_ids));
    if (out->authz_ids == NULL)
        goto nomem;
    for (size_t i = 0; i < o->n_authz; i++)
        memcpy(out->authz_ids[i], o->authzs[i]->id, STORE_ID_LEN + 1);
    out->n_authz = o->n_authz;
    if ((o->profile != NULL && (out->profile = strdup(o->profile)) == NULL) ||
        (o->replaces != NULL && (out->replaces = strdup(o->replaces)) == NULL) ||
        (o->cert_serial != NULL && (out->cert_serial = strdup(o->cert_serial)) == NULL))
        goto nomem;
    return MC_OK;
nomem:
    order_snap_clear(out);
    return MC_ERR_NOMEM;
}

/* ---- accounts ----------------------------------------------------------------------- */

static bool st_contacts_ok(const char *const *contacts, size_t n)
{
    if (n > STORE_MAX_CONTACTS || (n > 0 && contacts == NULL))
        return false;
    for (size_t i = 0; i < n; i++)
        if (contacts[i] == NULL || strnlen(contacts[i], ST_MAX_FIELD_LEN + 1) > ST_MAX_FIELD_LEN)
            return false;
    return true;
}

/* Fills v[0..n) with copies; on failure nothing is left allocated. */
static enum mc_err st_copy_contacts(const char *const *contacts, size_t n,
                                    char *v[STORE_MAX_CONTACTS])
{
    for (size_t i = 0; i < n; i++) {
        v[i] = strdup(contacts[i]);
        if (v[i] == NULL) {
            while (i-- > 0) {
                free(v[i]);
                v[i] = NULL;
            }
            return MC_ERR_NOMEM;
        }
    }
    return MC_OK;
}

/* The account holding key (thumbprint thumb), or NULL. Lock held. */
static struct s_account *st_find_key(struct store *st, const char *thumb, EVP_PKEY *key)
{
    struct s_account *a = hm_get(&st->by_thumb, thumb);
    if (a != NULL && !jwk_equal(a->key, key))
        return NULL; /* a SHA-256 collision; never in practice */
    return a;
}

enum mc_err store_account_new(struct store *st, EVP_PKEY *key, const char *const *contacts,
                              size_t n_contacts, bool tos_agreed, const char *eab_kid,
                              char id_out[STORE_ID_LEN + 1], char existing_id[STORE_ID_LEN + 1])
{
    struct s_account *a = NULL, *other;
    enum mc_err err;
    bool locked = false;

    if (id_out != NULL)
        id_out[0] = '\0';
    if (existing_id != NULL)
        existing_id[0] = '\0';
    if (st == NULL || key == NULL || id_out == NULL || !st_contacts_ok(contacts, n_contacts) ||
        (eab_kid != NULL && strnlen(eab_kid, ST_MAX_FIELD_LEN + 1) > ST_MAX_FIELD_LEN))
        return MC_ERR_INVALID;
    a = calloc(1, sizeof(*a));
    if (a == NULL)
        return MC_ERR_NOMEM;
    err = jwk_thumbprint(key, &a->thumb); /* outside the lock: it hashes */
    if (err != MC_OK)
        goto out;
    if (EVP_PKEY_up_ref(key) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    a->key = key;
    err = st_copy_contacts(contacts, n_contacts, a->contacts);
    if (err != MC_OK)
        goto out;
    a->n_contacts = n_contacts;
    if (eab_kid != NULL) {
        a->eab_kid = strdup(eab_kid);
        if (a->eab_kid == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    a->tos_agreed = tos_agreed;
    a->status = ACCT_VALID;

    pthread_mutex_lock(&st->mu);
    locked = true;
    other = st_find_key(st, a->thumb, key);
    if (other != NULL) {
        if (existing_id != NULL)
            memcpy(existing_id, other->id, STORE_ID_LEN + 1);
        err = MC_ERR_EXISTS;
        goto out;
    }
    if (st->accounts.n >= st->max_objects) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    err = st_new_id(&st->accounts, a->id);
    if (err != MC_OK)
        goto out;
    a->created_ms = a->last_change_ms = st_now(st);
    err = hm_put(&st->accounts, a->id, a);
    if (err != MC_OK)
        goto out;
    err = hm_put(&st->by_thumb, a->thumb, a);
    if (err != MC_OK) {
        hm_del(&st->accounts, a->id, a);
        goto out;
    }
    memcpy(id_out, a->id, STORE_ID_LEN + 1);
    a = NULL;
out:
    if (locked)
        pthread_mutex_unlock(&st->mu);
    st_account_destroy(a);
    return err;
}

enum mc_err store_account_get(struct store *st, const char *id, struct account_snap *out)
{
    struct s_account *a;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || id == NULL || out == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    a = hm_get(&st->accounts, id);
    if (a != NULL)
        err = st_snap_account(a, out);
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_account_find_by_key(struct store *st, EVP_PKEY *key,
                                      char id_out[STORE_ID_LEN + 1])
{
    struct s_account *a;
    char *thumb = NULL;
    enum mc_err err;

    if (id_out != NULL)
        id_out[0] = '\0';
    if (st == NULL || key == NULL || id_out == NULL)
        return MC_ERR_INVALID;
    err = jwk_thumbprint(key, &thumb);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&st->mu);
    a = st_find_key(st, thumb, key);
    if (a != NULL)
        memcpy(id_out, a->id, STORE_ID_LEN + 1);
    else
        err = MC_ERR_NOT_FOUND;
    pthread_mutex_unlock(&st->mu);
    free(thumb);
    return err;
}

enum mc_err store_account_set_contacts(struct store *st, const char *id,
                                       const char *const *contacts, size_t n)
{
    char *v[STORE_MAX_CONTACTS] = {0};
    struct s_account *a;
    enum mc_err err;

    if (st == NULL || id == NULL || !st_contacts_ok(contacts, n))
        return MC_ERR_INVALID;
    err = st_copy_contacts(contacts, n, v);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&st->mu);
    a = hm_get(&st->accounts, id);
    if (a == NULL) {
        err = MC_ERR_NOT_FOUND;
    } else if (a->status != ACCT_VALID) {
        err = MC_ERR_STATE;
    } else {
        /* Swap: the old contacts land in v and are freed below, outside the lock. */
        for (size_t i = 0; i < STORE_MAX_CONTACTS; i++) {
            char *t = a->contacts[i];
            a->contacts[i] = v[i];
            v[i] = t;
        }
        a->n_contacts = n;
        a->last_change_ms = st_now(st);
    }
    pthread_mutex_unlock(&st->mu);
    for (size_t i = 0; i < STORE_MAX_CONTACTS; i++)
        free(v[i]);
    return err;
}

enum mc_err store_account_deactivate(struct store *st, const char *id)
{
    struct s_account *a;
    enum mc_err err = MC_OK;
    struct acme_error e;
    int64_t now;

    if (st == NULL || id == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    a = hm_get(&st->accounts, id);
    if (a == NULL) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    if (a->status != ACCT_VALID) {
        err = MC_ERR_STATE;
        goto out;
    }
    a->status = ACCT_DEACTIVATED;
    a->last_change_ms = now;
    /* Orders first, so that theirs says why: the account, not one authorization. */
    st_set_error(&e, ACME_P_NONE, "account deactivated");
    for (struct s_order *o = a->newest_order; o != NULL; o = o->acct_older) {
        st_order_expire(st, o, now);
        if (o->status == ORDER_PENDING || o->status == ORDER_READY)
            st_order_set_invalid(o, now, &e);
    }
    for (struct s_authz *z = a->authzs; z != NULL; z = z->acct_next) {
        st_authz_expire(st, z, now);
        if (z->status == AUTHZ_PENDING)
            st_authz_deactivate(st, z, now);
    }
out:
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_account_rollover(struct store *st, const char *id, EVP_PKEY *new_key,
                                   char holder[STORE_ID_LEN + 1])
{
    struct s_account *a, *other;
    char *thumb = NULL;
    enum mc_err err;

    if (holder != NULL)
        holder[0] = '\0';
    if (st == NULL || id == NULL || new_key == NULL)
        return MC_ERR_INVALID;
    err = jwk_thumbprint(new_key, &thumb);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&st->mu);
    a = hm_get(&st->accounts, id);
    if (a == NULL) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    other = st_find_key(st, thumb, new_key);
    if (other != NULL) {
        if (holder != NULL)
            memcpy(holder, other->id, STORE_ID_LEN + 1);
        err = MC_ERR_EXISTS;
        goto out;
    }
    if (a->status != ACCT_VALID) {
        err = MC_ERR_STATE;
        goto out;
    }
    if (EVP_PKEY_up_ref(new_key) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    err = hm_put(&st->by_thumb, thumb, a);
    if (err != MC_OK) {
        EVP_PKEY_free(new_key);
        goto out;
    }
    hm_del(&st->by_thumb, a->thumb, a);
    EVP_PKEY_free(a->key);
    a->key = new_key;
    free(a->thumb);
    a->thumb = thumb;
    thumb = NULL;
    a->last_change_ms = st_now(st);
out:
    pthread_mutex_unlock(&st->mu);
    free(thumb);
    return err;
}

enum mc_err store_account_orders(struct store *st, const char *id, size_t offset, size_t max,
                                 char (**ids)[STORE_ID_LEN + 1], size_t *n, size_t *total)
{
    struct s_account *a;
    struct s_order *o;
    enum mc_err err = MC_OK;
    size_t k = 0, cnt;

    if (ids != NULL)
        *ids = NULL;
    if (n != NULL)
        *n = 0;
    if (total != NULL)
        *total = 0;
    if (st == NULL || id == NULL || ids == NULL || n == NULL || total == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    a = hm_get(&st->accounts, id);
    if (a == NULL) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    *total = a->n_orders;
    cnt = offset < a->n_orders ? a->n_orders - offset : 0;
    if (cnt > max)
        cnt = max;
    if (cnt == 0)
        goto out;
    *ids = calloc(cnt, sizeof(**ids));
    if (*ids == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    o = a->newest_order;
    for (size_t i = 0; i < offset && o != NULL; i++)
        o = o->acct_older;
    for (; o != NULL && k < cnt; o = o->acct_older)
        memcpy((*ids)[k++], o->id, STORE_ID_LEN + 1);
    *n = k;
out:
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- orders ------------------------------------------------------------------------- */

static bool st_ident_ok(const struct ident *id)
{
    return (id->type == IDENT_DNS || id->type == IDENT_IP) && id->value != NULL &&
           id->value[0] != '\0' && strnlen(id->value, IDENT_MAX_LEN + 1) <= IDENT_MAX_LEN;
}

/* The reusable authorization for (acct, ident, wildcard), or NULL. Lock held. */
static struct s_authz *st_reusable(struct store *st, const struct s_account *acct,
                                   enum ident_type t, bool wildcard, const char *value,
                                   int64_t now)
{
    char key[ST_REUSE_KEY_LEN];
    struct s_authz *a;
    st_reuse_key(acct->id, t, wildcard, value, key, sizeof(key));
    a = hm_get(&st->reuse, key);
    if (a == NULL)
        return NULL;
    st_authz_expire(st, a, now);
    if (a->status != AUTHZ_VALID || a->acct != acct)
        return NULL;
    return a;
}

enum mc_err store_order_new(struct store *st, const char *account_id,
                            const struct order_request *req, char id_out[STORE_ID_LEN + 1])
{
    struct s_order *o = NULL;
    struct s_authz **created = NULL;
    size_t n_created = 0;
    struct s_account *acct;
    enum mc_err err = MC_OK;
    bool locked = false, all_reused = true;
    int64_t now;

    if (id_out != NULL)
        id_out[0] = '\0';
    if (st == NULL || account_id == NULL || req == NULL || id_out == NULL ||
        req->idents == NULL || req->idents->n == 0 || req->idents->n > IDENT_MAX_COUNT ||
        req->n_types == 0 || req->n_types > ST_MAX_TYPES || req->types == NULL ||
        req->reuse_pct > 100)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < req->idents->n; i++)
        if (!st_ident_ok(&req->idents->v[i]))
            return MC_ERR_INVALID;
    o = calloc(1, sizeof(*o));
    created = calloc(req->idents->n, sizeof(*created));
    if (o == NULL || created == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    o->idents.v = calloc(req->idents->n, sizeof(*o->idents.v));
    o->authzs = calloc(req->idents->n, sizeof(*o->authzs));
    if (o->idents.v == NULL || o->authzs == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < req->idents->n; i++) {
        const struct ident *in = &req->idents->v[i];
        bool dup = false;
        for (size_t j = 0; j < o->idents.n && !dup; j++)
            dup = o->idents.v[j].type == in->type && strcmp(o->idents.v[j].value, in->value) == 0;
        if (dup)
            continue;
        o->idents.v[o->idents.n].type = in->type;
        o->idents.v[o->idents.n].value = strdup(in->value);
        if (o->idents.v[o->idents.n].value == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        o->idents.n++;
    }
    if ((req->profile != NULL && (o->profile = st_strdup_capped(req->profile)) == NULL) ||
        (req->replaces != NULL && (o->replaces = st_strdup_capped(req->replaces)) == NULL)) {
        err = MC_ERR_INVALID; /* over the cap, or out of memory */
        goto out;
    }
    o->not_before = req->not_before;
    o->not_after = req->not_after;

    pthread_mutex_lock(&st->mu);
    locked = true;
    now = st_now(st);
    acct = hm_get(&st->accounts, account_id);
    if (acct == NULL) {
        err = MC_ERR_NOT_FOUND;
        goto out;
    }
    if (acct->status != ACCT_VALID) {
        err = MC_ERR_STATE;
        goto out;
    }
    if (st->orders.n >= st->max_objects) {
        err = MC_ERR_LIMIT;
        goto out;
    }
    o->acct = acct;
    for (size_t i = 0; i < o->idents.n; i++) {
        const struct ident *in = &o->idents.v[i];
        bool wildcard = in->type == IDENT_DNS && strncmp(in->value, "*.", 2) == 0;
        const char *base = wildcard ? in->value + 2 : in->value;
        struct s_authz *a = NULL;
        /* The draw happens under the lock, so a caller's non-thread-safe PRNG is safe. */
        if (req->rand64 != NULL && req->reuse_pct > 0 &&
            req->rand64(req->rand_ctx) % 100 < req->reuse_pct)
            a = st_reusable(st, acct, in->type, wildcard, base, now);
        if (a == NULL) {
            all_reused = false;
            err = st_authz_create(st, acct, in->type, base, wildcard, req->types, req->n_types,
                                  now, &a);
            if (err != MC_OK)
                goto out;
            created[n_created++] = a;
        }
        o->authzs[o->n_authz++] = a;
    }
    err = st_new_id(&st->orders, o->id);
    if (err != MC_OK)
        goto out;
    /* Pebble shuffles both lists, each on its own, so a client that pairs identifiers with
     * authorizations by position (rather than by each authorization's identifier) fails. */
    st_shuffle(st, o->idents.v, o->idents.n, sizeof(o->idents.v[0]));
    st_shuffle(st, o->authzs, o->n_authz, sizeof(o->authzs[0]));
    /* Link to the authorizations last, where only an allocation can fail: undo is exact. */
    for (size_t i = 0; i < o->n_authz; i++) {
        err = st_authz_add_order(o->authzs[i], o);
        if (err != MC_OK) {
            for (size_t j = 0; j < i; j++)
                o->authzs[j]->n_orders--;
            goto out;
        }
    }
    err = hm_put(&st->orders, o->id, o);
    if (err != MC_OK) {
        for (size_t j = 0; j < o->n_authz; j++)
            o->authzs[j]->n_orders--;
        goto out;
    }
    o->status = all_reused ? ORDER_READY : ORDER_PENDING;
    o->created_ms = o->last_change_ms = now;
    o->expires_ms = now + st->order_lifetime_ms;
    o->acct_older = acct->newest_order;
    if (acct->newest_order != NULL)
        acct->newest_order->acct_newer = o;
    acct->newest_order = o;
    acct->n_orders++;
    memcpy(id_out, o->id, STORE_ID_LEN + 1);
    o = NULL;
    n_created = 0;
out:
    /* On failure, authorizations made for this order go again (no order references them). */
    for (size_t i = 0; i < n_created; i++)
        st_authz_drop(st, created[i]);
    if (locked)
        pthread_mutex_unlock(&st->mu);
    free(created);
    st_order_destroy(o);
    return err;
}

/* Finds an order and applies its expiry. Lock held. */
static struct s_order *st_order_find(struct store *st, const char *id, int64_t now)
{
    struct s_order *o = hm_get(&st->orders, id);
    if (o != NULL)
        st_order_expire(st, o, now);
    return o;
}

enum mc_err store_order_get(struct store *st, const char *id, struct order_snap *out)
{
    struct s_order *o;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || id == NULL || out == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    o = st_order_find(st, id, st_now(st));
    if (o != NULL)
        err = st_snap_order(o, out);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* The one shape of every order transition: find, expire, check from-state, apply. */
static enum mc_err st_order_move(struct store *st, const char *id, unsigned from_mask,
                                 enum order_status to, const char *serial,
                                 const struct acme_error *e)
{
    struct s_order *o;
    enum mc_err err = MC_OK;
    char *copy = NULL;
    int64_t now;

    if (st == NULL || id == NULL)
        return MC_ERR_INVALID;
    if (serial != NULL) {
        copy = st_strdup_capped(serial);
        if (copy == NULL)
            return MC_ERR_INVALID;
    }
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    o = st_order_find(st, id, now);
    if (o == NULL) {
        err = MC_ERR_NOT_FOUND;
    } else if ((from_mask & (1u << o->status)) == 0) {
        err = MC_ERR_STATE;
    } else {
        o->status = to;
        o->last_change_ms = now;
        if (copy != NULL) {
            free(o->cert_serial);
            o->cert_serial = copy;
            copy = NULL;
        }
        if (e != NULL)
            st_err_set(&o->error, e);
    }
    pthread_mutex_unlock(&st->mu);
    free(copy);
    return err;
}

enum mc_err store_order_begin_finalize(struct store *st, const char *id)
{
    return st_order_move(st, id, 1u << ORDER_READY, ORDER_PROCESSING, NULL, NULL);
}

enum mc_err store_order_complete(struct store *st, const char *id, const char *cert_serial)
{
    if (cert_serial == NULL || cert_serial[0] == '\0')
        return MC_ERR_INVALID;
    return st_order_move(st, id, 1u << ORDER_PROCESSING, ORDER_VALID, cert_serial, NULL);
}

enum mc_err store_order_fail(struct store *st, const char *id, const struct acme_error *err)
{
    if (err == NULL)
        return MC_ERR_INVALID;
    return st_order_move(st, id,
                         (1u << ORDER_PENDING) | (1u << ORDER_READY) | (1u << ORDER_PROCESSING),
                         ORDER_INVALID, NULL, err);
}

/* ---- authorizations ------------------------------------------------------------------ */

enum mc_err store_authz_new(struct store *st, const char *account_id, const struct ident *ident,
                            const enum chall_type *types, size_t n_types,
                            char id_out[STORE_ID_LEN + 1])
{
    struct s_account *acct;
    struct s_authz *a = NULL;
    enum mc_err err;
    bool wildcard;

    if (id_out != NULL)
        id_out[0] = '\0';
    if (st == NULL || account_id == NULL || ident == NULL || !st_ident_ok(ident) ||
        types == NULL || n_types == 0 || n_types > ST_MAX_TYPES || id_out == NULL)
        return MC_ERR_INVALID;
    /* RFC 8555 section 7.4.1: a pre-authorization may not be for a wildcard; the handler
     * answers that, but the store keeps the wildcard flag right if it is ever asked. */
    wildcard = ident->type == IDENT_DNS && strncmp(ident->value, "*.", 2) == 0;
    pthread_mutex_lock(&st->mu);
    acct = hm_get(&st->accounts, account_id);
    if (acct == NULL) {
        err = MC_ERR_NOT_FOUND;
    } else if (acct->status != ACCT_VALID) {
        err = MC_ERR_STATE;
    } else {
        err = st_authz_create(st, acct, ident->type, wildcard ? ident->value + 2 : ident->value,
                              wildcard, types, n_types, st_now(st), &a);
        if (err == MC_OK)
            memcpy(id_out, a->id, STORE_ID_LEN + 1);
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

static struct s_authz *st_authz_find(struct store *st, const char *id, int64_t now)
{
    struct s_authz *a = hm_get(&st->authzs, id);
    if (a != NULL)
        st_authz_expire(st, a, now);
    return a;
}

enum mc_err store_authz_get(struct store *st, const char *id, struct authz_snap *out)
{
    struct s_authz *a;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || id == NULL || out == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    a = st_authz_find(st, id, st_now(st));
    if (a != NULL)
        err = st_snap_authz(a, out);
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_authz_deactivate(struct store *st, const char *id)
{
    struct s_authz *a;
    enum mc_err err = MC_OK;
    int64_t now;

    if (st == NULL || id == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    a = st_authz_find(st, id, now);
    if (a == NULL)
        err = MC_ERR_NOT_FOUND;
    else if (a->status != AUTHZ_PENDING && a->status != AUTHZ_VALID)
        err = MC_ERR_STATE;
    else
        st_authz_deactivate(st, a, now);
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- challenges --------------------------------------------------------------------- */

/* Finds a challenge and its authorization (expiry applied). Lock held. */
static struct s_chall *st_chall_find(struct store *st, const char *id, int64_t now,
                                     struct s_authz **authz)
{
    struct s_authz *a = hm_get(&st->challs, id);
    *authz = a;
    if (a == NULL)
        return NULL;
    st_authz_expire(st, a, now);
    for (size_t i = 0; i < a->n_ch; i++)
        if (strcmp(a->ch[i].id, id) == 0)
            return &a->ch[i];
    return NULL;
}

enum mc_err store_challenge_get(struct store *st, const char *id, struct challenge_snap *out)
{
    struct s_authz *a;
    struct s_chall *c;
    enum mc_err err = MC_OK;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || id == NULL || out == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    c = st_chall_find(st, id, st_now(st), &a);
    if (c == NULL)
        err = MC_ERR_NOT_FOUND;
    else
        st_snap_chall(a, c, out);
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_challenge_begin(struct store *st, const char *id)
{
    struct s_authz *a;
    struct s_chall *c;
    enum mc_err err = MC_OK;

    if (st == NULL || id == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    c = st_chall_find(st, id, st_now(st), &a);
    if (c == NULL)
        err = MC_ERR_NOT_FOUND;
    else if (c->status != CHALL_PENDING || a->status != AUTHZ_PENDING)
        err = MC_ERR_STATE;
    else
        c->status = CHALL_PROCESSING;
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_challenge_succeed(struct store *st, const char *id)
{
    struct s_authz *a;
    struct s_chall *c;
    enum mc_err err = MC_OK;
    int64_t now;

    if (st == NULL || id == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    c = st_chall_find(st, id, now, &a);
    if (c == NULL) {
        err = MC_ERR_NOT_FOUND;
    } else if (c->status != CHALL_PROCESSING || a->status != AUTHZ_PENDING) {
        err = MC_ERR_STATE;
    } else {
        c->status = CHALL_VALID;
        c->validated_ms = now;
        a->status = AUTHZ_VALID;
        a->last_change_ms = now;
        a->expires_ms = now + st->valid_authz_lifetime_ms;
        st_reuse_index(st, a);
        st_authz_orders_advance(st, a, now);
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

enum mc_err store_challenge_fail(struct store *st, const char *id, const struct acme_error *e)
{
    struct s_authz *a;
    struct s_chall *c;
    enum mc_err err = MC_OK;
    int64_t now;

    if (st == NULL || id == NULL || e == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    c = st_chall_find(st, id, now, &a);
    if (c == NULL) {
        err = MC_ERR_NOT_FOUND;
    } else if (c->status != CHALL_PROCESSING || a->status != AUTHZ_PENDING) {
        err = MC_ERR_STATE;
    } else {
        c->status = CHALL_INVALID;
        st_err_set(&c->error, e);
        a->status = AUTHZ_INVALID;
        a->last_change_ms = now;
        st_authz_orders_fail(a, now, e);
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- issued certificates ---------------------------------------------------------- */

void cert_snap_clear(struct cert_snap *c)
{
    if (c == NULL)
        return;
    free(c->leaf_pem);
    memset(c, 0, sizeof(*c));
}

static bool st_serial_ok(const char *s)
{
    size_t n = s != NULL ? strnlen(s, STORE_SERIAL_MAX + 1) : 0;

    if (n == 0 || n > STORE_SERIAL_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

enum mc_err store_cert_add(struct store *st, const char *serial_hex, const char *account_id,
                           const char *order_id, const char *leaf_pem)
{
    struct s_cert *c = NULL;
    enum mc_err err = MC_OK;

    if (st == NULL || !st_serial_ok(serial_hex) || account_id == NULL ||
        strlen(account_id) > STORE_ID_LEN || order_id == NULL ||
        strlen(order_id) > STORE_ID_LEN || leaf_pem == NULL)
        return MC_ERR_INVALID;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return MC_ERR_NOMEM;
    c->leaf_pem = strdup(leaf_pem);
    if (c->leaf_pem == NULL) {
        free(c);
        return MC_ERR_NOMEM;
    }
    memcpy(c->serial, serial_hex, strlen(serial_hex) + 1);
    memcpy(c->account_id, account_id, strlen(account_id) + 1);
    memcpy(c->order_id, order_id, strlen(order_id) + 1);
    pthread_mutex_lock(&st->mu);
    c->issued_ms = st_now(st);
    if (hm_get(&st->certs, c->serial) != NULL)
        err = MC_ERR_EXISTS;
    else if (st->certs.n >= st->max_objects)
        err = MC_ERR_LIMIT;
    else
        err = hm_put(&st->certs, c->serial, c);
    if (err == MC_OK)
        c = NULL;
    pthread_mutex_unlock(&st->mu);
    st_cert_destroy(c);
    return err;
}

enum mc_err store_cert_get(struct store *st, const char *serial_hex, struct cert_snap *out)
{
    struct s_cert *c;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || out == NULL || !st_serial_ok(serial_hex))
        return out == NULL || st == NULL ? MC_ERR_INVALID : MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&st->mu);
    c = hm_get(&st->certs, serial_hex);
    if (c != NULL) {
        out->leaf_pem = strdup(c->leaf_pem);
        if (out->leaf_pem == NULL) {
            err = MC_ERR_NOMEM;
        } else {
            memcpy(out->serial, c->serial, sizeof(out->serial));
            memcpy(out->account_id, c->account_id, sizeof(out->account_id));
            memcpy(out->order_id, c->order_id, sizeof(out->order_id));
            out->issued_ms = c->issued_ms;
            err = MC_OK;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- revocation and renewal information --------------------------------------------- */

enum mc_err store_account_authorized(struct store *st, const char *account_id,
                                     const struct ident *ident, bool *out)
{
    struct s_account *acct;
    const char *want;
    int64_t now;

    if (out != NULL)
        *out = false;
    if (st == NULL || account_id == NULL || ident == NULL || ident->value == NULL || out == NULL)
        return MC_ERR_INVALID;
    want = ident->value;
    if (ident->type == IDENT_DNS && want[0] == '*' && want[1] == '.')
        want += 2; /* a wildcard name is proven through its base name (RFC 8555 7.1.3) */
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    acct = hm_get(&st->accounts, account_id);
    for (struct s_authz *a = acct != NULL ? acct->authzs : NULL; a != NULL; a = a->acct_next) {
        st_authz_expire(st, a, now);
        if (a->status == AUTHZ_VALID && a->ident.type == ident->type &&
            strcasecmp(a->ident.value, want) == 0) {
            *out = true;
            break;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return MC_OK;
}

enum mc_err store_cert_mark_replaced(struct store *st, const char *serial_hex,
                                     const char *account_id)
{
    struct s_cert *c;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (st == NULL || account_id == NULL)
        return MC_ERR_INVALID;
    if (!st_serial_ok(serial_hex))
        return MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&st->mu);
    c = hm_get(&st->certs, serial_hex);
    if (c != NULL) {
        if (strcmp(c->account_id, account_id) != 0) {
            err = MC_ERR_MISMATCH;
        } else if (c->replaced) {
            err = MC_ERR_EXISTS;
        } else {
            c->replaced = true;
            err = MC_OK;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

void store_cert_unmark_replaced(struct store *st, const char *serial_hex)
{
    struct s_cert *c;

    if (st == NULL || !st_serial_ok(serial_hex))
        return;
    pthread_mutex_lock(&st->mu);
    c = hm_get(&st->certs, serial_hex);
    if (c != NULL)
        c->replaced = false;
    pthread_mutex_unlock(&st->mu);
}

void cert_ari_clear(struct cert_ari *a)
{
    if (a == NULL)
        return;
    free(a->explanation);
    memset(a, 0, sizeof(*a));
}

enum mc_err store_cert_set_window(struct store *st, const char *serial_hex, int64_t start,
                                  int64_t end, const char *explanation)
{
    struct s_cert *c;
    char *copy = NULL;
    bool clear = start == 0 && end == 0;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (st == NULL || (!clear && end <= start) ||
        (explanation != NULL && strnlen(explanation, ST_MAX_FIELD_LEN + 1) > ST_MAX_FIELD_LEN))
        return MC_ERR_INVALID;
    if (!st_serial_ok(serial_hex))
        return MC_ERR_NOT_FOUND;
    if (!clear && explanation != NULL) {
        copy = strdup(explanation);
        if (copy == NULL)
            return MC_ERR_NOMEM;
    }
    pthread_mutex_lock(&st->mu);
    c = hm_get(&st->certs, serial_hex);
    if (c != NULL) {
        free(c->explanation);
        c->explanation = copy;
        copy = NULL;
        c->window_set = !clear;
        c->win_start = clear ? 0 : start;
        c->win_end = clear ? 0 : end;
        err = MC_OK;
    }
    pthread_mutex_unlock(&st->mu);
    free(copy);
    return err;
}

enum mc_err store_cert_ari(struct store *st, const char *serial_hex, struct cert_ari *out)
{
    struct s_cert *c;
    enum mc_err err = MC_ERR_NOT_FOUND;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (st == NULL || out == NULL)
        return MC_ERR_INVALID;
    if (!st_serial_ok(serial_hex))
        return MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&st->mu);
    c = hm_get(&st->certs, serial_hex);
    if (c != NULL) {
        err = MC_OK;
        out->window_set = c->window_set;
        out->start = c->win_start;
        out->end = c->win_end;
        out->replaced = c->replaced;
        if (c->explanation != NULL) {
            out->explanation = strdup(c->explanation);
            if (out->explanation == NULL)
                err = MC_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return err;
}

/* ---- housekeeping ------------------------------------------------------------------- */

static bool st_past_retention(const struct store *st, int64_t last_change, int64_t now)
{
    return now - last_change >= st->retention_ms;
}

size_t store_sweep(struct store *st)
{
    size_t dropped = 0;
    int64_t now;

    if (st == NULL)
        return 0;
    pthread_mutex_lock(&st->mu);
    now = st_now(st);
    /* Expiry first, so that what expired long ago is dropped in this same pass. */
    for (size_t i = 0; i <= st->authzs.mask; i++)
        for (struct hent *e = st->authzs.b[i]; e != NULL; e = e->next)
            st_authz_expire(st, e->val, now);
    for (size_t i = 0; i <= st->orders.mask; i++)
        for (struct hent *e = st->orders.b[i]; e != NULL; e = e->next)
            st_order_expire(st, e->val, now);
    /* Orders, then the authorizations no order uses, then accounts with nothing left. */
    for (size_t i = 0; i <= st->orders.mask; i++) {
        struct hent *e = st->orders.b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            struct s_order *o = e->val;
            if ((o->status == ORDER_VALID || o->status == ORDER_INVALID) &&
                st_past_retention(st, o->last_change_ms, now)) {
                st_order_drop(st, o);
                dropped++;
            }
            e = next;
        }
    }
    for (size_t i = 0; i <= st->authzs.mask; i++) {
        struct hent *e = st->authzs.b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            struct s_authz *a = e->val;
            if (a->n_orders == 0 && a->status != AUTHZ_PENDING && a->status != AUTHZ_VALID &&
                st_past_retention(st, a->last_change_ms, now)) {
                dropped += 1 + a->n_ch;
                st_authz_drop(st, a);
            }
            e = next;
        }
    }
    /* Certificates are kept as long as the valid order that produced them. */
    for (size_t i = 0; i <= st->certs.mask; i++) {
        struct hent *e = st->certs.b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            struct s_cert *c = e->val;
            if (st_past_retention(st, c->issued_ms, now)) {
                hm_del(&st->certs, c->serial, c);
                st_cert_destroy(c);
                dropped++;
            }
            e = next;
        }
    }
    for (size_t i = 0; i <= st->accounts.mask; i++) {
        struct hent *e = st->accounts.b[i];
        while (e != NULL) {
            struct hent *next = e->next;
            struct s_account *a = e->val;
            if (a->status != ACCT_VALID && a->n_orders == 0 && a->n_authzs == 0 &&
                st_past_retention(st, a->last_change_ms, now)) {
                hm_del(&st->by_thumb, a->thumb, a);
                hm_del(&st->accounts, a->id, a);
                st_account_destroy(a);
                dropped++;
            }
            e = next;
        }
    }
    pthread_mutex_unlock(&st->mu);
    return dropped;
}

void store_counts(struct store *st, struct store_counts *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof(*out));
    if (st == NULL)
        return;
    pthread_mutex_lock(&st->mu);
    out->accounts = st->accounts.n;
    out->orders = st->orders.n;
    out->authzs = st->authzs.n;
    out->challenges = st->challs.n;
    out->certs = st->certs.n;
    pthread_mutex_unlock(&st->mu);
}
