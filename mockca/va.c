/* mockca/va.c: the validation authority. Each call is self-contained (its own resolver,
 * connections, SSL_CTX; http through fetch.h), so callers may run validations on any thread.
 *
 * Problem types, chosen to match Pebble's va/va.go where it has an answer and Boulder's
 * where Pebble is vaguer:
 * - a DNS failure (SERVFAIL, timeout, no A/AAAA for a name to contact): dns (Pebble says
 *   malformed or unauthorized; Boulder says dns, which tells a user what to fix);
 * - nothing listening, a timeout, too many redirects: connection;
 * - a TLS handshake that fails: tls (Pebble says unauthorized);
 * - an answer that is there but wrong (non-200 status, body mismatch, wrong TXT, wrong
 *   ALPN, SAN or digest): unauthorized, as Pebble and Boulder. RFC 8555 section 6.7 also
 *   has incorrectResponse, but no client tests for it and Pebble never sends it. */
#include "mockca/va.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/b64url.h"
#include "common/log.h"
#include "common/x509.h"
#include "mockca/fetch.h"

#define VA_DEFAULT_TIMEOUT_MS 10000
#define VA_CNAME_MAX 8           /* CNAME hops we follow ourselves when a server did not */
#define VA_NAME_MAX 256          /* a DNS name in text with a trailing dot, plus NUL */
#define VA_URL_MAX FETCH_URL_MAX /* a redirect target longer than this is refused */
#define VA_TXT_MAX 4096          /* one TXT value, its strings joined */
#define VA_ALPN "acme-tls/1"

/* Monotonic milliseconds: deadlines must not move when the wall clock (or the CA's virtual
 * clock) does. */
static int64_t va_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t va_deadline(const struct va_config *cfg)
{
    int64_t t = cfg->timeout_ms > 0 ? cfg->timeout_ms : VA_DEFAULT_TIMEOUT_MS;
    return va_now_ms() + t;
}

static int64_t va_left_ms(int64_t deadline)
{
    int64_t left = deadline - va_now_ms();
    return left > 0 ? left : 0;
}

static void va_result_init(struct va_result *out)
{
    memset(out, 0, sizeof(*out));
}

static void va_ok(struct va_result *out, const char *address)
{
    out->valid = true;
    out->error.type = ACME_P_NONE;
    out->error.status = 0;
    out->error.detail[0] = '\0';
    snprintf(out->address, sizeof(out->address), "%s", address);
}

/* ---- DNS through cfg->dns_server only ----------------------------------------------- */

/* Splits "host:port", "[v6]:port", "v4" or "[v6]" into host (no brackets) and port. */
static bool va_split_server(const char *s, char *host, size_t hostn, uint16_t *port)
{
    const char *h = s, *p = NULL;
    size_t hl;
    if (s == NULL || s[0] == '\0')
        return false;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL)
            return false;
        h = s + 1;
        hl = (size_t)(end - h);
        if (end[1] == ':')
            p = end + 2;
        else if (end[1] != '\0')
            return false;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon != NULL && strchr(s, ':') == colon) {
            hl = (size_t)(colon - s);
            p = colon + 1;
        } else {
            hl = strlen(s); /* a bare v4, or a bare v6 without a port */
        }
    }
    if (hl == 0 || hl >= hostn)
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = 53;
    if (p != NULL) {
        char *endp = NULL;
        errno = 0;
        long v = strtol(p, &endp, 10);
        if (errno != 0 || endp == p || *endp != '\0' || v < 1 || v > 65535)
            return false;
        *port = (uint16_t)v;
    }
    return true;
}

/* The host part of cfg->dns_server, for the result's address of DNS-only validations. */
static void va_server_host(const struct va_config *cfg, char *buf, size_t n)
{
    uint16_t port;
    if (!va_split_server(cfg->dns_server, buf, n, &port))
        snprintf(buf, n, "%s", cfg->dns_server != NULL ? cfg->dns_server : "");
}

/* Sends one query for name/type to cfg->dns_server: one try, falling back to TCP when the
 * answer is truncated. A transport failure or an rcode other than NOERROR / NXDOMAIN
 * fills out->error with type dns and returns false. *pkt is new on success. */
