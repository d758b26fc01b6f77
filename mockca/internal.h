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

    /* Front end. */
    struct http_server *acme;
    struct http_server *mgmt;
    char base_url[96];           /* "https://127.0.0.1:PORT", no trailing slash */
    char dir_url[128];
    char mgmt_url[96];
    char account_prefix[160];    /* base_url + ACME_PATH_ACCOUNT: what a kid starts with */
    struct acme_check_config check;
    /* Set once every member above is in place. The ACME listener has to be bound before
     * base_url (and so the CA's OCSP/CRL URLs) is known, so requests that arrive in that
     * window are answered 503 rather than reading half-built state. */
    atomic_bool ready;
};

#endif
