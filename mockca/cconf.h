/* cconf.h: the client-conformance grader. mockca grades the ACME client in front of it
 * against a catalog of client-side requirements of RFC 8555 (and RFC 8737, 8738, 9773),
 * each with a stable ID, its section and its level, and each checked at one place:
 *
 *   ACME-CLIENT-UA-*, PAG-002      cconf_begin (before routing)
 *   CT, JWS, URL, NONCE, ACCT,
 *   PAG-001, POLL                  acme_check_request (mockca/acme/request.c)
 *   CSR, IDENT, ARI                mockca/acme/order.c
 *   CHAL, ALPN                     the validation workers (mockca/vaq.c, from va.c's result)
 *
 * Every check that runs raises "exercised" for what it grades and a violation when the
 * client fails it, so a requirement is PASS (exercised, never failed), FAIL or SKIP (never
 * exercised). Each violation names its actor, "ACCOUNT_URL (USER_AGENT)" ("no account"
 * before one exists, "no User-Agent" when none was sent), and the exchange it happened in.
 *
 * Modes: lenient (the default) records a client-behaviour violation (polling faster than
 * Retry-After, a missing User-Agent) and answers as usual; strict refuses it with a
 * problem document whose detail names the requirement ID (rateLimited for polling,
 * malformed otherwise). Protocol errors that RFC 8555 makes the server refuse (a wrong
 * Content-Type, a spent nonce, a url mismatch...) are refused in both modes and recorded.
 *
 * Exchanges: cconf_begin and cconf_end bracket each ACME request on its listener thread;
 * a violation raised on that thread in between is attached to that exchange (the request
 * and the response, as the transcript renders them: JWS decoded, secrets redacted). A
 * violation raised elsewhere (a validation worker) has no exchange.
 *
 * Thread-safe. Every function takes a NULL grader as "not grading" and does nothing. */
#ifndef MOCKCA_CCONF_H
#define MOCKCA_CCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/http.h"
#include "common/report.h"
#include "mockca/acme/problem.h"
#include "mockca/va.h"

/* The catalog's IDs, for the call sites. */
#define CCONF_UA_PRESENT "ACME-CLIENT-UA-001"
#define CCONF_UA_PRODUCT "ACME-CLIENT-UA-002"
#define CCONF_CONTENT_TYPE "ACME-CLIENT-CT-001"
#define CCONF_JWS_ALG "ACME-CLIENT-JWS-001"
#define CCONF_JWS_JWK "ACME-CLIENT-JWS-002"
#define CCONF_JWS_KID "ACME-CLIENT-JWS-003"
#define CCONF_URL "ACME-CLIENT-URL-001"
#define CCONF_NONCE_ONCE "ACME-CLIENT-NONCE-001"
#define CCONF_NONCE_RETRY "ACME-CLIENT-NONCE-002"
#define CCONF_PAG_EMPTY "ACME-CLIENT-PAG-001"
#define CCONF_PAG_NO_GET "ACME-CLIENT-PAG-002"
#define CCONF_ACCT_DEACTIVATED "ACME-CLIENT-ACCT-001"
#define CCONF_POLL "ACME-CLIENT-POLL-001"
#define CCONF_CSR_NAMES "ACME-CLIENT-CSR-001"
#define CCONF_CSR_KEY "ACME-CLIENT-CSR-002"
#define CCONF_CHAL_KEYAUTH "ACME-CLIENT-CHAL-001"
#define CCONF_ALPN "ACME-CLIENT-ALPN-001"
#define CCONF_IDENT_IP "ACME-CLIENT-IDENT-001"
#define CCONF_ARI_REPLACES "ACME-CLIENT-ARI-001"

/* A poll this much earlier than Retry-After asked, plus a tenth of the wait, still counts
 * as waiting: clocks are read at different moments and an HTTP-date has whole seconds. */
#define CCONF_POLL_TOLERANCE_MS 250

struct cconf;
struct mc_clock;

/* The catalog (static), *n (may be NULL) its length. */
const struct report_req *cconf_catalog(size_t *n);

/* A new grader with an empty report for target (the directory URL; may be NULL) and the
 * run's seed; clock (borrowed, outlives the grader; NULL: real time) dates exchanges and
 * polls; strict chooses the mode. MC_ERR_NOMEM. *out is new (cconf_free). */
MC_MUST_CHECK enum mc_err cconf_new(const char *target, uint64_t seed, struct mc_clock *clock,
                                    bool strict, struct cconf **out);
void cconf_free(struct cconf *c); /* NULL ok */