static bool va_dns_query(const struct va_config *cfg, const char *name, ldns_rr_type type,
                         int64_t deadline, ldns_pkt **pkt, struct va_result *out)
{
    ldns_resolver *res = NULL;
    ldns_rdf *ns = NULL, *qname = NULL;
    ldns_pkt *p = NULL;
    char host[INET6_ADDRSTRLEN + 1];
    uint16_t port = 0;
    struct in6_addr a6;
    struct timeval tv;
    int64_t left;
    ldns_status st;
    bool ok = false;
    char tname[32];
    const char *tn;

    char *ts = ldns_rr_type2str(type);

    snprintf(tname, sizeof(tname), "%s", ts != NULL ? ts : "?");
    free(ts);
    tn = tname;
    *pkt = NULL;
    if (!va_split_server(cfg->dns_server, host, sizeof(host), &port)) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0,
                       "no usable DNS server configured (\"%s\")",
                       cfg->dns_server != NULL ? cfg->dns_server : "");
        goto out;
    }
    res = ldns_resolver_new();
    if (res == NULL)
        goto nomem;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, host);
    else
        ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, host);
    if (ns == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0,
                       "DNS server address \"%s\" does not parse", host);
        goto out;
    }
    ldns_resolver_set_port(res, port);
    ldns_resolver_set_recursive(res, false); /* dnsmock is authoritative for everything */
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_fallback(res, true); /* TC=1: ask again over TCP */
    ldns_resolver_set_usevc(res, false);
    ldns_resolver_set_random(res, false);
    left = va_left_ms(deadline);
    if (left <= 0) {
        acme_error_set(&out->error, ACME_P_DNS, 0, "DNS query %s %s: validation timed out", name,
                       tn);
        goto out;
    }
    tv.tv_sec = (time_t)(left / 1000);
    tv.tv_usec = (suseconds_t)((left % 1000) * 1000);
    ldns_resolver_set_timeout(res, tv);
    qname = ldns_dname_new_frm_str(name);
    if (qname == NULL) {
        acme_error_set(&out->error, ACME_P_DNS, 0, "\"%s\" is not a DNS name", name);
        goto out;
    }
    st = ldns_resolver_send(&p, res, qname, type, LDNS_RR_CLASS_IN, 0);
    if (st != LDNS_STATUS_OK || p == NULL) {
        acme_error_set(&out->error, ACME_P_DNS, 0, "DNS query %s %s to %s failed: %s", name, tn,
                       cfg->dns_server,
                       ldns_get_errorstr_by_id(st) != NULL ? ldns_get_errorstr_by_id(st)
                                                           : "no answer");
        goto out;
    }
    if (ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR &&
        ldns_pkt_get_rcode(p) != LDNS_RCODE_NXDOMAIN) {
        char *rc = ldns_pkt_rcode2str(ldns_pkt_get_rcode(p));
        acme_error_set(&out->error, ACME_P_DNS, 0, "DNS query %s %s to %s answered %s", name, tn,
                       cfg->dns_server, rc != NULL ? rc : "an error");
        free(rc);
        goto out;
    }
    *pkt = p;
    p = NULL;
    ok = true;
    goto out;
nomem:
    acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
out:
    ldns_pkt_free(p);
    ldns_rdf_deep_free(qname);
    ldns_rdf_deep_free(ns); /* push_nameserver copied it */
    ldns_resolver_deep_free(res);
    return ok;
}

/* A name rdf (a CNAME target) as text, into buf; false if it does not fit. */
static bool va_rdf_name(const ldns_rdf *rdf, char *buf, size_t n)
{
    char *s = ldns_rdf2str(rdf);
    bool ok = s != NULL && strlen(s) < n;
    if (ok)
        memcpy(buf, s, strlen(s) + 1);
    free(s);
    return ok;
}

/* Queries name/type and collects the answer RRs of type into *rrs (new list, maybe empty),
 * following a CNAME ourselves when the server answered only with one (a server that chases
 * it puts both in the answer, and then the records are already there). */
static bool va_dns_lookup(const struct va_config *cfg, const char *name, ldns_rr_type type,
                          int64_t deadline, ldns_rr_list **rrs, struct va_result *out)
{
    char cur[VA_NAME_MAX];
    ldns_rr_list *list = NULL;
    ldns_pkt *p = NULL;
    bool ok = false;

    *rrs = NULL;
    if (strlen(name) >= sizeof(cur)) {
        acme_error_set(&out->error, ACME_P_DNS, 0, "name too long");
        return false;
    }
    memcpy(cur, name, strlen(name) + 1);
    list = ldns_rr_list_new();
    if (list == NULL) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        return false;
    }
    for (int hop = 0; hop <= VA_CNAME_MAX; hop++) {
        ldns_rr_list *ans;
        const ldns_rdf *cname_target = NULL;
        char next[VA_NAME_MAX];

        if (!va_dns_query(cfg, cur, type, deadline, &p, out))
            goto out;
        ans = ldns_pkt_answer(p);
        for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
            ldns_rr *rr = ldns_rr_list_rr(ans, i);
            if (ldns_rr_get_type(rr) == type) {
                ldns_rr *c = ldns_rr_clone(rr);
                if (c == NULL || !ldns_rr_list_push_rr(list, c)) {
                    ldns_rr_free(c);
                    acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
                    goto out;
                }
            } else if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_rd_count(rr) == 1) {
                cname_target = ldns_rr_rdf(rr, 0); /* the last one is the end of a chain */
            }
        }
        if (ldns_rr_list_rr_count(list) > 0 || cname_target == NULL) {
            ok = true;
            goto out;
        }
        if (!va_rdf_name(cname_target, next, sizeof(next))) {
            acme_error_set(&out->error, ACME_P_DNS, 0, "CNAME target of %s does not parse", cur);
            goto out;
        }
        memcpy(cur, next, strlen(next) + 1);
        ldns_pkt_free(p);
        p = NULL;
    }
    acme_error_set(&out->error, ACME_P_DNS, 0, "more than %d CNAMEs from %s", VA_CNAME_MAX, name);
