/* srvconf.c: server conformance (srvconf.h).
 *
 * Layers: sc_http() does one exchange on the module's curl handle, keeps the raw request
 * and response, records it in the report and applies the checks every response is held
 * to (Replay-Nonce, Link rel="index", problem documents); sc_post() signs a request the
 * right way or one of the deliberately wrong ways (struct sign); the steps of the script
 * follow in RFC order, each grading its own requirements. A step that cannot go on (the
 * server refused something the rest needs) leaves the requirements after it unexercised,
 * which the report shows as "skip". */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "client/curlx.h"
#include "client/session.h"
#include "client/srvconf.h"
#include "client/wire.h"
#include "common/b64url.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/jose.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

#ifndef MOCKCA_VERSION
#define MOCKCA_VERSION "0"
#endif

#define URN "urn:ietf:params:acme:error:"
#define SC_MAX_BODY (1024 * 1024)  /* a longer response is cut (and graded as it is) */
#define SC_MAX_HEADERS (64 * 1024) /* header bytes kept per message */
#define SC_MAX_SEEN 4096           /* nonces remembered for the uniqueness check */
#define SC_POLL_MAX_ROUNDS 600
#define SC_MIN_TOKEN 22 /* 128 bits in base64url (RFC 8555 section 8.3) */

/* ---- the catalog --------------------------------------------------------------------------- */

#define R(area, n) "ACME-SERVER-" area "-" n
static const struct report_req catalog[] = {
    {R("DIR", "001"), "RFC 8555 7.1.1", REPORT_MUST,
     "GET on the directory URL answers 200 with a JSON object"},
    {R("DIR", "002"), "RFC 8555 7.1.1", REPORT_MUST,
     "the directory names newNonce, newAccount, newOrder, revokeCert and keyChange as http(s) "
     "URL strings, and certcli's session accepts it"},
    {R("DIR", "003"), "RFC 8555 7.1.1", REPORT_SHOULD,
     "directory meta fields have their types (termsOfService and website strings, "
     "caaIdentities an array of strings, externalAccountRequired a boolean)"},
    {R("NONCE", "001"), "RFC 8555 7.2", REPORT_MUST,
     "HEAD newNonce answers 200 with a Replay-Nonce"},
    {R("NONCE", "002"), "RFC 8555 7.2", REPORT_MUST,
     "GET newNonce answers 204 with a Replay-Nonce"},
    {R("NONCE", "003"), "RFC 8555 7.2", REPORT_MUST,
     "newNonce responses carry Cache-Control: no-store"},
    {R("NONCE", "004"), "RFC 8555 6.5", REPORT_MUST,
     "every successful response to a POST carries a Replay-Nonce"},
    {R("NONCE", "005"), "RFC 8555 6.5", REPORT_SHOULD,
     "error responses to a POST carry a Replay-Nonce as well"},
    {R("NONCE", "006"), "RFC 8555 6.5.1", REPORT_MUST,
     "Replay-Nonce values are non-empty base64url"},
    {R("NONCE", "007"), "RFC 8555 6.5", REPORT_MUST, "no nonce is handed out twice"},
    {R("NONCE", "008"), "RFC 8555 6.5", REPORT_MUST,
     "a JWS without a nonce is refused with 400 badNonce (or malformed)"},
    {R("NONCE", "009"), "RFC 8555 6.5", REPORT_MUST,
     "a nonce the server never issued is refused with 400 badNonce"},
    {R("NONCE", "010"), "RFC 8555 6.5", REPORT_MUST,
     "a nonce that was used already is refused with 400 badNonce"},
    {R("LINK", "001"), "RFC 8555 7.1", REPORT_SHOULD,
     "every response but the directory's carries Link rel=\"index\" to the directory"},
    {R("PROB", "001"), "RFC 8555 6.7", REPORT_SHOULD,
     "error responses are problem documents: Content-Type application/problem+json, a JSON "
     "object with a type string"},
    {R("PROB", "002"), "RFC 7807 3.1", REPORT_SHOULD,
     "a problem document's status member, when present, equals the HTTP status"},
    {R("JWS", "001"), "RFC 8555 6.2", REPORT_MUST,
     "a POST with a Content-Type other than application/jose+json is refused with 415 (or 400 "
     "malformed)"},
    {R("JWS", "002"), "RFC 8555 6.4", REPORT_MUST,
     "a JWS whose url header differs from the request URL is refused with unauthorized (or "
     "malformed)"},
    {R("JWS", "003"), "RFC 8555 6.2", REPORT_MUST,
     "alg \"none\" is refused with 400 badSignatureAlgorithm"},
    {R("JWS", "004"), "RFC 8555 6.2", REPORT_MUST,
     "a MAC alg (HS256) is refused with 400 badSignatureAlgorithm"},
    {R("JWS", "005"), "RFC 8555 6.2", REPORT_MUST,
     "a JWS whose signature does not verify is refused with a 4xx problem"},
    {R("JWS", "006"), "RFC 8555 6.2", REPORT_MUST,
     "a JWS with both jwk and kid is refused with 400 malformed"},
    {R("JWS", "007"), "RFC 8555 6.2", REPORT_MUST,
     "newOrder signed with a jwk instead of a kid is refused with a 4xx problem"},
    {R("JWS", "008"), "RFC 8555 6.2", REPORT_MUST,
     "a kid naming no account is refused with accountDoesNotExist"},
    {R("POSTGET", "001"), "RFC 8555 6.3", REPORT_MUST,
     "plain GET on a POST-as-GET resource (an order) is refused with 405 (or 400 malformed)"},
    {R("POSTGET", "002"), "RFC 8555 6.3", REPORT_MUST,
     "a POST-as-GET with a non-empty payload to an order is refused with 400 malformed"},
    {R("POSTGET", "003"), "RFC 8555 6.3", REPORT_MUST,
     "POST-as-GET on the account, an order and an authorization answers 200 with the object"},
    {R("ACCT", "001"), "RFC 8555 7.3", REPORT_MUST,
     "newAccount for a new key answers 201 with the account URL in Location and status valid"},
    {R("ACCT", "002"), "RFC 8555 7.3.1", REPORT_MUST,
     "newAccount for a known key answers 200 with the same Location"},
    {R("ACCT", "003"), "RFC 8555 7.3.1", REPORT_MUST,
     "onlyReturnExisting for an unknown key is refused with accountDoesNotExist"},
    {R("ACCT", "004"), "RFC 8555 7.3.6", REPORT_MUST,
     "account deactivation answers 200 with status deactivated"},
    {R("ACCT", "005"), "RFC 8555 7.3.6", REPORT_MUST,
     "a request signed by a deactivated account is refused with unauthorized"},
    {R("ORDER", "001"), "RFC 8555 7.4", REPORT_MUST,
     "newOrder answers 201 with the order URL in Location"},
    {R("ORDER", "002"), "RFC 8555 7.1.3", REPORT_MUST,
     "a new order has status pending, the identifiers asked for, authorizations (URLs) and "
     "finalize (a URL)"},
    {R("ORDER", "003"), "RFC 8555 7.4", REPORT_MUST,
     "finalize before the order is ready is refused with 403 orderNotReady"},
    {R("AUTHZ", "001"), "RFC 8555 7.1.4", REPORT_MUST,
     "an authorization has the identifier, status pending, and challenges each with type, url "
     "and status"},
    {R("AUTHZ", "002"), "RFC 8555 8.3", REPORT_MUST,
     "an http-01 challenge is offered with a base64url token of at least 128 bits"},
    {R("STATE", "001"), "RFC 8555 7.5.1", REPORT_MUST,
     "responding to a challenge answers 200 with the challenge, status pending, processing or "
     "valid"},
    {R("STATE", "002"), "RFC 8555 7.1.6", REPORT_MUST,
     "after validation the authorization and its challenge are valid"},
    {R("STATE", "003"), "RFC 8555 7.1.6", REPORT_MUST,
     "the order becomes ready once its authorizations are valid"},
    {R("STATE", "004"), "RFC 8555 7.4", REPORT_MUST,
     "finalize of a ready order answers 200 with the order, status processing or valid"},
    {R("STATE", "005"), "RFC 8555 7.4", REPORT_MUST,
     "the order becomes valid with a certificate URL"},
    {R("CERT", "001"), "RFC 8555 7.4.2", REPORT_MUST,
     "the certificate download answers 200 with Content-Type application/pem-certificate-chain"},
    {R("CERT", "002"), "RFC 8555 7.4.2", REPORT_MUST,
     "the download is a PEM chain whose leaf names the ordered identifier"},
    {R("REV", "001"), "RFC 8555 7.6", REPORT_MUST, "revokeCert by the account answers 200"},
    {R("REV", "002"), "RFC 8555 7.6", REPORT_SHOULD,
     "revoking the same certificate again is refused with alreadyRevoked"},
};
#undef R

