/* http.c: the HTTP(S) server layer over libmicrohttpd (see http.h).
 *
 * One MHD daemon per server: an internal polling thread pool over epoll, TLS through MHD's
 * GnuTLS from PEM strings. The access handler accumulates the body under a hard cap, then
 * runs before-hook, router, handler, after-hook, and queues one response. Fault-injection
 * fields of struct http_response (drop, delay_ms, truncate) are honoured here so that every
 * server built on this layer gets them for free. */
#include "common/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/log.h"

#define HTTP_CONNECTION_LIMIT 512    /* a flood of idle sockets cannot exhaust fds */
#define HTTP_CONNECTION_TIMEOUT_S 30 /* an idle or slow client is cut off after this */
#define HTTP_MAX_DELAY_MS 60000      /* fault delays are bounded so a rule cannot wedge */
#define HTTP_MAX_METHOD_LEN 32
#define HTTP_MAX_ROUTES 1024
#define HTTP_MAX_PATTERN_SEGMENTS 64
/* Past this many discarded bytes of an over-cap chunked body we stop reading and close:
 * the 413 is owed only to a client that eventually stops sending. */
#define HTTP_MAX_DISCARD (16u * 1024 * 1024)
#define HTTP_ALLOW_MAX 512

enum seg_kind { SEG_LITERAL, SEG_PARAM, SEG_REST };

struct seg {
    enum seg_kind kind;
    const char *text; /* literal text inside the route's pattern (not NUL-terminated) */
    size_t len;
};

struct route {
    const struct http_route *def;
    struct seg *segs;
    size_t nsegs;
};

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg; /* copy; routes point into the caller's table */
    struct route *routes;
    size_t nroutes;
    size_t max_body;
    bool tls;
    char *cert_pem;
    char *key_pem;
    uint16_t port;
};

/* Per-request state kept in MHD's con_cls between calls of the access handler. */
struct req_state {
    bool too_big;  /* body over the cap: answer 413 once the upload ends */
    bool answered; /* a response was already queued on the first call */
    uint8_t *body;
    size_t len;
    size_t cap;
    size_t discarded;
};

/* The name of a Content-Type header set by a helper rather than by http_response_header.
 * Identity of this pointer (not its text) marks the entry as a default that a caller's own
 * Content-Type replaces, whatever order the two calls come in. It is never freed. */
static char s_helper_ctype[] = "Content-Type";

static const char s_empty_body[] = "";

/* ---------- responses ---------- */

static bool http_has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static void http_header_remove(struct http_response *resp, size_t i)
{
    if (resp->headers[i].name != s_helper_ctype)
        free(resp->headers[i].name);
    free(resp->headers[i].value);
    memmove(&resp->headers[i], &resp->headers[i + 1],
            (resp->nheaders - i - 1) * sizeof(resp->headers[0]));
    resp->nheaders--;
    memset(&resp->headers[resp->nheaders], 0, sizeof(resp->headers[0]));
}

enum mc_err http_response_header(struct http_response *resp, const char *name, const char *value)
{
    char *n = NULL, *v = NULL;
    enum mc_err err = MC_OK;

    if (resp == NULL || name == NULL || value == NULL || name[0] == '\0' || http_has_crlf(name) ||
        http_has_crlf(value) || strchr(name, ':') != NULL)
        return MC_ERR_INVALID;
    /* A caller's Content-Type replaces any earlier one: a response has one type. */
    if (strcasecmp(name, "Content-Type") == 0) {
        for (size_t i = resp->nheaders; i > 0; i--) {
            if (strcasecmp(resp->headers[i - 1].name, "Content-Type") == 0)
                http_header_remove(resp, i - 1);
        }
    }
    if (resp->nheaders >= HTTP_MAX_RESP_HEADERS)
        return MC_ERR_LIMIT;
    n = strdup(name);
    v = strdup(value);
    if (n == NULL || v == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    resp->headers[resp->nheaders].name = n;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    n = NULL;
    v = NULL;
out:
    free(n);
    free(v);
    return err;
}

/* Sets the helper's default Content-Type unless the caller set one of their own. */
static enum mc_err http_set_default_ctype(struct http_response *resp, const char *ctype)
{
    char *v = NULL;

