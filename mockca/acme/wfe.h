/* wfe.h: the ACME web front end: the route table (Pebble's paths, render.h), the hooks every
 * response passes through (Replay-Nonce, Link rel="index", Cache-Control), problem documents
 * for the HTTP layer's own 404/405/413, and the helpers handlers share: writing a problem
 * document, running the signed-request chokepoint (request.h) for a request, and Link
 * headers. Routes of modules not written yet are absent, so they answer 404 problems. */
#ifndef MOCKCA_ACME_WFE_H
#define MOCKCA_ACME_WFE_H

#include <stdbool.h>

#include "common/err.h"
#include "common/http.h"
#include "mockca/acme/problem.h"
#include "mockca/acme/request.h"

struct mockca;

/* Fills *out for the ACME listener of m: routes, hooks (ctx m), the TLS identity of m, and
 * bind address and port as given (bind_addr borrowed). The caller starts it. */
void wfe_server_config(struct mockca *m, const char *bind_addr, uint16_t port,
                       struct http_server_config *out);

/* Fills m->check: the account URL prefix, and the nonce and account callbacks over m's
 * nonce store (with Pebble's rejection of cfg.nonce_reject_pct % of good nonces, drawn from
 * m's seeded generator) and account store. */
void wfe_check_config(struct mockca *m);

/* Writes e as an application/problem+json document (RFC 8555 section 6.7) with e->status
 * (the type's default when 0), replacing any body. A badSignatureAlgorithm problem lists
 * the accepted algorithms in "algorithms" (section 6.2). */
void wfe_problem(struct http_response *resp, const struct acme_error *e);
/* wfe_problem of a problem made from type, status (0: default) and a printf detail. */
void wfe_problemf(struct http_response *resp, enum acme_problem type, int status, const char *fmt,
                  ...) __attribute__((format(printf, 4, 5)));

/* Runs acme_check_request for req: the URL is m's base_url + req->path (+ "?" + query when
 * query is not NULL: the layer hands out the path without its query string, so a route that
 * takes one rebuilds it), its Content-Type header and body. true with *out filled (caller
 * frees with acme_signed_free); false with the problem already written to resp. */
MC_MUST_CHECK bool wfe_check(struct mockca *m, const struct http_request *req, const char *query,
                             enum acme_auth auth, enum acme_payload payload,
                             struct acme_signed *out, struct http_response *resp);

/* Adds `Link: <url>;rel="rel"`. MC_ERR_LIMIT when the response holds too many headers. */
MC_MUST_CHECK enum mc_err wfe_link(struct http_response *resp, const char *url, const char *rel);
/* Answers j (not freed) as application/json with status; a serverInternal problem when it
 * cannot be printed. */
void wfe_json(struct http_response *resp, int status, const cJSON *j);

#endif
