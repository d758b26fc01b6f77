/* bench.h: the load generator behind `certcli bench`. N worker threads, each with its own
 * session (one kept-alive connection, its own account), loop full ACME issuances (RFC 8555
 * sections 7.3 to 7.4.2: account, newOrder, http-01, finalize, download) against any
 * directory URL until a total count or a deadline, and the run reports issuances per
 * second, failures by problem type and latency percentiles per step.
 *
 * All workers share ONE in-process http-01 standalone solver (solver.h), so its port must
 * be the port the CA validates http-01 on (Pebble's and mockca's httpPort, 5002 by
 * default), and the CA must resolve the random names under opts.domain to the solver's
 * address (mockca's embedded dnsmock and pebble-challtestsrv answer 127.0.0.1 for every
 * name by default).
 *
 *   struct bench_opts o;
 *   bench_opts_init(&o);
 *   o.directory_url = "https://127.0.0.1:14000/dir";
 *   o.workers = 4;
 *   o.count = 200;
 *   struct bench_result r;
 *   if (bench_run(&o, &r) == MC_OK) ... r.rate ...
 *   bench_result_free(&r);
 *
 * The steps are timed here rather than through issue_cert() (issue.h), which runs the
 * whole flow in one call and exposes no per-step timing. */
#ifndef CERTCLI_BENCH_H
#define CERTCLI_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "client/session.h"
#include "client/solver.h"
#include "common/err.h"
#include "common/keys.h"

#define BENCH_MAX_WORKERS 256
#define BENCH_MAX_NAMES 100     /* names per order (IDENT_MAX_COUNT) */
#define BENCH_MAX_FAIL_TYPES 32 /* distinct failure types kept; the rest count as "other" */
/* Latency samples kept per step and worker; past it the step is still counted but its
 * percentiles come from the first samples only (bench_latency.sampled tells). */
#define BENCH_MAX_SAMPLES (1u << 20)

struct bench_opts {
    const char *directory_url;
    const char *ca_bundle;        /* TLS trust as in sess_opts */
    bool insecure;
    unsigned workers;             /* 1..BENCH_MAX_WORKERS; default 1 */
    /* Stop conditions: at least one of them. count: measured issuances in total (each
     * attempt, successful or not, takes one); duration_ms: no new issuance starts after
     * the deadline (one in flight finishes, bounded by poll_timeout_s). */
    uint64_t count;               /* default 10 */
    int64_t duration_ms;          /* default 0: none */
    uint64_t warmup;              /* issuances done first, shared among workers, not
                                     measured; default 0 */
    const char *domain;           /* names are <random>.<domain>; default "bench.test" */
    unsigned names_per_order;     /* 1..BENCH_MAX_NAMES; default 1 */
    enum key_type account_key_type; /* default KEY_EC_P256 */
    enum key_type cert_key_type;    /* default KEY_EC_P256 */
    bool reuse_cert_key;          /* one certificate key per worker instead of a fresh one
                                     per issuance (default false: fresh) */
    bool account_per_issuance;    /* a new account for every issuance (default: one per
                                     worker, registered before the clock starts) */
    /* The shared http-01 solver: solver, when set, is borrowed (it must handle http-01;
     * an embedding test makes one on port 0 and gives the CA solver_port()); else
     * bench_run makes a SOLVER_HTTP_STANDALONE one on http_address:http_port. */
    struct solver *solver;
    const char *http_address;     /* default "127.0.0.1" */
    uint16_t http_port;           /* default 5002 (Pebble's httpPort) */
    long poll_timeout_s;          /* per poll loop (authorization, order); default 60 */
    long poll_min_ms;             /* the first pause between polls; default 1, doubling */
    long poll_max_ms;             /* to at most this; default 250 (a Retry-After shorter
                                     than this is honoured, a longer one is capped) */
    long http_timeout_s;          /* sess_opts.timeout_s; default 30 */
    uint64_t seed;                /* the random names; 0: from the OS */
};

/* Fills o with the defaults above (directory_url NULL). */
void bench_opts_init(struct bench_opts *o);

enum bench_step {
    BENCH_ACCOUNT = 0, /* newAccount (plus key generation when per issuance) */
    BENCH_ORDER,       /* newOrder */
    BENCH_AUTHZ,       /* every authorization: fetch, present, challenge POST, poll to
                          valid, cleanup */
    BENCH_FINALIZE,    /* certificate key (when fresh) and CSR, finalize, poll to valid */
    BENCH_DOWNLOAD,    /* POST-as-GET of the certificate chain, leaf parsed */
    BENCH_TOTAL,       /* one whole issuance (the account step only when per issuance) */
    BENCH_NSTEPS
};
/* "account", "new_order", "authz", "finalize", "download", "total". */
const char *bench_step_name(enum bench_step s);

/* Milliseconds; nearest-rank percentiles over the completed steps. */
struct bench_latency {
    uint64_t count;               /* completed steps */
    uint64_t sampled;             /* of them, how many the percentiles are over */
    double mean_ms, p50_ms, p90_ms, p99_ms, max_ms;
};

struct bench_failure {
    char *type;                   /* an ACME problem type URN (the challenge's error for a
                                     failed validation), or "certcli:<reason>" for local
                                     and transport failures */
    char *example;                /* the first failure's one-line description */
    uint64_t count;
};

struct bench_result {
    unsigned workers;
    uint64_t issuances;           /* measured, successful */
    uint64_t failures;            /* measured, failed (each in fail[]) */
    uint64_t warmup_done;         /* warm-up attempts made (successful or not) */
    double wall_s;                /* from the start signal to the last worker's stop */
    double rate;                  /* issuances / wall_s */
    struct bench_latency step[BENCH_NSTEPS];
    struct bench_failure *fail;   /* by type, most frequent first */
    size_t n_fail;
    struct sess_stats stats;      /* summed over workers, measured phase only */
    uint64_t bytes_received;      /* response bodies, measured phase only */
    double requests_per_issuance; /* stats.requests / issuances (0 when none) */
};
void bench_result_free(struct bench_result *r); /* frees the members, zeroes r; NULL ok */

/* Runs the benchmark. MC_ERR_INVALID for bad options (no directory, no stop condition,
 * workers or names out of range, a domain that does not make valid names); MC_ERR_IO when
 * the http-01 solver cannot listen; otherwise MC_OK with *out filled, even when every
 * issuance failed (a worker whose session cannot even open counts one failure and stops).
 * *out is zeroed first; bench_result_free it in every case. */
MC_MUST_CHECK enum mc_err bench_run(const struct bench_opts *o, struct bench_result *out);

/* The result as a JSON object (new, caller deletes):
 * {"workers", "issuances", "failures", "warmup", "wall_s", "issuances_per_s",
 *  "requests": {...sess_stats, "per_issuance"}, "bytes_received",
 *  "steps": {"account": {"count","sampled","mean_ms","p50_ms","p90_ms","p99_ms","max_ms"},
 *            ...}, "failure_types": [{"type","count","example"}]} */
MC_MUST_CHECK enum mc_err bench_result_json(const struct bench_result *r, cJSON **out);

#endif