void cconf_set_strict(struct cconf *c, bool strict);
bool cconf_is_strict(const struct cconf *c);
/* Starts a new report: every result and exchange is forgotten. What the checks track
 * (spent and refused nonces, Retry-After deadlines, User-Agents) is kept, since it
 * describes the server's state, which a reset does not change: a nonce spent before the
 * reset and reused after it is still reuse. MC_ERR_NOMEM leaves the old report in place. */
MC_MUST_CHECK enum mc_err cconf_reset(struct cconf *c);

/* The current report (borrowed; for writing it at the end of a run). Valid until
 * cconf_reset or cconf_free; do not use it concurrently with cconf_reset. The report's
 * end time is set to now. NULL for a NULL grader. */
struct report *cconf_report(struct cconf *c);
/* The report as JSON (report_to_json's model), new object. */
MC_MUST_CHECK enum mc_err cconf_to_json(struct cconf *c, cJSON **out);
enum cconf_form { CCONF_JSON = 0, CCONF_JUNIT, CCONF_HTML };
/* The report in form, written atomically to path. */
MC_MUST_CHECK enum mc_err cconf_write(struct cconf *c, enum cconf_form form, const char *path);
/* The report in form as a new NUL-terminated string (*len its length): for the management
 * API. MC_ERR_IO when the temporary file cannot be written. */
MC_MUST_CHECK enum mc_err cconf_render(struct cconf *c, enum cconf_form form, char **out,
                                       size_t *len);

/* ---- hooks of the ACME listener (not CertCentral) --------------------------------------- */

/* Before routing: opens this thread's exchange and grades the User-Agent of an ACME POST
 * (UA-001, UA-002) and a GET of a resource that takes only POST-as-GET (PAG-002). In
 * strict mode a missing User-Agent is refused here (resp: malformed, naming the ID).
 * Nothing is graded when resp already holds an answer (not ready, a fault). */
void cconf_begin(struct cconf *c, const struct http_request *req, struct http_response *resp);
/* After the answer is complete: records the exchange, attaches this thread's violations to
 * it, and learns what later checks compare against (the Retry-After of a polled resource).
 * Closes the exchange. */
void cconf_end(struct cconf *c, const struct http_request *req, const struct http_response *resp);

/* Called by the request check (acme/request.c) once it has read a JWS's protected header,
 * before verifying it: the kid (NULL: signed with jwk) and whether the payload is not empty
 * (an action, not a poll). Once the report keeps no more exchanges, cconf_end takes the
 * exchange's account from this instead of decoding the request again. */
void cconf_signer(struct cconf *c, const char *kid, bool action);

/* ---- checks ------------------------------------------------------------------------------ */

/* Grades id: exercised, and a violation with the printf detail when !ok. On a listener
 * thread inside cconf_begin/cconf_end, the violation belongs to that exchange (its actor is
 * the exchange's); elsewhere it has no exchange and no actor. */
void cconf_grade(struct cconf *c, const char *id, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* cconf_grade for a check off the listener threads: account_url (may be NULL) is the
 * actor (with the last User-Agent seen from that account). */
void cconf_grade_for(struct cconf *c, const char *id, bool ok, const char *account_url,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* The nonce check (RFC 8555 section 6.5): nonce was redeemed (accepted) or refused. A
 * refused nonce that was redeemed before fails NONCE-001; one refused before (the client
 * retried badNonce with the same nonce) fails NONCE-002. Every accepted nonce exercises
 * NONCE-001, every refusal NONCE-002. */
void cconf_nonce(struct cconf *c, const char *nonce, bool accepted);

/* The polling check (POLL-001) for a verified request of account_url (the kid) to url (the
 * full request URL) with an empty payload (a POST-as-GET): graded when the previous answer
 * for the same account and URL carried Retry-After. ACME_P_NONE to go on; in strict mode a
 * poll that came too early is ACME_P_RATE_LIMITED with err filled (status 429, the ID in
 * the detail). */
enum acme_problem cconf_poll(struct cconf *c, const char *account_url, const char *url,
                             struct acme_error *err);

/* A finished validation of a challenge of type ("http-01", "dns-01", "tls-alpn-01", ...)
 * for account_url: grades CHAL-001 (the published key authorization) for every type and
 * ALPN-001 for tls-alpn-01, from what va.c found wrong (res->client_fault). A validation
 * that failed for another reason (nothing listening, DNS) grades neither. */
void cconf_validation(struct cconf *c, const char *account_url, const char *type,
                      const struct va_result *res);

#endif
