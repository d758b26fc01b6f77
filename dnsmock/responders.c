/* dnsmock/responders.c: challtestsrv's http-01 (plain and over TLS) and tls-alpn-01
 * responders, the store of what they serve, and the self-signed certificate of the TLS
 * listeners.
 *
 * Behaviour follows challtestsrv (httpone.go, tlsalpnone.go):
 * - http-01: every request is recorded; a path registered with add-redirect answers 302
 *   with Location, for any method, before anything else; a known token answers 200 with
 *   the key authorization as text/plain. Where challtestsrv answers an unknown token with
 *   an empty 200, we answer 404: a validator that gets 200 with an empty body is more
 *   confusing to debug than one that gets "not found".
 * - tls-alpn-01: every ClientHello is recorded by its server name; the client must offer
 *   exactly one ALPN protocol, "acme-tls/1" (else the handshake ends with the
 *   no_application_protocol alert); the certificate is made for the SNI name from its key
 *   authorization (x509_make_tlsalpn01 hashes it with SHA-256, as RFC 8737 section 3
 *   wants); an SNI of a reverse-mapping name ("...in-addr.arpa", "...ip6.arpa", RFC 8738
 *   section 6) stands for that IP. After the handshake the connection is closed.
 *   A hello without acme-tls/1 is refused, not served http-01 over HTTPS, although
 *   pebble-challtestsrv 2.4.0's help says its -tlsalpn01 is for "TLS-ALPN-01 and HTTPS
 *   HTTP-01": its code (and the binary, tried with curl -k) refuses such a hello too;
 *   HTTPS http-01 is the -https01 listener's job.
 * - https01: the http-01 routes on the http layer over TLS, history with HTTPS true; the
 *   history's ServerName stays "" because the http layer does not expose the SNI. */
#include "dnsmock/responders.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/x509v3.h>

#include "common/b64url.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"

#define CHAL_TOKEN_MAX 256
#define CHAL_CONTENT_MAX 8192
#define CHAL_PATH_MAX 2048
#define CHAL_URL_MAX 2048
#define CHAL_HOST_MAX 253

#define ACME_TLS_1 "acme-tls/1"
#define TLSALPN_MAX_CONNS 64      /* handshakes in flight; more are closed at once */
#define TLSALPN_HANDSHAKE_MS 5000 /* challtestsrv's ReadTimeout */
#define TLSALPN_POLL_MS 200

/* ---- chal_store --------------------------------------------------------------------- */

struct chal_ent {
    char *key;
    char *val;
};

struct chal_map {
    struct chal_ent *v;
    size_t n, cap;
};

struct chal_store {
    pthread_mutex_t mu;
    struct chal_map http01, redirect, tlsalpn;
};

static void chal_map_clear(struct chal_map *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    m->n = 0;
}

static void chal_map_free(struct chal_map *m)
{
    chal_map_clear(m);
    free(m->v);
    memset(m, 0, sizeof(*m));
}

static struct chal_ent *chal_map_find(struct chal_map *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->v[i].key, key) == 0)
            return &m->v[i];
    return NULL;
}

/* Sets key to val (replacing an existing value). Caller holds the lock. */
static enum mc_err chal_map_set(struct chal_map *m, const char *key, const char *val)
{
    struct chal_ent *e = chal_map_find(m, key);
    char *k = NULL, *v = strdup(val);

    if (v == NULL)
        return MC_ERR_NOMEM;
    if (e != NULL) {
        free(e->val);
        e->val = v;
        return MC_OK;
    }
    if (m->n >= CHAL_MAX_ENTRIES) {
        free(v);
        return MC_ERR_LIMIT;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap == 0 ? 16 : m->cap * 2;
        struct chal_ent *nv = realloc(m->v, cap * sizeof(*nv));
        if (nv == NULL) {
            free(v);
            return MC_ERR_NOMEM;
        }
        m->v = nv;
        m->cap = cap;
    }
    k = strdup(key);
    if (k == NULL) {
        free(v);
        return MC_ERR_NOMEM;
    }
    m->v[m->n].key = k;
    m->v[m->n].val = v;
    m->n++;
    return MC_OK;
}

/* Removes key; MC_OK whether or not it was there (challtestsrv's delete is idempotent). */
static void chal_map_del(struct chal_map *m, const char *key)
{
    struct chal_ent *e = chal_map_find(m, key);

    if (e == NULL)
        return;
    free(e->key);
    free(e->val);
    *e = m->v[m->n - 1];
    m->n--;
}

