/* afault.c: the ACME and CertCentral meaning of a fault rule (afault.h has the contract). */
#include "mockca/acme/afault.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/b64url.h"
#include "common/clock.h"
#include "common/json.h"
#include "common/log.h"
#include "mockca/acme/nonce.h"
#include "mockca/acme/problem.h"
#include "mockca/acme/render.h"
#include "mockca/cc/cc.h"
#include "mockca/internal.h"
#include "mockca/issueq.h"
#include "mockca/vaq.h"

#define AFAULT_TARGET_MAX 1100       /* a rule's target (<= 1024) plus the namespace marks */
#define AFAULT_PROTECTED_MAX 4096    /* a JWS protected header longer than this is not peeked */
#define AFAULT_SUBJECT_MAX 128
#define AFAULT_CONFIG_MAX_JSON (1024 * 1024)
#define AFAULT_RETRY_AFTER_TEXT_MAX 64

/* Namespaces: every event's target is written "ns:TARGET@ns" and every rule's target is
 * rewritten to the same shape, so that each of the engine's three glob forms ("*",
 * "prefix*", "*.suffix") still works yet stays inside its namespace: "ns:*" and
 * "ns:prefix*" anchor at the front, "*.suffix@ns" at the back. */
#define AFAULT_NS_ACME "acme"
#define AFAULT_NS_CC "cc"
#define AFAULT_NS_VA "va"
#define AFAULT_NS_ISSUE "issue"

/* Not JSON, not UTF-8, and with a NUL: a parser that trusts Content-Type must fail. */
static const char afault_garbage[] = "{\"status\": \xff\xfe\x00\x01<html>garbage\x80";

static const struct {
    const char *name;
    int kind;
    unsigned servers; /* bit 1 << AFAULT_ACME, 1 << AFAULT_CC */
} afault_kinds[] = {
    {"problem", AFAULT_PROBLEM, 1u << AFAULT_ACME},
    {"error", AFAULT_ERROR, 1u << AFAULT_CC},
    {"badNonce", AFAULT_BAD_NONCE, 1u << AFAULT_ACME},
    {"delay", AFAULT_DELAY, (1u << AFAULT_ACME) | (1u << AFAULT_CC)},
    {"drop", AFAULT_DROP, (1u << AFAULT_ACME) | (1u << AFAULT_CC)},
    {"truncate", AFAULT_TRUNCATE, (1u << AFAULT_ACME) | (1u << AFAULT_CC)},
    {"garbage", AFAULT_GARBAGE, (1u << AFAULT_ACME) | (1u << AFAULT_CC)},
    {"stall_validation", AFAULT_STALL_VALIDATION, 1u << AFAULT_ACME},
    {"stuck_processing", AFAULT_STUCK_PROCESSING, 1u << AFAULT_ACME},
};
#define AFAULT_NKINDS (sizeof(afault_kinds) / sizeof(afault_kinds[0]))

__attribute__((format(printf, 3, 4))) static enum mc_err afault_fail(char *err, size_t errn,
                                                                     const char *fmt, ...)
{
    if (err != NULL && errn > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errn, fmt, ap);
        va_end(ap);
    }
    return MC_ERR_INVALID;
}

bool afault_server_parse(const char *s, enum afault_server *out)
{
    if (s != NULL && strcmp(s, "acme") == 0) {
        *out = AFAULT_ACME;
        return true;
    }
    if (s != NULL && strcmp(s, "certcentral") == 0) {
        *out = AFAULT_CC;
        return true;
    }
    return false;
}

const char *afault_kind_name(int kind)
{
    for (size_t i = 0; i < AFAULT_NKINDS; i++)
        if (afault_kinds[i].kind == kind)
            return afault_kinds[i].name;
    return "unknown";
}

/* ---- action parsing ------------------------------------------------------------------- */

/* Text for a header or a body field: printable ASCII (no CR/LF to split a header), at
 * most n - 1 bytes. */
static bool afault_text_ok(const char *s, size_t n)
{
    size_t len = strlen(s);
    if (len >= n)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return true;
}

static enum mc_err afault_str_member(const cJSON *j, const char *name, char *dst, size_t n,
                                     char *err, size_t errn)
{
    const char *s = NULL;
    enum mc_err rc = json_get_string(j, name, &s);
    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK || !afault_text_ok(s, n))
        return afault_fail(err, errn, "%s: printable text of at most %zu characters is required",
                           name, n - 1);
    snprintf(dst, n, "%s", s);
    return MC_OK;
}

