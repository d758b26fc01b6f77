/* curlx.h: the libcurl plumbing the client's transports share (session.c for ACME, dc.c for
 * CertCentral, srvconf.c for the server-conformance run): the TLS trust rule, the handle
 * set-up of a keep-alive client, one exchange's method and body options, a body buffer
 * capped while it arrives, and header-line splitting. Internal to libcertcli: no public
 * header includes it. Prefix cx_. */
#ifndef CLIENT_CURLX_H
#define CLIENT_CURLX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "common/err.h"

/* The CA file for TLS trust: ca_bundle when set and non-empty, else $SSL_CERT_FILE, else
 * $CURL_CA_BUNDLE (each when non-empty), else NULL for libcurl's built-in store. libcurl
 * reads neither variable itself; only the curl tool does. The result is not owned. */
const char *cx_trust_file(const char *ca_bundle);

/* Sets TLS trust on h: with insecure, no peer or host check (the caller warns); else both
 * checks on, against cx_trust_file(ca_bundle) when that names a file. Returns the first
 * failing libcurl code, CURLE_OK when all took. */
CURLcode cx_set_tls(CURL *h, const char *ca_bundle, bool insecure) MC_MUST_CHECK;

/* What a keep-alive client handle needs once (cx_setup). Strings and errbuf must outlive h. */
struct cx_opts {
    long timeout_s;                /* whole exchange; connecting gets at most 10 s of it */
    const char *user_agent;        /* User-Agent */
    char *errbuf;                  /* CURL_ERROR_SIZE bytes, libcurl's message for a failure */
    size_t max_body;               /* bodies larger than this are refused up front */
    curl_write_callback on_body;   /* usually cx_on_body */
    curl_write_callback on_header; /* the caller's header parser */
    const char *ca_bundle;         /* see cx_trust_file */
    bool insecure;                 /* no TLS checks */
    const char *warn_url;          /* logged with insecure, so the choice shows in the log */
};

/* Applies o to h: no signals, TCP keep-alive, no redirects (a redirect is the server's
 * error in both protocols), http and https only, the timeouts, callbacks and TLS trust.
 * Returns MC_OK, or MC_ERR_IO with *why set to the failing libcurl code. */
enum mc_err cx_setup(CURL *h, const struct cx_opts *o, CURLcode *why) MC_MUST_CHECK;

/* One exchange on h: sets the request, resetting what a previous exchange on the same
 * handle left ("GET"; "HEAD", no body read; "POST" of body, NULL: empty; any other method
 * as a POST of body under that method name), with headers hdrs (may be NULL), body and
 * header callbacks' data wdata and hdata; performs it; then drops the handle's pointers
 * to hdrs and body. Returns the first failing libcurl code, CURLE_OK when a response came. */
CURLcode cx_exchange(CURL *h, const char *method, const char *url, const char *body,
                     struct curl_slist *hdrs, void *wdata, void *hdata) MC_MUST_CHECK;

/* The text for a failed transfer: errbuf when libcurl filled it, else the code's name. */
const char *cx_why(CURLcode rc, const char *errbuf);

/* A response body capped while it arrives: set max, zero the rest. */
struct cx_body {
    char *buf; /* NUL-terminated when non-NULL; owned */
    size_t len, cap, max;
    bool too_big; /* the body passed max: the transfer was aborted */
};

/* CURLOPT_WRITEFUNCTION for a struct cx_body as write data: appends, and past max sets
 * too_big and returns short, which aborts the transfer instead of buffering a hostile
 * body. */
size_t cx_on_body(char *p, size_t size, size_t n, void *ud);

/* Moves b's body to *out (an empty string when none came) and its length to *len. */
enum mc_err cx_body_take(struct cx_body *b, char **out, size_t *len) MC_MUST_CHECK;

/* One header line as libcurl hands it to a header callback. */
enum cx_hline {
    CX_HLINE_STATUS, /* "HTTP/..." : a new response begins (after a 1xx); start over */
    CX_HLINE_FIELD,  /* "Name: value" */
    CX_HLINE_OTHER,  /* the blank line that ends the block, or a line without a colon */
};
struct cx_field {
    const char *name, *value; /* not NUL-terminated: name[0..nlen), value[0..vlen) */
    size_t nlen, vlen;
};

/* Classifies the k bytes at p (CR LF included or not) and for a field fills *f with the
 * name and the value without surrounding blanks. */
enum cx_hline cx_header_line(const char *p, size_t k, struct cx_field *f);

/* True when f's name is name, ignoring case (RFC 9110 section 5.1). */
bool cx_field_is(const struct cx_field *f, const char *name);

/* Replaces *slot (freed) with a copy of v[0..n). False when out of memory. */
bool cx_keep(char **slot, const char *v, size_t n);

/* True when the media type of Content-Type ct (before any parameter) is type, ignoring
 * case. ct may be NULL. */
bool cx_media_is(const char *ct, const char *type);

/* Sleeps ms milliseconds (nothing when ms <= 0) between retried exchanges, resuming after
 * signals a bounded number of times. ms is already bounded by the caller. */
void cx_sleep_ms(int64_t ms);

#endif