    for (size_t i = 0; i < resp->nheaders; i++) {
        if (resp->headers[i].name == s_helper_ctype) {
            http_header_remove(resp, i);
            break;
        }
    }
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (strcasecmp(resp->headers[i].name, "Content-Type") == 0)
            return MC_OK;
    }
    if (resp->nheaders >= HTTP_MAX_RESP_HEADERS)
        return MC_ERR_LIMIT;
    v = strdup(ctype);
    if (v == NULL)
        return MC_ERR_NOMEM;
    resp->headers[resp->nheaders].name = s_helper_ctype;
    resp->headers[resp->nheaders].value = v;
    resp->nheaders++;
    return MC_OK;
}

/* Takes ownership of body (len bytes plus a NUL) on success and on failure. */
static enum mc_err http_set_body(struct http_response *resp, int status, const char *ctype,
                                 char *body, size_t len)
{
    enum mc_err err = MC_OK;

    if (ctype != NULL) {
        if (http_has_crlf(ctype)) {
            free(body);
            return MC_ERR_INVALID;
        }
        err = http_set_default_ctype(resp, ctype);
        if (err != MC_OK) {
            free(body);
            return err;
        }
    }
    free(resp->body);
    resp->body = body;
    resp->body_len = len;
    resp->status = status;
    return MC_OK;
}

enum mc_err http_response_body(struct http_response *resp, int status, const char *content_type,
                               const void *data, size_t n)
{
    char *copy = NULL;

    if (resp == NULL || (data == NULL && n != 0) || n == SIZE_MAX)
        return MC_ERR_INVALID;
    copy = malloc(n + 1);
    if (copy == NULL)
        return MC_ERR_NOMEM;
    if (n > 0)
        memcpy(copy, data, n);
    copy[n] = '\0';
    return http_set_body(resp, status, content_type, copy, n);
}

enum mc_err http_response_json(struct http_response *resp, int status, const cJSON *j)
{
    char *text = NULL;

    if (resp == NULL || j == NULL)
        return MC_ERR_INVALID;
    text = cJSON_PrintUnformatted(j);
    if (text == NULL)
        return MC_ERR_NOMEM;
    return http_set_body(resp, status, "application/json", text, strlen(text));
}

enum mc_err http_response_problem(struct http_response *resp, int status, const char *type,
                                  const char *detail, const cJSON *subproblems)
{
    cJSON *doc = NULL, *sub = NULL;
    char *text = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    if (resp == NULL)
        return MC_ERR_INVALID;
    doc = cJSON_CreateObject();
    if (doc == NULL)
        goto out;
    /* RFC 7807 section 4.2: an absent type means "about:blank". */
    if (cJSON_AddStringToObject(doc, "type", type != NULL ? type : "about:blank") == NULL)
        goto out;
    if (detail != NULL && cJSON_AddStringToObject(doc, "detail", detail) == NULL)
        goto out;
    if (cJSON_AddNumberToObject(doc, "status", status) == NULL)
        goto out;
    if (subproblems != NULL) {
        sub = cJSON_Duplicate(subproblems, 1);
        if (sub == NULL)
            goto out;
        if (!cJSON_AddItemToObject(doc, "subproblems", sub))
            goto out;
        sub = NULL;
    }
    text = cJSON_PrintUnformatted(doc);
    if (text == NULL)
        goto out;
    err = http_set_body(resp, status, "application/problem+json", text, strlen(text));
out:
    cJSON_Delete(sub);
    cJSON_Delete(doc);
    return err;
}

enum mc_err http_response_error(struct http_response *resp, int status, const char *message)
{
    size_t n;
    char *text = NULL;

    if (resp == NULL)
        return MC_ERR_INVALID;
    if (message == NULL)
        message = "";
    n = strlen(message);
    text = malloc(n + 2);
    if (text == NULL)
        return MC_ERR_NOMEM;
    memcpy(text, message, n);
    text[n] = '\n';
    text[n + 1] = '\0';
    return http_set_body(resp, status, "text/plain; charset=utf-8", text, n + 1);
}