static enum mc_err afault_retry_after(const cJSON *j, struct fault_action *a, char *err,
                                      size_t errn)
{
    const cJSON *ra = cJSON_GetObjectItemCaseSensitive(j, "retry_after");
    const char *form = NULL;
    enum mc_err rc = json_get_string(j, "retry_after_form", &form);
    bool date = false;

    if (rc == MC_OK) {
        if (strcmp(form, "date") == 0)
            date = true;
        else if (strcmp(form, "seconds") != 0)
            return afault_fail(err, errn, "retry_after_form: \"seconds\" or \"date\"");
    } else if (rc != MC_ERR_NOT_FOUND) {
        return afault_fail(err, errn, "retry_after_form: \"seconds\" or \"date\"");
    }
    if (ra == NULL || cJSON_IsNull(ra)) {
        if (form != NULL)
            return afault_fail(err, errn, "retry_after_form without retry_after");
        return MC_OK;
    }
    if (cJSON_IsString(ra)) {
        if (date || form != NULL)
            return afault_fail(err, errn, "retry_after_form goes with a number of seconds");
        if (ra->valuestring[0] == '\0' || ra->valuestring[0] == '@' ||
            !afault_text_ok(ra->valuestring, AFAULT_RETRY_AFTER_TEXT_MAX))
            return afault_fail(err, errn, "retry_after: an HTTP-date or seconds is required");
        snprintf(a->retry_after, sizeof(a->retry_after), "%s", ra->valuestring);
        return MC_OK;
    }
    int64_t s = 0;
    if (json_get_int(j, "retry_after", 0, AFAULT_MAX_RETRY_AFTER_S, &s) != MC_OK)
        return afault_fail(err, errn, "retry_after: whole seconds from 0 to %d, or a string",
                           AFAULT_MAX_RETRY_AFTER_S);
    /* "@N": a date N seconds after the moment the rule fires, computed then. */
    snprintf(a->retry_after, sizeof(a->retry_after), "%s%" PRId64, date ? "@" : "", s);
    return MC_OK;
}

enum mc_err afault_action_parse(enum afault_server server, const cJSON *j,
                                struct fault_action *out, char *err, size_t errn)
{
    static const char *const common_members[] = {"action", "delay_ms"};
    static const char *const reply_members[] = {"status", "retry_after", "retry_after_form"};
    struct fault_action a;
    const char *name = NULL;
    int idx = -1;
    enum mc_err rc;

    memset(&a, 0, sizeof(a));
    if (err != NULL && errn > 0)
        err[0] = '\0';
    if (!cJSON_IsObject(j))
        return afault_fail(err, errn, "action must be an object");
    if (json_get_string(j, "action", &name) != MC_OK)
        return afault_fail(err, errn, "action: a string is required");
    for (size_t i = 0; i < AFAULT_NKINDS; i++)
        if (strcmp(afault_kinds[i].name, name) == 0)
            idx = (int)i;
    if (idx < 0)
        return afault_fail(err, errn,
                           "action: one of problem, error, badNonce, delay, drop, truncate, "
                           "garbage, stall_validation, stuck_processing");
    if ((afault_kinds[idx].servers & (1u << server)) == 0)
        return afault_fail(err, errn, "action: \"%s\" is not a %s action", name,
                           server == AFAULT_CC ? "certcentral" : "acme");
    a.kind = afault_kinds[idx].kind;

    /* Members each action takes; anything else is a typo that would silently change the
     * fault, so it is refused. */
    const cJSON *c;
    cJSON_ArrayForEach(c, j)
    {
        bool ok = false;
        const char *n = c->string != NULL ? c->string : "";
        for (size_t i = 0; i < 2; i++)
            ok = ok || strcmp(n, common_members[i]) == 0;
        if (a.kind == AFAULT_PROBLEM || a.kind == AFAULT_ERROR || a.kind == AFAULT_GARBAGE)
            ok = ok || strcmp(n, reply_members[0]) == 0;
        if (a.kind == AFAULT_PROBLEM || a.kind == AFAULT_ERROR)
            for (size_t i = 1; i < 3; i++)
                ok = ok || strcmp(n, reply_members[i]) == 0;
        if (a.kind == AFAULT_PROBLEM)
            ok = ok || strcmp(n, "type") == 0 || strcmp(n, "detail") == 0;
        if (a.kind == AFAULT_ERROR)
            ok = ok || strcmp(n, "code") == 0 || strcmp(n, "message") == 0;
        if (!ok)
            return afault_fail(err, errn, "action: unknown member \"%.64s\" for %s", n, name);
    }