const struct report_req *sc_catalog(size_t *n)
{
    if (n != NULL)
        *n = sizeof(catalog) / sizeof(catalog[0]);
    return catalog;
}

void sc_opts_init(struct sc_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->http_port = -1;
}

/* ---- the run's state ----------------------------------------------------------------------- */

struct sc {
    const struct sc_opts *o;
    struct report *rep;
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    char *ua_header;
    char *dir_url;
    cJSON *dir;
    const char *new_nonce, *new_account, *new_order, *revoke_cert; /* borrowed from dir */
    char *nonce; /* the freshest unused Replay-Nonce */
    char *seen[SC_MAX_SEEN];
    size_t nseen;
    EVP_PKEY *key;
    char *kid;
    char ident[128];
};

/* One response, raw and parsed. */
struct sc_resp {
    long status;
    char *headers; /* response header lines joined by "\n", status line first */
    char *body;    /* NUL-terminated, never NULL after a completed exchange */
    size_t len;
    cJSON *json; /* the body parsed as JSON, whatever the Content-Type said; or NULL */
    long x;      /* the exchange's index in the report, -1 when not kept */
};

static void resp_free(struct sc_resp *r)
{
    free(r->headers);
    free(r->body);
    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
    r->x = -1;
}

/* ---- grading helpers ----------------------------------------------------------------------- */

static void pass(struct sc *c, const char *id)
{
    if (report_exercised(c->rep, id) != MC_OK)
        log_msg(LOGL_WARN, "certcli.conformance", "unknown_id=%s", id);
}

/* Grades id: exercised when ok, else a violation at exchange x with the formatted detail. */
__attribute__((format(printf, 5, 6))) static bool check(struct sc *c, const char *id, bool ok,
                                                        long x, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    if (ok) {
        pass(c, id);
        return true;
    }
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (report_violation(c->rep, id, NULL, x, detail) != MC_OK)
        log_msg(LOGL_WARN, "certcli.conformance", "violation_not_kept=%s", id);
    log_msg(LOGL_INFO, "certcli.conformance", "fail=%s detail=%s", id, detail);
    return false;
}

/* The value of the last header called name in r (case-insensitive), new string, or NULL. */
static char *resp_header(const struct sc_resp *r, const char *name)
{
    size_t nl = strlen(name);
    char *found = NULL;
    for (const char *p = r->headers; p != NULL && *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
        if (l > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = l - nl - 1;
            while (vl > 0 && (*v == ' ' || *v == '\t')) {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                vl--;
            free(found);
            found = strndup(v, vl);
        }
        p = e != NULL ? e + 1 : p + l;
    }
    return found;
}

/* True if some Link header of r has rel="index" (RFC 8288: the parameter may be quoted or
 * not, and one header may hold several links separated by commas). */
static bool has_index_link(const struct sc_resp *r)
{
    for (const char *p = r->headers; p != NULL && *p != '\0';) {
        const char *e = strchr(p, '\n');
        size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
        if (l > 5 && strncasecmp(p, "link:", 5) == 0) {
            char *line = strndup(p, l);
            bool hit = false;
            if (line != NULL) {
                for (char *q = line; *q != '\0'; q++)
                    *q = (char)tolower((unsigned char)*q);
                hit = strstr(line, "rel=\"index\"") != NULL || strstr(line, "rel=index") != NULL;
            }
            free(line);
            if (hit)
                return true;
        }
        p = e != NULL ? e + 1 : p + l;
    }
    return false;
}

/* The media type of r's Content-Type without parameters, lowercase, into buf. */
static const char *media_type(const struct sc_resp *r, char *buf, size_t n)
{
    char *ct = resp_header(r, "Content-Type");
    size_t i = 0;
    buf[0] = '\0';
    if (ct == NULL)
        return buf;
    for (; ct[i] != '\0' && ct[i] != ';' && ct[i] != ' ' && i + 1 < n; i++)
        buf[i] = (char)tolower((unsigned char)ct[i]);
    buf[i] = '\0';
    free(ct);
    return buf;
}

/* The problem type of r ("urn:...:badNonce"), borrowed from r->json, or "". */
static const char *problem_type(const struct sc_resp *r)
{
    const char *t = NULL;
    if (r->json == NULL || !cJSON_IsObject(r->json) ||
        json_get_string(r->json, "type", &t) != MC_OK)
        return "";
    return t;
}

/* True if r is an error with one of statuses (0-terminated; NULL: any 4xx) and its problem
 * type is URN + one of types (NULL-terminated; NULL: any). why gets what was seen. */
static bool is_refusal(const struct sc_resp *r, const long *statuses, const char *const *types,
                       char *why, size_t n)
{
    bool st_ok = false, ty_ok = types == NULL;
    const char *t = problem_type(r);
    if (statuses == NULL)
        st_ok = r->status >= 400 && r->status < 500;
    else
        for (const long *s = statuses; *s != 0; s++)
            st_ok = st_ok || r->status == *s;
    for (const char *const *ty = types; ty != NULL && *ty != NULL; ty++)
        if (strncmp(t, URN, strlen(URN)) == 0 && strcmp(t + strlen(URN), *ty) == 0)
            ty_ok = true;
    snprintf(why, n, "got HTTP %ld with problem type \"%.200s\"", r->status, t);
    return st_ok && ty_ok;
}

/* Checks a refusal for requirement id with the accepted statuses and types. */
static bool check_refusal(struct sc *c, const char *id, const struct sc_resp *r,
                          const long *statuses, const char *const *types, const char *what)
{
    char why[300];
    bool ok = is_refusal(r, statuses, types, why, sizeof(why));
    return check(c, id, ok, r->x, "%s: %s", what, why);
}

static bool is_b64url(const char *s)
{
    return s != NULL && s[0] != '\0' && b64url_is_alphabet(s, strlen(s));
}

static bool is_http_url(const char *s)
{
    return s != NULL && wire_check_url(s) == MC_OK;
}

/* ---- one exchange -------------------------------------------------------------------------- */

struct rx {
    char *buf;
    size_t len, cap, max;
    bool cut;
};

static void rx_add(struct rx *b, const char *p, size_t n)
{
    if (b->len + n > b->max) {
        b->cut = true;
        n = b->max - b->len;
    }
    if (n == 0)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap == 0 ? 1024 : b->cap;
        char *nb;
        while (cap < b->len + n + 1)
            cap *= 2;
        nb = realloc(b->buf, cap);
        if (nb == NULL) {
            b->cut = true;
            return;
        }
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    b->buf[b->len] = '\0';
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rx_add(ud, p, size * n);
    return size * n; /* a cut body is graded as it is; never abort the transfer */
}

/* Header lines without their CR LF, joined by "\n"; a new status line (after a 1xx)
 * starts the block over. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct rx *b = ud;
    size_t l = size * n;
    if (l >= 5 && strncmp(p, "HTTP/", 5) == 0)
        b->len = 0;
    while (l > 0 && (p[l - 1] == '\n' || p[l - 1] == '\r'))
        l--;
    if (l == 0)
        return size * n;
    if (b->len > 0)
        rx_add(b, "\n", 1);
    rx_add(b, p, l);
    return size * n;
}

/* libcurl's view of the request headers it sent (CURLINFO_HEADER_OUT). */
static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    struct rx *b = ud;
    (void)h;
    if (type != CURLINFO_HEADER_OUT)
        return 0;
    b->len = 0;
    for (size_t i = 0; i < size; i++)
        if (data[i] != '\r')
            rx_add(b, data + i, 1);
    while (b->len > 0 && b->buf[b->len - 1] == '\n')
        b->buf[--b->len] = '\0';
    return 0;
}

enum { SCX_POST = 1, SCX_DIRECTORY = 2, SCX_NEWNONCE = 4 };