out:
    ldns_pkt_free(p);
    if (ok)
        *rrs = list;
    else
        ldns_rr_list_deep_free(list);
    return ok;
}

/* The first address of host into addr: the host itself when it is an IP literal, else an A
 * or AAAA answer (AAAA first when cfg->prefer_ipv6). No address at all is a dns problem. */
static bool va_resolve(const struct va_config *cfg, const char *host, int64_t deadline, char *addr,
                       size_t addrn, struct va_result *out)
{
    struct in6_addr a6;
    struct in_addr a4;
    ldns_rr_type order[2];
    bool found = false;

    if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1) {
        snprintf(addr, addrn, "%s", host);
        return true;
    }
    order[0] = cfg->prefer_ipv6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A;
    order[1] = cfg->prefer_ipv6 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
    for (int i = 0; i < 2 && !found; i++) {
        ldns_rr_list *rrs = NULL;
        if (!va_dns_lookup(cfg, host, order[i], deadline, &rrs, out))
            return false;
        for (size_t k = 0; k < ldns_rr_list_rr_count(rrs) && !found; k++) {
            ldns_rr *rr = ldns_rr_list_rr(rrs, k);
            const ldns_rdf *rd = ldns_rr_rd_count(rr) == 1 ? ldns_rr_rdf(rr, 0) : NULL;
            int af = order[i] == LDNS_RR_TYPE_A ? AF_INET : AF_INET6;
            size_t want = af == AF_INET ? 4 : 16;
            if (rd != NULL && ldns_rdf_size(rd) == want &&
                inet_ntop(af, ldns_rdf_data(rd), addr, (socklen_t)addrn) != NULL)
                found = true;
        }
        ldns_rr_list_deep_free(rrs);
    }
    if (!found)
        acme_error_set(&out->error, ACME_P_DNS, 0, "no A/AAAA for %s at %s", host, cfg->dns_server);
    return found;
}

/* ---- http-01 ------------------------------------------------------------------------ */

struct va_body {
    char buf[VA_HTTP_BODY_MAX + 1];
    size_t n;
};

/* Maps a failed fetch to a problem: nothing listening, timeouts and broken answers are
 * connection, a failed TLS handshake (after an https redirect) is tls. */
static void va_fetch_problem(enum mc_err e, const char *url, const char *addr,
                             const struct fetch_response *r, struct va_result *out)
{
    enum acme_problem t = e == MC_ERR_CRYPTO ? ACME_P_TLS : ACME_P_CONNECTION;
    if (e == MC_ERR_NOMEM)
        t = ACME_P_SERVER_INTERNAL;
    acme_error_set(&out->error, t, 0, "fetching %s (at %s): %s", url, addr,
                   r->err[0] != '\0' ? r->err : mc_strerror(e));
}

/* Trailing whitespace a client's web server may add (Pebble's cutset). */
static size_t va_trim_len(const char *s, size_t n)
{
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return n;
}

/* One GET of url with redirects off. Resolves its host through our DNS and hands fetch.c
 * that address, so the system resolver is never asked. On a redirect, *next is the
 * absolute target (new string); else NULL and *status, body set. */
static bool va_http_get(const struct va_config *cfg, const char *url, int64_t deadline, char *addr,
                        size_t addrn, long *status, struct va_body *body, char **next,
                        struct va_result *out)
{
    struct fetch_url *u = NULL;
    struct fetch_request req;
    struct fetch_response resp;
    bool ok = false;
    int64_t left;
    enum mc_err e;