    int64_t v = 0;
    rc = json_get_int(j, "delay_ms", 0, AFAULT_MAX_DELAY_MS, &v);
    if (rc == MC_OK && (a.kind == AFAULT_STALL_VALIDATION || a.kind == AFAULT_STUCK_PROCESSING) &&
        v > AFAULT_MAX_RECHECK_MS)
        rc = MC_ERR_INVALID;
    if (rc == MC_ERR_NOT_FOUND) {
        if (a.kind == AFAULT_DELAY)
            return afault_fail(err, errn, "delay_ms: required for delay");
        v = (a.kind == AFAULT_STALL_VALIDATION || a.kind == AFAULT_STUCK_PROCESSING)
                ? AFAULT_DEFAULT_RECHECK_MS
                : 0;
    } else if (rc != MC_OK) {
        return afault_fail(err, errn, "delay_ms: an integer from 0 to %d is required",
                           (a.kind == AFAULT_STALL_VALIDATION || a.kind == AFAULT_STUCK_PROCESSING)
                               ? AFAULT_MAX_RECHECK_MS
                               : AFAULT_MAX_DELAY_MS);
    }
    a.delay_ms = v;

    if (a.kind == AFAULT_PROBLEM || a.kind == AFAULT_ERROR || a.kind == AFAULT_GARBAGE) {
        rc = json_get_int(j, "status", 100, 599, &v);
        if (rc == MC_OK)
            a.status = (int)v;
        else if (rc != MC_ERR_NOT_FOUND)
            return afault_fail(err, errn, "status: an integer from 100 to 599 is required");
    }
    if (a.kind == AFAULT_PROBLEM) {
        if (afault_str_member(j, "type", a.type, sizeof(a.type), err, errn) != MC_OK ||
            afault_str_member(j, "detail", a.detail, sizeof(a.detail), err, errn) != MC_OK)
            return MC_ERR_INVALID;
        enum acme_problem p = a.type[0] != '\0' ? acme_problem_parse(a.type) : ACME_P_SERVER_INTERNAL;
        if (p != ACME_P_NONE) /* a known type: its URN; any other URI is sent as given */
            snprintf(a.type, sizeof(a.type), "%s", acme_problem_urn(p));
        else if (strchr(a.type, ':') == NULL)
            return afault_fail(err, errn, "type: an ACME problem name or a URI is required");
        if (a.status == 0)
            a.status = p != ACME_P_NONE ? acme_problem_status(p) : 500;
        if (a.detail[0] == '\0')
            snprintf(a.detail, sizeof(a.detail), "injected fault");
    }
    if (a.kind == AFAULT_ERROR) {
        if (afault_str_member(j, "code", a.type, sizeof(a.type), err, errn) != MC_OK ||
            afault_str_member(j, "message", a.detail, sizeof(a.detail), err, errn) != MC_OK)
            return MC_ERR_INVALID;
        if (a.type[0] == '\0')
            snprintf(a.type, sizeof(a.type), "internal_error");
        if (a.detail[0] == '\0')
            snprintf(a.detail, sizeof(a.detail), "injected fault");
        if (a.status == 0)
            a.status = 500;
    }
    if (a.kind == AFAULT_GARBAGE && a.status == 0)
        a.status = 200;
    if (a.kind == AFAULT_PROBLEM || a.kind == AFAULT_ERROR) {
        rc = afault_retry_after(j, &a, err, errn);
        if (rc != MC_OK)
            return rc;
    }
    if (a.kind == AFAULT_BAD_NONCE) {
        a.status = 400;
        snprintf(a.type, sizeof(a.type), "%s", acme_problem_urn(ACME_P_BAD_NONCE));
        snprintf(a.detail, sizeof(a.detail), "JWS has an invalid anti-replay nonce (injected)");
    }
    *out = a;
    return MC_OK;
}

/* ---- rules ---------------------------------------------------------------------------- */

static const char *afault_ns_of(enum afault_server server, int kind)
{
    if (server == AFAULT_CC)
        return AFAULT_NS_CC;
    if (kind == AFAULT_STALL_VALIDATION)
        return AFAULT_NS_VA;
    if (kind == AFAULT_STUCK_PROCESSING)
        return AFAULT_NS_ISSUE;
    return AFAULT_NS_ACME;
}

/* A rule whose target is a path never fires: ACME events carry the resource's name
 * (afault_resources below; only a path no resource serves is its own name), CertCentral
 * events the route without CC_PREFIX. Refusing such a rule, and naming what to write
 * instead, beats accepting one that silently never fires. */