void http_response_reset(struct http_response *resp)
{
    if (resp == NULL)
        return;
    free(resp->body);
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (resp->headers[i].name != s_helper_ctype)
            free(resp->headers[i].name);
        free(resp->headers[i].value);
    }
    memset(resp, 0, sizeof(*resp));
}

/* ---------- requests ---------- */

const char *http_request_header(const struct http_request *req, const char *name)
{
    if (req == NULL || req->conn_ == NULL || name == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn_, MHD_HEADER_KIND, name);
}

const char *http_request_query(const struct http_request *req, const char *name)
{
    if (req == NULL || req->conn_ == NULL || name == NULL)
        return NULL;
    return MHD_lookup_connection_value(req->conn_, MHD_GET_ARGUMENT_KIND, name);
}

/* ---------- addresses ---------- */

static bool http_port_parse(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = strlen(s);

    /* Digits only: strtol would take signs, spaces and "0x". */
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* The one host name accepted is "localhost", returned as "127.0.0.1": a listener must bind
 * an address, and resolving other names would make a bind depend on the resolver. */
enum mc_err http_split_hostport(const char *s, char *host, size_t hostn, uint16_t *port)
{
    char buf[INET6_ADDRSTRLEN + 16];
    const char *h, *p;
    size_t hlen;
    struct in6_addr a6;
    struct in_addr a4;

    if (s == NULL || host == NULL || port == NULL || hostn == 0)
        return MC_ERR_INVALID;
    if (s[0] == '[') {
        const char *rb = strchr(s, ']');
        if (rb == NULL || rb[1] != ':')
            return MC_ERR_INVALID;
        h = s + 1;
        hlen = (size_t)(rb - h);
        p = rb + 2;
        if (hlen == 0 || hlen >= sizeof(buf))
            return MC_ERR_INVALID;
        memcpy(buf, h, hlen);
        buf[hlen] = '\0';
        if (inet_pton(AF_INET6, buf, &a6) != 1)
            return MC_ERR_INVALID;
    } else {
        const char *colon = strchr(s, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return MC_ERR_INVALID; /* no port, or a bare v6 literal that needs brackets */
        hlen = (size_t)(colon - s);
        p = colon + 1;
        if (hlen >= sizeof(buf))
            return MC_ERR_INVALID;
        memcpy(buf, s, hlen);
        buf[hlen] = '\0';
        if (strcasecmp(buf, "localhost") == 0)
            memcpy(buf, "127.0.0.1", sizeof("127.0.0.1"));
        else if (hlen > 0 && inet_pton(AF_INET, buf, &a4) != 1)
            return MC_ERR_INVALID;
    }
    if (!http_port_parse(p, port))
        return MC_ERR_INVALID;
    hlen = strlen(buf);
    if (hlen >= hostn)
        return MC_ERR_TOO_BIG;
    memcpy(host, buf, hlen + 1);
    return MC_OK;
}

union http_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

static enum mc_err http_bind_addr(const char *addr, uint16_t port, union http_sockaddr *out)
{
    memset(out, 0, sizeof(*out));
    if (addr == NULL || strcasecmp(addr, "localhost") == 0)
        addr = "127.0.0.1";
    if (inet_pton(AF_INET, addr, &out->v4.sin_addr) == 1) {
        out->v4.sin_family = AF_INET;
        out->v4.sin_port = htons(port);
        return MC_OK;
    }
    if (inet_pton(AF_INET6, addr, &out->v6.sin6_addr) == 1) {
        out->v6.sin6_family = AF_INET6;
        out->v6.sin6_port = htons(port);
        return MC_OK;
    }
    return MC_ERR_INVALID;
}

/* ---------- routing ---------- */

static bool http_method_valid(const char *m)
{
    size_t n;

    if (m == NULL)
        return false;
    n = strlen(m);
    if (n == 0 || n > HTTP_MAX_METHOD_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (m[i] < 'A' || m[i] > 'Z')
            return false;
    }
    return true;
}

/* Parses a pattern into segments. A literal may not hold '{', '}' or '*', so a typo such as
 * "/a{}" or "/x*" is refused at start rather than never matching. */
static enum mc_err http_route_parse(const struct http_route *def, struct route *r)
{
    const char *p = def->pattern;
    size_t nsegs = 0, ncaps = 0;
    struct seg *segs = NULL;

    if (!http_method_valid(def->method) || def->fn == NULL || p == NULL || p[0] != '/')
        return MC_ERR_INVALID;
    for (const char *q = p; *q != '\0'; q++) {
        if (*q == '/')
            nsegs++;
    }
    if (nsegs > HTTP_MAX_PATTERN_SEGMENTS)
        return MC_ERR_INVALID;
    segs = calloc(nsegs, sizeof(*segs));
    if (segs == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < nsegs; i++) {
        const char *start = p + 1;
        const char *end = strchr(start, '/');
        size_t len = end != NULL ? (size_t)(end - start) : strlen(start);

        if (len == 2 && memcmp(start, "{}", 2) == 0) {
            segs[i].kind = SEG_PARAM;
            ncaps++;
        } else if (len == 1 && start[0] == '*') {
            if (i + 1 != nsegs)
                goto bad; /* "*" only at the end */
            segs[i].kind = SEG_REST;
            ncaps++;
        } else {
            for (size_t k = 0; k < len; k++) {
                if (start[k] == '{' || start[k] == '}' || start[k] == '*' || start[k] == '?' ||
                    (unsigned char)start[k] <= ' ')
                    goto bad;
            }
            segs[i].kind = SEG_LITERAL;
            segs[i].text = start;
            segs[i].len = len;
        }
        p = start + len;
    }
    if (ncaps > HTTP_MAX_PARAMS)
        goto bad;
    r->def = def;
    r->segs = segs;
    r->nsegs = nsegs;
    return MC_OK;
bad:
    free(segs);
    return MC_ERR_INVALID;
}

/* Matches path against r. On a match with caps != NULL, writes each capture NUL-terminated
 * into caps (room for strlen(path) + HTTP_MAX_PARAMS bytes) and points params at them. */
static bool http_route_match(const struct route *r, const char *path, char *caps,
                             const char **params, size_t *nparams)
{
    const char *p = path;
    size_t np = 0;

    if (p[0] != '/')
        return false;
    for (size_t i = 0; i < r->nsegs; i++) {
        const struct seg *sg = &r->segs[i];
        const char *start, *end;
        size_t len;

        if (sg->kind == SEG_REST) {
            /* A pattern "/a" + "/" + "*" takes "/a", "/a/" and "/a/b/c"; the capture is
             * what follows "/a/" ("" for the first two). */
            const char *rest = *p == '/' ? p + 1 : p;
            if (caps != NULL) {
                len = strlen(rest);
                memcpy(caps, rest, len + 1);
                params[np++] = caps;
                caps += len + 1;
            }
            *nparams = np;
            return true;
        }
        if (*p != '/')
            return false;
        start = p + 1;
        end = strchr(start, '/');
        if (end == NULL)
            end = start + strlen(start);
        len = (size_t)(end - start);
        if (sg->kind == SEG_LITERAL) {
            if (len != sg->len || memcmp(start, sg->text, len) != 0)
                return false;
        } else {
            if (len == 0)
                return false; /* "{}" is one non-empty segment */
            if (caps != NULL) {
                memcpy(caps, start, len);
                caps[len] = '\0';
                params[np++] = caps;
                caps += len + 1;
            }
        }
        p = end;
    }
    if (*p != '\0')
        return false;
    *nparams = np;
    return true;
}

/* ---------- the access handler ---------- */

/* Writes the layer's own answer. Headers already set (by the before hook or the handler) are
 * kept; only the body is replaced. */
static void http_error_body(struct http_server *s, const struct http_request *req, int status,
                            const char *message, struct http_response *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
    resp->status = status;
    if (s->cfg.error != NULL) {
        s->cfg.error(s->cfg.ctx, req, status, message, resp);
        resp->status = status;
        return;
    }
    if (http_response_error(resp, status, message) != MC_OK)
        log_msg(LOGL_WARN, "http.error_body", "status=%d err=nomem", status);
}

static void http_sleep_ms(int64_t ms)
{
    struct timespec ts, rem;

    if (ms <= 0)
        return;
    if (ms > HTTP_MAX_DELAY_MS)
        ms = HTTP_MAX_DELAY_MS;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
        ts = rem;
}

struct trunc_body {
    char *body;
    size_t half;
};

/* Serves the first half of the body, then reports an error so MHD closes the connection
 * short of the announced Content-Length: the client sees a truncated transfer. */
static ssize_t http_trunc_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct trunc_body *t = cls;
    size_t n;

    if (pos >= t->half)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = t->half - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(buf, t->body + pos, n);
    return (ssize_t)n;
}

static void http_trunc_free(void *cls)
{
    struct trunc_body *t = cls;

    if (t == NULL)
        return;
    free(t->body);
    free(t);
}

/* Sends resp (consuming its body). Returns what the access handler should return. */
static enum MHD_Result http_send(struct MHD_Connection *conn, struct http_response *resp)
{
    struct MHD_Response *mr = NULL;
    struct trunc_body *t = NULL;
    enum MHD_Result ret;
    int status = resp->status;

    if (status < 100 || status > 599) {
        log_msg(LOGL_WARN, "http.bad_status", "status=%d", status);
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    if (resp->truncate) {
        t = calloc(1, sizeof(*t));
        if (t == NULL)
            return MHD_NO;
        t->body = resp->body;
        t->half = resp->body_len / 2;
        resp->body = NULL;
        mr = MHD_create_response_from_callback(resp->body_len, 4096, http_trunc_reader, t,
                                               http_trunc_free);
        if (mr == NULL) {
            http_trunc_free(t);
            return MHD_NO;
        }
    } else {
        mr = MHD_create_response_from_buffer(
            resp->body_len, resp->body != NULL ? resp->body : (void *)s_empty_body,
            resp->body != NULL ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (mr == NULL)
            return MHD_NO;
        resp->body = NULL; /* MHD frees it now */
    }
    for (size_t i = 0; i < resp->nheaders; i++) {
        if (MHD_add_response_header(mr, resp->headers[i].name, resp->headers[i].value) != MHD_YES)
            log_msg(LOGL_WARN, "http.header_refused", "name=%s", resp->headers[i].name);
    }
    ret = MHD_queue_response(conn, (unsigned)status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static void http_fill_remote(struct MHD_Connection *conn, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci;
    const struct sockaddr *sa;

    out[0] = '\0';
    ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)(const void *)sa;
        if (inet_ntop(AF_INET, &v4->sin_addr, out, (socklen_t)n) == NULL)
            out[0] = '\0';
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (inet_ntop(AF_INET6, &v6->sin6_addr, out, (socklen_t)n) == NULL)
            out[0] = '\0';
    }
}

static void http_fill_request(struct http_server *s, struct MHD_Connection *conn,
                              const char *method, const char *url, struct req_state *st,
                              struct http_request *req)
{
    const char *host;

    memset(req, 0, sizeof(*req));
    req->method = method;
    req->path = url;
    host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    req->host = host != NULL ? host : "";
    req->body = st->body != NULL ? st->body : (const uint8_t *)s_empty_body;
    req->body_len = st->body != NULL ? st->len : 0;
    req->tls = s->tls;
    req->conn_ = conn;
    http_fill_remote(conn, req->remote_addr, sizeof(req->remote_addr));
}

/* Appends method to the comma-separated Allow list unless it is there already, so the
 * list names each method once, in table order. */
static void http_allow_add(char *allow, size_t n, const char *method)
{
    size_t len = strlen(allow), mlen = strlen(method);
    const char *p = allow;

    while (*p != '\0') {
        const char *end = strstr(p, ", ");
        size_t tlen = end != NULL ? (size_t)(end - p) : strlen(p);
        if (tlen == mlen && memcmp(p, method, mlen) == 0)
            return;
        p += tlen;
        if (end != NULL)
            p += 2;
    }
    if (len + mlen + 3 > n)
        return;
    if (len > 0) {
        memcpy(allow + len, ", ", 2);
        len += 2;
    }
    memcpy(allow + len, method, mlen + 1);
}

/* Runs routing and the handler for a request whose body is complete (or refused). */
static void http_dispatch(struct http_server *s, struct http_request *req, bool too_big, char *caps,
                          struct http_response *resp)
{
    char allow[HTTP_ALLOW_MAX] = "";
    const struct route *hit = NULL;
    bool path_known = false;

    if (too_big) {
        http_error_body(s, req, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large", resp);
        return;
    }
    if (s->cfg.before != NULL) {
        s->cfg.before(s->cfg.ctx, req, resp);
        if (resp->status != 0 || resp->drop)
            return;
    }
    for (size_t i = 0; i < s->nroutes; i++) {
        const struct route *r = &s->routes[i];
        size_t np = 0;

        if (!http_route_match(r, req->path, NULL, NULL, &np))
            continue;
        path_known = true;
        if (strcmp(r->def->method, req->method) == 0) {
            hit = r;
            break;
        }
        http_allow_add(allow, sizeof(allow), r->def->method);
    }
    if (hit != NULL) {
        if (!http_route_match(hit, req->path, caps, req->params, &req->nparams))
            req->nparams = 0; /* cannot happen: it matched above */
        hit->def->fn(s->cfg.ctx, req, resp);
        if (resp->status == 0 && !resp->drop) {
            log_msg(LOGL_WARN, "http.no_status", "method=%s route=%s", req->method,
                    hit->def->pattern);
            http_error_body(s, req, MHD_HTTP_INTERNAL_SERVER_ERROR, "handler set no status", resp);
        }
        return;
    }
    if (!path_known) {
        http_error_body(s, req, MHD_HTTP_NOT_FOUND, "no such resource", resp);
        return;
    }
    http_error_body(s, req, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed", resp);
    if (http_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow) != MC_OK)
        log_msg(LOGL_WARN, "http.allow", "err=cannot_set");
}

/* Answers the request: hooks, delay, then drop, truncate or a normal response. */
static enum MHD_Result http_answer(struct http_server *s, struct MHD_Connection *conn,
                                   const char *method, const char *url, struct req_state *st)
{
    struct http_request req;
    struct http_response resp;
    char *caps = NULL;
    size_t ulen = strlen(url);
    enum MHD_Result ret;

    memset(&resp, 0, sizeof(resp));
    http_fill_request(s, conn, method, url, st, &req);
    caps = malloc(ulen + HTTP_MAX_PARAMS + 1);
    if (caps == NULL)
        return MHD_NO;
    http_dispatch(s, &req, st->too_big, caps, &resp);
    /* The after hook sees dropped requests too (resp->drop set), so event logs record them. */
    if (s->cfg.after != NULL)
        s->cfg.after(s->cfg.ctx, &req, &resp);
    if (log_enabled(LOGL_DEBUG)) {
        char qpath[256], qmethod[48];
        log_msg(LOGL_DEBUG, "http.request", "method=%s path=%s status=%d remote=%s%s%s%s",
                log_quote(method, qmethod, sizeof(qmethod)), log_quote(url, qpath, sizeof(qpath)),
                resp.status, req.remote_addr, resp.drop ? " fault=drop" : "",
                resp.truncate ? " fault=truncate" : "", resp.delay_ms > 0 ? " fault=delay" : "");
    }
    http_sleep_ms(resp.delay_ms);
    if (resp.drop)
        ret = MHD_NO; /* MHD closes the socket: the client gets no answer at all */
    else
        ret = http_send(conn, &resp);
    http_response_reset(&resp);
    free(caps);
    return ret;
}

/* Content-Length over the cap? *declared gets the announced length (ULLONG_MAX when it
 * does not fit). */
static bool http_declared_too_big(struct MHD_Connection *conn, size_t max_body,
                                  unsigned long long *declared)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    unsigned long long v;

    if (cl == NULL)
        return false;
    errno = 0;
    v = strtoull(cl, &end, 10);
    if (end == cl)
        return false; /* MHD itself rejects a malformed Content-Length */
    *declared = errno == ERANGE ? ULLONG_MAX : v;
    return errno == ERANGE || v > (unsigned long long)max_body;
}

/* Whether the client waits for "100 Continue" before it sends its body. */
static bool http_expects_continue(struct MHD_Connection *conn)
{
    const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    return e != NULL && strcasecmp(e, "100-continue") == 0;
}

static enum mc_err http_body_append(struct req_state *st, const char *data, size_t n,
                                    size_t max_body)
{
    if (st->too_big || n > max_body - st->len) {
        st->too_big = true;
        st->discarded += n;
        return MC_OK;
    }
    if (st->len + n + 1 > st->cap) {
        size_t ncap = st->cap == 0 ? 1024 : st->cap;
        uint8_t *nb;
        while (ncap < st->len + n + 1)
            ncap *= 2;
        if (ncap > max_body + 1)
            ncap = max_body + 1;
        nb = realloc(st->body, ncap);
        if (nb == NULL)
            return MC_ERR_NOMEM;
        st->body = nb;
        st->cap = ncap;
    }
    memcpy(st->body + st->len, data, n);
    st->len += n;
    st->body[st->len] = '\0';
    return MC_OK;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct req_state *st = *con_cls;

    (void)version;
    if (st == NULL) {
        st = calloc(1, sizeof(*st));
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        unsigned long long declared = 0;
        if (http_declared_too_big(conn, s->max_body, &declared)) {
            st->too_big = true;
            /* A client that waits for 100 Continue has sent nothing yet, and one that
             * announces more than we would ever read gets no better: answer both now.
             * Any other client is sending already (libcurl sends an in-memory body without
             * waiting): read and drop its body, then answer, or it sees a reset instead of
             * the 413. */
            if (http_expects_continue(conn) || declared > HTTP_MAX_DISCARD) {
                st->answered = true;
                return http_answer(s, conn, method, url, st);
            }
        }
        return MHD_YES;
    }
    if (st->answered) {
        *upload_data_size = 0; /* MHD may still hand us the refused body: ignore it */
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (http_body_append(st, upload_data, *upload_data_size, s->max_body) != MC_OK)
            return MHD_NO;
        *upload_data_size = 0;
        if (st->discarded > HTTP_MAX_DISCARD)
            return MHD_NO;
        return MHD_YES;
    }
    st->answered = true;
    return http_answer(s, conn, method, url, st);
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    struct req_state *st = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (st == NULL)
        return;
    free(st->body);
    free(st);
    *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void http_mhd_log(void *cls, const char *fmt,
                                                               va_list ap)
{
    char msg[512], q[600];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    /* Info, not warn: most of what MHD reports is a client's doing (a reset, a bad TLS
     * handshake, an injected fault), and failures to start are logged by us as errors. */
    log_msg(LOGL_INFO, "http.mhd", "msg=%s", log_quote(msg, q, sizeof(q)));
}

/* GnuTLS inside MHD only says "failed"; checking the pair with OpenSSL first lets us tell
 * a refused certificate (MC_ERR_CRYPTO) from an address in use (MC_ERR_IO). */
static enum mc_err http_check_tls_pair(const char *cert_pem, const char *key_pem)
{
    BIO *cb = NULL, *kb = NULL;
    X509 *x = NULL;
    EVP_PKEY *k = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    cb = BIO_new_mem_buf(cert_pem, -1);
    kb = BIO_new_mem_buf(key_pem, -1);
    if (cb == NULL || kb == NULL)
        goto out;
    x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    if (x == NULL || k == NULL || X509_check_private_key(x, k) != 1)
        goto out;
    err = MC_OK;
out:
    if (err != MC_OK)
        log_openssl_errors(LOGL_WARN, "http.tls_pair");
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    return err;
}

static void http_server_free(struct http_server *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nroutes; i++)
        free(s->routes[i].segs);
    free(s->routes);
    free(s->cert_pem);
    free(s->key_pem);
    free(s);
}

enum mc_err http_server_start(const struct http_server_config *cfg, struct http_server **out)
{
    struct http_server *s = NULL;
    union http_sockaddr sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    unsigned threads;
    const union MHD_DaemonInfo *di;
    struct MHD_OptionItem opts[4];
    size_t nopts = 0;
    enum mc_err err;
    int saved_errno;

    if (cfg == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if ((cfg->tls_cert_pem == NULL) != (cfg->tls_key_pem == NULL))
        return MC_ERR_INVALID;
    if (cfg->nroutes > HTTP_MAX_ROUTES || (cfg->nroutes > 0 && cfg->routes == NULL))
        return MC_ERR_INVALID;
    err = http_bind_addr(cfg->bind_addr, cfg->port, &sa);
    if (err != MC_OK)
        return err;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return MC_ERR_NOMEM;
    s->cfg = *cfg;
    s->max_body = cfg->max_body != 0 ? cfg->max_body : HTTP_DEFAULT_MAX_BODY;
    if (cfg->nroutes > 0) {
        s->routes = calloc(cfg->nroutes, sizeof(*s->routes));
        if (s->routes == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < cfg->nroutes; i++) {
        err = http_route_parse(&cfg->routes[i], &s->routes[i]);
        if (err != MC_OK) {
            char q[128];
            log_msg(LOGL_ERROR, "http.bad_route", "index=%zu pattern=%s", i,
                    log_quote(cfg->routes[i].pattern, q, sizeof(q)));
            goto out;
        }
        s->nroutes++;
    }
    if (cfg->tls_cert_pem != NULL) {
        err = http_check_tls_pair(cfg->tls_cert_pem, cfg->tls_key_pem);
        if (err != MC_OK)
            goto out;
        s->cert_pem = strdup(cfg->tls_cert_pem);
        s->key_pem = strdup(cfg->tls_key_pem);
        if (s->cert_pem == NULL || s->key_pem == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        s->tls = true;
        flags |= MHD_USE_TLS;
    }
    if (sa.sa.sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    threads = cfg->threads != 0 ? cfg->threads : 2;
    /* Options that depend on the config go in an array. A pool of one is no pool: MHD
     * warns about that size, so it is left out and the polling thread serves alone. */
    if (threads > 1)
        opts[nopts++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, threads, NULL};
    if (s->tls) {
        opts[nopts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert_pem};
        opts[nopts++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, s->key_pem};
    }
    opts[nopts] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    errno = 0;
    /* MHD_OPTION_EXTERNAL_LOGGER comes first so that option parsing errors reach it. */
    s->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, http_access, s, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, &sa.sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT_S,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, s, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (s->daemon == NULL) {
        char ebuf[128], q[160];
        saved_errno = errno;
        log_msg(LOGL_ERROR, "http.start_failed", "addr=%s port=%u error=%s",
                cfg->bind_addr != NULL ? cfg->bind_addr : "127.0.0.1", (unsigned)cfg->port,
                log_quote(strerror_r(saved_errno, ebuf, sizeof(ebuf)), q, sizeof(q)));
        http_server_free(s);
        errno = saved_errno;
        return MC_ERR_IO;
    }
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di != NULL ? di->port : cfg->port;
    log_msg(LOGL_DEBUG, "http.listen", "addr=%s port=%u tls=%s",
            cfg->bind_addr != NULL ? cfg->bind_addr : "127.0.0.1", (unsigned)s->port,
            s->tls ? "yes" : "no");
    *out = s;
    s = NULL;
    err = MC_OK;
out:
    http_server_free(s);
    return err;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s != NULL ? s->port : 0;
}

void http_server_stop(struct http_server *s)
{
    if (s == NULL)
        return;
    if (s->daemon != NULL)
        MHD_stop_daemon(s->daemon);
    http_server_free(s);
}