/* A copy of key's value, or NULL (not found or out of memory). */
static char *chal_map_get(struct chal_store *cs, struct chal_map *m, const char *key)
{
    struct chal_ent *e;
    char *v = NULL;

    pthread_mutex_lock(&cs->mu);
    e = chal_map_find(m, key);
    if (e != NULL)
        v = strdup(e->val);
    pthread_mutex_unlock(&cs->mu);
    return v;
}

struct chal_store *chal_store_new(void)
{
    struct chal_store *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return NULL;
    if (pthread_mutex_init(&cs->mu, NULL) != 0) {
        free(cs);
        return NULL;
    }
    return cs;
}

void chal_store_free(struct chal_store *cs)
{
    if (cs == NULL)
        return;
    chal_map_free(&cs->http01);
    chal_map_free(&cs->redirect);
    chal_map_free(&cs->tlsalpn);
    pthread_mutex_destroy(&cs->mu);
    free(cs);
}

void chal_store_clear(struct chal_store *cs)
{
    if (cs == NULL)
        return;
    pthread_mutex_lock(&cs->mu);
    chal_map_clear(&cs->http01);
    chal_map_clear(&cs->redirect);
    chal_map_clear(&cs->tlsalpn);
    pthread_mutex_unlock(&cs->mu);
}

static bool chal_no_ctl(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static enum mc_err chal_check_token(const char *token)
{
    size_t n;

    if (token == NULL)
        return MC_ERR_INVALID;
    n = strlen(token);
    if (n == 0 || n > CHAL_TOKEN_MAX)
        return n == 0 ? MC_ERR_INVALID : MC_ERR_TOO_BIG;
    return b64url_is_alphabet(token, n) ? MC_OK : MC_ERR_INVALID;
}

static enum mc_err chal_check_content(const char *content)
{
    if (content == NULL)
        return MC_ERR_INVALID;
    return strlen(content) > CHAL_CONTENT_MAX ? MC_ERR_TOO_BIG : MC_OK;
}

/* Lowercase, without a trailing dot, letters digits '-' '_' '.' ':' '*' only: the form
 * we compare SNI names in. */
static enum mc_err chal_host_normalize(const char *host, char out[CHAL_HOST_MAX + 1])
{
    size_t n;

    if (host == NULL)
        return MC_ERR_INVALID;
    n = strlen(host);
    if (n > 0 && host[n - 1] == '.')
        n--;
    if (n == 0)
        return MC_ERR_INVALID;
    if (n > CHAL_HOST_MAX)
        return MC_ERR_TOO_BIG;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)host[i];
        if (!isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '*')
            return MC_ERR_INVALID;
        out[i] = (char)tolower(c);
    }
    out[n] = '\0';
    return MC_OK;
}

enum mc_err chal_add_http01(struct chal_store *cs, const char *token, const char *content)
{
    enum mc_err err = chal_check_token(token);

    if (err == MC_OK)
        err = chal_check_content(content);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&cs->mu);
    err = chal_map_set(&cs->http01, token, content);
    pthread_mutex_unlock(&cs->mu);
    return err;
}

enum mc_err chal_del_http01(struct chal_store *cs, const char *token)
{
    enum mc_err err = chal_check_token(token);

    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&cs->mu);
    chal_map_del(&cs->http01, token);
    pthread_mutex_unlock(&cs->mu);
    return MC_OK;
}

static enum mc_err chal_check_path(const char *path)
{
    if (path == NULL || path[0] != '/' || !chal_no_ctl(path))
        return MC_ERR_INVALID;
    return strlen(path) > CHAL_PATH_MAX ? MC_ERR_TOO_BIG : MC_OK;
}

enum mc_err chal_add_redirect(struct chal_store *cs, const char *path, const char *target)
{
    enum mc_err err = chal_check_path(path);

    if (err != MC_OK)
        return err;
    /* The target goes into a Location header: no control bytes, an absolute URL. */
    if (target == NULL || !chal_no_ctl(target) ||
        (strncasecmp(target, "http://", 7) != 0 && strncasecmp(target, "https://", 8) != 0))
        return MC_ERR_INVALID;
    if (strlen(target) > CHAL_URL_MAX)
        return MC_ERR_TOO_BIG;
    pthread_mutex_lock(&cs->mu);
    err = chal_map_set(&cs->redirect, path, target);
    pthread_mutex_unlock(&cs->mu);
    return err;
}