static enum mc_err afault_target_check(const char *ns, const char *t, char *err, size_t errn)
{
    char probe[AFAULT_TARGET_MAX], route[AFAULT_TARGET_MAX];
    size_t len = t != NULL ? strlen(t) : 0;
    bool glob;

    if (len == 0 || t[0] != '/' || len >= sizeof(probe))
        return MC_OK;
    memcpy(probe, t, len + 1);
    glob = probe[len - 1] == '*';
    if (glob)
        probe[len - 1] = '\0';
    if (strcmp(ns, AFAULT_NS_ACME) == 0) {
        const char *name = afault_acme_resource(probe);
        if (name == probe)
            return MC_OK; /* no resource: the event is named by this path (a 404) */
        return afault_fail(err, errn,
                           "match: target \"%.80s\" is a path, but ACME rules match resource "
                           "names: write \"%s\"", t, name);
    }
    if (strcmp(ns, AFAULT_NS_CC) == 0) {
        if (afault_cc_route(probe, route, sizeof(route)))
            return afault_fail(err, errn,
                               "match: target \"%.80s\" is a path, but CertCentral rules match "
                               "the route after " CC_PREFIX ": write \"%s%s\"", t, route,
                               glob ? "*" : "");
        return afault_fail(err, errn,
                           "match: target \"%.80s\" starts with '/', but CertCentral rules "
                           "match the route after " CC_PREFIX " (such as \"order/certificate/{}\")",
                           t);
    }
    return MC_OK;
}

/* Rewrites m->target into namespace ns (see the top of the file). */
static enum mc_err afault_ns_rule(struct fault_match *m, const char *ns)
{
    char buf[AFAULT_TARGET_MAX];
    const char *t = m->target;
    size_t len = t != NULL ? strlen(t) : 0;
    int w;

    if (t == NULL || strcmp(t, "*") == 0)
        w = snprintf(buf, sizeof(buf), "%s:*", ns);
    else if (strncmp(t, "*.", 2) == 0)
        w = snprintf(buf, sizeof(buf), "%s@%s", t, ns);
    else if (t[len - 1] == '*')
        w = snprintf(buf, sizeof(buf), "%s:%s", ns, t);
    else
        w = snprintf(buf, sizeof(buf), "%s:%s@%s", ns, t, ns);
    if (w < 0 || (size_t)w >= sizeof(buf))
        return MC_ERR_TOO_BIG;
    char *copy = strdup(buf);
    if (copy == NULL)
        return MC_ERR_NOMEM;
    free(m->target);
    m->target = copy;
    return MC_OK;
}

/* The event target "ns:t@ns" in buf; false when it does not fit (no rule can match it
 * then but "ns:*", which the caller gives up: a fault is never worth a wrong answer). */
static bool afault_ns_event(const char *ns, const char *t, char *buf, size_t n)
{
    int w = snprintf(buf, n, "%s:%s@%s", ns, t, ns);
    return w >= 0 && (size_t)w < n;
}

static enum mc_err afault_parse_parts(const char *server, const cJSON *match, const cJSON *action,
                                      struct fault_match *m, struct fault_action *a, char *err,
                                      size_t errn)
{
    enum afault_server srv = AFAULT_ACME;
    cJSON *empty = NULL;
    enum mc_err rc;

    memset(m, 0, sizeof(*m));
    if (server != NULL && !afault_server_parse(server, &srv))
        return afault_fail(err, errn, "server: \"acme\" or \"certcentral\" (DNS faults are "
                                      "dnsmock's: /add-dns-fault)");
    if (action == NULL)
        return afault_fail(err, errn, "action: an object is required");
    rc = afault_action_parse(srv, action, a, err, errn);
    if (rc != MC_OK)
        return rc;
    if (match == NULL || cJSON_IsNull(match)) {
        empty = cJSON_CreateObject();
        if (empty == NULL)
            return MC_ERR_NOMEM;
        match = empty;
    }
    char merr[200] = "";
    rc = fault_match_parse(match, m, merr, sizeof(merr));
    cJSON_Delete(empty);
    if (rc != MC_OK)
        return afault_fail(err, errn, "match: %s", merr[0] != '\0' ? merr : "invalid");
    if (m->target != NULL && m->target[0] == '\0') {
        fault_match_clear(m);
        return afault_fail(err, errn, "match: target must not be empty");
    }
    rc = afault_target_check(afault_ns_of(srv, a->kind), m->target, err, errn);
    if (rc != MC_OK) {
        fault_match_clear(m);
        return rc;
    }
    rc = afault_ns_rule(m, afault_ns_of(srv, a->kind));
    if (rc != MC_OK) {
        fault_match_clear(m);
        return rc == MC_ERR_TOO_BIG ? afault_fail(err, errn, "match: target is too long") : rc;
    }
    return MC_OK;
}