/* Adds the decoded protected header and payload of a flattened JWS body to the recorded
 * request, for the reader of the report. Returns a new string or NULL. */
static char *decoded_view(const char *body)
{
    cJSON *j = NULL;
    char *out = NULL, *prot = NULL, *pay = NULL;
    size_t pl = 0, yl = 0;
    const char *pb = NULL, *yb = NULL;
    if (json_parse(body, strlen(body), SC_MAX_BODY, JSON_DEFAULT_MAX_DEPTH, &j) != MC_OK ||
        !cJSON_IsObject(j) || json_get_string(j, "protected", &pb) != MC_OK ||
        json_get_string(j, "payload", &yb) != MC_OK ||
        b64url_decode(pb, strlen(pb), (uint8_t **)&prot, &pl) != MC_OK ||
        b64url_decode(yb, strlen(yb), (uint8_t **)&pay, &yl) != MC_OK)
        goto out;
    if (asprintf(&out, "%s\n\n-- decoded --\nprotected: %.*s\npayload: %.*s", body, (int)pl, prot,
                 yl == 0 ? 26 : (int)yl, yl == 0 ? "(empty: POST-as-GET)" : pay) < 0)
        out = NULL;
out:
    free(prot);
    free(pay);
    cJSON_Delete(j);
    return out;
}

/* Remembers a nonce the server handed out and grades its form and uniqueness. */
static void saw_nonce(struct sc *c, const char *nonce, long x)
{
    bool dup = false;
    check(c, "ACME-SERVER-NONCE-006", is_b64url(nonce), x,
          "Replay-Nonce \"%.100s\" is not base64url", nonce);
    for (size_t i = 0; i < c->nseen && !dup; i++)
        dup = strcmp(c->seen[i], nonce) == 0;
    check(c, "ACME-SERVER-NONCE-007", !dup, x, "Replay-Nonce \"%.100s\" was handed out before",
          nonce);
    if (!dup && c->nseen < SC_MAX_SEEN) {
        char *d = strdup(nonce);
        if (d != NULL)
            c->seen[c->nseen++] = d;
    }
    free(c->nonce);
    c->nonce = strdup(nonce);
}

/* One exchange: method to url with Content-Type ctype (NULL: none) and body (POST). On
 * MC_OK *out holds the response (any status), recorded and held to the checks every
 * response gets. MC_ERR_IO when no response came (recorded with status 0). */
static enum mc_err sc_http(struct sc *c, const char *method, const char *url, const char *ctype,
                           const char *body, unsigned flags, struct sc_resp *out)
{
    struct rx hb = {.max = SC_MAX_HEADERS}, bb = {.max = SC_MAX_BODY}, qb = {.max = SC_MAX_HEADERS};
    struct curl_slist *hdrs = NULL, *tmp;
    char *cth = NULL, *shown = NULL, *nonce = NULL;
    enum mc_err err = MC_OK;
    CURLcode rc = CURLE_OK;
    struct report_exchange rec;
    char mt[128];

    resp_free(out);
    c->curl_err[0] = '\0';
    if (ctype != NULL && asprintf(&cth, "Content-Type: %s", ctype) < 0) {
        cth = NULL;
        err = MC_ERR_NOMEM;
        goto out;
    }
    tmp = curl_slist_append(hdrs, c->ua_header);
    if (tmp != NULL)
        hdrs = tmp;
    /* libcurl adds "Content-Type: application/x-www-form-urlencoded" to a POST unless told
     * otherwise: an empty "Content-Type:" removes it for the no-Content-Type case. */
    tmp = curl_slist_append(hdrs, cth != NULL ? cth : "Content-Type:");
    if (tmp != NULL)
        hdrs = tmp;
    tmp = curl_slist_append(hdrs, "Expect:");
    if (tmp == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    hdrs = tmp;

    /* GET, HEAD and POST only: cx_exchange would send another method's body as a POST. */
    rc = curl_easy_setopt(c->curl, CURLOPT_DEBUGDATA, &qb);
    if (rc == CURLE_OK)
        rc = cx_exchange(c->curl, method, url, body, hdrs, &bb, &hb);
    if (rc == CURLE_OK)
        (void)curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &out->status);
    else
        err = rc == CURLE_OUT_OF_MEMORY ? MC_ERR_NOMEM : MC_ERR_IO;

    out->headers = hb.buf != NULL ? hb.buf : strdup("");
    hb.buf = NULL;
    out->body = bb.buf != NULL ? bb.buf : strdup("");
    out->len = bb.len;
    bb.buf = NULL;
    if (out->headers == NULL || out->body == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (out->len > 0 && strcmp(method, "HEAD") != 0 &&
        json_parse(out->body, out->len, SC_MAX_BODY, 32, &out->json) != MC_OK)
        out->json = NULL;

    if (body != NULL)
        shown = decoded_view(body);
    memset(&rec, 0, sizeof(rec));
    rec.at_ms = clock_now_ms(NULL);
    rec.actor = c->kid;
    rec.user_agent = c->ua_header + strlen("User-Agent: ");
    rec.method = method;
    rec.url = url;
    rec.req_headers = qb.buf;
    rec.req_body = shown != NULL ? shown : body;
    rec.status = (int)out->status;
    rec.resp_headers = out->headers;
    if (err != MC_OK) {
        char msg[CURL_ERROR_SIZE + 64];
        snprintf(msg, sizeof(msg), "(no response: %s)", cx_why(rc, c->curl_err));
        rec.resp_body = msg;
        out->x = report_add_exchange(c->rep, &rec);
        log_msg(LOGL_WARN, "certcli.conformance", "transport_error=%s", msg);
        goto out;
    }
    rec.resp_body = out->body;
    out->x = report_add_exchange(c->rep, &rec);

    /* The checks every response gets. */
    nonce = resp_header(out, "Replay-Nonce");
    if (nonce != NULL)
        saw_nonce(c, nonce, out->x);
    if (flags & SCX_POST) {
        if (out->status >= 200 && out->status < 300)
            check(c, "ACME-SERVER-NONCE-004", nonce != NULL, out->x,
                  "HTTP %ld answer to a POST without Replay-Nonce", out->status);
        else
            check(c, "ACME-SERVER-NONCE-005", nonce != NULL, out->x,
                  "HTTP %ld error answer to a POST without Replay-Nonce", out->status);
    }
    if (!(flags & SCX_DIRECTORY))
        check(c, "ACME-SERVER-LINK-001", has_index_link(out), out->x,
              "HTTP %ld answer without Link rel=\"index\"", out->status);
    if (out->status >= 400) {
        const char *t = problem_type(out);
        media_type(out, mt, sizeof(mt));
        check(c, "ACME-SERVER-PROB-001",
              strcmp(mt, "application/problem+json") == 0 && t[0] != '\0', out->x,
              "HTTP %ld error with Content-Type \"%s\" and problem type \"%.100s\"", out->status,
              mt, t);
        if (out->json != NULL && cJSON_IsObject(out->json)) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(out->json, "status");
            if (st != NULL)
                check(c, "ACME-SERVER-PROB-002",
                      cJSON_IsNumber(st) && st->valuedouble == (double)out->status, out->x,
                      "problem status member %g, HTTP status %ld",
                      cJSON_IsNumber(st) ? st->valuedouble : -1.0, out->status);
        }
    }
out:
    free(nonce);
    free(shown);
    free(cth);
    free(hb.buf);
    free(bb.buf);
    free(qb.buf);
    curl_slist_free_all(hdrs);
    return err;
}

/* ---- signing, the right way and the wrong ways ----------------------------------------------- */

enum sign_alg { ALG_KEY = 0, ALG_NONE, ALG_HS256 };
enum sign_nonce { NONCE_FRESH = 0, NONCE_OMIT, NONCE_GIVEN };

struct sign {
    bool use_jwk;    /* jwk of key in the header (else kid) */
    bool both;       /* jwk and kid together */
    const char *kid; /* NULL: c->kid */
    EVP_PKEY *key;   /* the signing key; NULL: c->key */
    const char *url; /* the protected "url"; NULL: the target URL */
    enum sign_alg alg;
    enum sign_nonce nonce_mode;
    const char *nonce; /* NONCE_GIVEN */
    const char *ctype; /* NULL: application/jose+json */
};

/* A fresh nonce: the last Replay-Nonce not yet used, else one from HEAD newNonce. New
 * string in *out (NULL when the server gave none). */