enum mc_err chal_del_redirect(struct chal_store *cs, const char *path)
{
    enum mc_err err = chal_check_path(path);

    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&cs->mu);
    chal_map_del(&cs->redirect, path);
    pthread_mutex_unlock(&cs->mu);
    return MC_OK;
}

enum mc_err chal_add_tlsalpn01(struct chal_store *cs, const char *host, const char *content)
{
    char h[CHAL_HOST_MAX + 1];
    enum mc_err err = chal_host_normalize(host, h);

    if (err == MC_OK)
        err = chal_check_content(content);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&cs->mu);
    err = chal_map_set(&cs->tlsalpn, h, content);
    pthread_mutex_unlock(&cs->mu);
    return err;
}

enum mc_err chal_del_tlsalpn01(struct chal_store *cs, const char *host)
{
    char h[CHAL_HOST_MAX + 1];
    enum mc_err err = chal_host_normalize(host, h);

    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&cs->mu);
    chal_map_del(&cs->tlsalpn, h);
    pthread_mutex_unlock(&cs->mu);
    return MC_OK;
}

/* ---- http-01 ------------------------------------------------------------------------ */

/* Runs before routing, for every request: history, then redirects (challtestsrv serves a
 * redirect for any method, ahead of tokens). */
static void h01_before(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    const char *ua = http_request_header(req, "User-Agent");
    char *target = NULL;

    if (d->history != NULL)
        history_add_http(d->history, req->host, req->method, req->path, ua ? ua : "",
                         req->tls ? 1 : 0, "");
    /* challtestsrv skips redirects over HTTPS, so an http->https redirect of a token path
     * does not loop; kept for when this layer serves TLS too. */
    if (d->chals == NULL || req->tls)
        return;
    target = chal_map_get(d->chals, &d->chals->redirect, req->path);
    if (target == NULL)
        return;
    if (http_response_header(resp, "Location", target) != MC_OK ||
        http_response_body(resp, 302, "text/plain; charset=utf-8", "", 0) != MC_OK) {
        http_response_reset(resp);
        resp->status = 500;
    }
    free(target);
}

static void h01_token(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct dnsmock *d = ctx;
    char *content = NULL;

    if (req->nparams == 1 && d->chals != NULL)
        content = chal_map_get(d->chals, &d->chals->http01, req->params[0]);
    if (content == NULL) {
        if (http_response_error(resp, 404, "no such token") != MC_OK)
            resp->status = 404;
        return;
    }
    if (http_response_body(resp, 200, "text/plain", content, strlen(content)) != MC_OK) {
        http_response_reset(resp);
        resp->status = 500;
    }
    free(content);
}

static const struct http_route h01_routes[] = {
    {"GET", "/.well-known/acme-challenge/{}", h01_token},
    {"HEAD", "/.well-known/acme-challenge/{}", h01_token},
};

/* One http-01 listener; TLS when cert_pem and key_pem are set. */
static enum mc_err h01_start(struct dnsmock *d, const char *addr, const char *cert_pem,
                             const char *key_pem, struct http_server **out)
{
    struct http_server_config cfg = {0};
    char host[64];
    uint16_t port = 0;
    enum mc_err err;

    *out = NULL;
    err = http_split_hostport(addr, host, sizeof(host), &port);
    if (err != MC_OK)
        return err;
    cfg.bind_addr = host[0] == '\0' ? "0.0.0.0" : host; /* ":5002": every interface */
    cfg.port = port;
    cfg.tls_cert_pem = cert_pem;
    cfg.tls_key_pem = key_pem;
    cfg.routes = h01_routes;
    cfg.nroutes = sizeof(h01_routes) / sizeof(h01_routes[0]);
    cfg.ctx = d;
    cfg.max_body = 4096; /* a validator sends no body */
    cfg.before = h01_before;
    err = http_server_start(&cfg, out);
    if (err == MC_OK)
        log_msg(LOGL_INFO, cert_pem != NULL ? "https01.listen" : "http01.listen", "addr=%s port=%u",
                cfg.bind_addr, (unsigned)http_server_port(*out));
    return err;
}