enum mc_err afault_rule_parse(const cJSON *rule, struct fault_match *m, struct fault_action *a,
                              char *err, size_t errn)
{
    const char *server = NULL;

    memset(m, 0, sizeof(*m));
    if (!cJSON_IsObject(rule))
        return afault_fail(err, errn, "a rule must be an object {server, match, action}");
    const cJSON *c;
    cJSON_ArrayForEach(c, rule)
    {
        const char *n = c->string != NULL ? c->string : "";
        if (strcmp(n, "server") != 0 && strcmp(n, "match") != 0 && strcmp(n, "action") != 0)
            return afault_fail(err, errn, "unknown member \"%.64s\" (expected server, match, "
                                          "action)", n);
    }
    enum mc_err rc = json_get_string(rule, "server", &server);
    if (rc != MC_OK && rc != MC_ERR_NOT_FOUND)
        return afault_fail(err, errn, "server: a string is required");
    const cJSON *match = cJSON_GetObjectItemCaseSensitive(rule, "match");
    if (match != NULL && !cJSON_IsNull(match) && !cJSON_IsObject(match))
        return afault_fail(err, errn, "match: an object is required");
    return afault_parse_parts(server, match,
                              cJSON_GetObjectItemCaseSensitive(rule, "action"), m, a, err, errn);
}

enum mc_err afault_add(struct fault_engine *e, const char *server, const cJSON *match,
                       const cJSON *action, uint64_t *id, char *err, size_t errn)
{
    struct fault_match m;
    struct fault_action a;
    cJSON *spec = NULL;
    enum mc_err rc;

    memset(&m, 0, sizeof(m));
    *id = 0;
    if (e == NULL)
        return MC_ERR_INVALID;
    rc = afault_parse_parts(server, match, action, &m, &a, err, errn);
    if (rc != MC_OK)
        goto out;
    rc = MC_ERR_NOMEM;
    spec = cJSON_CreateObject();
    if (spec == NULL ||
        cJSON_AddStringToObject(spec, "server", server != NULL ? server : "acme") == NULL)
        goto out;
    if (match != NULL && !cJSON_IsNull(match)) {
        cJSON *mc = cJSON_Duplicate(match, 1);
        if (mc == NULL)
            goto out;
        cJSON_AddItemToObject(spec, "match", mc);
    }
    cJSON *ac = cJSON_Duplicate(action, 1);
    if (ac == NULL)
        goto out;
    cJSON_AddItemToObject(spec, "action", ac);
    rc = fault_engine_add(e, &m, &a, spec, id);
    if (rc == MC_ERR_LIMIT)
        afault_fail(err, errn, "at most %d fault rules", FAULT_MAX_RULES);
    else if (rc == MC_OK)
        log_msg(LOGL_INFO, "fault.added", "id=%" PRIu64 " server=%s action=%s", *id,
                server != NULL ? server : "acme", afault_kind_name(a.kind));
out:
    fault_match_clear(&m);
    cJSON_Delete(spec);
    return rc;
}

enum mc_err afault_add_rule(struct fault_engine *e, const cJSON *rule, uint64_t *id, char *err,
                            size_t errn)
{
    struct fault_match m;
    struct fault_action a;
    const char *server = NULL;

    *id = 0;
    /* Parsed once here for its errors (unknown members included), then added. */
    enum mc_err rc = afault_rule_parse(rule, &m, &a, err, errn);
    fault_match_clear(&m);
    if (rc != MC_OK)
        return rc;
    if (json_get_string(rule, "server", &server) != MC_OK)
        server = NULL;
    return afault_add(e, server, cJSON_GetObjectItemCaseSensitive(rule, "match"),
                      cJSON_GetObjectItemCaseSensitive(rule, "action"), id, err, errn);
}

enum mc_err afault_fired(struct fault_engine *e, uint64_t id, uint64_t *fired)
{
    cJSON *list = fault_engine_list(e), *r;
    enum mc_err rc = MC_ERR_NOT_FOUND;

    *fired = 0;
    if (list == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(r, list)
    {
        int64_t rid = 0, f = 0;
        if (json_get_int(r, "id", 1, INT64_MAX, &rid) != MC_OK || (uint64_t)rid != id)
            continue;
        if (json_get_int(r, "fired", 0, INT64_MAX, &f) != MC_OK)
            f = 0;
        *fired = (uint64_t)f;
        rc = MC_OK;
        break;
    }
    cJSON_Delete(list);
    return rc;
}

enum mc_err afault_load_config(struct mockca *m, char *err, size_t errn)
{
    cJSON *arr = NULL;
    enum mc_err rc = MC_OK;
    size_t i = 0;

