/* afault.h: what a fault rule means to mockca's ACME and CertCentral front ends, and where
 * mockca asks the rule engine (common/fault.h) for one. Matching (nth, every, probability,
 * times, window, seed) is the engine's; this module names the events, parses the actions
 * and puts them on the wire.
 *
 * A rule, in the management API (POST /add-fault), the config's top-level "faults" array
 * and MOCKCA_FAULTS files:
 *   {"server": "acme" | "certcentral" (default "acme"), "match": {...}, "action": {...}}
 *
 * Events and what a match's target, kind and subject are compared with:
 *   ACME request          target: the resource (directory, newNonce, newAccount, account,
 *                         keyChange, orders, newOrder, order, newAuthz, authz, challenge,
 *                         finalize, cert, revokeCert, renewalInfo, ocsp, crl, issuer; any
 *                         other path: the path itself); kind: the HTTP method; subject:
 *                         the account id of the JWS kid (read, not verified), else none
 *   CertCentral request   target: the path after /services/v2/ with every all-digit
 *                         segment written "{}" ("order/certificate/{}/check-dcv",
 *                         "order/certificate/ssl_basic"); kind: the method; subject: the
 *                         X-DC-DEVKEY header
 *   validation            (only rules whose action is stall_validation) target: the
 *                         identifier ("www.example.com"); kind: the challenge type
 *                         ("http-01"); subject: the account id
 *   issuance              (only rules whose action is stuck_processing) target:
 *                         "processing"; subject: the account id when the job carries it
 * Each kind of event only ever meets rules of its own kind: a rule without a target does
 * not spill over from requests to validations, nor from ACME to CertCentral.
 *
 * Actions (every member but "action" optional; unknown members are refused):
 *   {"action": "problem", "type": "rateLimited" | any URN or URI, "status": 100..599,
 *    "detail": "...", "retry_after": N | "HTTP-date", "retry_after_form": "seconds"|"date"}
 *        ACME only. type defaults to serverInternal, status to the type's usual one.
 *   {"action": "error", "status", "code", "message", "retry_after", "retry_after_form"}
 *        CertCentral only: {"errors":[{"code","message"}]}; defaults 500, "internal_error".
 *   {"action": "badNonce"}                ACME only: 400 badNonce; the request's nonce is used up
 *   {"action": "delay", "delay_ms": N}    answer normally, N ms late (N <= 30000)
 *   {"action": "drop"}                    close the connection without an answer
 *   {"action": "truncate"}                answer normally but send half the body
 *   {"action": "garbage", "status"}       a body that is not JSON (status default 200); the
 *                                         handler does not run
 *   {"action": "stall_validation", "delay_ms": N}   ACME only: a validation whose check
 *        fires is held, its challenge processing, and asked again every N ms (default 100)
 *        until the rule stops firing (its "times" run out, it is deleted); then it runs.
 *   {"action": "stuck_processing", "delay_ms": N}   the same for a finalized order's
 *        issuance: the order stays "processing".
 * "retry_after": N seconds; with "retry_after_form": "date", an IMF-fixdate N seconds past
 * REAL time (not the virtual clock) when the rule fires, as clients read an HTTP-date
 * against their own wall clock and the Date header is real time too; a string is sent
 * verbatim. Every
 * action but the stalls also takes "delay_ms" (answer late). */
#ifndef MOCKCA_ACME_AFAULT_H
#define MOCKCA_ACME_AFAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/fault.h"
#include "common/http.h"

struct mockca;
struct vaq_config;
struct issueq_config;

enum afault_server { AFAULT_ACME = 1, AFAULT_CC };

enum afault_kind {
    AFAULT_PROBLEM = 1,
    AFAULT_ERROR,
    AFAULT_BAD_NONCE,
    AFAULT_DELAY,
    AFAULT_DROP,
    AFAULT_TRUNCATE,
    AFAULT_GARBAGE,
    AFAULT_STALL_VALIDATION,
    AFAULT_STUCK_PROCESSING,
};