enum mc_err http01_responder_start(struct dnsmock *d, const char *addr, struct http_server **out)
{
    return h01_start(d, addr, NULL, NULL, out);
}

enum mc_err https01_responder_start(struct dnsmock *d, const char *addr, const char *cert_pem,
                                    const char *key_pem, struct http_server **out)
{
    if (cert_pem == NULL || key_pem == NULL) {
        *out = NULL;
        return MC_ERR_INVALID;
    }
    return h01_start(d, addr, cert_pem, key_pem, out);
}

/* ---- the self-signed certificate of the TLS listeners ------------------------------- */

#define SELFSIGNED_BACKDATE_S 3600
#define SELFSIGNED_LIFETIME_S (365L * 24 * 3600)
#define SELFSIGNED_SANS "DNS:localhost,IP:127.0.0.1,IP:::1"

/* v3 extension nid with value in OpenSSL's config syntax, issued by c itself. */
static bool ss_add_ext(X509 *c, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    bool ok;

    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, c, c, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    ok = ext != NULL && X509_add_ext(c, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

enum mc_err responder_selfsigned_pem(char **cert_pem, char **key_pem)
{
    EVP_PKEY *key = NULL;
    X509 *c = NULL;
    X509_NAME *name = NULL;
    BIGNUM *bn = NULL;
    char *cp = NULL, *kp = NULL;
    time_t now;
    enum mc_err err;

    *cert_pem = NULL;
    *key_pem = NULL;
    err = key_generate(KEY_EC_P256, &key);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    c = X509_new();
    name = X509_NAME_new();
    bn = BN_new();
    if (c == NULL || name == NULL || bn == NULL || X509_set_version(c, X509_VERSION_3) != 1)
        goto out;
    /* 127 random bits: positive, under the 20 octets RFC 5280 section 4.1.2.2 allows. */
    if (BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) == NULL)
        goto out;
    if (X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_ASC,
                                   (const unsigned char *)"dnsmock test server", -1, -1, 0) != 1 ||
        X509_set_subject_name(c, name) != 1 || X509_set_issuer_name(c, name) != 1)
        goto out;
    /* Real time, not the dnsmock clock: TLS clients check validity against their own. */
    now = (time_t)clock_now(NULL);
    if (X509_time_adj_ex(X509_getm_notBefore(c), 0, -SELFSIGNED_BACKDATE_S, &now) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(c), 0, SELFSIGNED_LIFETIME_S, &now) == NULL ||
        X509_set_pubkey(c, key) != 1)
        goto out;
    if (!ss_add_ext(c, NID_subject_alt_name, SELFSIGNED_SANS) ||
        !ss_add_ext(c, NID_key_usage, "critical,digitalSignature") ||
        !ss_add_ext(c, NID_ext_key_usage, "serverAuth") ||
        !ss_add_ext(c, NID_subject_key_identifier, "hash"))
        goto out;
    if (X509_sign(c, key, EVP_sha256()) <= 0)
        goto out;
    err = pem_write_cert(c, &cp);
    if (err == MC_OK)
        err = pem_write_private_key(key, &kp);
    if (err != MC_OK)
        goto out;
    *cert_pem = cp;
    *key_pem = kp;
    cp = NULL;
    kp = NULL;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "tls.selfsigned");
    free(cp);
    free(kp);
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(c);
    EVP_PKEY_free(key);
    return err;
}

/* ---- tls-alpn-01 -------------------------------------------------------------------- */

struct tlsalpn_responder {
    struct dnsmock *d;
    SSL_CTX *ctx;
    int lfd;
    int wake[2]; /* written by stop to end the accept loop's poll */
    uint16_t port;
    pthread_t accept_thr;
    bool thr_started;
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int conns[TLSALPN_MAX_CONNS]; /* sockets in flight, -1 free; stop shuts them down */
    unsigned active;
};

struct tlsalpn_conn {
    struct tlsalpn_responder *r;
    int fd;
    int slot;
};

