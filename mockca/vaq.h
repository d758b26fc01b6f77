/* vaq.h: the validation queue. A challenge the client has answered (store_challenge_begin)
 * becomes a job here; a few worker threads take jobs, wait as Pebble's VA does (a random
 * sleep, so clients must really poll), run the check of va.h (or succeed at once with
 * PEBBLE_VA_ALWAYS_VALID), optionally check CAA, and record the result in the store
 * (store_challenge_succeed / store_challenge_fail). The queue is bounded and stopping is
 * prompt: sleeps are interruptible, queued jobs are dropped, and running validations are
 * waited for only as long as one validation may take. */
#ifndef MOCKCA_VAQ_H
#define MOCKCA_VAQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/csr.h"
#include "common/err.h"
#include "common/prng.h"
#include "mockca/store.h"
#include "mockca/va.h"

#define VAQ_DEFAULT_CAPACITY 10000
#define VAQ_DEFAULT_WORKERS 4
#define VAQ_MAX_WORKERS 64
#define VAQ_KEYAUTH_MAX 512 /* token (43) + "." + thumbprint (43); generous */
#define VAQ_URL_MAX 512
/* The rate-limit key of failed validations of an identifier: this prefix, "dns:" or "ip:",
 * then the identifier's value without "*." (newOrder reads the same key). */
#define VAQ_FAILED_KEY_PREFIX "failed-validation:"

struct ratelimit;
struct cconf;

struct vaq_config {
    struct store *store;        /* borrowed; must outlive the queue */
    const struct va_config *va; /* borrowed */
    bool always_valid;          /* PEBBLE_VA_ALWAYS_VALID: no check at all */
    bool nosleep;               /* PEBBLE_VA_NOSLEEP */
    int64_t sleep_max_s;        /* PEBBLE_VA_SLEEPTIME: sleep 0..this many seconds */
    struct prng *rng;           /* borrowed, seeded; drawn under rng_mu */
    pthread_mutex_t *rng_mu;
    const char *const *caa_domains; /* borrowed; n_caa_domains 0: CAA is not checked */
    size_t n_caa_domains;
    /* Failed validations are recorded per identifier in limits (borrowed, outlives the
     * queue) under VAQ_FAILED_KEY_PREFIX when failed_window_ms > 0; NULL: not counted. */
    struct ratelimit *limits;
    int64_t failed_window_ms;
    /* The client-conformance grader (cconf.h; borrowed, outlives the queue) that grades
     * each finished validation's answer; NULL: not graded. */
    struct cconf *cconf;
    unsigned workers; /* 0: VAQ_DEFAULT_WORKERS */
    size_t capacity;  /* queued jobs; 0: VAQ_DEFAULT_CAPACITY */
    /* Fault injection (mockca/acme/afault.h, "stall_validation"); NULL: never held. Asked
     * without the queue's lock just before a job's check runs: while it answers true the
     * job waits (its challenge stays processing, its worker busy) and is asked again after
     * *recheck_ms (clamped to VAQ_HOLD_MIN_MS..VAQ_HOLD_MAX_MS); a stop ends the wait.
     * account_url may be NULL. */
    bool (*hold)(void *ctx, const char *chall_type, const char *ident, const char *account_url,
                 int64_t *recheck_ms);
    void *hold_ctx;
};

#define VAQ_HOLD_MIN_MS 10
#define VAQ_HOLD_MAX_MS 10000

/* One validation to perform; vaq_push copies everything. */
struct vaq_job {
    const char *challenge_id;
    enum chall_type type;
    const struct ident *ident; /* without "*." */
    bool wildcard;             /* for CAA's issuewild */
    const char *token;
    const char *key_authorization; /* token "." RFC 7638 thumbprint of the account key */
    const char *account_url;       /* dns-account-01's label input */
};

struct vaq;

/* Starts the workers. *out is new (vaq_free). */
MC_MUST_CHECK enum mc_err vaq_new(const struct vaq_config *cfg, struct vaq **out);
/* Queues a copy of job. MC_ERR_LIMIT when the queue is full, MC_ERR_STATE once stopping,
 * MC_ERR_INVALID for a job with a missing or over-long member: the caller then fails the
 * challenge itself. */
MC_MUST_CHECK enum mc_err vaq_push(struct vaq *q, const struct vaq_job *job);
/* Jobs queued and not yet taken by a worker. */
size_t vaq_pending(struct vaq *q);
/* Stops: queued jobs are dropped (their challenges stay processing), sleeping workers wake,
 * running validations are waited for up to one validation timeout plus a margin. A worker
 * still running after that is left to finish on its own and no longer touches the store.
 * NULL ok. */
void vaq_free(struct vaq *q);

#endif