    memset(&resp, 0, sizeof(resp));
    *next = NULL;
    *status = 0;
    body->n = 0;
    body->buf[0] = '\0';
    u = malloc(sizeof(*u));
    if (u == NULL) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    e = fetch_url_parse(url, u);
    if (e != MC_OK) {
        /* Only a redirect target can get here (ours are built valid): say so. */
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
            acme_error_set(&out->error, ACME_P_CONNECTION, 0,
                           "redirect to %s: only http and https are followed", url);
        else
            acme_error_set(&out->error, ACME_P_CONNECTION, 0, "URL %s does not parse", url);
        goto out;
    }
    if (!va_resolve(cfg, u->host, deadline, addr, addrn, out))
        goto out;
    left = va_left_ms(deadline);
    if (left <= 0) {
        acme_error_set(&out->error, ACME_P_CONNECTION, 0, "fetching %s: validation timed out", url);
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.addr = addr;
    req.user_agent = "mockca-va";
    req.body_max = VA_HTTP_BODY_MAX;
    req.timeout_ms = left;
    e = fetch_do(&req, &resp);
    if (e == MC_ERR_TOO_BIG && resp.body_over_cap) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "response from %s is larger than %d bytes", url, VA_HTTP_BODY_MAX);
        goto out;
    }
    if (e != MC_OK) {
        va_fetch_problem(e, url, addr, &resp, out);
        goto out;
    }
    *status = resp.status;
    memcpy(body->buf, resp.body, resp.body_len); /* fetch capped it at VA_HTTP_BODY_MAX */
    body->n = resp.body_len;
    body->buf[body->n] = '\0';
    if (*status >= 300 && *status < 400 && resp.location != NULL) {
        e = fetch_url_join(url, resp.location, next);
        if (e == MC_ERR_TOO_BIG) {
            acme_error_set(&out->error, ACME_P_CONNECTION, 0, "redirect from %s too long", url);
            goto out;
        }
        if (e == MC_ERR_NOMEM) {
            acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
            goto out;
        }
        if (e != MC_OK) {
            char shown[128];
            snprintf(shown, sizeof(shown), "%.100s", resp.location);
            acme_error_set(&out->error, ACME_P_CONNECTION, 0,
                           "redirect from %s to \"%s\": only http and https URLs are followed", url,
                           shown);
            goto out;
        }
    }
    ok = true;
out:
    fetch_response_free(&resp);
    free(u);
    return ok;
}

void va_http01(const struct va_config *cfg, const struct ident *id, const char *token,
               const char *key_authorization, struct va_result *out)
{
    int64_t deadline = va_deadline(cfg);
    char *url = NULL, *next = NULL;
    char first_addr[INET6_ADDRSTRLEN] = "", addr[INET6_ADDRSTRLEN] = "";
    struct va_body *body = NULL;
    long status = 0;
    size_t len, n;
    int hops;

    va_result_init(out);
    /* The token goes into a URL: only the base64url alphabet (RFC 8555 section 8.3). */
    if (token == NULL || token[0] == '\0' || !b64url_is_alphabet(token, strlen(token))) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0, "token is not base64url");
        goto out;
    }
    body = calloc(1, sizeof(*body));
    url = malloc(VA_URL_MAX + 1);
    if (body == NULL || url == NULL) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    if (id->type == IDENT_IP && strchr(id->value, ':') != NULL)
        n = (size_t)snprintf(url, VA_URL_MAX + 1, "http://[%s]:%u/.well-known/acme-challenge/%s",
                             id->value, (unsigned)cfg->http_port, token);
    else
        n = (size_t)snprintf(url, VA_URL_MAX + 1, "http://%s:%u/.well-known/acme-challenge/%s",
                             id->value, (unsigned)cfg->http_port, token);
    if (n > VA_URL_MAX) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0, "challenge URL too long");
        goto out;
    }
    for (hops = 0;; hops++) {
        if (!va_http_get(cfg, url, deadline, addr, sizeof(addr), &status, body, &next, out))
            goto out;
        if (first_addr[0] == '\0')
            memcpy(first_addr, addr, sizeof(addr));
        if (next == NULL)
            break;
        if (hops >= VA_MAX_REDIRECTS) {
            acme_error_set(&out->error, ACME_P_CONNECTION, 0,
                           "too many redirects (more than %d), last to %s", VA_MAX_REDIRECTS, next);
            goto out;
        }
        log_msg(LOGL_DEBUG, "va.http01.redirect", "from=%s to=%s", url, next);
        memcpy(url, next, strlen(next) + 1); /* fetch_url_join capped it at FETCH_URL_MAX */
        free(next);
        next = NULL;
    }
    if (status != 200) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0, "non-200 status code from %s: %ld", url,
                       status);
        goto out;
    }
    len = va_trim_len(body->buf, body->n);
    if (len != strlen(key_authorization) || memcmp(body->buf, key_authorization, len) != 0) {
        char shown[128];
        snprintf(shown, sizeof(shown), "%.*s", (int)(len < 100 ? len : 100), body->buf);
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "the key authorization from %s did not match: got \"%s\"", url, shown);
        out->client_fault = VA_FAULT_KEYAUTH;
        goto out;
    }
    /* The identifier's own address: the one a validationRecord's addressUsed names. */
    va_ok(out, first_addr);
out:
    free(next);
    free(url);
    free(body);
}

/* ---- dns-01, dns-account-01 -------------------------------------------------------- */

