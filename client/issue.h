/* issue.h: getting a certificate (RFC 8555 sections 7.4 to 7.4.2): newOrder, each
 * authorization answered by the first solver that handles one of its challenges, the
 * order polled to ready, finalize with a CSR, polled to valid, the chain downloaded, and
 * alternate chains (Link rel="alternate") searched for a preferred issuer. */
#ifndef CERTCLI_ISSUE_H
#define CERTCLI_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "client/session.h"
#include "client/solver.h"
#include "common/csr.h"

struct issue_req {
    struct ident_list idents;     /* DNS (wildcards allowed) and IP identifiers */
    /* The certificate key: csr when the user supplied one (its SANs must equal idents),
     * else cert_key (a CSR is built: CN = the first DNS identifier of 64 characters or
     * less, SANs = idents, must_staple adds the TLS Feature). */
    X509_REQ *csr;
    EVP_PKEY *cert_key;
    bool must_staple;
    const char *profile;          /* NULL: none; refused locally if the directory lists
                                     profiles and this is not one of them */
    int64_t not_before, not_after; /* Unix seconds, 0: not sent */
    const char *replaces;         /* RFC 9773 certificate identifier, NULL: none */
    const char *preferred_chain;  /* issuer CN of the chain's top certificate, NULL: default */
    struct solver *const *solvers; /* in preference order; each authorization uses the
                                      first solver that handles a challenge it offers */
    size_t n_solvers;
    long poll_timeout_s;          /* per poll loop; default 300 when 0 */
};

struct issue_result {
    char *order_url;
    char *cert_url;               /* of the chosen chain */
    char *chain_pem;              /* leaf first, as downloaded */
    X509 *leaf;                   /* parsed from chain_pem */
    char *issuer_cn;              /* of the top certificate of the chosen chain */
    size_t n_alternates;          /* how many alternate chains the CA offered */
    /* Set when issue_cert returns MC_ERR_PROBLEM because an authorization or the order
     * became invalid: the challenge's (or order's) "error" document (status 0 unless the
     * document names one). sess_last_problem() is then NULL or stale, since the request
     * that saw the invalid object (a poll) succeeded; callers report this one instead.
     * NULL when the CA refused a request (then sess_last_problem() has it). */
    struct sess_problem *problem;
};
void issue_result_free(struct issue_result *r); /* zeroes r; NULL ok */

/* Runs the whole flow. Every solver's records are cleaned up whatever happens. *out is
 * zeroed first; the caller calls issue_result_free whatever the result.
 * MC_ERR_PROBLEM: on an invalid authorization or order, with the challenge's or order's
 * error in out->problem (session.h has no way to set the session's last problem); on a
 * refused request, with sess_last_problem() set and out->problem NULL.
 * MC_ERR_UNSUPPORTED when no solver handles any offered challenge of some authorization,
 * or for a profile the directory does not list (nothing is sent then).
 * MC_ERR_MISMATCH when a supplied CSR's names differ from idents (nothing is sent), the
 * order's identifiers differ from idents, or the issued leaf's SANs differ from the
 * order's identifiers or its key from the CSR's. MC_ERR_INVALID for a malformed server
 * answer (a bad URL, status, token or Content-Type), MC_ERR_STATE for an authorization
 * or order that stopped in an unexpected state, MC_ERR_TIMEOUT when a poll ran out. */
MC_MUST_CHECK enum mc_err issue_cert(struct sess *s, const struct issue_req *req,
                                     struct issue_result *out);

#endif