static int64_t ta_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "d.c.b.a.in-addr.arpa" or the 32-nibble ip6.arpa form to IP text; false otherwise. */
static bool ta_reverse_to_ip(const char *name, char *out, size_t outn)
{
    size_t n = strlen(name);
    const char *v4 = ".in-addr.arpa", *v6 = "ip6.arpa";

    if (n > strlen(v4) && strcmp(name + n - strlen(v4), v4) == 0) {
        unsigned o[4];
        const char *p = name;
        for (int i = 0; i < 4; i++) {
            char *end = NULL;
            long v;
            if (!isdigit((unsigned char)*p))
                return false;
            v = strtol(p, &end, 10);
            if (v < 0 || v > 255 || *end != '.')
                return false;
            o[i] = (unsigned)v;
            p = end + 1;
        }
        if ((size_t)(p - name) != n - strlen(v4) + 1)
            return false;
        return snprintf(out, outn, "%u.%u.%u.%u", o[3], o[2], o[1], o[0]) < (int)outn;
    }
    if (n == 64 + strlen(v6) && strcmp(name + 64, v6) == 0) {
        unsigned char ip[16];
        for (int i = 0; i < 32; i++) {
            char c = name[2 * i];
            int v, byte = 15 - i / 2; /* nibble i counts from the least significant end */
            if (name[2 * i + 1] != '.')
                return false;
            if (c >= '0' && c <= '9')
                v = c - '0';
            else if (c >= 'a' && c <= 'f')
                v = c - 'a' + 10;
            else
                return false;
            if (i % 2 == 0)
                ip[byte] = (unsigned char)v;
            else
                ip[byte] = (unsigned char)(ip[byte] | (v << 4));
        }
        return inet_ntop(AF_INET6, ip, out, (socklen_t)outn) != NULL;
    }
    return false;
}

/* The SNI host_name of a ClientHello's server_name extension (RFC 6066 section 3). */
static bool ta_parse_sni(const unsigned char *p, size_t n, char *out, size_t outn)
{
    size_t list, len;

    if (n < 5)
        return false;
    list = ((size_t)p[0] << 8) | p[1];
    if (list + 2 != n || p[2] != TLSEXT_NAMETYPE_host_name)
        return false;
    len = ((size_t)p[3] << 8) | p[4];
    if (len == 0 || len + 5 > n || len >= outn)
        return false;
    memcpy(out, p + 5, len);
    out[len] = '\0';
    return memchr(out, '\0', len) == NULL;
}

/* True if the ALPN extension lists exactly one protocol, acme-tls/1 (challtestsrv's rule;
 * RFC 8737 section 3: the validator offers only that one). */
static bool ta_alpn_only_acme(const unsigned char *p, size_t n)
{
    size_t want = strlen(ACME_TLS_1);

    return n == 3 + want && (((size_t)p[0] << 8) | p[1]) == 1 + want && p[2] == want &&
           memcmp(p + 3, ACME_TLS_1, want) == 0;
}

/* Runs first in the handshake: records the hello, checks ALPN, picks the certificate. */
static int ta_client_hello(SSL *ssl, int *al, void *arg)
{
    struct tlsalpn_responder *r = arg;
    const unsigned char *ext = NULL;
    size_t extlen = 0;
    char sni[CHAL_HOST_MAX + 2] = "", host[CHAL_HOST_MAX + 1], ipbuf[INET6_ADDRSTRLEN];
    char *content = NULL;
    struct ident id = {0};
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    int ret = SSL_CLIENT_HELLO_ERROR;

    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &ext, &extlen) == 1 &&
        !ta_parse_sni(ext, extlen, sni, sizeof(sni)))
        sni[0] = '\0';
    if (r->d->history != NULL)
        history_add_tlsalpn(r->d->history, sni);
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &ext,
                                  &extlen) != 1 ||
        !ta_alpn_only_acme(ext, extlen)) {
        log_msg(LOGL_INFO, "tlsalpn.refused", "reason=alpn sni=%s", sni[0] ? sni : "-");
        *al = SSL_AD_NO_APPLICATION_PROTOCOL;
        return SSL_CLIENT_HELLO_ERROR;
    }
    if (chal_host_normalize(sni, host) != MC_OK || r->d->chals == NULL) {
        *al = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_CLIENT_HELLO_ERROR;
    }
    id.type = IDENT_DNS;
    id.value = host;
    content = chal_map_get(r->d->chals, &r->d->chals->tlsalpn, host);
    if (ta_reverse_to_ip(host, ipbuf, sizeof(ipbuf))) {
        /* RFC 8738: the SNI of an IP identifier is its reverse name; the certificate's
         * SAN is the IP. The user may have registered either form. */
        id.type = IDENT_IP;
        id.value = ipbuf;
        if (content == NULL)
            content = chal_map_get(r->d->chals, &r->d->chals->tlsalpn, ipbuf);
    }
    if (content == NULL) {
        log_msg(LOGL_INFO, "tlsalpn.refused", "reason=unknown-host sni=%s", host);
        *al = SSL_AD_UNRECOGNIZED_NAME;
        goto out;
    }
    if (x509_make_tlsalpn01(&id, content, &key, &cert) != MC_OK) {
        log_openssl_errors(LOGL_WARN, "tlsalpn.cert");
        *al = SSL_AD_INTERNAL_ERROR;
        goto out;
    }
    if (SSL_use_certificate(ssl, cert) != 1 || SSL_use_PrivateKey(ssl, key) != 1) {
        log_openssl_errors(LOGL_WARN, "tlsalpn.cert");
        *al = SSL_AD_INTERNAL_ERROR;
        goto out;
    }
    ret = SSL_CLIENT_HELLO_SUCCESS;