    if (m->cfg.faults_json == NULL)
        return MC_OK;
    rc = json_parse(m->cfg.faults_json, strlen(m->cfg.faults_json), AFAULT_CONFIG_MAX_JSON,
                    JSON_DEFAULT_MAX_DEPTH, &arr);
    if (rc != MC_OK || !cJSON_IsArray(arr)) {
        rc = afault_fail(err, errn, "faults: a JSON array of rules is required");
        goto out;
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, arr)
    {
        char e1[200] = "";
        uint64_t id = 0;
        rc = afault_add_rule(m->faults, r, &id, e1, sizeof(e1));
        if (rc != MC_OK) {
            afault_fail(err, errn, "faults[%zu]: %s", i, e1[0] != '\0' ? e1 : mc_strerror(rc));
            goto out;
        }
        i++;
    }
    if (i > 0)
        log_msg(LOGL_INFO, "fault.config", "rules=%zu seed=%" PRIu64, i,
                fault_engine_seed(m->faults));
out:
    cJSON_Delete(arr);
    return rc;
}

/* ---- events ---------------------------------------------------------------------------- */

static const struct {
    const char *path;
    bool prefix;
    const char *name;
} afault_resources[] = {
    {ACME_PATH_DIRECTORY, false, "directory"},
    {ACME_PATH_NONCE, false, "newNonce"},
    {ACME_PATH_NEW_ACCOUNT, false, "newAccount"},
    {ACME_PATH_ACCOUNT, true, "account"},
    {ACME_PATH_KEY_CHANGE, false, "keyChange"},
    {ACME_PATH_ORDERS, true, "orders"},
    {ACME_PATH_NEW_ORDER, false, "newOrder"},
    {ACME_PATH_ORDER, true, "order"},
    {ACME_PATH_NEW_AUTHZ, false, "newAuthz"},
    {ACME_PATH_AUTHZ, true, "authz"},
    {ACME_PATH_CHALLENGE, true, "challenge"},
    {ACME_PATH_FINALIZE, true, "finalize"},
    {ACME_PATH_CERT, true, "cert"},
    {ACME_PATH_REVOKE, false, "revokeCert"},
    {ACME_PATH_RENEWAL_INFO, true, "renewalInfo"},
    {MOCKCA_PATH_OCSP, false, "ocsp"},
    {MOCKCA_PATH_OCSP "/", true, "ocsp"},
    {MOCKCA_PATH_CRL, false, "crl"},
    {MOCKCA_PATH_ISSUER, false, "issuer"},
};

const char *afault_acme_resource(const char *path)
{
    for (size_t i = 0; i < sizeof(afault_resources) / sizeof(afault_resources[0]); i++) {
        const char *p = afault_resources[i].path;
        if (afault_resources[i].prefix ? strncmp(path, p, strlen(p)) == 0 : strcmp(path, p) == 0)
            return afault_resources[i].name;
    }
    return path;
}

bool afault_cc_route(const char *path, char *out, size_t n)
{
    size_t plen = strlen(CC_PREFIX), w = 0;
    const char *s;

    if (n == 0 || strncmp(path, CC_PREFIX, plen) != 0)
        return false;
    s = path + plen;
    while (*s != '\0') {
        size_t seg = strcspn(s, "/");
        bool digits = seg > 0;
        for (size_t i = 0; i < seg; i++)
            digits = digits && isdigit((unsigned char)s[i]);
        const char *piece = digits ? "{}" : s;
        size_t plen2 = digits ? 2 : seg;
        if (w + plen2 + 1 >= n)
            return false;
        memcpy(out + w, piece, plen2);
        w += plen2;
        s += seg;
        if (*s == '/') {
            out[w++] = '/';
            s++;
        }
    }
    out[w] = '\0';
    return true;
}

/* Reads the JWS protected header of a flattened JSON serialization without verifying
 * anything: the account id of its kid (when it is one of ours) into subject, and its nonce
 * into nonce. The handler checks the request for real later; this only names the event,
 * so a body it cannot read just leaves both empty. */
static void afault_peek_jws(const struct mockca *m, const struct http_request *req, char *subject,
                            size_t sn, char *nonce, size_t nn)
{
    const char *p, *q;
    uint8_t *hdr = NULL;
    size_t hlen = 0;
    cJSON *j = NULL;
    const char *kid = NULL, *nv = NULL;
    size_t pre = strlen(m->account_prefix);

    subject[0] = nonce[0] = '\0';
    if (req->body == NULL || req->body_len == 0)
        return;
    p = strstr((const char *)req->body, "\"protected\"");
    if (p == NULL)
        return;
    p += strlen("\"protected\"");
    p += strspn(p, " \t\r\n");
    if (*p != ':')
        return;
    p++;
    p += strspn(p, " \t\r\n");
    if (*p != '"')
        return;
    p++;
    q = strchr(p, '"');
    if (q == NULL || (size_t)(q - p) > AFAULT_PROTECTED_MAX)
        return;
    if (b64url_decode(p, (size_t)(q - p), &hdr, &hlen) != MC_OK)
        goto out;
    if (json_parse((const char *)hdr, hlen, AFAULT_PROTECTED_MAX, 4, &j) != MC_OK)
        goto out;
    if (json_get_string(j, "kid", &kid) == MC_OK && pre > 0 && strncmp(kid, m->account_prefix, pre) == 0)
        snprintf(subject, sn, "%s", kid + pre);
    if (json_get_string(j, "nonce", &nv) == MC_OK)
        snprintf(nonce, nn, "%s", nv);
out:
    cJSON_Delete(j);
    free(hdr);
}

static void afault_header(struct http_response *resp, const char *name, const char *value)
{
    if (http_response_header(resp, name, value) != MC_OK)
        log_msg(LOGL_WARN, "fault.header", "name=%s err=cannot_add", name);
}

static void afault_retry_after_header(const struct fault_action *a, struct http_response *resp)
{
    char date[64];

    if (a->retry_after[0] == '\0')
        return;
    if (a->retry_after[0] != '@') {
        afault_header(resp, "Retry-After", a->retry_after);
        return;
    }
    /* The date is N seconds past REAL time, like the Date header the HTTP layer sends
     * (and mockca_retry_after): a client reads an HTTP-date against its own wall clock, so
     * a date on the virtual clock would make it wait for days (or not at all) once a test
     * has moved that clock. */
    int64_t s = strtoll(a->retry_after + 1, NULL, 10);
    if (mockca_http_date(clock_now(NULL) + s, date, sizeof(date)))
        afault_header(resp, "Retry-After", date);
}

static void afault_cc_error_body(struct http_response *resp, int status, const char *code,
                                 const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *errs = j != NULL ? cJSON_AddArrayToObject(j, "errors") : NULL;
    cJSON *e = cJSON_CreateObject();

    if (errs == NULL || e == NULL || !cJSON_AddItemToArray(errs, e)) {
        cJSON_Delete(e);
        goto fail;
    }
    if (cJSON_AddStringToObject(e, "code", code) == NULL ||
        cJSON_AddStringToObject(e, "message", message) == NULL ||
        http_response_json(resp, status, j) != MC_OK)
        goto fail;
    cJSON_Delete(j);
    return;
fail:
    cJSON_Delete(j);
    resp->status = status;
}

/* Puts a fired action on the wire. nonce: the request's (ACME), used up by badNonce. */
static void afault_apply(struct mockca *m, enum afault_server srv, const struct fault_action *a,
                         const char *nonce, struct http_response *resp)
{
    if (a->kind != AFAULT_STALL_VALIDATION && a->kind != AFAULT_STUCK_PROCESSING)
        resp->delay_ms = a->delay_ms;
    switch (a->kind) {
    case AFAULT_BAD_NONCE:
        /* As a real rejection does: the nonce is gone, so a client that resends the same
         * JWS fails again instead of passing on the retry. */
        if (nonce != NULL && nonce[0] != '\0' && nonce_redeem(m->nonces, nonce) != MC_OK)
            log_msg(LOGL_DEBUG, "fault.nonce", "err=unknown_nonce");
        /* fall through */
    case AFAULT_PROBLEM:
        if (http_response_problem(resp, a->status, a->type, a->detail, NULL) != MC_OK)
            resp->status = a->status;
        afault_retry_after_header(a, resp);
        break;
    case AFAULT_ERROR:
        afault_cc_error_body(resp, a->status, a->type, a->detail);
        afault_retry_after_header(a, resp);
        break;
    case AFAULT_DROP:
        resp->drop = true;
        break;
    case AFAULT_TRUNCATE:
        resp->truncate = true;
        break;
    case AFAULT_GARBAGE:
        if (http_response_body(resp, a->status, "application/json", afault_garbage,
                               sizeof(afault_garbage) - 1) != MC_OK)
            resp->status = a->status;
        break;
    default: /* delay: resp->delay_ms above is all */
        break;
    }
    (void)srv;
}

bool afault_acme_before(struct mockca *m, const struct http_request *req,
                        struct http_response *resp)
{
    char target[AFAULT_TARGET_MAX], subject[AFAULT_SUBJECT_MAX], nonce[NONCE_LEN + 8];
    struct fault_action a;
    uint64_t id = 0;
    const char *res = afault_acme_resource(req->path);