/* base64url(SHA-256(key_authorization)) into out (at least 44 bytes). */
static bool va_txt_digest(const char *key_authorization, char *out, size_t outn)
{
    uint8_t h[32];
    unsigned int hl = 0;
    char *enc = NULL;
    bool ok = false;
    if (EVP_Digest(key_authorization, strlen(key_authorization), h, &hl, EVP_sha256(), NULL) != 1 ||
        hl != sizeof(h))
        return false;
    if (b64url_encode(h, sizeof(h), &enc) != MC_OK)
        return false;
    if (strlen(enc) < outn) {
        memcpy(out, enc, strlen(enc) + 1);
        ok = true;
    }
    free(enc);
    return ok;
}

/* Looks up TXT at qname and succeeds when one value (its character-strings joined) equals
 * the digest of key_authorization exactly. */
static void va_txt_check(const struct va_config *cfg, const struct ident *id, const char *qname,
                         const char *key_authorization, struct va_result *out)
{
    int64_t deadline = va_deadline(cfg);
    ldns_rr_list *rrs = NULL;
    char want[64], host[INET6_ADDRSTRLEN + 1];
    char *val = NULL;
    size_t count;

    if (id->type != IDENT_DNS) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0,
                       "DNS challenges are for DNS identifiers only, not %s", id->value);
        goto out;
    }
    if (!va_txt_digest(key_authorization, want, sizeof(want))) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "SHA-256 failed");
        goto out;
    }
    if (!va_dns_lookup(cfg, qname, LDNS_RR_TYPE_TXT, deadline, &rrs, out))
        goto out;
    count = ldns_rr_list_rr_count(rrs);
    if (count == 0) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0, "no TXT record found at %s", qname);
        goto out;
    }
    val = malloc(VA_TXT_MAX + 1);
    if (val == NULL) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        ldns_rr *rr = ldns_rr_list_rr(rrs, i);
        size_t vl = 0;
        bool fits = true;
        for (size_t k = 0; k < ldns_rr_rd_count(rr) && fits; k++) {
            const ldns_rdf *rd = ldns_rr_rdf(rr, k);
            /* Each TXT rdf is a <character-string>: one length byte, then the bytes. */
            size_t sz = ldns_rdf_size(rd);
            const uint8_t *d = ldns_rdf_data(rd);
            if (sz < 1 || (size_t)d[0] + 1 != sz || vl + d[0] > VA_TXT_MAX) {
                fits = false;
                break;
            }
            memcpy(val + vl, d + 1, d[0]);
            vl += d[0];
        }
        if (fits && vl == strlen(want) && CRYPTO_memcmp(val, want, vl) == 0) {
            va_server_host(cfg, host, sizeof(host));
            va_ok(out, host);
            goto out;
        }
    }
    acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                   "%zu TXT record(s) at %s, none equal to the expected value", count, qname);
    out->client_fault = count > 0 ? VA_FAULT_KEYAUTH : VA_FAULT_NONE;
out:
    free(val);
    ldns_rr_list_deep_free(rrs);
}

/* The name a dns-01 challenge is looked up under: a wildcard's "*." removed. */
static const char *va_base_name(const char *name)
{
    return strncmp(name, "*.", 2) == 0 ? name + 2 : name;
}

void va_dns01(const struct va_config *cfg, const struct ident *id, const char *key_authorization,
              struct va_result *out)
{
    char qname[VA_NAME_MAX + 32];
    va_result_init(out);
    if (id->type == IDENT_DNS && (size_t)snprintf(qname, sizeof(qname), "_acme-challenge.%s.",
                                                  va_base_name(id->value)) >= sizeof(qname)) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0, "name too long");
        return;
    }
    if (id->type != IDENT_DNS)
        qname[0] = '\0';
    va_txt_check(cfg, id, qname, key_authorization, out);
}

/* The dns-account-01 label (draft-ietf-acme-dns-account-label-02): base32 of the
 * first 10 bytes of SHA-256(account_url), lowercase, 16 characters (10 bytes are 80 bits,
 * exactly 16 base32 digits, so there is never padding). */
static bool va_account_label(const char *account_url, char label[17])
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint8_t h[32];
    unsigned int hl = 0;
    uint64_t acc = 0;
    int bits = 0;
    size_t o = 0;
    if (EVP_Digest(account_url, strlen(account_url), h, &hl, EVP_sha256(), NULL) != 1 || hl != 32)
        return false;
    for (size_t i = 0; i < 10; i++) {
        acc = (acc << 8) | h[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            label[o++] = alpha[(acc >> bits) & 31];
        }
    }
    label[o] = '\0';
    return o == 16;
}

void va_dns_account01(const struct va_config *cfg, const struct ident *id, const char *account_url,
                      const char *key_authorization, struct va_result *out)
{
    char qname[VA_NAME_MAX + 64], label[17];
    va_result_init(out);
    if (account_url == NULL || !va_account_label(account_url, label)) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "no account URL to label");
        return;
    }
    qname[0] = '\0';
    if (id->type == IDENT_DNS &&
        (size_t)snprintf(qname, sizeof(qname), "_%s._acme-challenge.%s.", label,
                         va_base_name(id->value)) >= sizeof(qname)) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0, "name too long");
        return;
    }
    va_txt_check(cfg, id, qname, key_authorization, out);
}