static enum mc_err fresh_nonce(struct sc *c, char **out)
{
    struct sc_resp r = {.x = -1};
    enum mc_err err;
    *out = NULL;
    if (c->nonce != NULL) {
        *out = c->nonce;
        c->nonce = NULL;
        return MC_OK;
    }
    err = sc_http(c, "HEAD", c->new_nonce, NULL, NULL, SCX_NEWNONCE, &r);
    resp_free(&r);
    if (err != MC_OK)
        return err;
    *out = c->nonce;
    c->nonce = NULL;
    return MC_OK;
}

/* Builds the flattened JWS for url with payload (NULL: POST-as-GET) as s says. *used
 * (may be NULL) gets the nonce used (new string or NULL). */
static enum mc_err build_jws(struct sc *c, const char *url, const char *payload,
                             const struct sign *s, char **out, char **used)
{
    EVP_PKEY *key = s->key != NULL ? s->key : c->key;
    cJSON *hdr = NULL, *jwk = NULL, *jws = NULL;
    char *nonce = NULL, *prot_text = NULL, *prot_b64 = NULL, *pay_b64 = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    enum jose_alg alg;
    size_t plen = payload != NULL ? strlen(payload) : 0;

    *out = NULL;
    if (used != NULL)
        *used = NULL;
    hdr = cJSON_CreateObject();
    if (hdr == NULL)
        goto out;
    if (s->nonce_mode == NONCE_FRESH) {
        err = fresh_nonce(c, &nonce);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
    } else if (s->nonce_mode == NONCE_GIVEN && s->nonce != NULL) {
        nonce = strdup(s->nonce);
        if (nonce == NULL)
            goto out;
    }
    /* No nonce at all from a server that sends none: the request goes without one. */
    if (nonce != NULL && cJSON_AddStringToObject(hdr, "nonce", nonce) == NULL)
        goto out;
    if (cJSON_AddStringToObject(hdr, "url", s->url != NULL ? s->url : url) == NULL)
        goto out;
    if (s->use_jwk || s->both) {
        err = jwk_to_json(key, &jwk);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
        cJSON_AddItemToObject(hdr, "jwk", jwk);
        jwk = NULL;
    }
    if (!s->use_jwk || s->both) {
        const char *kid = s->kid != NULL ? s->kid : c->kid;
        if (cJSON_AddStringToObject(hdr, "kid", kid != NULL ? kid : "") == NULL)
            goto out;
    }
    switch (s->alg) {
    case ALG_KEY:
        err = jose_alg_for_key(key, &alg);
        if (err == MC_OK)
            err = jws_sign(key, alg, hdr, (const uint8_t *)payload, plen, &jws);
        break;
    case ALG_HS256: {
        uint8_t mac[32];
        if (RAND_bytes(mac, sizeof(mac)) != 1) {
            err = MC_ERR_CRYPTO;
            goto out;
        }
        err = jws_sign_hmac(JOSE_ALG_HS256, mac, sizeof(mac), hdr, (const uint8_t *)payload, plen,
                            &jws);
        break;
    }
    case ALG_NONE:
        /* jose.c will not sign with "none": the JWS is put together here, with a
         * signature of a few bytes so that only the alg is wrong. */
        if (cJSON_AddStringToObject(hdr, "alg", "none") == NULL)
            goto out;
        prot_text = cJSON_PrintUnformatted(hdr);
        if (prot_text == NULL)
            goto out;
        err = b64url_encode((const uint8_t *)prot_text, strlen(prot_text), &prot_b64);
        if (err == MC_OK)
            err = b64url_encode((const uint8_t *)(payload != NULL ? payload : ""), plen, &pay_b64);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
        jws = cJSON_CreateObject();
        if (jws == NULL || cJSON_AddStringToObject(jws, "protected", prot_b64) == NULL ||
            cJSON_AddStringToObject(jws, "payload", pay_b64) == NULL ||
            cJSON_AddStringToObject(jws, "signature", "AAAA") == NULL)
            goto out;
        err = MC_OK;
        break;
    }
    if (err != MC_OK)
        goto out;
    *out = cJSON_PrintUnformatted(jws);
    if (*out == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    if (used != NULL) {
        *used = nonce;
        nonce = NULL;
    }
    err = MC_OK;
out:
    free(nonce);
    free(prot_text);
    free(prot_b64);
    free(pay_b64);
    cJSON_Delete(jwk);
    cJSON_Delete(hdr);
    cJSON_Delete(jws);
    return err;
}

/* A signed POST (s NULL: the right way, kid once the account exists, else jwk). */
static enum mc_err sc_post_ex(struct sc *c, const char *url, const char *payload,
                              const struct sign *s, struct sc_resp *out, char **used)
{
    struct sign def = {0};
    char *body = NULL;
    enum mc_err err;
    if (s == NULL) {
        def.use_jwk = c->kid == NULL;
        s = &def;
    }
    err = build_jws(c, url, payload, s, &body, used);
    if (err == MC_OK)
        err = sc_http(c, "POST", url, s->ctype != NULL ? s->ctype : "application/jose+json", body,
                      SCX_POST, out);
    free(body);
    return err;
}

static enum mc_err sc_post(struct sc *c, const char *url, const char *payload, const struct sign *s,
                           struct sc_resp *out)
{
    return sc_post_ex(c, url, payload, s, out, NULL);
}

/* A JSON payload as text, from a cJSON built by the caller (deleted here). */
static char *payload_of(cJSON *j)
{
    char *s = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return s;
}

static char *acct_payload(bool only_existing)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL)
        return NULL;
    if (only_existing) {
        if (cJSON_AddTrueToObject(j, "onlyReturnExisting") == NULL)
            goto bad;
    } else if (cJSON_AddTrueToObject(j, "termsOfServiceAgreed") == NULL) {
        goto bad;
    }
    return payload_of(j);
bad:
    cJSON_Delete(j);
    return NULL;
}

static char *order_payload(const char *name)
{
    cJSON *j = cJSON_CreateObject(), *ids, *id;
    if (j == NULL)
        return NULL;
    ids = cJSON_AddArrayToObject(j, "identifiers");
    id = cJSON_CreateObject();
    if (ids == NULL || id == NULL) {
        cJSON_Delete(id);
        cJSON_Delete(j);
        return NULL;
    }
    cJSON_AddItemToArray(ids, id);
    if (cJSON_AddStringToObject(id, "type", "dns") == NULL ||
        cJSON_AddStringToObject(id, "value", name) == NULL) {
        cJSON_Delete(j);
        return NULL;
    }
    return payload_of(j);
}

static char *one_member(const char *name, const char *value)
{
    cJSON *j = cJSON_CreateObject();
    if (j == NULL || cJSON_AddStringToObject(j, name, value) == NULL) {
        cJSON_Delete(j);
        return NULL;
    }
    return payload_of(j);
}

static const char *jstr(const cJSON *j, const char *name)
{
    const char *s = NULL;
    if (j == NULL || !cJSON_IsObject(j) || json_get_string(j, name, &s) != MC_OK)
        return NULL;
    return s;
}

/* Polls url with POST-as-GET until its status is none of moving (NULL-terminated), for at
 * most the poll timeout. *out is the last response (its json the object). */
static enum mc_err poll(struct sc *c, const char *url, const char *const *moving,
                        struct sc_resp *out)
{
    long limit_ms = (c->o->poll_timeout_s > 0 ? c->o->poll_timeout_s : 60) * 1000;
    int64_t start = clock_now_ms(NULL);
    long wait = 100;
    for (int round = 0; round < SC_POLL_MAX_ROUNDS; round++) {
        enum mc_err err = sc_post(c, url, NULL, NULL, out);
        const char *st;
        bool still = false;
        char *ra;
        if (err != MC_OK)
            return err;
        if (out->status != 200)
            return MC_OK;
        st = jstr(out->json, "status");
        for (const char *const *m = moving; st != NULL && *m != NULL; m++)
            still = still || strcmp(st, *m) == 0;
        if (!still)
            return MC_OK;
        if (clock_now_ms(NULL) - start > limit_ms)
            return MC_ERR_TIMEOUT;
        /* Retry-After in seconds is honoured up to 2 s (RFC 8555 section 7.5.1 lets the
         * server pace polling); else a short backoff to 1 s. */
        ra = resp_header(out, "Retry-After");
        if (ra != NULL && ra[0] >= '0' && ra[0] <= '9') {
            long s = strtol(ra, NULL, 10);
            wait = s * 1000 > 2000 ? 2000 : (s * 1000 < 100 ? 100 : s * 1000);
        }
        free(ra);
        cx_sleep_ms(wait);
        if (wait < 1000)
            wait *= 2;
    }
    return MC_ERR_TIMEOUT;
}

