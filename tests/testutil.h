/* testutil.h: helpers shared by the Check test binaries: HTTP calls with libcurl, DNS
 * queries with ldns over UDP or TCP, and a dnsmock on loopback port 0. */
#ifndef MC_TESTUTIL_H
#define MC_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>
#include <ldns/ldns.h>

#include "dnsmock/dnsmock.h"

struct tu_http {
    long status;
    char *body;          /* NUL-terminated; free with tu_http_free */
    size_t body_len;
    char *headers;       /* raw response header block */
};

/* Sends method to url with body (may be NULL) and optional extra header lines (NULL-
 * terminated array, e.g. {"Content-Type: application/json", NULL}). TLS peers are
 * verified against ca_file when it is not NULL, else not verified. Returns 0 on a
 * completed exchange (any status), -1 on a transport error. 10 s timeout. */
int tu_http(const char *method, const char *url, const char *body, const char *const *hdrs,
            const char *ca_file, struct tu_http *out);
void tu_http_free(struct tu_http *r);
/* POST a JSON text to base + path; returns the status, or -1 on a transport error. The
 * body is discarded unless out_body is not NULL (then caller frees). */
long tu_post_json(const char *base, const char *path, const char *json, char **out_body);
/* The value of header name in r's header block (case-insensitive), new string, or NULL. */
char *tu_http_header(const struct tu_http *r, const char *name);

/* Queries name/type at 127.0.0.1:port over UDP (tcp false) or TCP. Returns the response
 * (caller frees with ldns_pkt_free) or NULL on timeout/transport error (2 s, no retry). */
ldns_pkt *tu_dns_query(uint16_t port, const char *name, ldns_rr_type type, bool tcp);
/* Sends raw bytes over UDP and returns the raw answer (new) or NULL on timeout (1 s). */
uint8_t *tu_dns_raw_udp(uint16_t port, const uint8_t *msg, size_t len, size_t *outlen);

/* Starts a dnsmock with every listener on 127.0.0.1 port 0 (DNS, management, http-01,
 * tls-alpn-01), compat mode. Aborts the test on failure. */
struct dnsmock *tu_dnsmock_start(void);
/* The same with the caller's config adjustments applied after the port-0 defaults. */
struct dnsmock *tu_dnsmock_start_with(void (*adjust)(struct dnsmock_config *cfg, void *arg),
                                      void *arg);

/* A new temporary directory (mkdtemp under $TMPDIR or /tmp); caller frees the string. */
char *tu_tmpdir(void);

/* Runs every test of suite s (CK_NORMAL: CK_FORK decides forking), frees the runner, and
 * returns EXIT_SUCCESS when none failed, else EXIT_FAILURE: a test binary's main. */
int tu_run(Suite *s);

#endif
