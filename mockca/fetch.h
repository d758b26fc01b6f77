/* fetch.h: mockca's own outbound HTTP/1.1 client (the VA's http-01 fetches and their
 * redirects, CertCentral's fileauth.txt, `mockca run`'s calls to its embedded dnsmock).
 *
 * It replaces libcurl in mockca, which cost ~2 MiB of idle RSS in libraries mockca never
 * uses and a curl easy handle per validation. It does one request per connection
 * (`Connection: close`) to an address the CALLER gives, so the VA resolves through its own
 * DNS server and never the system resolver. http:// and https:// (OpenSSL, no certificate
 * verification, as Let's Encrypt's VA does on redirects; SNI the URL's host when it is a
 * name). Every step (connect, TLS handshake, write, read) is bounded by one overall
 * deadline, and the status line, the header block and the body each have a cap.
 * Redirects are not followed: the status and the Location header are returned, and the
 * caller resolves the next host itself (fetch_url_join). Thread-safe: no shared state. */
#ifndef MOCKCA_FETCH_H
#define MOCKCA_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define FETCH_URL_MAX 2048       /* a whole URL, and a Location value */
#define FETCH_HOST_MAX 254       /* a DNS name (253) or an IPv6 literal, plus NUL */
#define FETCH_STATUS_MAX 512     /* the status line */
#define FETCH_HEAD_MAX 16384     /* the whole header block, status line included */
#define FETCH_BODY_MAX (1 << 20) /* the body cap when the caller gives none */
#define FETCH_ERR_MAX 256        /* the human message of a failure */
#define FETCH_TIMEOUT_MS 10000   /* the deadline when the caller gives none */
#define FETCH_USER_AGENT "mockca"

/* A parsed absolute URL. */
struct fetch_url {
    bool https;
    bool host_is_ip;                /* an IPv4 or IPv6 literal */
    char host[FETCH_HOST_MAX];      /* as given; an IPv6 literal without its brackets */
    uint16_t port;                  /* the explicit port, or 80/443 by scheme */
    bool port_given;                /* the URL named the port */
    char target[FETCH_URL_MAX + 1]; /* path and query as sent ("/" when the URL has none) */
};

/* Parses an absolute http:// or https:// URL (RFC 3986 syntax, strictly): scheme
 * (case-insensitive), host (a name of letters, digits, '-', '_' and '.', an IPv4 literal
 * or a bracketed IPv6 literal without zone), optional port 1..65535, path and query.
 * Refused (MC_ERR_INVALID): other schemes, userinfo ('@'), an empty host or port, bytes
 * outside printable ASCII (controls, space, non-ASCII), a bad literal; MC_ERR_TOO_BIG: a
 * URL over FETCH_URL_MAX or a host over 253. A fragment is dropped: it is never sent. */
enum mc_err fetch_url_parse(const char *url, struct fetch_url *out) MC_MUST_CHECK;

/* The absolute URL a Location value ref points to from base (RFC 3986 section 5.2, the
 * common cases: an absolute URL, "//authority/path", "/path", "?query", "relative/path"
 * with "." and ".." segments removed). *out is a new string the caller frees; it is then
 * checked by fetch_url_parse. MC_ERR_INVALID or MC_ERR_TOO_BIG when it cannot be one. */
enum mc_err fetch_url_join(const char *base, const char *ref, char **out) MC_MUST_CHECK;

struct fetch_request {
    const char *method;       /* "GET" or "POST"; NULL: GET */
    const char *url;          /* absolute http:// or https:// URL (fetch_url_parse) */
    const char *addr;         /* IPv4/IPv6 literal to connect to; NULL: the URL's host,
                                 which must then be an IP literal (no name is ever resolved) */
    const char *user_agent;   /* NULL: FETCH_USER_AGENT */
    const char *content_type; /* POST only; NULL: application/json */
    const char *body;         /* POST only; body_len bytes (NULL: empty) */
    size_t body_len;
    size_t body_max;    /* response body cap; 0: FETCH_BODY_MAX */
    int64_t timeout_ms; /* overall, from connect to the last body byte; <= 0: FETCH_TIMEOUT_MS */
};

struct fetch_response {
    int status;     /* the final status code (interim 1xx answers are skipped) */
    char *location; /* the Location header as sent (maybe relative), or NULL */
    char *body;     /* the decoded body, NUL-terminated (also when empty) */
    size_t body_len;
    bool body_over_cap;      /* on MC_ERR_TOO_BIG: it was the body (not the header) */
    char err[FETCH_ERR_MAX]; /* on failure: what went wrong, for a problem detail */
};

/* Sends one request and reads the whole answer into *resp (which the call initialises;
 * free it with fetch_response_free whatever the result). The request carries Host (from
 * the URL, with the port when not the scheme's default), User-Agent, Accept and
 * Connection: close; the answer may be framed by Content-Length, chunked transfer coding
 * (RFC 9112 section 7.1; trailers read and dropped) or the end of the connection.
 * Returns MC_OK when a complete answer arrived, whatever its status; else (status 0,
 * no location, no body) with resp->err set: MC_ERR_INVALID (bad URL or addr, or a malformed answer:
 * status line, header, framing, a truncated body), MC_ERR_IO (connection refused or reset, a socket
 * error), MC_ERR_TIMEOUT (the deadline passed), MC_ERR_CRYPTO (the TLS handshake failed),
 * MC_ERR_TOO_BIG (status line, header block or body over its cap; body_over_cap tells
 * which), MC_ERR_UNSUPPORTED (a transfer coding other than chunked), MC_ERR_NOMEM.
 * SIGPIPE is blocked in the calling thread for the duration of the call. */
enum mc_err fetch_do(const struct fetch_request *req, struct fetch_response *resp) MC_MUST_CHECK;

/* Frees what fetch_do stored in r (not r itself) and zeroes it. NULL ok. */
void fetch_response_free(struct fetch_response *r);

#endif