/* ---- the script ------------------------------------------------------------------------------ */

static enum mc_err step_directory(struct sc *c)
{
    struct sc_resp r = {.x = -1};
    struct sess_opts so;
    struct sess *s = NULL;
    enum mc_err err;
    static const char *const required[] = {"newNonce", "newAccount", "newOrder", "revokeCert",
                                           "keyChange"};
    const cJSON *meta = NULL;

    err = sc_http(c, "GET", c->dir_url, NULL, NULL, SCX_DIRECTORY, &r);
    if (err != MC_OK) {
        check(c, "ACME-SERVER-DIR-001", false, r.x, "no answer: %s", c->curl_err);
        goto out;
    }
    if (!check(c, "ACME-SERVER-DIR-001", r.status == 200 && cJSON_IsObject(r.json), r.x,
               "HTTP %ld, body %s a JSON object", r.status,
               cJSON_IsObject(r.json) ? "is" : "is not")) {
        err = MC_ERR_INVALID;
        goto out;
    }
    c->dir = r.json;
    r.json = NULL;
    bool ok = true;
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
        const char *u = jstr(c->dir, required[i]);
        if (!is_http_url(u)) {
            check(c, "ACME-SERVER-DIR-002", false, r.x, "%s is %s", required[i],
                  u == NULL ? "missing or not a string" : "not an http(s) URL");
            ok = false;
        }
    }
    /* The same directory through certcli's session, the way every certcli command reads
     * it (its URL checks are stricter than a type check). */
    sess_opts_init(&so);
    so.directory_url = c->dir_url;
    so.ca_bundle = c->o->ca_bundle;
    so.insecure = c->o->insecure;
    so.timeout_s = c->o->timeout_s > 0 ? c->o->timeout_s : 30;
    so.seed = c->o->seed != 0 ? c->o->seed : 1;
    err = sess_new(&so, &s);
    if (err == MC_ERR_INVALID) {
        check(c, "ACME-SERVER-DIR-002", false, r.x, "certcli's session refuses it: %s",
              "not a directory of valid URLs");
        ok = false;
    }
    if (ok)
        pass(c, "ACME-SERVER-DIR-002");
    c->new_nonce = jstr(c->dir, "newNonce");
    c->new_account = jstr(c->dir, "newAccount");
    c->new_order = jstr(c->dir, "newOrder");
    c->revoke_cert = jstr(c->dir, "revokeCert");

    meta = cJSON_GetObjectItemCaseSensitive(c->dir, "meta");
    if (meta != NULL) {
        const cJSON *v;
        bool mok = cJSON_IsObject(meta);
        if (mok) {
            v = cJSON_GetObjectItemCaseSensitive(meta, "termsOfService");
            mok = mok && (v == NULL || cJSON_IsString(v));
            v = cJSON_GetObjectItemCaseSensitive(meta, "website");
            mok = mok && (v == NULL || cJSON_IsString(v));
            v = cJSON_GetObjectItemCaseSensitive(meta, "externalAccountRequired");
            mok = mok && (v == NULL || cJSON_IsBool(v));
            v = cJSON_GetObjectItemCaseSensitive(meta, "caaIdentities");
            if (v != NULL) {
                const cJSON *e;
                mok = mok && cJSON_IsArray(v);
                cJSON_ArrayForEach(e, v) mok = mok && cJSON_IsString(e);
            }
        }
        check(c, "ACME-SERVER-DIR-003", mok, r.x, "meta or one of its fields has the wrong type");
    } else {
        pass(c, "ACME-SERVER-DIR-003");
    }
    err = c->new_nonce != NULL && c->new_account != NULL && c->new_order != NULL ? MC_OK
                                                                                 : MC_ERR_INVALID;
out:
    sess_free(s);
    resp_free(&r);
    return err;
}

static enum mc_err step_nonce(struct sc *c)
{
    struct sc_resp r = {.x = -1};
    enum mc_err err;
    char *v;

    err = sc_http(c, "HEAD", c->new_nonce, NULL, NULL, SCX_NEWNONCE, &r);
    if (err != MC_OK)
        goto out;
    v = resp_header(&r, "Replay-Nonce");
    check(c, "ACME-SERVER-NONCE-001", r.status == 200 && v != NULL, r.x,
          "HEAD newNonce: HTTP %ld, %s Replay-Nonce", r.status, v != NULL ? "with" : "no");
    free(v);
    v = resp_header(&r, "Cache-Control");
    check(c, "ACME-SERVER-NONCE-003", v != NULL && strstr(v, "no-store") != NULL, r.x,
          "HEAD newNonce: Cache-Control \"%.100s\"", v != NULL ? v : "(none)");
    free(v);

    err = sc_http(c, "GET", c->new_nonce, NULL, NULL, SCX_NEWNONCE, &r);
    if (err != MC_OK)
        goto out;
    v = resp_header(&r, "Replay-Nonce");
    check(c, "ACME-SERVER-NONCE-002", r.status == 204 && v != NULL, r.x,
          "GET newNonce: HTTP %ld, %s Replay-Nonce", r.status, v != NULL ? "with" : "no");
    free(v);
    v = resp_header(&r, "Cache-Control");
    check(c, "ACME-SERVER-NONCE-003", v != NULL && strstr(v, "no-store") != NULL, r.x,
          "GET newNonce: Cache-Control \"%.100s\"", v != NULL ? v : "(none)");
    free(v);
out:
    resp_free(&r);
    return err;
}

static const long ST_400[] = {400, 0};
static const char *const T_BADNONCE[] = {"badNonce", NULL};
static const char *const T_BADNONCE_MAL[] = {"badNonce", "malformed", NULL};
static const char *const T_BADSIG[] = {"badSignatureAlgorithm", NULL};
static const char *const T_MALFORMED[] = {"malformed", NULL};
static const char *const T_NOACCT[] = {"accountDoesNotExist", NULL};
static const char *const T_UNAUTH[] = {"unauthorized", NULL};
static const char *const T_UNAUTH_MAL[] = {"unauthorized", "malformed", NULL};

/* The malformed newAccount requests, sent before the account exists (none of them may
 * create it: the well-formed newAccount after them must still answer 201). */
static enum mc_err step_bad_new_account(struct sc *c)
{
    struct sc_resp r = {.x = -1};
    struct sign s = {.use_jwk = true};
    char *pl = acct_payload(false), *url_off = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    if (pl == NULL)
        goto out;

    s.nonce_mode = NONCE_OMIT;
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-NONCE-008", &r, ST_400, T_BADNONCE_MAL, "no nonce");

    /* A well-formed base64url nonce the server never issued. */
    s.nonce_mode = NONCE_GIVEN;
    s.nonce = "bm90LWEtbm9uY2UtZnJvbS10aGlzLXNlcnZlcg";
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-NONCE-009", &r, ST_400, T_BADNONCE, "forged nonce");
    s.nonce_mode = NONCE_FRESH;
    s.nonce = NULL;

    /* The right JWS with the wrong Content-Type. */
    s.ctype = "application/json";
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    {
        static const long st[] = {415, 400, 0};
        char why[300];
        bool ok = is_refusal(&r, st, NULL, why, sizeof(why)) &&
                  (r.status == 415 || strcmp(problem_type(&r), URN "malformed") == 0);
        check(c, "ACME-SERVER-JWS-001", ok, r.x, "Content-Type application/json: %s", why);
    }
    s.ctype = NULL;

    /* url in the protected header names another resource. */
    if (asprintf(&url_off, "%s", c->new_order) < 0) {
        url_off = NULL;
        err = MC_ERR_NOMEM;
        goto out;
    }
    s.url = url_off;
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-002", &r, NULL, T_UNAUTH_MAL,
                  "url header naming newOrder on a newAccount request");
    s.url = NULL;

    s.alg = ALG_NONE;
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-003", &r, ST_400, T_BADSIG, "alg none");
    s.alg = ALG_HS256;
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-004", &r, ST_400, T_BADSIG, "alg HS256");
    s.alg = ALG_KEY;

    /* jwk and kid together (the kid is a made-up account URL). */
    s.both = true;
    s.kid = c->new_account;
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-006", &r, ST_400, T_MALFORMED, "jwk and kid together");
    s.both = false;
    s.kid = NULL;

    free(pl);
    pl = acct_payload(true);
    if (pl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-ACCT-003", &r, NULL, T_NOACCT,
                  "onlyReturnExisting for a new key");