out:
    free(content);
    EVP_PKEY_free(key);
    X509_free(cert);
    return ret;
}

/* Selects acme-tls/1 (the hello callback already made sure it is the one offered). */
static int ta_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x0a" ACME_TLS_1;
    unsigned char *sel = NULL;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* One handshake, non-blocking under a deadline so a silent peer cannot hold a slot. */
static void *ta_conn_main(void *arg)
{
    struct tlsalpn_conn *c = arg;
    struct tlsalpn_responder *r = c->r;
    SSL *ssl = SSL_new(r->ctx);
    int64_t deadline = ta_now_ms() + TLSALPN_HANDSHAKE_MS;
    bool done = false;

    if (ssl != NULL && SSL_set_fd(ssl, c->fd) == 1) {
        while (!atomic_load(&r->stopping)) {
            int rc = SSL_accept(ssl), e;
            struct pollfd pfd = {.fd = c->fd};
            int64_t left = deadline - ta_now_ms();

            if (rc == 1) {
                done = true;
                break;
            }
            e = SSL_get_error(ssl, rc);
            if (e == SSL_ERROR_WANT_READ)
                pfd.events = POLLIN;
            else if (e == SSL_ERROR_WANT_WRITE)
                pfd.events = POLLOUT;
            else
                break;
            if (left <= 0 ||
                poll(&pfd, 1, (int)(left < TLSALPN_POLL_MS ? left : TLSALPN_POLL_MS)) < 0)
                break;
        }
        if (done)
            (void)SSL_shutdown(ssl); /* close_notify; we do not wait for the peer's */
    }
    ERR_clear_error(); /* failed handshakes are the peer's business, not a log line each */
    SSL_free(ssl);
    /* This thread is detached: free OpenSSL's per-thread state now, before stop can see
     * the slot free and the process end ahead of the thread's exit handlers. */
    OPENSSL_thread_stop();
    pthread_mutex_lock(&r->mu);
    close(c->fd);
    r->conns[c->slot] = -1;
    r->active--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    free(c);
    return NULL;
}

static void ta_spawn(struct tlsalpn_responder *r, int fd)
{
    struct tlsalpn_conn *c = NULL;
    pthread_t t;
    pthread_attr_t attr;
    int slot = -1;
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < TLSALPN_MAX_CONNS && slot < 0; i++)
        if (r->conns[i] < 0)
            slot = i;
    if (slot >= 0) {
        r->conns[slot] = fd;
        r->active++;
    }
    pthread_mutex_unlock(&r->mu);
    if (slot < 0) {
        log_msg(LOGL_WARN, "tlsalpn.busy", "max=%d", TLSALPN_MAX_CONNS);
        close(fd);
        return;
    }
    c = malloc(sizeof(*c));
    if (c != NULL) {
        c->r = r;
        c->fd = fd;
        c->slot = slot;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, ta_conn_main, c) == 0) {
            pthread_attr_destroy(&attr);
            return;
        }
        pthread_attr_destroy(&attr);
        free(c);
    }
    pthread_mutex_lock(&r->mu);
    close(fd);
    r->conns[slot] = -1;
    r->active--;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void *ta_accept_main(void *arg)
{
    struct tlsalpn_responder *r = arg;

    while (!atomic_load(&r->stopping)) {
        struct pollfd p[2] = {{.fd = r->lfd, .events = POLLIN},
                              {.fd = r->wake[0], .events = POLLIN}};
        int fd;

        if (poll(p, 2, 1000) <= 0)
            continue;
        if (p[1].revents != 0)
            break;
        if ((p[0].revents & POLLIN) == 0)
            continue;
        fd = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        ta_spawn(r, fd);
    }
    return NULL;
}

