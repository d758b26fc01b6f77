/* issue.c: getting a certificate (issue.h; RFC 8555 sections 7.4 to 7.5.1, RFC 8738, RFC
 * 9773 "replaces", draft-ietf-acme-profiles). Everything the server sends is checked before
 * use: URLs and statuses through wire.h, tokens before they reach a solver, the chain's
 * Content-Type, and the leaf's names and key against what was asked for. */
#include "client/issue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "client/problem.h"
#include "client/renew.h"
#include "client/wire.h"
#include "common/b64url.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

#define ISSUE_DEFAULT_POLL_S 300
#define ISSUE_MAX_CHALLENGES 16   /* per authorization; RFC 8555 CAs offer three or four */
#define ISSUE_NOT_READY_RETRIES 3 /* orderNotReady answers to finalize before giving up */
#define ISSUE_CN_MAX 64           /* RFC 5280 ub-common-name */
#define ISSUE_ISSUER_CN_MAX 256
#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

/* One challenge made visible: what cleanup needs, owned here. */
struct presented {
    struct solver *sv;
    struct ident ident; /* the authorization's identifier, "*." removed */
    char *token, *key_auth, *chall_url, *authz_url;
    enum ch_type type;
};

struct flow {
    struct sess *s;
    const struct issue_req *req;
    long timeout_s;
    struct presented *pres;
    size_t n_pres;
    struct ident_list order_idents;
    struct sess_problem *problem; /* an authorization's or the order's error */
};

static void problem_free(struct sess_problem *p)
{
    prob_clear(p);
    free(p);
}

void issue_result_free(struct issue_result *r)
{
    if (r == NULL)
        return;
    free(r->order_url);
    free(r->cert_url);
    free(r->chain_pem);
    X509_free(r->leaf);
    free(r->issuer_cn);
    problem_free(r->problem);
    memset(r, 0, sizeof *r);
}

/* A problem document carried inside an object (an authorization's challenge "error", an
 * order's "error", RFC 8555 section 7.1.3 and 8) as a struct sess_problem, so the caller
 * reports it the same way as a refused request. The session keeps the problem of the last
 * request only, and that request (a poll) succeeded. Read as the session reads a refusal
 * (prob_from_json), with the document's own status member when it has one: a server's
 * malformed error must not hide the fact that validation failed. */
static enum mc_err problem_from_json(const cJSON *j, long status, struct sess_problem **out)
{
    struct sess_problem *p = calloc(1, sizeof *p);
    enum mc_err err;

    *out = NULL;
    if (p == NULL)
        return MC_ERR_NOMEM;
    p->status = status;
    p->retry_after_s = -1;
    if (j != NULL && cJSON_IsObject(j)) {
        int64_t st = 0;
        if (json_get_int(j, "status", 100, 599, &st) == MC_OK)
            p->status = (long)st; /* the document's own status, RFC 7807 section 3.1 */
    }
    err = prob_from_json(j, IDENT_MAX_COUNT, p);
    if (err != MC_OK)
        goto out;
    *out = p;
    p = NULL;
out:
    problem_free(p);
    return err;
}

/* Keeps the error of a failed authorization or order in the flow (the first one wins: it
 * is the cause, later ones are consequences) and logs it. */
static enum mc_err keep_problem(struct flow *f, const cJSON *errobj, const char *what,
                                const char *url)
{
    struct sess_problem *p = NULL;
    char buf[256], tbuf[128];
    enum mc_err err = problem_from_json(errobj, 0, &p);

    if (err != MC_OK)
        return err;
    /* type and detail are the server's text: quoted, so they cannot forge fields */
    log_msg(LOGL_WARN, "issue.failed", "what=%s url=%s type=%s detail=%s", what, url,
            log_quote(p->type, tbuf, sizeof tbuf),
            log_quote(p->detail != NULL ? p->detail : "", buf, sizeof buf));
    if (f->problem == NULL)
        f->problem = p;
    else
        problem_free(p);
    return MC_ERR_PROBLEM;
}

static bool is_problem(const struct sess *s, const char *name)
{
    const struct sess_problem *p = sess_last_problem(s);
    return p != NULL && p->type != NULL &&
           strncmp(p->type, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)) == 0 &&
           strcmp(p->type + strlen(PROBLEM_PREFIX), name) == 0;
}