out:
    free(url_off);
    free(pl);
    resp_free(&r);
    return err;
}

/* newAccount, the replayed nonce, newAccount again for the same key. */
static enum mc_err step_account(struct sc *c, bool *have_account)
{
    struct sc_resp r = {.x = -1};
    char *pl = acct_payload(false), *used = NULL, *loc = NULL;
    struct sign s = {.use_jwk = true};
    enum mc_err err = MC_ERR_NOMEM;
    const char *st;

    *have_account = false;
    if (pl == NULL)
        goto out;
    err = sc_post_ex(c, c->new_account, pl, &s, &r, &used);
    if (err != MC_OK)
        goto out;
    loc = resp_header(&r, "Location");
    st = jstr(r.json, "status");
    if (!check(c, "ACME-SERVER-ACCT-001",
               r.status == 201 && is_http_url(loc) && st != NULL && strcmp(st, "valid") == 0, r.x,
               "HTTP %ld, Location %s, status \"%s\"%s", r.status,
               loc != NULL ? "present" : "missing", st != NULL ? st : "(none)",
               r.status == 200 ? " (200: an earlier malformed request created the account?)"
                               : "") ||
        !is_http_url(loc))
        goto out;
    c->kid = loc;
    loc = NULL;
    *have_account = true;

    /* The nonce of that request, once more. */
    if (used != NULL) {
        s.nonce_mode = NONCE_GIVEN;
        s.nonce = used;
        err = sc_post(c, c->new_account, pl, &s, &r);
        if (err != MC_OK)
            goto out;
        check_refusal(c, "ACME-SERVER-NONCE-010", &r, ST_400, T_BADNONCE, "replayed nonce");
        s.nonce_mode = NONCE_FRESH;
        s.nonce = NULL;
    }

    err = sc_post(c, c->new_account, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    loc = resp_header(&r, "Location");
    check(c, "ACME-SERVER-ACCT-002", r.status == 200 && loc != NULL && strcmp(loc, c->kid) == 0,
          r.x, "HTTP %ld, Location \"%.200s\" (the account is \"%.200s\")", r.status,
          loc != NULL ? loc : "(none)", c->kid);

    /* POST-as-GET on the account. */
    err = sc_post(c, c->kid, NULL, NULL, &r);
    if (err != MC_OK)
        goto out;
    check(c, "ACME-SERVER-POSTGET-003", r.status == 200 && jstr(r.json, "status") != NULL, r.x,
          "POST-as-GET account: HTTP %ld", r.status);
out:
    free(loc);
    free(used);
    free(pl);
    resp_free(&r);
    return err;
}

/* Requests the account's key may not make: an unknown kid, a wrong signature, a jwk
 * where a kid belongs. */
static enum mc_err step_bad_kid(struct sc *c)
{
    struct sc_resp r = {.x = -1};
    struct sign s = {0};
    EVP_PKEY *other = NULL;
    char *pl = order_payload(c->ident), *kid = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    if (pl == NULL)
        goto out;

