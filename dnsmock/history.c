/* history.c: challtestsrv's request histories, one bounded ring per kind.
 *
 * challtestsrv keys an entry by the DNS question name without its trailing dot, by the
 * HTTP Host header without its port, or by the TLS SNI name, and looks the key up exactly
 * as the caller spelled it. We fold case and drop a trailing dot on both sides, so every
 * lookup that works there works here, and "example.com." finds "example.com" too. */
#include "dnsmock/history.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_KEY_MAX 256
#define HISTORY_TEXT_MAX 2048 /* longest URL, Host or name kept; longer ones are cut */

struct hist_entry {
    char *key; /* normalized host: lowercase, no trailing dot, no port */
    /* DNS */
    char *qname;
    uint16_t qtype, qclass;
    /* HTTP */
    char *url;
    char *host;
    bool https;
    /* HTTP and TLS-ALPN */
    char *server_name;
};

/* Entries live in e[(head + i) % cap] for i in [0, count). Invariant: head is 0 while
 * cap < max, so growing the array never has to unroll a wrapped ring. */
struct hist_ring {
    struct hist_entry *e;
    size_t cap, head, count;
};

struct history {
    pthread_mutex_t mu;
    size_t max;
    struct hist_ring ring[HISTORY_KINDS];
};

static void hist_entry_free(struct hist_entry *e)
{
    free(e->key);
    free(e->qname);
    free(e->url);
    free(e->host);
    free(e->server_name);
    memset(e, 0, sizeof(*e));
}

struct history *history_new(unsigned max_per_kind)
{
    struct history *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    if (pthread_mutex_init(&h->mu, NULL) != 0) {
        free(h);
        return NULL;
    }
    h->max = max_per_kind > 0 ? max_per_kind : 10000;
    return h;
}

static void hist_ring_clear(struct hist_ring *r)
{
    for (size_t i = 0; i < r->count; i++)
        hist_entry_free(&r->e[(r->head + i) % r->cap]);
    r->head = 0;
    r->count = 0;
}

void history_free(struct history *h)
{
    if (h == NULL)
        return;
    for (int k = 0; k < HISTORY_KINDS; k++) {
        hist_ring_clear(&h->ring[k]);
        free(h->ring[k].e);
    }
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* Lowercases s[0..n) into out and drops one trailing dot. False if it does not fit. */
static bool hist_key_from(const char *s, size_t n, char *out, size_t outn)
{
    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n + 1 > outn)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[n] = '\0';
    return true;
}

/* The key of an HTTP Host header: as Go's net.SplitHostPort reads it, "[v6]:port" and
 * "name:port" lose the port; anything else (a bare name, a bare IPv6) stays whole. */
static bool hist_key_from_hostport(const char *host, char *out, size_t outn)
{
    size_t n = strlen(host);
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        if (end != NULL && (end[1] == ':' || end[1] == '\0'))
            return hist_key_from(host + 1, (size_t)(end - host - 1), out, outn);
        return hist_key_from(host, n, out, outn);
    }
    const char *colon = strchr(host, ':');
    if (colon != NULL && strchr(colon + 1, ':') == NULL)
        n = (size_t)(colon - host);
    return hist_key_from(host, n, out, outn);
}

static bool hist_key_eq(const struct hist_entry *e, const char *key)
{
    return e->key != NULL && strcmp(e->key, key) == 0;
}

static char *hist_dup(const char *s)
{
    return strndup(s != NULL ? s : "", HISTORY_TEXT_MAX);
}

/* Moves *e (owned strings) into kind's ring, evicting the oldest entry when full. On
 * failure to grow, the entry is dropped: history never breaks an answer. */
static void hist_push(struct history *h, enum history_kind kind, struct hist_entry *e)
{
    pthread_mutex_lock(&h->mu);
    struct hist_ring *r = &h->ring[kind];
    if (r->count == r->cap && r->cap < h->max) {
        size_t ncap = r->cap == 0 ? 16 : r->cap * 2;
        if (ncap > h->max)
            ncap = h->max;
        struct hist_entry *ne = realloc(r->e, ncap * sizeof(*ne));
        if (ne != NULL) {
            r->e = ne;
            r->cap = ncap; /* head is 0 here (see struct hist_ring) */
        }
    }
    if (r->cap == 0) {
        hist_entry_free(e);
    } else if (r->count < r->cap) {
        r->e[(r->head + r->count) % r->cap] = *e;
        r->count++;
    } else {
        hist_entry_free(&r->e[r->head]);
        r->e[r->head] = *e;
        r->head = (r->head + 1) % r->cap;
    }
    memset(e, 0, sizeof(*e));
    pthread_mutex_unlock(&h->mu);
}

void history_add_dns(struct history *h, const char *qname, uint16_t qtype, uint16_t qclass)
{
    char key[HISTORY_KEY_MAX];
    struct hist_entry e = {0};
    if (h == NULL || qname == NULL || !hist_key_from(qname, strlen(qname), key, sizeof(key)))
        return;
    size_t n = strlen(qname);
    /* challtestsrv shows the question name fully qualified, as miekg/dns parsed it. */
    e.qname = malloc(n + 2);
    e.key = strdup(key);
    if (e.qname == NULL || e.key == NULL) {
        hist_entry_free(&e);
        return;
    }
    memcpy(e.qname, qname, n + 1);
    if (n == 0 || qname[n - 1] != '.') {
        e.qname[n] = '.';
        e.qname[n + 1] = '\0';
    }
    e.qtype = qtype;
    e.qclass = qclass;
    hist_push(h, HISTORY_DNS, &e);
}