#define AFAULT_MAX_DELAY_MS 30000
#define AFAULT_MAX_RETRY_AFTER_S (366 * 86400)
#define AFAULT_DEFAULT_RECHECK_MS 100
#define AFAULT_MAX_RECHECK_MS 10000

/* "acme" -> AFAULT_ACME, "certcentral" -> AFAULT_CC; false for anything else. */
bool afault_server_parse(const char *s, enum afault_server *out);

/* Parses an action (the JSON form above) for server into *out. MC_ERR_INVALID with a
 * message in err (size errn) for an unknown action, an action the server does not have, a
 * member out of range or of the wrong type, or an unknown member. */
MC_MUST_CHECK enum mc_err afault_action_parse(enum afault_server server, const cJSON *j,
                                              struct fault_action *out, char *err, size_t errn);
const char *afault_kind_name(int kind);

/* Parses a whole rule {"server"?, "match"?, "action"} into *m (caller releases with
 * fault_match_clear) and *a, with m's target rewritten so that it meets only the events
 * of its server and action (see above). MC_ERR_INVALID with a message in err otherwise. */
MC_MUST_CHECK enum mc_err afault_rule_parse(const cJSON *rule, struct fault_match *m,
                                            struct fault_action *a, char *err, size_t errn);

/* Adds the rule (server, match, action) to e: match may be NULL (every event); the rule's
 * spec, shown by GET /faults, is {"server", "match", "action"}. *id gets its id.
 * MC_ERR_INVALID (message in err) for a bad rule, MC_ERR_LIMIT past FAULT_MAX_RULES. The
 * body of mockca_fault_add (mockca.h). */
MC_MUST_CHECK enum mc_err afault_add(struct fault_engine *e, const char *server,
                                     const cJSON *match, const cJSON *action, uint64_t *id,
                                     char *err, size_t errn);
/* afault_add of a rule object {"server"?, "match"?, "action"}; unknown members refused. */
MC_MUST_CHECK enum mc_err afault_add_rule(struct fault_engine *e, const cJSON *rule,
                                          uint64_t *id, char *err, size_t errn);
/* How many times rule id has fired. MC_ERR_NOT_FOUND when e has no such rule. */
MC_MUST_CHECK enum mc_err afault_fired(struct fault_engine *e, uint64_t id, uint64_t *fired);

/* Adds the rules of m->cfg.faults_json (config "faults", MOCKCA_FAULTS) to m->faults, in
 * order. MC_ERR_INVALID naming the rule's index in err for one that does not parse. */
MC_MUST_CHECK enum mc_err afault_load_config(struct mockca *m, char *err, size_t errn);

/* The ACME listener's check, from wfe's before hook: offers the request to m->faults and
 * applies the action of a rule that fires to resp. Returns true when one fired. */
bool afault_acme_before(struct mockca *m, const struct http_request *req,
                        struct http_response *resp);
/* The same for a request under /services/v2/ (CertCentral), from mockca's before hook. */
bool afault_cc_before(struct mockca *m, const struct http_request *req,
                      struct http_response *resp);

/* Sets the hold hooks of the validation and issuance queues to m's fault engine (the
 * stall_validation and stuck_processing actions). m must outlive the queues. */
void afault_vaq_config(struct mockca *m, struct vaq_config *vc);
void afault_issueq_config(struct mockca *m, struct issueq_config *ic);

/* The hooks themselves (ctx: the struct mockca): true to hold the job, with the time to
 * wait before asking again in *recheck_ms. account_url / subject may be NULL. */
bool afault_va_hold(void *ctx, const char *chall_type, const char *ident,
                    const char *account_url, int64_t *recheck_ms);
bool afault_issue_hold(void *ctx, const char *subject, int64_t *recheck_ms);

/* Event names, exposed for tests: the ACME resource of path (a static string, or path
 * itself when it names none), and the CertCentral route of path (after CC_PREFIX) in out
 * (size n); false when it does not fit or path is not under CC_PREFIX. */
const char *afault_acme_resource(const char *path);
bool afault_cc_route(const char *path, char *out, size_t n);

#endif
