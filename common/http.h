/* http.h: a small HTTP(S) server layer over libmicrohttpd, shared by mockca, dnsmock and
 * certcli's standalone solvers.
 *
 * A server has a route table. A route is a method and a path pattern: literal segments,
 * "{}" for one captured segment, and a final "*" that captures the rest of the path (may be
 * empty). A path that matches some pattern but none with the request's method gets 405 with
 * an Allow header listing the methods that would match; no pattern at all gets 404. A body
 * over max_body gets 413 before any handler runs. HEAD is routed as its own method.
 *
 * Handlers run on the worker pool, several at once: they must be thread-safe. The layer
 * owns everything in struct http_response once the handler returns. */
#ifndef MC_HTTP_H
#define MC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define HTTP_MAX_PARAMS 8
#define HTTP_MAX_RESP_HEADERS 16
#define HTTP_DEFAULT_MAX_BODY (64 * 1024)

struct http_request {
    const char *method;        /* "GET", "POST", "HEAD", ... */
    const char *path;          /* decoded path, without the query string */
    const char *host;          /* the Host header, or "" */
    const char *params[HTTP_MAX_PARAMS]; /* captures of "{}" and "*", in order */
    size_t nparams;
    const uint8_t *body;       /* the whole body, NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    char remote_addr[64];      /* the peer's IP as text */
    bool tls;
    void *conn_;               /* internal */
};

/* A request header (case-insensitive name), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* A query-string argument, decoded, or NULL. */
const char *http_request_query(const struct http_request *req, const char *name);

struct http_header {
    char *name;
    char *value;
};

struct http_response {
    int status;                /* 0 until set */
    char *body;                /* malloc'd, owned by the layer after return; may be NULL */
    size_t body_len;
    struct http_header headers[HTTP_MAX_RESP_HEADERS];
    size_t nheaders;
    bool drop;                 /* close the connection without answering (fault injection) */
    int64_t delay_ms;          /* wait this long before answering (fault injection) */
    bool truncate;             /* send half the body and close (fault injection) */
};

/* Appends a header (copies name and value). MC_ERR_LIMIT when full; MC_ERR_INVALID for CR
 * or LF in either. A "Content-Type" header set here wins over the helpers' defaults. */
MC_MUST_CHECK enum mc_err http_response_header(struct http_response *resp, const char *name,
                                               const char *value);
/* Replaces the body with a copy of data[0..n) and sets status and Content-Type. */
MC_MUST_CHECK enum mc_err http_response_body(struct http_response *resp, int status,
                                             const char *content_type, const void *data,
                                             size_t n);
/* Replaces the body with j printed compactly, Content-Type application/json. */
MC_MUST_CHECK enum mc_err http_response_json(struct http_response *resp, int status,
                                             const cJSON *j);
/* An RFC 7807 problem document: {"type", "detail", "status"} plus "subproblems" when given
 * (borrowed, copied), Content-Type application/problem+json. */
MC_MUST_CHECK enum mc_err http_response_problem(struct http_response *resp, int status,
                                                const char *type, const char *detail,
                                                const cJSON *subproblems);
/* A plain-text error body (text/plain; charset=utf-8) with a trailing newline. */
MC_MUST_CHECK enum mc_err http_response_error(struct http_response *resp, int status,
                                              const char *message);
void http_response_reset(struct http_response *resp); /* frees and zeroes */

typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
                                struct http_response *resp);

struct http_route {
    const char *method;
    const char *pattern;
    http_handler_fn fn;
};

struct http_server_config {
    const char *bind_addr;     /* "127.0.0.1", "::1", "0.0.0.0" or "::"; NULL = 127.0.0.1 */
    uint16_t port;             /* 0: the kernel picks (read it with http_server_port) */
    const char *tls_cert_pem;  /* both set: HTTPS; both NULL: plain HTTP */
    const char *tls_key_pem;
    const struct http_route *routes;
    size_t nroutes;
    void *ctx;                 /* passed to every handler and hook */
    size_t max_body;           /* 0: HTTP_DEFAULT_MAX_BODY */
    unsigned threads;          /* worker pool size; 0: 2 */
    /* Optional: runs before routing. If it sets resp->status or resp->drop, the route is
     * skipped (fault injection, authentication). */
    http_handler_fn before;
    /* Optional: runs on every response, routed or not (404, 405, 413 included), just
     * before it is sent: for headers every response carries, and event logs. */
    http_handler_fn after;
    /* Optional: writes the body of the layer's own 404/405/413 answers; the status is
     * already set in resp and message says why. Default: http_response_error. */
    void (*error)(void *ctx, const struct http_request *req, int status, const char *message,
                  struct http_response *resp);
};

struct http_server;

/* Starts listening and serving. MC_ERR_IO if the address cannot be bound (errno kept),
 * MC_ERR_INVALID for a bad address, route pattern, or half a TLS pair; MC_ERR_CRYPTO if
 * the TLS pair is refused. *out is new (http_server_stop). */
MC_MUST_CHECK enum mc_err http_server_start(const struct http_server_config *cfg,
                                            struct http_server **out);
uint16_t http_server_port(const struct http_server *s);
/* Stops accepting, waits for running handlers, closes every connection, frees. NULL ok. */
void http_server_stop(struct http_server *s);

/* Splits "host:port", "[v6]:port" or ":port" (host "" then) into host (size hostn) and
 * *port. MC_ERR_INVALID if it does not parse or the port is out of range. */
MC_MUST_CHECK enum mc_err http_split_hostport(const char *s, char *host, size_t hostn,
                                              uint16_t *port);

#endif