static enum mc_err ta_listen(const char *addr, int *lfd, uint16_t *port)
{
    char host[64], portstr[8];
    uint16_t p = 0;
    struct addrinfo hints = {0}, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = -1, one = 1;
    enum mc_err err;

    err = http_split_hostport(addr, host, sizeof(host), &p);
    if (err != MC_OK)
        return err;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)p);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host[0] == '\0' ? NULL : host, portstr, &hints, &ai) != 0 || ai == NULL)
        return MC_ERR_INVALID;
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        errno = saved;
        return MC_ERR_IO;
    }
    freeaddrinfo(ai);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    *lfd = fd;
    return MC_OK;
}

enum mc_err tlsalpn_responder_start(struct dnsmock *d, const char *addr,
                                    struct tlsalpn_responder **out)
{
    struct tlsalpn_responder *r = NULL;
    sigset_t pipe_set, old_set;
    int rc;
    enum mc_err err;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return MC_ERR_NOMEM;
    r->d = d;
    r->lfd = -1;
    r->wake[0] = r->wake[1] = -1;
    for (int i = 0; i < TLSALPN_MAX_CONNS; i++)
        r->conns[i] = -1;
    atomic_init(&r->stopping, false);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);

    r->ctx = SSL_CTX_new(TLS_server_method());
    if (r->ctx == NULL || SSL_CTX_set_min_proto_version(r->ctx, TLS1_2_VERSION) != 1) {
        log_openssl_errors(LOGL_ERROR, "tlsalpn.ctx");
        err = MC_ERR_CRYPTO;
        goto fail;
    }
    SSL_CTX_set_client_hello_cb(r->ctx, ta_client_hello, r);
    SSL_CTX_set_alpn_select_cb(r->ctx, ta_alpn_select, r);
    /* one handshake per connection: no resumption to keep state for */
    SSL_CTX_set_session_cache_mode(r->ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(r->ctx, 0);

    err = ta_listen(addr, &r->lfd, &r->port);
    if (err != MC_OK)
        goto fail;
    if (pipe2(r->wake, O_CLOEXEC) < 0) {
        err = MC_ERR_IO;
        goto fail;
    }
    /* OpenSSL writes to the socket with write(): a peer that has gone would raise SIGPIPE
     * and end the process. The accept thread and the handshake threads it starts inherit
     * this mask, so they get EPIPE instead; the caller's own mask is left as it was. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
    rc = pthread_create(&r->accept_thr, NULL, ta_accept_main, r);
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    if (rc != 0) {
        err = MC_ERR_NOMEM;
        goto fail;
    }
    r->thr_started = true;
    log_msg(LOGL_INFO, "tlsalpn.listen", "addr=%s port=%u", addr, (unsigned)r->port);
    *out = r;
    return MC_OK;
fail:
    tlsalpn_responder_stop(r);
    return err;
}

uint16_t tlsalpn_responder_port(const struct tlsalpn_responder *r)
{
    return r == NULL ? 0 : r->port;
}

void tlsalpn_responder_stop(struct tlsalpn_responder *r)
{
    if (r == NULL)
        return;
    atomic_store(&r->stopping, true);
    if (r->wake[1] >= 0) {
        ssize_t w = write(r->wake[1], "x", 1);
        (void)w;
    }
    if (r->thr_started)
        pthread_join(r->accept_thr, NULL);
    /* Handshakes in flight notice `stopping` within one poll interval; shutting their
     * sockets down wakes them at once. */
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < TLSALPN_MAX_CONNS; i++)
        if (r->conns[i] >= 0)
            shutdown(r->conns[i], SHUT_RDWR);
    while (r->active > 0)
        pthread_cond_wait(&r->cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
    if (r->lfd >= 0)
        close(r->lfd);
    if (r->wake[0] >= 0)
        close(r->wake[0]);
    if (r->wake[1] >= 0)
        close(r->wake[1]);
    SSL_CTX_free(r->ctx);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