/* ---- tls-alpn-01 ------------------------------------------------------------------- */

/* RFC 8738 section 6: "4.3.2.1.in-addr.arpa" or the nibble form under ip6.arpa. */
static bool va_reverse_name(const char *ip, char *out, size_t n)
{
    uint8_t b[16];
    static const char hex[] = "0123456789abcdef";
    if (inet_pton(AF_INET, ip, b) == 1)
        return (size_t)snprintf(out, n, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]) < n;
    if (inet_pton(AF_INET6, ip, b) == 1) {
        size_t o = 0;
        if (n < 16 * 4 + sizeof("ip6.arpa"))
            return false;
        for (int i = 15; i >= 0; i--) {
            out[o++] = hex[b[i] & 15];
            out[o++] = '.';
            out[o++] = hex[b[i] >> 4];
            out[o++] = '.';
        }
        memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
        return true;
    }
    return false;
}

/* A non-blocking connect bounded by deadline. Returns the connected fd (non-blocking) or
 * -1 with out->error set (connection). */
static int va_connect(const char *addr, uint16_t port, int64_t deadline, struct va_result *out)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd = -1, rc, soerr = 0;
    socklen_t el = sizeof(soerr);
    struct pollfd pfd;

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)&ss)->sin_port = htons(port);
        sl = sizeof(struct sockaddr_in);
    } else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
        sl = sizeof(struct sockaddr_in6);
    } else {
        acme_error_set(&out->error, ACME_P_CONNECTION, 0, "address %s does not parse", addr);
        return -1;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "socket: %s", strerror(errno));
        return -1;
    }
    rc = connect(fd, (struct sockaddr *)&ss, sl);
    if (rc != 0 && errno != EINPROGRESS) {
        soerr = errno;
        goto fail;
    }
    if (rc != 0) {
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        do {
            rc = poll(&pfd, 1, (int)va_left_ms(deadline));
        } while (rc < 0 && errno == EINTR);
        if (rc == 0) {
            soerr = ETIMEDOUT;
            goto fail;
        }
        if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0) {
            soerr = errno;
            goto fail;
        }
        if (soerr != 0)
            goto fail;
    }
    return fd;
fail:
    acme_error_set(&out->error, ACME_P_CONNECTION, 0, "connecting to %s port %u: %s", addr,
                   (unsigned)port, strerror(soerr));
    close(fd);
    return -1;
}

/* Drives SSL_connect on a non-blocking fd until it finishes or the deadline passes. */
static bool va_handshake(SSL *ssl, int fd, int64_t deadline, char *why, size_t whyn)
{
    for (;;) {
        struct pollfd pfd;
        int rc = SSL_connect(ssl), e, prc;
        if (rc == 1)
            return true;
        e = SSL_get_error(ssl, rc);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            unsigned long le = ERR_peek_last_error();
            if (le != 0)
                ERR_error_string_n(le, why, whyn);
            else
                snprintf(why, whyn, "%s", e == SSL_ERROR_SYSCALL ? "connection closed" : "failed");
            ERR_clear_error(); /* the reason is in `why`; keep the thread's queue clean */
            return false;
        }
        pfd.fd = fd;
        pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        pfd.revents = 0;
        do {
            prc = poll(&pfd, 1, (int)va_left_ms(deadline));
        } while (prc < 0 && errno == EINTR);
        if (prc <= 0) {
            snprintf(why, whyn, "%s", prc == 0 ? "timed out" : strerror(errno));
            return false;
        }
    }
}

