/* internal.h: the state every mockca module shares. Users of the library see mockca.h. */
#ifndef MOCKCA_INTERNAL_H
#define MOCKCA_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/fault.h"
#include "common/http.h"
#include "common/prng.h"
#include "mockca/acme/request.h"
#include "mockca/config.h"
#include "mockca/mockca.h"
#include "mockca/tlscert.h"
#include "mockca/va.h"

/* Paths of the CA's own endpoints that leaves point at (served from a later module). */
#define MOCKCA_PATH_OCSP "/ocsp"
#define MOCKCA_PATH_CRL "/crl"
#define MOCKCA_PATH_ISSUER "/issuer-cert"

struct ca;
struct store;
struct nonce_store;
struct ratelimit;
struct dnsmock;
struct vaq;
struct issueq;
struct cc_server;
struct tr_writer;
struct cconf;

/* The CertCentral API key mockca_start generates when none is configured: 32 characters
 * of A-Z0-9 (about 165 bits). */
#define MOCKCA_CC_KEY_LEN 32

struct mockca {
    struct mockca_config cfg; /* owned */

    /* State, each thread-safe on its own. */
    struct mc_clock *clock;
    struct ca *ca;
    struct store *store;
    struct nonce_store *nonces;
    struct ratelimit *limits;
    struct fault_engine *faults;
    struct tls_identity tls;

    /* Randomness for Pebble's knobs (nonce rejection, authz reuse, validation sleeps):
     * seeded, so a run replays; guarded by rng_mu. */
    struct prng rng;
    pthread_mutex_t rng_mu;

    /* Validation. */
    struct dnsmock *dns; /* embedded, or NULL */
    char dns_addr[80];
    struct va_config va;
    struct vaq *vaq; /* validation workers (vaq.h) */
    struct issueq *issueq; /* issuance workers (issueq.h): finalize is asynchronous */

    /* Front end. */
    struct http_server *acme;
    struct http_server *mgmt;
    char base_url[96];           /* "https://127.0.0.1:PORT", no trailing slash */
    char dir_url[128];
    char mgmt_url[96];
    char account_prefix[160];    /* base_url + ACME_PATH_ACCOUNT: what a kid starts with */
    struct acme_check_config check;
    /* The client-conformance grader (cconf.h): check.grader, vaq and order.c report to
     * it; created before the listener is ready, freed after the listeners and vaq stop. */
    struct cconf *cconf;
    /* CertCentral (mockca/cc/cc.h) on the ACME listener under CC_PREFIX: created after the
     * CA, published by `ready`. acme_routes is wfe's table plus the CertCentral routes (the
     * listener keeps pointers into it); the wfe_* hooks are wfe's, which mockca.c's own
     * hooks call for every path outside CC_PREFIX. */
    struct cc_server *cc;
    char cc_url[128];
    char cc_key[MOCKCA_CC_KEY_LEN + 1]; /* generated administrator key, or "" */
    struct http_route *acme_routes;
    http_handler_fn wfe_before;
    http_handler_fn wfe_after;
    void (*wfe_error)(void *ctx, const struct http_request *req, int status, const char *message,
                      struct http_response *resp);
    /* Set once every member above is in place. The ACME listener has to be bound before
     * base_url (and so the CA's OCSP/CRL URLs) is known, so requests that arrive in that
     * window are answered 503 rather than reading half-built state. */
    atomic_bool ready;

    /* Recording (mockca.c, transcript.h): every exchange of the ACME/CertCentral and
     * management listeners goes to the transcript writer and the observer when either is
     * set. `recording` lets the hooks skip building a record when neither is; rec_mu guards
     * the two pointers while a record is handed over, so closing waits for writers. */
    atomic_bool recording;
    pthread_mutex_t rec_mu;
    struct tr_writer *transcript;
    mockca_observer_fn observer;
    void *observer_ctx;
    http_handler_fn mgmt_after; /* the management listener's own after hook (may be NULL) */

    /* Housekeeping (mockca.c): a thread that calls mockca_sweep every
     * cfg.sweep_interval_s seconds of real time; sweep_stop under sweep_mu ends it at once
     * (sweep_cv, CLOCK_MONOTONIC). */
    pthread_t sweeper;
    bool sweeper_started;
    bool sweep_stop;
    pthread_mutex_t sweep_mu;
    pthread_cond_t sweep_cv;
};

/* Applies expiry and retention to the store (store_sweep) and prunes the CA's registry
 * (ca_prune), logging both counts; either out may be NULL. For the sweeper thread and the
 * management API's POST /sweep. */
void mockca_sweep(struct mockca *m, size_t *store_dropped, size_t *ca_pruned);

/* Refuses a request over a rate limit: 429 rateLimited with detail, and Retry-After in
 * whole seconds rounded up from retry_after_ms (at least 1). */
void mockca_rate_limited(struct http_response *resp, int64_t retry_after_ms, const char *detail);

/* A new CertCentral administrator key: MOCKCA_CC_KEY_LEN characters of A-Z0-9 from
 * OpenSSL's generator, NUL-terminated. MC_ERR_CRYPTO when the generator fails. */
MC_MUST_CHECK enum mc_err mockca_cc_key_generate(char out[MOCKCA_CC_KEY_LEN + 1]);

/* A draw from the run's seeded generator (under rng_mu): for Pebble's random knobs, so a
 * run replays from its seed. */
uint64_t mockca_rand(struct mockca *m);

/* Sets Retry-After for a polled object (pending or processing order, authorization or
 * challenge) to s seconds (at least 1), written per cfg.retry_after_form: delta-seconds,
 * an IMF-fixdate (RFC 9110 section 5.6.7) s seconds past the run's clock, or either drawn
 * from the seeded generator, as Pebble varies it to catch clients that read only one. */
void mockca_retry_after(struct mockca *m, struct http_response *resp, int64_t s);

/* Writes the IMF-fixdate of Unix time t ("Sun, 06 Nov 1994 08:49:37 GMT") into buf (at
 * least 30 bytes), independent of the locale. false when t is out of range. */
bool mockca_http_date(int64_t t, char *buf, size_t n);

/* An RFC 3339 date-time (section 5.6) as Unix seconds in *out; false when s is not one.
 * Fractions of a second are dropped. (order.c's parser, shared with the management API.) */
bool mockca_parse_rfc3339(const char *s, int64_t *out);

#endif