    /* An account URL like ours with a last segment no account has. */
    if (asprintf(&kid, "%s0no-such-account", c->kid) < 0) {
        kid = NULL;
        goto out;
    }
    s.kid = kid;
    err = sc_post(c, c->new_order, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-008", &r, NULL, T_NOACCT, "unknown kid");
    s.kid = NULL;

    err = key_generate(KEY_EC_P256, &other);
    if (err != MC_OK)
        goto out;
    s.key = other; /* our kid, another key's signature */
    err = sc_post(c, c->new_order, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-005", &r, NULL, NULL, "signature by another key");
    s.key = NULL;

    s.use_jwk = true;
    err = sc_post(c, c->new_order, pl, &s, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-JWS-007", &r, NULL, NULL, "newOrder signed with a jwk");
out:
    EVP_PKEY_free(other);
    free(kid);
    free(pl);
    resp_free(&r);
    return err;
}

/* The order, the authorization and its http-01 challenge, the refusals around them. On
 * MC_OK with *order_url set, the rest can go on. */
static enum mc_err step_order(struct sc *c, char **order_url, char **finalize, char **authz,
                              char **chall, char **token)
{
    struct sc_resp r = {.x = -1};
    char *pl = order_payload(c->ident), *loc = NULL, *csr = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    const cJSON *ids = NULL, *az = NULL, *chs = NULL, *ch;
    const char *st, *fin;

    *order_url = *finalize = *authz = *chall = *token = NULL;
    if (pl == NULL)
        goto out;
    err = sc_post(c, c->new_order, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    loc = resp_header(&r, "Location");
    if (!check(c, "ACME-SERVER-ORDER-001", r.status == 201 && is_http_url(loc), r.x,
               "HTTP %ld, Location %s", r.status, loc != NULL ? "not a URL" : "missing"))
        goto out;
    st = jstr(r.json, "status");
    fin = jstr(r.json, "finalize");
    ids = cJSON_GetObjectItemCaseSensitive(r.json, "identifiers");
    az = cJSON_GetObjectItemCaseSensitive(r.json, "authorizations");
    {
        const cJSON *id0 = cJSON_GetArrayItem(ids, 0);
        bool ids_ok = cJSON_IsArray(ids) && cJSON_GetArraySize(ids) == 1 &&
                      jstr(id0, "type") != NULL && strcmp(jstr(id0, "type"), "dns") == 0 &&
                      jstr(id0, "value") != NULL && strcasecmp(jstr(id0, "value"), c->ident) == 0;
        bool az_ok = cJSON_IsArray(az) && cJSON_GetArraySize(az) >= 1;
        const cJSON *e;
        cJSON_ArrayForEach(e, az) az_ok = az_ok && cJSON_IsString(e) && is_http_url(e->valuestring);
        check(c, "ACME-SERVER-ORDER-002",
              st != NULL && strcmp(st, "pending") == 0 && ids_ok && az_ok && is_http_url(fin), r.x,
              "status \"%s\", identifiers %s, authorizations %s, finalize %s",
              st != NULL ? st : "(none)", ids_ok ? "ok" : "wrong", az_ok ? "ok" : "wrong",
              is_http_url(fin) ? "ok" : "missing or not a URL");
        if (!az_ok || !is_http_url(fin))
            goto out;
    }
    *order_url = loc;
    loc = NULL;
    *finalize = strdup(fin);
    *authz = strdup(cJSON_GetArrayItem(az, 0)->valuestring);
    if (*finalize == NULL || *authz == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }

    /* Plain GET where POST-as-GET belongs. */
    err = sc_http(c, "GET", *order_url, NULL, NULL, 0, &r);
    if (err != MC_OK)
        goto out;
    {
        static const long st405[] = {405, 400, 0};
        char why[300];
        bool ok = is_refusal(&r, st405, NULL, why, sizeof(why)) &&
                  (r.status == 405 || strcmp(problem_type(&r), URN "malformed") == 0);
        check(c, "ACME-SERVER-POSTGET-001", ok, r.x, "GET on the order: %s", why);
    }
    /* POST-as-GET with a payload the order does not take. */
    err = sc_post(c, *order_url, "{}", NULL, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-POSTGET-002", &r, ST_400, T_MALFORMED, "payload {} on an order");
    err = sc_post(c, *order_url, NULL, NULL, &r);
    if (err != MC_OK)
        goto out;
    st = jstr(r.json, "status");
    check(c, "ACME-SERVER-POSTGET-003", r.status == 200 && st != NULL, r.x,
          "POST-as-GET order: HTTP %ld", r.status);

    /* The authorization. */
    err = sc_post(c, *authz, NULL, NULL, &r);
    if (err != MC_OK)
        goto out;
    check(c, "ACME-SERVER-POSTGET-003", r.status == 200 && cJSON_IsObject(r.json), r.x,
          "POST-as-GET authorization: HTTP %ld", r.status);
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r.json, "identifier");
        const char *ast = jstr(r.json, "status");
        bool ok = jstr(id, "value") != NULL && strcasecmp(jstr(id, "value"), c->ident) == 0 &&
                  ast != NULL && strcmp(ast, "pending") == 0;
        bool chs_ok;
        chs = cJSON_GetObjectItemCaseSensitive(r.json, "challenges");
        chs_ok = cJSON_IsArray(chs) && cJSON_GetArraySize(chs) > 0;
        cJSON_ArrayForEach(ch, chs) chs_ok = chs_ok && jstr(ch, "type") != NULL &&
                                             is_http_url(jstr(ch, "url")) &&
                                             jstr(ch, "status") != NULL;
        check(c, "ACME-SERVER-AUTHZ-001", ok && chs_ok, r.x,
              "identifier %s, status \"%s\", challenges %s", ok ? "ok" : "wrong or missing",
              ast != NULL ? ast : "(none)", chs_ok ? "ok" : "missing or incomplete");
    }
    {
        const char *tok = NULL, *curl = NULL;
        cJSON_ArrayForEach(ch, chs)
        {
            const char *t = jstr(ch, "type");
            if (t != NULL && strcmp(t, "http-01") == 0 && curl == NULL) {
                tok = jstr(ch, "token");
                curl = jstr(ch, "url");
            }
        }
        if (check(c, "ACME-SERVER-AUTHZ-002",
                  curl != NULL && tok != NULL && is_b64url(tok) && strlen(tok) >= SC_MIN_TOKEN &&
                      wire_check_token(tok) == MC_OK,
                  r.x, "http-01 %s, token \"%.80s\"", curl != NULL ? "offered" : "not offered",
                  tok != NULL ? tok : "(none)") &&
            is_http_url(curl)) {
            *chall = strdup(curl);
            *token = strdup(tok);
            if (*chall == NULL || *token == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
        }
    }

    /* finalize now: the order is not ready. */
    {
        EVP_PKEY *ck = NULL;
        struct ident_list il = {0};
        X509_REQ *req = NULL;
        uint8_t *der = NULL;
        size_t dn = 0;
        err = key_generate(KEY_EC_P256, &ck);
        if (err == MC_OK)
            err = ident_list_add(&il, IDENT_DNS, c->ident);
        if (err == MC_OK)
            err = csr_build(ck, c->ident, &il, false, &req);
        if (err == MC_OK)
            err = csr_to_der(req, &der, &dn);
        if (err == MC_OK)
            err = b64url_encode(der, dn, &csr);
        free(der);
        X509_REQ_free(req);
        ident_list_free(&il);
        EVP_PKEY_free(ck);
        if (err != MC_OK)
            goto out;
    }
    free(pl);
    pl = one_member("csr", csr);
    if (pl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = sc_post(c, *finalize, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    {
        static const long st403[] = {403, 0};
        static const char *const t[] = {"orderNotReady", NULL};
        check_refusal(c, "ACME-SERVER-ORDER-003", &r, st403, t, "finalize of a pending order");
    }
out:
    free(csr);
    free(loc);
    free(pl);
    resp_free(&r);
    return err;
}

/* http-01 through the solver, then finalize, the certificate, and revocation. */
static enum mc_err step_issue(struct sc *c, struct solver *sv, const char *order_url,
                              const char *finalize, const char *authz, const char *chall,
                              const char *token)
{
    static const char *const pend[] = {"pending", "processing", NULL};
    static const char *const to_ready[] = {"pending", NULL};
    static const char *const to_valid[] = {"processing", "ready", NULL};
    struct sc_resp r = {.x = -1};
    struct chall_ctx cc;
    struct ident id = {IDENT_DNS, c->ident};
    char *ka = NULL, *pl = NULL, *csr = NULL, *cert_url = NULL, *der_b64 = NULL;
    EVP_PKEY *ck = NULL;
    STACK_OF(X509) *chain = NULL;
    enum mc_err err;
    bool presented = false;
    const char *st;

    /* The key authorization (RFC 8555 section 8.1): token "." thumbprint. */
    {
        char *tp = NULL;
        err = jwk_thumbprint(c->key, &tp);
        if (err != MC_OK)
            goto out;
        if (asprintf(&ka, "%s.%s", token, tp) < 0)
            ka = NULL;
        free(tp);
        if (ka == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    memset(&cc, 0, sizeof(cc));
    cc.type = CH_HTTP01;
    cc.ident = &id;
    cc.token = token;
    cc.key_auth = ka;
    cc.account_url = c->kid;
    err = solver_present(sv, &cc);
    if (err != MC_OK)
        goto out;
    presented = true;

    err = sc_post(c, chall, "{}", NULL, &r);
    if (err != MC_OK)
        goto out;
    st = jstr(r.json, "status");
    if (!check(c, "ACME-SERVER-STATE-001",
               r.status == 200 && st != NULL &&
                   (strcmp(st, "pending") == 0 || strcmp(st, "processing") == 0 ||
                    strcmp(st, "valid") == 0),
               r.x, "HTTP %ld, challenge status \"%s\"", r.status, st != NULL ? st : "(none)"))
        goto out;

    err = poll(c, authz, pend, &r);
    if (err == MC_ERR_TIMEOUT) {
        check(c, "ACME-SERVER-STATE-002", false, r.x, "authorization still \"%s\" after %lds",
              jstr(r.json, "status") != NULL ? jstr(r.json, "status") : "?",
              c->o->poll_timeout_s > 0 ? c->o->poll_timeout_s : 60);
        err = MC_OK;
        goto out;
    }
    if (err != MC_OK)
        goto out;
    {
        const cJSON *ch, *chs = cJSON_GetObjectItemCaseSensitive(r.json, "challenges");
        const char *chst = NULL;
        st = jstr(r.json, "status");
        cJSON_ArrayForEach(ch, chs) if (jstr(ch, "url") != NULL && strcmp(jstr(ch, "url"), chall) ==
                                                                       0) chst = jstr(ch, "status");
        if (!check(c, "ACME-SERVER-STATE-002",
                   st != NULL && strcmp(st, "valid") == 0 && chst != NULL &&
                       strcmp(chst, "valid") == 0,
                   r.x, "authorization \"%s\", challenge \"%s\"", st != NULL ? st : "(none)",
                   chst != NULL ? chst : "(none)"))
            goto out;
    }

    err = poll(c, order_url, to_ready, &r);
    if (err != MC_OK && err != MC_ERR_TIMEOUT)
        goto out;
    st = jstr(r.json, "status");
    err = MC_OK;
    if (!check(c, "ACME-SERVER-STATE-003", st != NULL && strcmp(st, "ready") == 0, r.x,
               "order \"%s\" after its authorization became valid", st != NULL ? st : "(none)"))
        goto out;

    {
        struct ident_list il = {0};
        X509_REQ *req = NULL;
        uint8_t *der = NULL;
        size_t dn = 0;
        err = key_generate(KEY_EC_P256, &ck);
        if (err == MC_OK)
            err = ident_list_add(&il, IDENT_DNS, c->ident);
        if (err == MC_OK)
            err = csr_build(ck, c->ident, &il, false, &req);
        if (err == MC_OK)
            err = csr_to_der(req, &der, &dn);
        if (err == MC_OK)
            err = b64url_encode(der, dn, &csr);
        free(der);
        X509_REQ_free(req);
        ident_list_free(&il);
        if (err != MC_OK)
            goto out;
    }
    pl = one_member("csr", csr);
    if (pl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = sc_post(c, finalize, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    st = jstr(r.json, "status");
    if (!check(c, "ACME-SERVER-STATE-004",
               r.status == 200 && st != NULL &&
                   (strcmp(st, "processing") == 0 || strcmp(st, "valid") == 0),
               r.x, "HTTP %ld, order status \"%s\"", r.status, st != NULL ? st : "(none)"))
        goto out;

    err = poll(c, order_url, to_valid, &r);
    if (err != MC_OK && err != MC_ERR_TIMEOUT)
        goto out;
    err = MC_OK;
    st = jstr(r.json, "status");
    if (!check(c, "ACME-SERVER-STATE-005",
               st != NULL && strcmp(st, "valid") == 0 && is_http_url(jstr(r.json, "certificate")),
               r.x, "order \"%s\", certificate %s", st != NULL ? st : "(none)",
               jstr(r.json, "certificate") != NULL ? "present" : "missing"))
        goto out;
    cert_url = strdup(jstr(r.json, "certificate"));
    if (cert_url == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }

    err = sc_post(c, cert_url, NULL, NULL, &r);
    if (err != MC_OK)
        goto out;
    {
        char mt[128];
        media_type(&r, mt, sizeof(mt));
        check(c, "ACME-SERVER-CERT-001",
              r.status == 200 && strcmp(mt, "application/pem-certificate-chain") == 0, r.x,
              "HTTP %ld, Content-Type \"%s\"", r.status, mt);
    }
    {
        struct ident_list sans = {0};
        bool named = false;
        X509 *leaf = NULL;
        if (r.status == 200 && pem_read_certs(r.body, r.len, &chain) == MC_OK &&
            sk_X509_num(chain) > 0) {
            leaf = sk_X509_value(chain, 0);
            if (x509_sans(leaf, &sans) == MC_OK)
                for (size_t i = 0; i < sans.n; i++)
                    named = named || strcasecmp(sans.v[i].value, c->ident) == 0;
            ident_list_free(&sans);
        }
        if (!check(c, "ACME-SERVER-CERT-002", named, r.x, "%s",
                   leaf == NULL ? "no PEM certificate in the download"
                                : "the leaf does not name the identifier"))
            goto out;
        {
            uint8_t *der = NULL;
            int dl = i2d_X509(leaf, &der);
            if (dl <= 0) {
                err = MC_ERR_CRYPTO;
                goto out;
            }
            err = b64url_encode(der, (size_t)dl, &der_b64);
            OPENSSL_free(der);
            if (err != MC_OK)
                goto out;
        }
    }

    if (c->revoke_cert == NULL || !is_http_url(c->revoke_cert))
        goto out;
    free(pl);
    pl = one_member("certificate", der_b64);
    if (pl == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = sc_post(c, c->revoke_cert, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    if (!check(c, "ACME-SERVER-REV-001", r.status == 200, r.x, "HTTP %ld (problem \"%.100s\")",
               r.status, problem_type(&r)))
        goto out;
    err = sc_post(c, c->revoke_cert, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    {
        static const char *const t[] = {"alreadyRevoked", NULL};
        check_refusal(c, "ACME-SERVER-REV-002", &r, NULL, t, "second revocation");
    }
out:
    if (presented && solver_cleanup(sv, &cc) != MC_OK)
        log_msg(LOGL_WARN, "certcli.conformance", "solver_cleanup=failed");
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(ck);
    free(der_b64);
    free(cert_url);
    free(csr);
    free(pl);
    free(ka);
    resp_free(&r);
    return err;
}

static enum mc_err step_deactivate(struct sc *c)
{
    struct sc_resp r = {.x = -1};
    char *pl = one_member("status", "deactivated"), *op = order_payload(c->ident);
    enum mc_err err = MC_ERR_NOMEM;
    const char *st;
    if (pl == NULL || op == NULL)
        goto out;
    err = sc_post(c, c->kid, pl, NULL, &r);
    if (err != MC_OK)
        goto out;
    st = jstr(r.json, "status");
    if (!check(c, "ACME-SERVER-ACCT-004",
               r.status == 200 && st != NULL && strcmp(st, "deactivated") == 0, r.x,
               "HTTP %ld, status \"%s\"", r.status, st != NULL ? st : "(none)"))
        goto out;
    err = sc_post(c, c->new_order, op, NULL, &r);
    if (err != MC_OK)
        goto out;
    check_refusal(c, "ACME-SERVER-ACCT-005", &r, NULL, T_UNAUTH,
                  "newOrder by the deactivated account");
out:
    free(op);
    free(pl);
    resp_free(&r);
    return err;
}

static enum mc_err curl_open(struct sc *c)
{
    const struct sc_opts *o = c->o;
    CURLcode rc = CURLE_OK;
    c->curl = curl_easy_init();
    if (c->curl == NULL)
        return MC_ERR_NOMEM;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(c->curl, opt, val);                                              \
    } while (0)
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_ERRORBUFFER, c->curl_err);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_DEBUGFUNCTION, on_debug);
    SET(CURLOPT_VERBOSE, 1L); /* feeds on_debug the request headers; prints nothing */
    SET(CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 30L);
    SET(CURLOPT_CONNECTTIMEOUT, 10L);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#undef SET
    /* TLS trust as sessions have it (cx_trust_file). */
    if (rc == CURLE_OK)
        rc = cx_set_tls(c->curl, o->ca_bundle, o->insecure);
    return rc == CURLE_OK ? MC_OK : MC_ERR_IO;
}

enum mc_err sc_run(const struct sc_opts *o, struct report **out)
{
    struct sc c;
    struct solver *own = NULL, *sv;
    char *order_url = NULL, *finalize = NULL, *authz = NULL, *chall = NULL, *token = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    bool have_account = false;
    const struct report_req *cat;
    size_t n;
    int64_t started = clock_now_ms(NULL);

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    memset(&c, 0, sizeof(c));
    if (o == NULL || o->directory_url == NULL ||
        (!o->skip_issuance && o->solver == NULL && (o->http_port < 0 || o->http_port > 65535)))
        return MC_ERR_INVALID;
    c.o = o;
    cat = sc_catalog(&n);
    c.rep = report_new(SC_SUITE, o->directory_url, o->seed, cat, n);
    if (c.rep == NULL)
        return MC_ERR_NOMEM;
    c.dir_url = strdup(o->directory_url);
    if (asprintf(&c.ua_header, "User-Agent: %s",
                 o->user_agent != NULL ? o->user_agent : "certcli-conformance/" MOCKCA_VERSION) < 0)
        c.ua_header = NULL;
    if (c.dir_url == NULL || c.ua_header == NULL)
        goto out;
    if (o->identifier != NULL) {
        snprintf(c.ident, sizeof(c.ident), "%s", o->identifier);
    } else {
        uint8_t rnd[6];
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            err = MC_ERR_CRYPTO;
            goto out;
        }
        snprintf(c.ident, sizeof(c.ident), "conformance-%02x%02x%02x%02x%02x%02x.example.com",
                 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
    }
    err = key_generate(KEY_EC_P256, &c.key);
    if (err != MC_OK)
        goto out;
    err = curl_open(&c);
    if (err != MC_OK)
        goto out;

    sv = o->solver;
    if (!o->skip_issuance && sv == NULL) {
        struct solver_config scfg;
        memset(&scfg, 0, sizeof(scfg));
        scfg.kind = SOLVER_HTTP_STANDALONE;
        scfg.address = o->http_address;
        scfg.port = (uint16_t)o->http_port;
        err = solver_new(&scfg, &own);
        if (err != MC_OK)
            goto out;
        sv = own;
    }

    err = step_directory(&c);
    if (err == MC_ERR_INVALID) {
        err = MC_OK; /* graded: nothing more to run against */
        goto out;
    }
    if (err == MC_OK)
        err = step_nonce(&c);
    if (err == MC_OK)
        err = step_bad_new_account(&c);
    if (err == MC_OK)
        err = step_account(&c, &have_account);
    if (err != MC_OK || !have_account)
        goto out;
    err = step_bad_kid(&c);
    if (err == MC_OK)
        err = step_order(&c, &order_url, &finalize, &authz, &chall, &token);
    if (err == MC_OK && !o->skip_issuance && chall != NULL && token != NULL)
        err = step_issue(&c, sv, order_url, finalize, authz, chall, token);
    if (err == MC_OK)
        err = step_deactivate(&c);
out:
    report_set_times(c.rep, started, clock_now_ms(NULL));
    *out = c.rep;
    solver_free(own);
    free(order_url);
    free(finalize);
    free(authz);
    free(chall);
    free(token);
    for (size_t i = 0; i < c.nseen; i++)
        free(c.seen[i]);
    free(c.nonce);
    free(c.kid);
    EVP_PKEY_free(c.key);
    cJSON_Delete(c.dir);
    if (c.curl != NULL)
        curl_easy_cleanup(c.curl);
    free(c.ua_header);
    free(c.dir_url);
    return err;
}

bool sc_passed(const struct report *r, bool strict_should)
{
    struct report_totals t;
    if (r == NULL)
        return false;
    report_totals(r, &t);
    return t.must_fail == 0 && (!strict_should || t.should_fail == 0);
}