void va_tlsalpn01(const struct va_config *cfg, const struct ident *id,
                  const char *key_authorization, struct va_result *out)
{
    int64_t deadline = va_deadline(cfg);
    char addr[INET6_ADDRSTRLEN] = "", sni[80 + VA_NAME_MAX], why[256] = "";
    static const unsigned char alpn[] = "\x0a" VA_ALPN;
    const unsigned char *sel = NULL;
    unsigned int sel_len = 0;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    X509 *cert = NULL;
    struct ident_list sans = {0};
    uint8_t want[32], got[32];
    unsigned int hl = 0;
    int fd = -1;
    sigset_t pipe_set, old_set;
    bool masked = false;
    enum mc_err err;

    va_result_init(out);
    if (id->type == IDENT_IP) {
        if (!va_reverse_name(id->value, sni, sizeof(sni))) {
            acme_error_set(&out->error, ACME_P_MALFORMED, 0, "IP %s does not parse", id->value);
            goto out;
        }
    } else {
        snprintf(sni, sizeof(sni), "%s", id->value);
    }
    if (EVP_Digest(key_authorization, strlen(key_authorization), want, &hl, EVP_sha256(), NULL) !=
        1) {
        acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "SHA-256 failed");
        goto out;
    }
    if (!va_resolve(cfg, id->value, deadline, addr, sizeof(addr), out))
        goto out;
    fd = va_connect(addr, cfg->tls_port, deadline, out);
    if (fd < 0)
        goto out;
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto crypto;
    /* No chain verification: the certificate is self-signed by design (RFC 8737 section 3);
     * what counts is its SAN and acmeIdentifier, checked below. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION); /* RFC 8737 section 4 */
    ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1 ||
        SSL_set_alpn_protos(ssl, alpn, sizeof(alpn) - 1) != 0)
        goto crypto;
    /* A peer that resets mid-handshake would raise SIGPIPE on OpenSSL's write(); block it
     * in this thread only, and swallow one that is pending when we are done. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set) == 0;
    if (!va_handshake(ssl, fd, deadline, why, sizeof(why))) {
        acme_error_set(&out->error, ACME_P_TLS, 0,
                       "TLS handshake with %s port %u (SNI %s, ALPN acme-tls/1) failed: %s", addr,
                       (unsigned)cfg->tls_port, sni, why);
        goto out;
    }
    SSL_get0_alpn_selected(ssl, &sel, &sel_len);
    if (sel_len != sizeof(VA_ALPN) - 1 || memcmp(sel, VA_ALPN, sel_len) != 0) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "%s port %u did not select ALPN protocol acme-tls/1", addr,
                       (unsigned)cfg->tls_port);
        out->client_fault = VA_FAULT_ALPN;
        goto out;
    }
    cert = SSL_get1_peer_certificate(ssl);
    if (cert == NULL) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0, "%s presented no certificate", addr);
        goto out;
    }
    err = x509_sans(cert, &sans);
    if (err != MC_OK || sans.n != 1 || sans.v[0].type != id->type ||
        strcmp(sans.v[0].value, id->value) != 0) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "the validation certificate from %s must hold exactly one SAN, %s; it "
                       "holds %zu%s%s",
                       addr, id->value, err == MC_OK ? sans.n : (size_t)0,
                       err == MC_OK && sans.n > 0 ? ", the first " : "",
                       err == MC_OK && sans.n > 0 ? sans.v[0].value : "");
        goto out;
    }
    err = x509_acme_identifier(cert, got);
    if (err != MC_OK) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "the validation certificate from %s has no valid critical "
                       "acmeIdentifier extension: %s",
                       addr, mc_strerror(err));
        goto out;
    }
    if (CRYPTO_memcmp(got, want, sizeof(want)) != 0) {
        acme_error_set(&out->error, ACME_P_UNAUTHORIZED, 0,
                       "the acmeIdentifier of the certificate from %s does not match the key "
                       "authorization",
                       addr);
        out->client_fault = VA_FAULT_KEYAUTH;
        goto out;
    }
    va_ok(out, addr);
    goto out;
crypto:
    log_openssl_errors(LOGL_WARN, "va.tlsalpn01");
    acme_error_set(&out->error, ACME_P_SERVER_INTERNAL, 0, "OpenSSL setup failed");
out:
    ident_list_free(&sans);
    X509_free(cert);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    if (fd >= 0)
        close(fd);
    if (masked) {
        struct timespec zero = {0, 0};
        sigset_t pending;
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1)
            (void)sigtimedwait(&pipe_set, NULL, &zero);
        pthread_sigmask(SIG_SETMASK, &old_set, NULL);
    }
}

/* ---- CAA (RFC 8659) ---------------------------------------------------------------- */

/* The issuer-domain-name of an issue/issuewild value (RFC 8659 section 4.2): the text
 * before ';', spaces trimmed. "" (as in ";") names no CA and so forbids issuance. */
static void va_caa_domain(const uint8_t *v, size_t n, char *out, size_t outn)
{
    size_t s = 0, e;
    while (s < n && (v[s] == ' ' || v[s] == '\t'))
        s++;
    e = s;
    while (e < n && v[e] != ';')
        e++;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
        e--;
    if (e - s >= outn)
        e = s; /* longer than any domain we know: matches nothing */
    memcpy(out, v + s, e - s);
    out[e - s] = '\0';
}