    /* With no rule there is nothing to match: the JWS is not parsed a second time. */
    if (fault_engine_empty(m->faults) ||
        !afault_ns_event(AFAULT_NS_ACME, res, target, sizeof(target)))
        return false;
    subject[0] = nonce[0] = '\0';
    if (strcmp(req->method, "POST") == 0)
        afault_peek_jws(m, req, subject, sizeof(subject), nonce, sizeof(nonce));
    if (!fault_engine_check(m->faults, target, req->method, subject[0] != '\0' ? subject : NULL,
                            &a, &id))
        return false;
    log_msg(LOGL_INFO, "fault.fired", "server=acme rule=%" PRIu64 " resource=%s method=%s "
            "action=%s status=%d", id, res, req->method, afault_kind_name(a.kind), a.status);
    afault_apply(m, AFAULT_ACME, &a, nonce, resp);
    return true;
}

bool afault_cc_before(struct mockca *m, const struct http_request *req,
                      struct http_response *resp)
{
    char route[512], target[AFAULT_TARGET_MAX];
    struct fault_action a;
    uint64_t id = 0;
    const char *key = http_request_header(req, "X-DC-DEVKEY");

    if (fault_engine_empty(m->faults) || !afault_cc_route(req->path, route, sizeof(route)) ||
        !afault_ns_event(AFAULT_NS_CC, route, target, sizeof(target)))
        return false;
    if (!fault_engine_check(m->faults, target, req->method,
                            key != NULL && key[0] != '\0' ? key : NULL, &a, &id))
        return false;
    log_msg(LOGL_INFO, "fault.fired", "server=certcentral rule=%" PRIu64 " route=%s method=%s "
            "action=%s status=%d", id, route, req->method, afault_kind_name(a.kind), a.status);
    afault_apply(m, AFAULT_CC, &a, NULL, resp);
    return true;
}

/* ---- held jobs ------------------------------------------------------------------------ */

bool afault_va_hold(void *ctx, const char *chall_type, const char *ident,
                    const char *account_url, int64_t *recheck_ms)
{
    struct mockca *m = ctx;
    char target[AFAULT_TARGET_MAX];
    const char *subject = NULL;
    size_t pre = strlen(m->account_prefix);
    struct fault_action a;
    uint64_t id = 0;

    if (m->faults == NULL || ident == NULL ||
        !afault_ns_event(AFAULT_NS_VA, ident, target, sizeof(target)))
        return false;
    if (account_url != NULL && pre > 0 && strncmp(account_url, m->account_prefix, pre) == 0)
        subject = account_url + pre;
    if (!fault_engine_check(m->faults, target, chall_type, subject, &a, &id))
        return false;
    log_msg(LOGL_INFO, "fault.fired", "server=acme rule=%" PRIu64 " event=validation ident=%s "
            "type=%s action=stall_validation", id, ident, chall_type != NULL ? chall_type : "-");
    *recheck_ms = a.delay_ms > 0 ? a.delay_ms : AFAULT_DEFAULT_RECHECK_MS;
    return true;
}

bool afault_issue_hold(void *ctx, const char *subject, int64_t *recheck_ms)
{
    struct mockca *m = ctx;
    char target[64];
    struct fault_action a;
    uint64_t id = 0;

    if (m->faults == NULL || !afault_ns_event(AFAULT_NS_ISSUE, "processing", target, sizeof(target)))
        return false;
    if (!fault_engine_check(m->faults, target, NULL,
                            subject != NULL && subject[0] != '\0' ? subject : NULL, &a, &id))
        return false;
    log_msg(LOGL_INFO, "fault.fired", "server=acme rule=%" PRIu64 " event=issuance "
            "action=stuck_processing", id);
    *recheck_ms = a.delay_ms > 0 ? a.delay_ms : AFAULT_DEFAULT_RECHECK_MS;
    return true;
}

void afault_vaq_config(struct mockca *m, struct vaq_config *vc)
{
    vc->hold = afault_va_hold;
    vc->hold_ctx = m;
}

void afault_issueq_config(struct mockca *m, struct issueq_config *ic)
{
    ic->hold = afault_issue_hold;
    ic->hold_ctx = m;
}