/* A URL member of obj, checked (wire_check_url). */
static enum mc_err get_url(const cJSON *obj, const char *key, const char **out)
{
    enum mc_err err = json_get_string(obj, key, out);

    if (err == MC_ERR_NOT_FOUND)
        return MC_ERR_INVALID; /* every URL we ask for is required where we ask */
    if (err != MC_OK)
        return err;
    if (wire_check_url(*out) != MC_OK) {
        log_msg(LOGL_WARN, "issue.bad_url", "member=%s", key);
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

static enum mc_err get_status(const cJSON *obj, enum wire_obj kind, const char **out)
{
    if (json_get_string(obj, "status", out) != MC_OK || wire_check_status(kind, *out) != MC_OK) {
        log_msg(LOGL_WARN, "issue.bad_status", "kind=%d", (int)kind);
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

static const char *ident_type_name(enum ident_type t)
{
    return t == IDENT_IP ? "ip" : "dns";
}

/* {"type": "dns"|"ip", "value": ...} into l (normalized by ident_list_add). */
static enum mc_err ident_from_json(const cJSON *j, struct ident_list *l)
{
    const char *type = NULL, *value = NULL;

    if (!cJSON_IsObject(j) || json_get_string(j, "type", &type) != MC_OK ||
        json_get_string(j, "value", &value) != MC_OK)
        return MC_ERR_INVALID;
    if (strcmp(type, "dns") == 0)
        return ident_list_add(l, IDENT_DNS, value);
    if (strcmp(type, "ip") == 0)
        return ident_list_add(l, IDENT_IP, value);
    return MC_ERR_UNSUPPORTED;
}

/* ---- the request ---------------------------------------------------------------------- */

static enum mc_err check_profile(const struct sess *s, const char *profile)
{
    const struct sess_dir *d = sess_directory(s);

    if (profile == NULL || d == NULL || d->n_profiles == 0)
        return MC_OK; /* a CA that lists none decides itself (invalidProfile) */
    for (size_t i = 0; i < d->n_profiles; i++)
        if (strcmp(d->profile_names[i], profile) == 0)
            return MC_OK;
    log_msg(LOGL_ERROR, "issue.profile_unknown", "profile=%.64s offered=%zu", profile,
            d->n_profiles);
    return MC_ERR_UNSUPPORTED;
}

/* The CSR to send: the user's (its names must be the order's) or one built for cert_key.
 * *key is the public key the leaf must carry (a new reference). */
static enum mc_err make_csr(const struct issue_req *req, X509_REQ **csr, EVP_PKEY **key)
{
    struct csr_info info = {0};
    const char *cn = NULL;
    enum mc_err err;

    *csr = NULL;
    *key = NULL;
    if (req->csr != NULL) {
        err = csr_read(req->csr, &info);
        if (err != MC_OK)
            goto out;
        if (!ident_list_same_set(&info.sans, &req->idents)) {
            log_msg(LOGL_ERROR, "issue.csr_mismatch", "csr_names=%zu idents=%zu", info.sans.n,
                    req->idents.n);
            err = MC_ERR_MISMATCH;
            goto out;
        }
        /* a copy: X509_REQ has no reference count */
        *csr = X509_REQ_dup(req->csr);
        if (*csr == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        *key = info.key;
        info.key = NULL;
        err = MC_OK;
        goto out;
    }
    if (req->cert_key == NULL)
        return MC_ERR_INVALID;
    /* CN: the first DNS identifier that fits (RFC 5280's 64-character bound); an order of
     * IPs only gets no CN, as uacme does, since CAs moving off CNs take that best. */
    for (size_t i = 0; i < req->idents.n && cn == NULL; i++)
        if (req->idents.v[i].type == IDENT_DNS && strlen(req->idents.v[i].value) <= ISSUE_CN_MAX)
            cn = req->idents.v[i].value;
    err = csr_build(req->cert_key, cn, &req->idents, req->must_staple, csr);
    if (err != MC_OK)
        goto out;
    if (EVP_PKEY_up_ref(req->cert_key) != 1) {
        err = MC_ERR_CRYPTO;
        goto out;
    }
    *key = req->cert_key;
out:
    csr_info_free(&info);
    return err;
}

static enum mc_err add_time(cJSON *o, const char *k, int64_t t)
{
    char buf[32];

    if (t == 0)
        return MC_OK;
    if (renew_format_rfc3339(t, buf, sizeof buf)[0] == '\0')
        return MC_ERR_INVALID;
    return cJSON_AddStringToObject(o, k, buf) != NULL ? MC_OK : MC_ERR_NOMEM;
}

static enum mc_err new_order_payload(const struct issue_req *req, cJSON **out)
{
    cJSON *p = cJSON_CreateObject(), *ids = NULL, *id = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    *out = NULL;
    if (p == NULL)
        goto out;
    ids = cJSON_AddArrayToObject(p, "identifiers");
    if (ids == NULL)
        goto out;
    for (size_t i = 0; i < req->idents.n; i++) {
        id = cJSON_CreateObject();
        if (id == NULL ||
            cJSON_AddStringToObject(id, "type", ident_type_name(req->idents.v[i].type)) == NULL ||
            cJSON_AddStringToObject(id, "value", req->idents.v[i].value) == NULL)
            goto out;
        cJSON_AddItemToArray(ids, id);
        id = NULL;
    }
    err = add_time(p, "notBefore", req->not_before);
    if (err == MC_OK)
        err = add_time(p, "notAfter", req->not_after);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    if (req->profile != NULL && cJSON_AddStringToObject(p, "profile", req->profile) == NULL)
        goto out;
    if (req->replaces != NULL && cJSON_AddStringToObject(p, "replaces", req->replaces) == NULL)
        goto out;
    *out = p;
    p = NULL;
    err = MC_OK;
out:
    cJSON_Delete(id);
    cJSON_Delete(p);
    return err;
}

/* ---- authorizations ------------------------------------------------------------------- */

static void presented_clear(struct presented *p)
{
    free(p->ident.value);
    free(p->token);
    free(p->key_auth);
    free(p->chall_url);
    free(p->authz_url);
    memset(p, 0, sizeof *p);
}

static void presented_ctx(const struct flow *f, const struct presented *p, struct chall_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->type = p->type;
    c->ident = &p->ident;
    c->token = p->token;
    c->key_auth = p->key_auth;
    c->account_url = sess_kid(f->s);
}

/* Takes every presented challenge away again; failures are logged, never fatal: the
 * certificate (or the real error) matters more than a leftover record. */
static void cleanup_all(struct flow *f)
{
    for (size_t i = 0; i < f->n_pres; i++) {
        struct chall_ctx c;
        enum mc_err err;

        presented_ctx(f, &f->pres[i], &c);
        err = solver_cleanup(f->pres[i].sv, &c);
        if (err != MC_OK)
            log_msg(LOGL_WARN, "issue.cleanup_failed", "ident=%s type=%s err=%s",
                    f->pres[i].ident.value, ch_type_name(f->pres[i].type), mc_strerror(err));
        presented_clear(&f->pres[i]);
    }
    free(f->pres);
    f->pres = NULL;
    f->n_pres = 0;
}

/* The solver and challenge for one authorization: the first solver, in the user's order,
 * that handles a type the authorization offers. */
static enum mc_err pick(const struct flow *f, const cJSON *challs, struct solver **sv,
                        const cJSON **chall, enum ch_type *type)
{
    const cJSON *it;

    for (size_t i = 0; i < f->req->n_solvers; i++) {
        int n = 0;
        cJSON_ArrayForEach(it, challs)
        {
            const char *tn = NULL;
            enum ch_type t;

            if (++n > ISSUE_MAX_CHALLENGES)
                break;
            if (!cJSON_IsObject(it) || json_get_string(it, "type", &tn) != MC_OK ||
                ch_type_parse(tn, &t) != MC_OK)
                continue; /* a type we do not know is someone else's */
            if (solver_handles(f->req->solvers[i], t)) {
                *sv = f->req->solvers[i];
                *chall = it;
                *type = t;
                return MC_OK;
            }
        }
    }
    return MC_ERR_UNSUPPORTED;
}

/* The error of the challenge we answered in an invalid authorization (or of any challenge
 * that carries one), kept as the flow's problem. */
static enum mc_err authz_failed(struct flow *f, const char *chall_url, const char *authz_url,
                                const cJSON *authz)
{
    const cJSON *challs = NULL, *it, *errobj = NULL;

    if (json_get_array(authz, "challenges", &challs) == MC_OK) {
        cJSON_ArrayForEach(it, challs)
        {
            const char *u = NULL;
            const cJSON *e = NULL;

            if (!cJSON_IsObject(it) || json_get_object(it, "error", &e) != MC_OK)
                continue;
            if (chall_url != NULL && json_get_string(it, "url", &u) == MC_OK &&
                strcmp(u, chall_url) == 0) {
                errobj = e;
                break;
            }
            if (errobj == NULL)
                errobj = e;
        }
    }
    return keep_problem(f, errobj, "authorization", authz_url);
}

/* Fetches one authorization and, unless it is valid already, presents the chosen
 * challenge (recorded in f->pres for cleanup and for the answer). */
static enum mc_err prepare_authz(struct flow *f, const char *authz_url)
{
    struct sess_resp r = {0};
    const cJSON *ident = NULL, *challs = NULL, *chall = NULL;
    const char *status = NULL, *itype = NULL, *ivalue = NULL, *token = NULL, *curl = NULL;
    struct solver *sv = NULL;
    enum ch_type type = 0;
    struct presented p = {0};
    struct chall_ctx c;
    struct ident_list one = {0};
    bool wildcard = false;
    enum mc_err err;

    err = sess_post(f->s, authz_url, NULL, SESS_SIGN_KID, &r);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_INVALID;
    if (r.json == NULL || !cJSON_IsObject(r.json) ||
        get_status(r.json, WIRE_AUTHZ, &status) != MC_OK ||
        json_get_object(r.json, "identifier", &ident) != MC_OK ||
        json_get_string(ident, "type", &itype) != MC_OK ||
        json_get_string(ident, "value", &ivalue) != MC_OK ||
        json_get_array(r.json, "challenges", &challs) != MC_OK)
        goto out;
    if (json_get_bool(r.json, "wildcard", &wildcard) == MC_ERR_INVALID)
        goto out;
    if (strcmp(itype, "dns") == 0)
        p.ident.type = IDENT_DNS;
    else if (strcmp(itype, "ip") == 0)
        p.ident.type = IDENT_IP;
    else {
        err = MC_ERR_UNSUPPORTED;
        goto out;
    }
    /* Section 7.1.4: a wildcard's authorization names the base domain; strip a "*." that
     * a CA leaves in anyway, since the record or file belongs to the base name. */
    if (strncmp(ivalue, "*.", 2) == 0)
        ivalue += 2;
    /* The identifier reaches logs, DNS names and hooks: it must be an LDH name or an IP,
     * and it is used in its normalized form. */
    err = ident_list_add(&one, p.ident.type, ivalue);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "issue.bad_identifier", "url=%s", authz_url);
        err = MC_ERR_INVALID;
        goto out;
    }
    ivalue = one.v[0].value;
    if (strcmp(status, "valid") == 0) {
        log_msg(LOGL_INFO, "issue.authz_valid", "ident=%s", ivalue);
        err = MC_OK;
        goto out;
    }
    if (strcmp(status, "invalid") == 0) {
        /* failed before we answered it (an authorization the CA reused) */
        err = authz_failed(f, NULL, authz_url, r.json);
        goto out;
    }
    if (strcmp(status, "pending") != 0) {
        log_msg(LOGL_ERROR, "issue.authz_state", "ident=%s status=%s", ivalue, status);
        err = MC_ERR_STATE;
        goto out;
    }
    err = pick(f, challs, &sv, &chall, &type);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "issue.no_solver", "ident=%s", ivalue);
        goto out;
    }
    err = MC_ERR_INVALID;
    if (json_get_string(chall, "token", &token) != MC_OK || wire_check_token(token) != MC_OK ||
        get_url(chall, "url", &curl) != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    p.sv = sv;
    p.type = type;
    p.ident.value = strdup(ivalue);
    p.token = strdup(token);
    p.chall_url = strdup(curl);
    p.authz_url = strdup(authz_url);
    if (p.ident.value == NULL || p.token == NULL || p.chall_url == NULL || p.authz_url == NULL)
        goto out;
    err = sess_key_authorization(f->s, token, &p.key_auth);
    if (err != MC_OK)
        goto out;
    struct presented *np = realloc(f->pres, (f->n_pres + 1) * sizeof *np);
    if (np == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    f->pres = np;
    presented_ctx(f, &p, &c);
    err = solver_present(sv, &c);
    if (err != MC_OK) {
        log_msg(LOGL_ERROR, "issue.present_failed", "ident=%s type=%s err=%s", p.ident.value,
                ch_type_name(type), mc_strerror(err));
        goto out;
    }
    log_msg(LOGL_INFO, "issue.presented", "ident=%s type=%s wildcard=%d", p.ident.value,
            ch_type_name(type), (int)wildcard);
    f->pres[f->n_pres++] = p;
    memset(&p, 0, sizeof p);
    err = MC_OK;
out:
    presented_clear(&p);
    ident_list_free(&one);
    sess_resp_free(&r);
    return err;
}

/* Tells the CA to validate each presented challenge, then polls each authorization. */
static enum mc_err answer_all(struct flow *f)
{
    cJSON *empty = NULL, *authz = NULL;
    struct sess_resp r = {0};
    enum mc_err err = MC_OK;

    for (size_t i = 0; i < f->n_pres; i++) {
        struct chall_ctx c;

        presented_ctx(f, &f->pres[i], &c);
        err = solver_wait_ready(f->pres[i].sv, &c);
        if (err != MC_OK)
            goto out;
    }
    empty = cJSON_CreateObject();
    if (empty == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < f->n_pres; i++) {
        const char *st = NULL;

        /* Section 7.5.1: the empty object says "ready, go validate". */
        err = sess_post(f->s, f->pres[i].chall_url, empty, SESS_SIGN_KID, &r);
        if (err != MC_OK)
            goto out;
        if (r.json == NULL || !cJSON_IsObject(r.json) ||
            get_status(r.json, WIRE_CHALLENGE, &st) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        sess_resp_free(&r);
    }
    for (size_t i = 0; i < f->n_pres; i++) {
        const char *st = NULL;

        err = sess_poll(f->s, f->pres[i].authz_url, "authorization", false, f->timeout_s, &authz);
        if (err != MC_OK)
            goto out;
        if (get_status(authz, WIRE_AUTHZ, &st) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        if (strcmp(st, "invalid") == 0) {
            err = authz_failed(f, f->pres[i].chall_url, f->pres[i].authz_url, authz);
            goto out;
        }
        if (strcmp(st, "valid") != 0) {
            log_msg(LOGL_ERROR, "issue.authz_state", "ident=%s status=%s", f->pres[i].ident.value,
                    st);
            err = MC_ERR_STATE;
            goto out;
        }
        cJSON_Delete(authz);
        authz = NULL;
    }
out:
    cJSON_Delete(empty);
    cJSON_Delete(authz);
    sess_resp_free(&r);
    return err;
}

/* ---- the order ------------------------------------------------------------------------ */

/* Polls the order until it stops moving and wants it in state want; an invalid order
 * keeps its error as the problem. */
static enum mc_err poll_order(struct flow *f, const char *url, bool ready_moves, const char *want,
                              cJSON **order)
{
    const char *st = NULL;
    const cJSON *e = NULL;
    enum mc_err err;

    *order = NULL;
    err = sess_poll(f->s, url, "order", ready_moves, f->timeout_s, order);
    if (err != MC_OK)
        return err;
    if (get_status(*order, WIRE_ORDER, &st) != MC_OK)
        return MC_ERR_INVALID;
    if (strcmp(st, want) == 0)
        return MC_OK;
    if (strcmp(st, "invalid") == 0) {
        if (json_get_object(*order, "error", &e) != MC_OK)
            e = NULL;
        return keep_problem(f, e, "order", url);
    }
    log_msg(LOGL_ERROR, "issue.order_state", "status=%s want=%s", st, want);
    return MC_ERR_STATE;
}

static enum mc_err finalize(struct flow *f, const char *order_url, const char *finalize_url,
                            X509_REQ *csr, cJSON **order)
{
    uint8_t *der = NULL;
    size_t n = 0;
    char *b64 = NULL;
    cJSON *payload = NULL, *o = NULL;
    struct sess_resp r = {0};
    enum mc_err err;

    err = csr_to_der(csr, &der, &n);
    if (err == MC_OK)
        err = b64url_encode(der, n, &b64);
    if (err != MC_OK)
        goto out;
    payload = cJSON_CreateObject();
    if (payload == NULL || cJSON_AddStringToObject(payload, "csr", b64) == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    for (int tries = 0;; tries++) {
        err = sess_post(f->s, finalize_url, payload, SESS_SIGN_KID, &r);
        /* orderNotReady: the order looked ready to us but not yet to the CA (a replica
         * behind, certbot 4.1's fix); poll once more and try again, a bounded number of
         * times. */
        if (err != MC_ERR_PROBLEM || !is_problem(f->s, "orderNotReady") ||
            tries >= ISSUE_NOT_READY_RETRIES)
            break;
        sess_resp_free(&r);
        err = poll_order(f, order_url, false, "ready", &o);
        cJSON_Delete(o);
        o = NULL;
        if (err != MC_OK)
            goto out;
    }
    if (err != MC_OK)
        goto out;
    sess_resp_free(&r);
    /* "processing" and (briefly) "ready" still move after finalize; sess_poll honours the
     * order's Retry-After. */
    err = poll_order(f, order_url, true, "valid", order);
out:
    sess_resp_free(&r);
    cJSON_Delete(payload);
    cJSON_Delete(o);
    free(der);
    free(b64);
    return err;
}

/* ---- the certificate ------------------------------------------------------------------ */

/* A new string with the CN of name, or NULL (none, or not representable). */
static char *name_cn(const X509_NAME *name)
{
    int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    char *out = NULL;
    int n;

    if (idx < 0)
        return NULL;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
    if (n < 0)
        return NULL;
    if (n <= ISSUE_ISSUER_CN_MAX && memchr(utf8, '\0', (size_t)n) == NULL)
        out = strndup((const char *)utf8, (size_t)n);
    OPENSSL_free(utf8);
    return out;
}

/* Downloads one chain (section 7.4.2), checks its Content-Type and that it parses. */
static enum mc_err download(struct flow *f, const char *url, struct sess_resp *r,
                            STACK_OF(X509) * *certs)
{
    enum mc_err err;
    size_t ctlen;

    *certs = NULL;
    err = sess_post(f->s, url, NULL, SESS_SIGN_KID, r);
    if (err != MC_OK)
        return err;
    ctlen = r->content_type != NULL ? strcspn(r->content_type, ";") : 0;
    while (ctlen > 0 && r->content_type[ctlen - 1] == ' ')
        ctlen--;
    if (r->content_type == NULL || ctlen != strlen("application/pem-certificate-chain") ||
        strncasecmp(r->content_type, "application/pem-certificate-chain", ctlen) != 0) {
        char buf[128];
        log_msg(LOGL_ERROR, "issue.bad_content_type", "url=%s type=%s", url,
                log_quote(r->content_type != NULL ? r->content_type : "(none)", buf, sizeof buf));
        return MC_ERR_INVALID;
    }
    if (r->body == NULL)
        return MC_ERR_INVALID;
    return pem_read_certs(r->body, r->len, certs);
}

/* The chain's issuer name for preferred-chain matching: the issuer CN of the top
 * certificate (the root it chains to), as lego and certbot compare it. */
static char *chain_issuer(STACK_OF(X509) * certs)
{
    return name_cn(X509_get_issuer_name(sk_X509_value(certs, sk_X509_num(certs) - 1)));
}

static bool chain_matches(STACK_OF(X509) * certs, const char *want)
{
    X509 *top = sk_X509_value(certs, sk_X509_num(certs) - 1);
    char *iss = name_cn(X509_get_issuer_name(top)), *sub = name_cn(X509_get_subject_name(top));
    bool ok = (iss != NULL && strcmp(iss, want) == 0) || (sub != NULL && strcmp(sub, want) == 0);

    free(iss);
    free(sub);
    return ok;
}

/* Checks the leaf against the order (its SANs, section 7.4.2 lets a CA add none) and the
 * CSR's key. */
static enum mc_err check_leaf(const struct flow *f, X509 *leaf, EVP_PKEY *key)
{
    struct ident_list sans = {0};
    enum mc_err err = x509_sans(leaf, &sans);

    if (err != MC_OK)
        return err;
    if (!ident_list_same_set(&sans, &f->order_idents)) {
        log_msg(LOGL_ERROR, "issue.leaf_names", "sans=%zu order=%zu", sans.n, f->order_idents.n);
        err = MC_ERR_MISMATCH;
    } else if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
        log_msg(LOGL_ERROR, "issue.leaf_key", "reason=not_the_csr_key");
        err = MC_ERR_MISMATCH;
    }
    ident_list_free(&sans);
    return err;
}

static enum mc_err fetch_cert(struct flow *f, const char *cert_url, EVP_PKEY *key,
                              struct issue_result *out)
{
    struct sess_resp r = {0}, ar = {0};
    STACK_OF(X509) *certs = NULL, *acerts = NULL;
    const char *chosen_url = cert_url;
    char **alts = NULL;
    size_t n_alts = 0;
    enum mc_err err;

    err = download(f, cert_url, &r, &certs);
    if (err != MC_OK)
        goto out;
    err = check_leaf(f, sk_X509_value(certs, 0), key);
    if (err != MC_OK)
        goto out;
    /* Copy the alternates' URLs: r is reused below. sess_resp_link checked them. */
    while (n_alts < SESS_MAX_LINKS && sess_resp_link(&r, "alternate", n_alts) != NULL)
        n_alts++;
    if (n_alts > 0) {
        alts = calloc(n_alts, sizeof *alts);
        if (alts == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        for (size_t i = 0; i < n_alts; i++) {
            alts[i] = strdup(sess_resp_link(&r, "alternate", i));
            if (alts[i] == NULL) {
                err = MC_ERR_NOMEM;
                goto out;
            }
        }
    }
    out->n_alternates = n_alts;
    if (f->req->preferred_chain != NULL && !chain_matches(certs, f->req->preferred_chain)) {
        for (size_t i = 0; i < n_alts; i++) {
            err = download(f, alts[i], &ar, &acerts);
            if (err != MC_OK)
                goto out;
            /* An alternate is the same certificate under another chain. */
            if (X509_cmp(sk_X509_value(acerts, 0), sk_X509_value(certs, 0)) != 0) {
                log_msg(LOGL_ERROR, "issue.alternate_leaf", "url=%s", alts[i]);
                err = MC_ERR_MISMATCH;
                goto out;
            }
            if (chain_matches(acerts, f->req->preferred_chain)) {
                sess_resp_free(&r);
                sk_X509_pop_free(certs, X509_free);
                r = ar;
                memset(&ar, 0, sizeof ar);
                certs = acerts;
                acerts = NULL;
                chosen_url = alts[i];
                break;
            }
            sess_resp_free(&ar);
            sk_X509_pop_free(acerts, X509_free);
            acerts = NULL;
        }
        if (chosen_url == cert_url)
            /* lego and certbot keep the default chain when none matches */
            log_msg(LOGL_WARN, "issue.preferred_chain_absent", "want=%.64s alternates=%zu",
                    f->req->preferred_chain, n_alts);
    }
    out->cert_url = strdup(chosen_url);
    out->chain_pem = strndup(r.body, r.len);
    out->issuer_cn = chain_issuer(certs);
    out->leaf = X509_dup(sk_X509_value(certs, 0));
    if (out->cert_url == NULL || out->chain_pem == NULL || out->leaf == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = MC_OK;
out:
    for (size_t i = 0; alts != NULL && i < n_alts; i++)
        free(alts[i]);
    free(alts);
    sess_resp_free(&r);
    sess_resp_free(&ar);
    sk_X509_pop_free(certs, X509_free);
    sk_X509_pop_free(acerts, X509_free);
    return err;
}

/* ---- the whole flow ------------------------------------------------------------------- */

enum mc_err issue_cert(struct sess *s, const struct issue_req *req, struct issue_result *out)
{
    struct flow f = {0};
    X509_REQ *csr = NULL;
    EVP_PKEY *key = NULL;
    cJSON *payload = NULL, *order = NULL;
    struct sess_resp r = {0};
    const struct sess_dir *dir = NULL;
    const cJSON *authzs = NULL, *ids = NULL, *it;
    const char *finalize_url = NULL, *cert_url = NULL, *st = NULL;
    char *fin = NULL;
    enum mc_err err;

    if (out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (s == NULL || req == NULL || req->idents.n == 0 || req->idents.n > IDENT_MAX_COUNT ||
        (req->n_solvers > 0 && req->solvers == NULL))
        return MC_ERR_INVALID;
    dir = sess_directory(s);
    if (dir == NULL || dir->new_order == NULL || sess_kid(s) == NULL)
        return MC_ERR_STATE;
    f.s = s;
    f.req = req;
    f.timeout_s = req->poll_timeout_s > 0 ? req->poll_timeout_s : ISSUE_DEFAULT_POLL_S;

    /* Everything that can be refused locally is, before the CA hears of the order. */
    err = check_profile(s, req->profile);
    if (err != MC_OK)
        goto out;
    if (req->not_before != 0 && req->not_after != 0 && req->not_after <= req->not_before) {
        err = MC_ERR_INVALID;
        goto out;
    }
    err = make_csr(req, &csr, &key);
    if (err != MC_OK)
        goto out;
    err = new_order_payload(req, &payload);
    if (err != MC_OK)
        goto out;
    err = sess_post(s, dir->new_order, payload, SESS_SIGN_KID, &r);
    if (err != MC_OK)
        goto out;
    if (r.status != 201 || r.location == NULL || r.json == NULL || !cJSON_IsObject(r.json)) {
        log_msg(LOGL_ERROR, "issue.new_order_answer", "status=%ld", r.status);
        err = MC_ERR_INVALID;
        goto out;
    }
    out->order_url = strdup(r.location);
    if (out->order_url == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = MC_ERR_INVALID;
    if (get_status(r.json, WIRE_ORDER, &st) != MC_OK ||
        json_get_array(r.json, "authorizations", &authzs) != MC_OK ||
        json_get_array(r.json, "identifiers", &ids) != MC_OK ||
        get_url(r.json, "finalize", &finalize_url) != MC_OK ||
        cJSON_GetArraySize(authzs) > IDENT_MAX_COUNT || cJSON_GetArraySize(ids) > IDENT_MAX_COUNT)
        goto out;
    cJSON_ArrayForEach(it, ids)
    {
        err = ident_from_json(it, &f.order_idents);
        if (err != MC_OK)
            goto out;
    }
    /* Section 7.4: the order is for what we asked, or the certificate will not be. */
    if (!ident_list_same_set(&f.order_idents, &req->idents)) {
        err = MC_ERR_MISMATCH;
        goto out;
    }
    if (req->replaces != NULL) {
        const char *echo = NULL;
        if (json_get_string(r.json, "replaces", &echo) != MC_OK || strcmp(echo, req->replaces) != 0)
            log_msg(LOGL_WARN, "issue.replaces_not_echoed", "replaces=%s", req->replaces);
    }
    if (strcmp(st, "invalid") == 0) {
        const cJSON *e = NULL;
        if (json_get_object(r.json, "error", &e) != MC_OK)
            e = NULL;
        err = keep_problem(&f, e, "order", out->order_url);
        goto out;
    }
    fin = strdup(finalize_url);
    if (fin == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    cJSON_ArrayForEach(it, authzs)
    {
        if (!cJSON_IsString(it) || wire_check_url(it->valuestring) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        err = prepare_authz(&f, it->valuestring);
        if (err != MC_OK)
            goto out;
    }
    sess_resp_free(&r);
    err = answer_all(&f);
    if (err != MC_OK)
        goto out;
    err = poll_order(&f, out->order_url, false, "ready", &order);
    if (err != MC_OK)
        goto out;
    cJSON_Delete(order);
    order = NULL;
    err = finalize(&f, out->order_url, fin, csr, &order);
    if (err != MC_OK)
        goto out;
    if (get_url(order, "certificate", &cert_url) != MC_OK) {
        err = MC_ERR_INVALID;
        goto out;
    }
    err = fetch_cert(&f, cert_url, key, out);
    if (err != MC_OK)
        goto out;
    log_msg(LOGL_INFO, "issue.done", "order=%s names=%zu issuer=%s alternates=%zu", out->order_url,
            req->idents.n, out->issuer_cn != NULL ? out->issuer_cn : "", out->n_alternates);
out:
    cleanup_all(&f);
    if (err == MC_ERR_PROBLEM && f.problem != NULL) {
        out->problem = f.problem;
        f.problem = NULL;
    }
    problem_free(f.problem);
    ident_list_free(&f.order_idents);
    sess_resp_free(&r);
    cJSON_Delete(payload);
    cJSON_Delete(order);
    X509_REQ_free(csr);
    EVP_PKEY_free(key);
    free(fin);
    return err;
}