static bool va_caa_names_us(const char *dom, const char *const *ca_domains, size_t n)
{
    if (dom[0] == '\0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (ca_domains[i] != NULL && strcasecmp(dom, ca_domains[i]) == 0)
            return true;
    return false;
}

/* Decides on a non-empty CAA RRset (RFC 8659 section 4). */
static void va_caa_decide(const ldns_rr_list *rrs, const char *at, bool wildcard,
                          const char *const *ca_domains, size_t n_domains, const char *host,
                          struct va_result *out)
{
    bool have_issuewild = false, allowed = false;
    size_t relevant = 0;
    const char *want;

    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
        ldns_rr *rr = ldns_rr_list_rr(rrs, i);
        const ldns_rdf *fl, *tag;
        char t[16];
        size_t tl;
        if (ldns_rr_rd_count(rr) != 3)
            continue;
        fl = ldns_rr_rdf(rr, 0);
        tag = ldns_rr_rdf(rr, 1);
        if (ldns_rdf_size(fl) != 1 || ldns_rdf_size(tag) < 2 ||
            (size_t)ldns_rdf_data(tag)[0] + 1 != ldns_rdf_size(tag) || ldns_rdf_size(tag) > 16)
            continue;
        tl = ldns_rdf_size(tag) - 1;
        memcpy(t, ldns_rdf_data(tag) + 1, tl);
        t[tl] = '\0';
        if (strcasecmp(t, "issuewild") == 0)
            have_issuewild = true;
        else if (strcasecmp(t, "issue") != 0 && strcasecmp(t, "iodef") != 0 &&
                 (ldns_rdf_data(fl)[0] & 0x80) != 0) {
            /* RFC 8659 section 4.1: a critical property we do not understand forbids. */
            acme_error_set(&out->error, ACME_P_CAA, 0,
                           "CAA record at %s has the critical flag on unknown tag \"%s\"", at, t);
            return;
        }
    }
    /* Section 4.3: issuewild, when present, alone governs wildcard names. */
    want = wildcard && have_issuewild ? "issuewild" : "issue";
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs) && !allowed; i++) {
        ldns_rr *rr = ldns_rr_list_rr(rrs, i);
        const ldns_rdf *tag, *val;
        char dom[VA_NAME_MAX];
        if (ldns_rr_rd_count(rr) != 3)
            continue;
        tag = ldns_rr_rdf(rr, 1);
        val = ldns_rr_rdf(rr, 2);
        if (ldns_rdf_size(tag) < 2 || ldns_rdf_size(tag) - 1 != strlen(want) ||
            strncasecmp((const char *)ldns_rdf_data(tag) + 1, want, strlen(want)) != 0)
            continue;
        relevant++;
        va_caa_domain(ldns_rdf_data(val), ldns_rdf_size(val), dom, sizeof(dom));
        allowed = va_caa_names_us(dom, ca_domains, n_domains);
    }
    if (relevant == 0 || allowed) {
        /* No issue property at all (only iodef, say) restricts nobody (section 4.2). */
        va_ok(out, host);
        return;
    }
    acme_error_set(&out->error, ACME_P_CAA, 0,
                   "CAA record%s at %s forbid%s issuance by this CA (%s)", relevant > 1 ? "s" : "",
                   at, relevant > 1 ? "" : "s",
                   n_domains > 0 && ca_domains[0] != NULL ? ca_domains[0] : "no CAA identities");
}

void va_caa(const struct va_config *cfg, const struct ident *id, bool wildcard,
            const char *const *ca_domains, size_t n_domains, struct va_result *out)
{
    int64_t deadline = va_deadline(cfg);
    char host[INET6_ADDRSTRLEN + 1], name[VA_NAME_MAX];
    const char *cur;
    const char *base;
    int climbed = 0;

    va_result_init(out);
    va_server_host(cfg, host, sizeof(host));
    if (id->type == IDENT_IP) {
        /* CAA has no defined meaning for IP identifiers (RFC 8738 section 7 leaves it). */
        va_ok(out, host);
        return;
    }
    base = va_base_name(id->value);
    if (strncmp(id->value, "*.", 2) == 0)
        wildcard = true;
    if ((size_t)snprintf(name, sizeof(name), "%s", base) >= sizeof(name)) {
        acme_error_set(&out->error, ACME_P_MALFORMED, 0, "name too long");
        return;
    }
    /* Section 3: the relevant RRset is the first non-empty one found climbing from the
     * name to (but not including) the root. Bounded by the labels of a 253-byte name. */
    for (cur = name; cur != NULL && cur[0] != '\0' && climbed < 128; climbed++) {
        ldns_rr_list *rrs = NULL;
        char q[VA_NAME_MAX + 2];
        const char *dot;
        snprintf(q, sizeof(q), "%s.", cur);
        if (!va_dns_lookup(cfg, q, LDNS_RR_TYPE_CAA, deadline, &rrs, out)) {
            /* Keep the lookup's detail, but say it was for CAA. */
            char d[ACME_DETAIL_MAX];
            snprintf(d, sizeof(d), "%s", out->error.detail);
            acme_error_set(&out->error, out->error.type, 0, "CAA lookup failed: %s", d);
            return;
        }
        if (ldns_rr_list_rr_count(rrs) > 0) {
            va_caa_decide(rrs, cur, wildcard, ca_domains, n_domains, host, out);
            ldns_rr_list_deep_free(rrs);
            return;
        }
        ldns_rr_list_deep_free(rrs);
        dot = strchr(cur, '.');
        cur = dot != NULL ? dot + 1 : NULL;
    }
    va_ok(out, host);
}