void history_add_http(struct history *h, const char *host, const char *method, const char *url,
                      const char *user_agent, int tls, const char *server_name)
{
    char key[HISTORY_KEY_MAX];
    struct hist_entry e = {0};
    /* challtestsrv's entry has no method or User-Agent; we keep its shape exactly. */
    (void)method;
    (void)user_agent;
    if (h == NULL || host == NULL || !hist_key_from_hostport(host, key, sizeof(key)))
        return;
    e.key = strdup(key);
    e.url = hist_dup(url);
    e.host = hist_dup(host);
    e.server_name = hist_dup(server_name);
    e.https = tls != 0;
    if (e.key == NULL || e.url == NULL || e.host == NULL || e.server_name == NULL) {
        hist_entry_free(&e);
        return;
    }
    hist_push(h, HISTORY_HTTP, &e);
}

void history_add_tlsalpn(struct history *h, const char *server_name)
{
    char key[HISTORY_KEY_MAX];
    struct hist_entry e = {0};
    if (h == NULL || server_name == NULL ||
        !hist_key_from(server_name, strlen(server_name), key, sizeof(key)))
        return;
    e.key = strdup(key);
    e.server_name = hist_dup(server_name);
    if (e.key == NULL || e.server_name == NULL) {
        hist_entry_free(&e);
        return;
    }
    hist_push(h, HISTORY_TLSALPN, &e);
}

/* challtestsrv's JSON of one entry: Go's encoding of its event structs, field names as
 * they are in Go (DNSRequestEvent, HTTPRequestEvent, TLSALPNRequestEvent). */
static cJSON *hist_entry_json(enum history_kind kind, const struct hist_entry *e)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *q = NULL;
    bool ok = j != NULL;
    switch (kind) {
    case HISTORY_DNS:
        q = cJSON_AddObjectToObject(j, "Question");
        ok = ok && q != NULL && cJSON_AddStringToObject(q, "Name", e->qname) != NULL &&
             cJSON_AddNumberToObject(q, "Qtype", e->qtype) != NULL &&
             cJSON_AddNumberToObject(q, "Qclass", e->qclass) != NULL;
        break;
    case HISTORY_HTTP:
        ok = ok && cJSON_AddStringToObject(j, "URL", e->url) != NULL &&
             cJSON_AddStringToObject(j, "Host", e->host) != NULL &&
             cJSON_AddBoolToObject(j, "HTTPS", e->https) != NULL &&
             cJSON_AddStringToObject(j, "ServerName", e->server_name) != NULL;
        break;
    case HISTORY_TLSALPN: {
        /* The responder records only handshakes that offered acme-tls/1 (RFC 8737). */
        const char *protos[] = {"acme-tls/1"};
        cJSON *arr = NULL;
        ok = ok && cJSON_AddStringToObject(j, "ServerName", e->server_name) != NULL;
        if (ok)
            arr = cJSON_CreateStringArray(protos, 1);
        if (arr != NULL && !cJSON_AddItemToObject(j, "SupportedProtos", arr)) {
            cJSON_Delete(arr);
            arr = NULL;
        }
        ok = ok && arr != NULL;
        break;
    }
    default:
        ok = false;
        break;
    }
    if (!ok) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

cJSON *history_get(struct history *h, enum history_kind kind, const char *host)
{
    char key[HISTORY_KEY_MAX];
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL || h == NULL || host == NULL || kind < 0 || kind >= HISTORY_KINDS)
        return arr;
    if (!hist_key_from(host, strlen(host), key, sizeof(key)))
        return arr; /* no entry can have a key that long */
    pthread_mutex_lock(&h->mu);
    struct hist_ring *r = &h->ring[kind];
    for (size_t i = 0; i < r->count; i++) {
        const struct hist_entry *e = &r->e[(r->head + i) % r->cap];
        if (!hist_key_eq(e, key))
            continue;
        cJSON *j = hist_entry_json(kind, e);
        if (j == NULL) {
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        cJSON_AddItemToArray(arr, j);
    }
    pthread_mutex_unlock(&h->mu);
    return arr;
}

void history_clear(struct history *h, enum history_kind kind, const char *host)
{
    char key[HISTORY_KEY_MAX];
    if (h == NULL || host == NULL || kind < 0 || kind >= HISTORY_KINDS ||
        !hist_key_from(host, strlen(host), key, sizeof(key)))
        return;
    pthread_mutex_lock(&h->mu);
    struct hist_ring *r = &h->ring[kind];
    /* Compact the survivors to the front in order, which also restores head == 0. The
     * ring is full-sized already when it has wrapped, so no entry is lost by the copy. */
    size_t kept = 0;
    struct hist_entry *tmp = r->count > 0 ? malloc(r->count * sizeof(*tmp)) : NULL;
    if (r->count > 0 && tmp == NULL) {
        /* Out of memory: forget the matches' keys in place, so they never match again;
         * they leave the ring in their turn. */
        for (size_t i = 0; i < r->count; i++) {
            struct hist_entry *e = &r->e[(r->head + i) % r->cap];
            if (hist_key_eq(e, key)) {
                free(e->key);
                e->key = NULL;
            }
        }
        pthread_mutex_unlock(&h->mu);
        return;
    }
    for (size_t i = 0; i < r->count; i++) {
        struct hist_entry *e = &r->e[(r->head + i) % r->cap];
        if (hist_key_eq(e, key))
            hist_entry_free(e);
        else
            tmp[kept++] = *e;
    }
    if (kept > 0)
        memcpy(r->e, tmp, kept * sizeof(*tmp));
    free(tmp);
    r->head = 0;
    r->count = kept;
    pthread_mutex_unlock(&h->mu);
}

void history_clear_all(struct history *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->mu);
    for (int k = 0; k < HISTORY_KINDS; k++)
        hist_ring_clear(&h->ring[k]);
    pthread_mutex_unlock(&h->mu);
}
