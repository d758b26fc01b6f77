/* cc_order.c: orders (A1 place, A2 info/list/validation, A3 status), status changes (A6),
 * reissue (A8), revoke and requests (A9), organizations (A5), and issuance with the CA. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/csr.h"
#include "common/json.h"
#include "common/log.h"
#include "common/pem.h"
#include "mockca/cc/cc_int.h"

#define CC_MAX_YEARS 3
#define CC_MAX_DAYS (3 * 365 + 1) /* "> 3 years" is refused (A1) */

void cc_cert_free(struct cc_cert *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->names.n; i++)
        free(x->names.v[i]);
    free(x->names.v);
    free(x->cn);
    free(x->csr);
    X509_free(x->leaf);
    free(x);
}

void cc_order_free(struct cc_order *o)
{
    if (o == NULL)
        return;
    for (size_t i = 0; i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        free(n->name);
        free(n);
    }
    free(o->names.v);
    cJSON_Delete(o->echo);
    free(o);
}

/* ---- the order body ----------------------------------------------------------------- */

/* What a place-order (or reissue) body says, checked; owns its strings. */
struct cc_parsed {
    char *cn;
    char *names[CC_MAX_NAMES]; /* common name first, then dns_names, lowercased, unique */
    size_t nnames;
    char *csr;
    char sig_hash[8];
    int64_t platform_id;
    char method[24];
    int64_t order_end;     /* order validity end */
    int64_t cert_secs;     /* 0: up to the order's end */
    int vyears;
    bool skip_approval, use_auth_key, has_org_id;
    int64_t org_id, renewal_of;
    cJSON *org_inline;     /* borrowed from the body */
    cJSON *echo;           /* owned */
    cJSON *dcv_emails;     /* borrowed */
};

static void cc_parsed_free(struct cc_parsed *p)
{
    free(p->cn);
    for (size_t i = 0; i < p->nnames; i++)
        free(p->names[i]);
    free(p->csr);
    cJSON_Delete(p->echo);
    memset(p, 0, sizeof(*p));
}

struct cc_perr {
    int status;
    const char *code; /* static, or codebuf */
    char codebuf[64];
    char msg[160];
};

static bool cc_fail(struct cc_perr *e, int status, const char *code, const char *field)
{
    e->status = status;
    e->code = code;
    if (field != NULL)
        snprintf(e->msg, sizeof(e->msg), "%s contains an invalid value.", field);
    else
        snprintf(e->msg, sizeof(e->msg), "An error occurred while processing your request.");
    return false;
}

/* Reads {years|days|custom_expiration_date} from obj (the top level, order_validity or
 * cert_validity) with the documented precedence custom_expiration_date > validity_days >
 * validity_years; *end is the resulting end from now, 0 when obj names none. The names
 * are "validity_years" etc. at the top level and "years" etc. inside the objects. */
static bool cc_validity(const cJSON *obj, bool top, int64_t now, int64_t *end, int *years,
                        struct cc_perr *e)
{
    const char *kd = top ? "custom_expiration_date" : "custom_expiration_date";
    const char *kdays = top ? "validity_days" : "days";
    const char *kyears = top ? "validity_years" : "years";
    const char *date = NULL;
    int64_t v = 0, t = 0;
    enum mc_err r;

    *end = 0;
    r = json_get_string(obj, kd, &date);
    if (r == MC_OK) {
        if (!cc_parse_date(date, &t) || t <= now || t > now + (int64_t)CC_MAX_DAYS * CC_DAY)
            return cc_fail(e, 400, "invalid_value:custom_expiration_date",
                           "custom_expiration_date");
        *end = t;
        return true;
    }
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:custom_expiration_date", "custom_expiration_date");
    r = json_get_int(obj, kdays, 1, CC_MAX_DAYS, &v);
    if (r == MC_OK) {
        *end = now + v * CC_DAY;
        return true;
    }
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:validity_days", "validity_days");
    r = json_get_int(obj, kyears, 1, CC_MAX_YEARS, &v);
    if (r == MC_OK) {
        *end = now + v * 365 * CC_DAY;
        *years = (int)v;
        return true;
    }
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:validity_years", "validity_years");
    return true;
}

/* Adds name (lowercased) to p unless already there. */
static bool cc_add_name(struct cc_parsed *p, const char *name, const char *field,
                        struct cc_perr *e)
{
    struct ident_list l = {0};
    bool ok;
    if (strlen(name) == 0 || strlen(name) > IDENT_MAX_LEN ||
        ident_list_add(&l, IDENT_DNS, name) != MC_OK) {
        ident_list_free(&l);
        return cc_fail(e, 400, strcmp(field, "common_name") == 0 ? "invalid_value:common_name"
                                                                  : "invalid_value:dns_names",
                       field);
    }
    for (size_t i = 0; i < p->nnames; i++)
        if (strcmp(p->names[i], l.v[0].value) == 0) {
            ident_list_free(&l);
            return true;
        }
    if (p->nnames == CC_MAX_NAMES) {
        ident_list_free(&l);
        return cc_fail(e, 400, "invalid_value:dns_names", "dns_names");
    }
    p->names[p->nnames] = strdup(l.v[0].value);
    ok = p->names[p->nnames] != NULL;
    if (ok)
        p->nnames++;
    ident_list_free(&l);
    return ok ? true : cc_fail(e, 500, "internal_error", NULL);
}

/* Copies body[key] into p->echo when present with the JSON type want (cJSON type flags);
 * a wrong type is invalid_value:<key>. */
static bool cc_echo(struct cc_parsed *p, const cJSON *from, const char *key, int want,
                    struct cc_perr *e)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, key);
    cJSON *dup;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if ((v->type & 0xFF) != want && !(want == cJSON_True && cJSON_IsBool(v))) {
        e->status = 400;
        snprintf(e->codebuf, sizeof(e->codebuf), "invalid_value:%s", key);
        e->code = e->codebuf;
        snprintf(e->msg, sizeof(e->msg), "%s contains an invalid value.", key);
        return false;
    }
    if (cJSON_IsString(v) && strlen(v->valuestring) > CC_MAX_STR)
        return cc_fail(e, 400, "invalid_value", key);
    dup = cJSON_Duplicate(v, true);
    if (dup == NULL || !cJSON_AddItemToObject(p->echo, key, dup)) {
        cJSON_Delete(dup);
        return cc_fail(e, 500, "internal_error", NULL);
    }
    return true;
}

/* Parses and checks the body of place order (reissue when reissue): everything that needs
 * no store lookup. p is zeroed first; on false e says what to answer. */
static bool cc_order_parse(const cJSON *body, const struct cc_product *prod, bool reissue,
                           int64_t now, struct cc_parsed *p, struct cc_perr *e)
{
    const cJSON *cert = NULL, *arr = NULL, *v = NULL, *ov = NULL;
    const char *s = NULL;
    enum mc_err r;
    int64_t end = 0, cend = 0;
    int vy = 0, cy = 0;

    memset(p, 0, sizeof(*p));
    memset(e, 0, sizeof(*e));
    p->echo = cJSON_CreateObject();
    if (p->echo == NULL)
        return cc_fail(e, 500, "internal_error", NULL);
    if (json_get_object(body, "certificate", &cert) != MC_OK)
        return cc_fail(e, 400, "invalid_value:certificate", "certificate");
    r = json_get_string(cert, "common_name", &s);
    if (r != MC_OK)
        return cc_fail(e, 400, r == MC_ERR_NOT_FOUND ? "missing_param:common_name"
                                                     : "invalid_value:common_name",
                       "common_name");
    if (!cc_add_name(p, s, "common_name", e))
        return false;
    p->cn = strdup(p->names[0]);
    if (p->cn == NULL)
        return cc_fail(e, 500, "internal_error", NULL);
    r = json_get_array(cert, "dns_names", &arr);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:dns_names", "dns_names");
    if (r == MC_OK) {
        if (cJSON_GetArraySize(arr) >= CC_MAX_NAMES)
            return cc_fail(e, 400, "invalid_value:dns_names", "dns_names");
        cJSON_ArrayForEach(v, arr)
        {
            if (!cJSON_IsString(v) || !cc_add_name(p, v->valuestring, "dns_names", e))
                return e->code != NULL ? false
                                       : cc_fail(e, 400, "invalid_value:dns_names", "dns_names");
        }
    }
    if (prod->wildcard && strncmp(p->cn, "*.", 2) != 0)
        return cc_fail(e, 400, "invalid_value:common_name", "common_name");
    r = json_get_string(cert, "csr", &s);
    if (r != MC_OK)
        return cc_fail(e, 400, r == MC_ERR_NOT_FOUND ? "missing_param:csr" : "csr_invalid_cannot_parse",
                       "csr");
    if (strlen(s) > CC_MAX_CSR)
        return cc_fail(e, 400, "csr_invalid_cannot_parse", "csr");
    {
        X509_REQ *req = NULL;
        struct csr_info ci;
        memset(&ci, 0, sizeof(ci));
        bool ok = pem_read_csr(s, strlen(s), &req) == MC_OK && csr_read(req, &ci) == MC_OK;
        X509_REQ_free(req);
        csr_info_free(&ci);
        if (!ok) {
            cc_fail(e, 400, "csr_invalid_cannot_parse", NULL);
            snprintf(e->msg, sizeof(e->msg), "The CSR could not be parsed.");
            return false;
        }
    }
    p->csr = strdup(s);
    if (p->csr == NULL)
        return cc_fail(e, 500, "internal_error", NULL);
    snprintf(p->sig_hash, sizeof(p->sig_hash), "sha256");
    r = json_get_string(cert, "signature_hash", &s);
    if (r == MC_ERR_INVALID ||
        (r == MC_OK && strcmp(s, "sha256") != 0 && strcmp(s, "sha384") != 0 &&
         strcmp(s, "sha512") != 0))
        return cc_fail(e, 400, "invalid_value:signature_hash", "signature_hash");
    if (r == MC_OK)
        snprintf(p->sig_hash, sizeof(p->sig_hash), "%s", s);
    p->platform_id = -1;
    if (json_get_object(cert, "server_platform", &v) == MC_OK) {
        r = json_get_int(v, "id", -1, 100000, &p->platform_id);
        if (r == MC_ERR_INVALID)
            return cc_fail(e, 400, "invalid_value:server_platform", "server_platform");
    } else if (cJSON_GetObjectItemCaseSensitive(cert, "server_platform") != NULL &&
               !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cert, "server_platform"))) {
        return cc_fail(e, 400, "invalid_value:server_platform", "server_platform");
    }
    r = json_get_array(cert, "organization_units", &arr);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:organization_units", "organization_units");
    if (r == MC_OK) {
        cJSON_ArrayForEach(v, arr)
        {
            if (!cJSON_IsString(v))
                return cc_fail(e, 400, "invalid_value:organization_units", "organization_units");
        }
        if (!cc_echo(p, cert, "organization_units", cJSON_Array, e))
            return false;
    }
    if (!cc_echo(p, cert, "ca_cert_id", cJSON_String, e) ||
        !cc_echo(p, cert, "profile_option", cJSON_String, e))
        return false;

    /* Validity (A1): the order's, from order_validity or the top level, and the
     * certificate's own from cert_validity, which may not outlast the order. */
    if (json_get_object(body, "order_validity", &ov) == MC_OK) {
        if (!cc_validity(ov, false, now, &end, &vy, e))
            return false;
    }
    if (end == 0 && !cc_validity(body, true, now, &end, &vy, e))
        return false;
    if (json_get_object(cert, "cert_validity", &v) == MC_OK &&
        !cc_validity(v, false, now, &cend, &cy, e))
        return false;
    if (end == 0 && !reissue) {
        /* [I] a body without any validity gets one year, not an error */
        end = cend != 0 ? cend : now + 365 * CC_DAY;
        vy = cend != 0 ? cy : 1;
    }
    if (cend != 0 && end != 0 && cend > end)
        return cc_fail(e, 400, "cert_validity_exceeds_order_validity", NULL);
    p->order_end = end;
    p->vyears = vy != 0 ? vy : (int)((end - now + CC_DAY * 364) / (365 * CC_DAY));
    p->cert_secs = cend != 0 ? cend - now : 0;

    /* DCV method (A1, A4). */
    snprintf(p->method, sizeof(p->method), "email");
    r = json_get_string(body, "dcv_method", &s);
    if (r == MC_ERR_INVALID || (r == MC_OK && !cc_method_valid(s)))
        return cc_fail(e, 400, "invalid_dcv_method", NULL);
    if (r == MC_OK)
        snprintf(p->method, sizeof(p->method), "%s", s);
    if (prod->vt == CC_VT_DV && strcmp(p->method, "http-token-dynamic") == 0)
        return cc_fail(e, 400, "invalid_dcv_method", NULL);
    if (strncmp(p->method, "http-token", 10) == 0) {
        /* A wildcard name is proved at its base name; over HTTP only when the base name
         * is on the order too. */
        for (size_t i = 0; i < p->nnames; i++) {
            bool base = false;
            if (strncmp(p->names[i], "*.", 2) != 0)
                continue;
            for (size_t k = 0; k < p->nnames; k++)
                base = base || strcmp(p->names[k], p->names[i] + 2) == 0;
            if (!base) {
                cc_fail(e, 400, "invalid_wildcard_dcv_method", NULL);
                snprintf(e->msg, sizeof(e->msg),
                         "The DCV method is not allowed for wildcard domains.");
                return false;
            }
        }
    }
    r = json_get_array(body, "dcv_emails", &arr);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:dcv_emails", "dcv_emails");
    if (r == MC_OK) {
        cJSON_ArrayForEach(v, arr)
        {
            const char *em = NULL, *dn = NULL;
            if (!cJSON_IsObject(v) || json_get_string(v, "email", &em) != MC_OK ||
                json_get_string(v, "dns_name", &dn) == MC_ERR_INVALID || strchr(em, '@') == NULL ||
                strlen(em) > 254)
                return cc_fail(e, 400, "invalid_value:dcv_emails", "dcv_emails");
        }
        p->dcv_emails = (cJSON *)arr;
    }

    r = json_get_bool(body, "skip_approval", &p->skip_approval);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:skip_approval", "skip_approval");
    if (reissue && !p->skip_approval) {
        bool sk = false;
        if (json_get_bool(cert, "skip_approval", &sk) == MC_OK) /* the seed puts it here */
            p->skip_approval = sk;
    }
    r = json_get_bool(body, "use_auth_key", &p->use_auth_key);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:use_auth_key", "use_auth_key");
    if (p->use_auth_key && prod->vt != CC_VT_DV)
        p->use_auth_key = false; /* unsupported on OV/EV: ignored (A10) */
    r = json_get_int(body, "renewal_of_order_id", 1, INT64_MAX, &p->renewal_of);
    if (r == MC_ERR_INVALID)
        return cc_fail(e, 400, "invalid_value:renewal_of_order_id", "renewal_of_order_id");

    if (prod->vt != CC_VT_DV && !reissue) {
        const cJSON *org = NULL;
        if (json_get_object(body, "organization", &org) != MC_OK)
            return cc_fail(e, 400, "invalid_value:organization", "organization");
        r = json_get_int(org, "id", 1, INT64_MAX, &p->org_id);
        if (r == MC_ERR_INVALID)
            return cc_fail(e, 400, "invalid_value:organization", "organization");
        p->has_org_id = r == MC_OK;
        if (!p->has_org_id) {
            const char *nm = NULL;
            if (json_get_string(org, "name", &nm) != MC_OK || nm[0] == '\0' ||
                strlen(nm) > 256)
                return cc_fail(e, 400, "invalid_value:organization", "organization");
            p->org_inline = (cJSON *)org;
        }
        if (!cc_echo(p, org, "contacts", cJSON_Array, e))
            return false;
    }
    {
        static const struct {
            const char *k;
            int t;
        } echo[] = {
            {"comments", cJSON_String},       {"container", cJSON_Object},
            {"custom_fields", cJSON_Array},   {"payment_method", cJSON_String},
            {"auto_renew", cJSON_Number},     {"custom_renewal_message", cJSON_String},
            {"disable_renewal_notifications", cJSON_True},
            {"disable_ct", cJSON_True},       {"locale", cJSON_String},
            {"technical_contact", cJSON_Object}, {"additional_emails", cJSON_Array},
            {"cs_provisioning_method", cJSON_String},
        };
        for (size_t i = 0; i < sizeof(echo) / sizeof(echo[0]); i++)
            if (!cc_echo(p, body, echo[i].k, echo[i].t, e))
                return false;
        if (json_get_string(body, "payment_method", &s) == MC_OK && strcmp(s, "balance") != 0 &&
            strcmp(s, "card") != 0 && strcmp(s, "profile") != 0)
            return cc_fail(e, 400, "invalid_value:payment_method", "payment_method");
    }
    return true;
}

/* ---- issuance ----------------------------------------------------------------------- */

static int64_t cc_max_cert_secs(const struct cc_server *cc, int64_t now)
{
    /* CA/B Forum ballot SC-081: 199 days from 2026-02-24 (A1), 397 before. */
    int64_t days = cc->max_cert_days > 0 ? cc->max_cert_days : now >= 1771891200 ? 199 : 397;
    return days * CC_DAY;
}

bool cc_order_dcv_done(struct cc_server *cc, struct cc_order *o)
{
    for (size_t i = 0; i < o->names.n; i++)
        if (!cc_name_covered(cc, o, o->names.v[i]))
            return false;
    return true;
}

static bool cc_org_ready(struct cc_server *cc, const struct cc_order *o, int64_t now)
{
    struct cc_org *g;
    if (o->product->vt == CC_VT_DV)
        return true;
    g = cc_org_get(cc, o->org_id, 0);
    if (g == NULL)
        return false;
    if (o->product->vt == CC_VT_EV)
        return strcmp(g->ev, "active") == 0 && g->ev_until > now;
    return (strcmp(g->ov, "active") == 0 && g->ov_until > now) ||
           (strcmp(g->ev, "active") == 0 && g->ev_until > now);
}

/* Signs x for o with the CA. */
static bool cc_issue_cert(struct cc_server *cc, struct cc_order *o, struct cc_cert *x, int64_t now)
{
    X509_REQ *req = NULL;
    struct csr_info ci;
    struct ident_list sans = {0};
    struct ca_issue_request ir;
    X509 *leaf = NULL;
    char *serial = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    int64_t secs;
    bool ok = false;

    memset(&ci, 0, sizeof(ci));
    memset(&ir, 0, sizeof(ir));
    if (pem_read_csr(x->csr, strlen(x->csr), &req) != MC_OK || csr_read(req, &ci) != MC_OK)
        goto out;
    for (size_t i = 0; i < x->names.n; i++)
        if (ident_list_add(&sans, IDENT_DNS, x->names.v[i]) != MC_OK)
            goto out;
    secs = x->not_after > 0 ? x->not_after - now : o->cert_secs;
    if (secs <= 0 || now + secs > o->valid_till)
        secs = o->valid_till - now;
    if (secs > cc_max_cert_secs(cc, now))
        secs = cc_max_cert_secs(cc, now);
    if (secs <= 0)
        goto out;
    ir.public_key = ci.key;
    ir.sans = &sans;
    ir.common_name = x->cn;
    ir.not_before = now;
    ir.not_after = now + secs;
    if (ca_issue(cc->ca, &ir, &leaf, &serial) != MC_OK)
        goto out;
    if (X509_digest(leaf, EVP_sha1(), md, &mdlen) != 1)
        goto out;
    for (unsigned int i = 0; i < mdlen && i * 2 + 2 < sizeof(x->thumb); i++)
        snprintf(x->thumb + i * 2, 3, "%02X", md[i]);
    snprintf(x->serial, sizeof(x->serial), "%s", serial);
    x->leaf = leaf;
    leaf = NULL;
    x->not_before = now;
    x->not_after = now + secs;
    x->issued = now;
    x->key_size = EVP_PKEY_get_bits(ci.key);
    snprintf(x->status, sizeof(x->status), "issued");
    ok = true;
out:
    X509_free(leaf);
    free(serial);
    X509_REQ_free(req);
    csr_info_free(&ci);
    ident_list_free(&sans);
    return ok;
}

bool cc_order_try_issue(struct cc_server *cc, struct cc_order *o)
{
    int64_t now = clock_now(cc->clock);
    bool reissue = strcmp(o->status, "reissue_pending") == 0;
    struct cc_cert *x = cc_cert_get(cc, reissue ? o->reissue_cert_id : o->cert_id);
    struct cc_request *r;
    if (x == NULL || x->leaf != NULL)
        return false;
    if (!reissue && strcmp(o->status, "pending") != 0)
        return false;
    r = cc_request_get(cc, x->request_id);
    if (r != NULL && strcmp(r->status, "approved") != 0)
        return false;
    if (!cc_order_dcv_done(cc, o) || !cc_org_ready(cc, o, now))
        return false;
    if (!cc_issue_cert(cc, o, x, now)) {
        log_msg(LOGL_WARN, "cc.issue.failed", "order=%lld", (long long)o->id);
        return false;
    }
    if (reissue) {
        struct cc_cert *old = cc_cert_get(cc, o->cert_id);
        if (old != NULL)
            old->archived = true;
        o->cert_id = x->id;
        o->reissue_cert_id = 0;
    }
    cc_order_set_status(cc, o, "issued");
    log_msg(LOGL_INFO, "cc.issued", "order=%lld cert=%lld serial=%s", (long long)o->id,
            (long long)x->id, x->serial);
    return true;
}

/* ---- creating objects --------------------------------------------------------------- */

static struct cc_request *cc_request_new(struct cc_server *cc, struct cc_ctx *c, const char *type,
                                         int64_t order_id, int64_t cert_id, bool approved,
                                         const char *comments)
{
    struct cc_request *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->id = cc->next_req++;
    r->order_id = order_id;
    r->cert_id = cert_id;
    r->account_id = c->key->account_id;
    r->requester = c->key->user_id;
    r->date = c->now;
    snprintf(r->type, sizeof(r->type), "%s", type);
    snprintf(r->status, sizeof(r->status), "%s", approved ? "approved" : "pending");
    if (approved)
        r->processed = c->now;
    r->comments = comments != NULL ? cc_strdup_cap(comments) : NULL;
    if (cc_vec_push(&cc->requests, r) != MC_OK) {
        free(r->comments);
        free(r);
        return NULL;
    }
    return r;
}

static struct cc_cert *cc_cert_new(struct cc_server *cc, const struct cc_parsed *p,
                                   int64_t order_id, int64_t now)
{
    struct cc_cert *x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    x->id = cc->next_cert++;
    x->order_id = order_id;
    x->created = now;
    snprintf(x->status, sizeof(x->status), "pending");
    x->cn = strdup(p->cn);
    x->csr = strdup(p->csr);
    snprintf(x->sig_hash, sizeof(x->sig_hash), "%s", p->sig_hash);
    x->platform_id = p->platform_id;
    if (p->cert_secs > 0)
        x->not_after = now + p->cert_secs; /* the asked end; re-derived at issuance */
    if (x->cn == NULL || x->csr == NULL)
        goto fail;
    for (size_t i = 0; i < p->nnames; i++) {
        char *n = strdup(p->names[i]);
        if (n == NULL || cc_vec_push(&x->names, n) != MC_OK) {
            free(n);
            goto fail;
        }
    }
    if (cc_vec_push(&cc->certs, x) != MC_OK)
        goto fail;
    return x;
fail:
    cc_cert_free(x);
    return NULL;
}

/* The account's domain object for name (a wildcard's base), made when missing. */
static struct cc_domain *cc_domain_for(struct cc_server *cc, int64_t account, int64_t org,
                                       const char *name, const char *method, int64_t now)
{
    const char *base = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    struct cc_domain *d;
    for (size_t i = 0; i < cc->domains.n; i++) {
        d = cc->domains.v[i];
        if (d->account_id == account && strcmp(d->name, base) == 0)
            return d;
    }
    if (cc->domains.n >= CC_MAX_OBJS)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->id = cc->next_dom++;
    d->account_id = account;
    d->org_id = org;
    d->created = now;
    d->name = strdup(base);
    snprintf(d->method, sizeof(d->method), "%s", method);
    if (d->name == NULL || cc_vec_push(&cc->domains, d) != MC_OK) {
        free(d->name);
        free(d);
        return NULL;
    }
    return d;
}

/* Sets o->names from names (keeping the approvals of names already there). */
static bool cc_order_names(struct cc_server *cc, struct cc_order *o, char *const *names,
                           size_t n, int64_t now)
{
    struct cc_vec nv = {0};
    for (size_t i = 0; i < n; i++) {
        struct cc_name *nm = NULL;
        for (size_t k = 0; k < o->names.n; k++) {
            struct cc_name *old = o->names.v[k];
            if (old != NULL && strcmp(old->name, names[i]) == 0) {
                nm = old;
                o->names.v[k] = NULL;
            }
        }
        if (nm == NULL) {
            nm = calloc(1, sizeof(*nm));
            if (nm == NULL || (nm->name = strdup(names[i])) == NULL) {
                free(nm);
                goto fail;
            }
            if (o->product->vt != CC_VT_DV) {
                struct cc_domain *d =
                    cc_domain_for(cc, o->account_id, o->org_id, names[i], o->method, now);
                nm->domain_id = d != NULL ? d->id : 0;
            }
        }
        if (cc_vec_push(&nv, nm) != MC_OK) {
            free(nm->name);
            free(nm);
            goto fail;
        }
    }
    for (size_t k = 0; k < o->names.n; k++) {
        struct cc_name *old = o->names.v[k];
        if (old != NULL) {
            free(old->name);
            free(old);
        }
    }
    free(o->names.v);
    o->names = nv;
    return true;
fail:
    for (size_t k = 0; k < nv.n; k++) {
        struct cc_name *x = nv.v[k];
        free(x->name);
        free(x);
    }
    free(nv.v);
    return false;
}

/* An email to `only`'s address when the body's dcv_emails names this dns_name. */
static const char *cc_dcv_email_for(const cJSON *dcv_emails, const char *name)
{
    const cJSON *v;
    cJSON_ArrayForEach(v, dcv_emails)
    {
        const char *dn = NULL, *em = NULL;
        if (json_get_string(v, "email", &em) != MC_OK)
            continue;
        if (json_get_string(v, "dns_name", &dn) != MC_OK || strcasecmp(dn, name) == 0)
            return em;
    }
    return NULL;
}

static struct cc_org *cc_org_new(struct cc_server *cc, int64_t account, const cJSON *inl,
                                 int64_t now)
{
    struct cc_org *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->id = cc->next_org++;
    g->account_id = account;
    g->created = now;
    g->info = inl != NULL ? cJSON_Duplicate(inl, true) : cJSON_CreateObject();
    snprintf(g->ov, sizeof(g->ov), "pending");
    if (g->info == NULL || cc_vec_push(&cc->orgs, g) != MC_OK) {
        cJSON_Delete(g->info);
        free(g);
        return NULL;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(g->info, "id");
    return g;
}

static void cc_dcv_token_json(cJSON *o, const char *token, int64_t exp, bool approved)
{
    char ts[40];
    cJSON *t = cJSON_AddObjectToObject(o, "dcv_token");
    if (t == NULL)
        return;
    cc_add_str(t, "token", token);
    cc_add_str(t, "status", approved ? "active" : "pending");
    cc_add_str(t, "expiration_date", cc_iso(exp, ts, sizeof(ts)));
}

/* POST /order/certificate/{product_name_id} (A1). */
void cc_h_order_place(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const struct cc_product *prod = NULL;
    struct cc_parsed p;
    struct cc_perr pe;
    struct cc_order *o = NULL;
    struct cc_cert *x = NULL;
    struct cc_request *r = NULL;
    struct cc_org *g = NULL;
    char **texts = NULL;
    size_t ntexts = 0;
    bool instant = false, approved;
    cJSON *j = NULL;

    memset(&p, 0, sizeof(p));
    if (strcmp(c->arg[0], "ssl") == 0) {
        const cJSON *pr = NULL;
        const char *hint = NULL;
        if (c->body != NULL && json_get_object(c->body, "product", &pr) == MC_OK &&
            json_get_string(pr, "type_hint", &hint) == MC_OK) {
            prod = strcmp(hint, "ov") == 0   ? cc_product_find("ssl_basic")
                   : strcmp(hint, "ev") == 0 ? cc_product_find("ssl_ev_securesite_flex")
                   : strcmp(hint, "dv") == 0 ? cc_product_find("ssl_dv_geotrust")
                                             : NULL;
        }
        if (prod == NULL) {
            cc_err(c, 400, "ambiguous_product", "The product could not be determined.");
            return;
        }
    } else {
        prod = cc_product_find(c->arg[0]);
    }
    if (prod == NULL) {
        cc_err(c, 404, "not_found|product", "The specified product was not found.");
        return;
    }
    if (!cc_need_body(c))
        return;
    if (!cc_order_parse(c->body, prod, false, c->now, &p, &pe)) {
        cc_err(c, pe.status, pe.code, pe.msg);
        goto out;
    }
    if (p.skip_approval && c->key->role != CC_ROLE_ADMIN) {
        cc_err(c, 403, "access_denied|missing_permission",
               "skip_approval needs an administrator key.");
        goto out;
    }
    if (p.renewal_of != 0 && cc_order_get(cc, p.renewal_of, c->key->account_id) == NULL) {
        cc_err(c, 404, "not_found|order", "The specified order was not found.");
        goto out;
    }
    if (p.has_org_id && cc_org_get(cc, p.org_id, c->key->account_id) == NULL) {
        cc_err(c, 404, "not_found|organization", "The specified organization was not found.");
        goto out;
    }
    if (p.use_auth_key && !cc_account_has_authkey(cc, c->key->account_id, c->now)) {
        cc_err(c, 400, "auth_key_not_setup", "An AuthKey has not been set up for your account.");
        goto out;
    }
    if (cc->orders.n >= cc->max_orders) {
        cc_err(c, 429, "request_limit_exceeded", "Service unavailable, please limit request volume");
        goto out;
    }
    /* CAA (RFC 8659; A0's caa_check_failed|<name>) [I]: checked once, at placement, through
     * mockca's VA; the lookups go out without the lock. */
    {
        size_t bad;
        pthread_mutex_unlock(&cc->mu);
        bad = cc_caa_check(cc, p.names, p.nnames);
        pthread_mutex_lock(&cc->mu);
        if (bad < p.nnames) {
            char code[CC_MAX_STR + 32];
            snprintf(code, sizeof(code), "caa_check_failed|%s", p.names[bad]);
            cc_err(c, 400, code, "CAA records do not allow DigiCert to issue for this name.");
            goto out;
        }
    }
    /* Instant DV issuance (A10): every name must show a valid request token where the
     * chosen method looks. The lookups go out without the lock. */
    if (p.use_auth_key && (strcmp(p.method, "dns-txt-token") == 0 ||
                           strcmp(p.method, "http-token") == 0)) {
        instant = true;
        pthread_mutex_unlock(&cc->mu);
        for (size_t i = 0; i < p.nnames && instant; i++) {
            char **t = NULL;
            size_t nt = 0;
            cc_collect_texts(cc, p.names[i], p.method, &t, &nt);
            pthread_mutex_lock(&cc->mu);
            instant = cc_token_found(cc, c->key->account_id, p.csr, t, nt, c->now);
            pthread_mutex_unlock(&cc->mu);
            cc_strv_free(t, nt);
        }
        pthread_mutex_lock(&cc->mu);
        if (cc->orders.n >= cc->max_orders)
            instant = false;
    }
    (void)texts;
    (void)ntexts;

    if (prod->vt != CC_VT_DV) {
        g = p.has_org_id ? cc_org_get(cc, p.org_id, c->key->account_id)
                         : cc_org_new(cc, c->key->account_id, p.org_inline, c->now);
        if (g == NULL) {
            cc_err(c, 404, "not_found|organization", "The specified organization was not found.");
            goto out;
        }
    }
    o = calloc(1, sizeof(*o));
    if (o == NULL)
        goto nomem;
    o->id = cc->next_order++;
    o->account_id = c->key->account_id;
    o->user_id = c->key->user_id;
    o->created = o->updated = c->now;
    o->product = prod;
    o->org_id = g != NULL ? g->id : 0;
    snprintf(o->method, sizeof(o->method), "%s", p.method);
    o->valid_till = p.order_end;
    o->cert_secs = p.cert_secs;
    o->validity_years = p.vyears;
    o->renewal_of = p.renewal_of;
    o->echo = p.echo;
    p.echo = NULL;
    if (cc_method_token(o->method)) {
        if (cc_random_value(o->rv, 32) != MC_OK)
            goto nomem;
        o->rv_exp = c->now + CC_RV_TTL;
    }
    if (cc_vec_push(&cc->orders, o) != MC_OK) {
        cc_order_free(o);
        o = NULL;
        goto nomem;
    }
    if (!cc_order_names(cc, o, p.names, p.nnames, c->now))
        goto nomem;
    x = cc_cert_new(cc, &p, o->id, c->now);
    if (x == NULL)
        goto nomem;
    o->cert_id = x->id;
    approved = p.skip_approval || cc->auto_approve || instant;
    {
        const cJSON *cm = cJSON_GetObjectItemCaseSensitive(o->echo, "comments");
        r = cc_request_new(cc, c, "new_request", o->id, x->id, approved,
                           cJSON_IsString(cm) ? cm->valuestring : NULL);
    }
    if (r == NULL)
        goto nomem;
    x->request_id = r->id;
    o->request_id = r->id;
    if (p.renewal_of != 0) {
        struct cc_order *old = cc_order_get(cc, p.renewal_of, 0);
        if (old != NULL)
            old->is_renewed = true;
    }
    cc_order_set_status(cc, o, approved ? "pending" : "needs_approval");
    if (instant) {
        for (size_t i = 0; i < o->names.n; i++) {
            struct cc_name *n = o->names.v[i];
            n->approved = true;
            n->approved_at = c->now;
        }
    }
    if (strcmp(o->method, "email") == 0) {
        for (size_t i = 0; i < o->names.n; i++) {
            struct cc_name *n = o->names.v[i];
            if (!cc_name_covered(cc, o, n))
                cc_send_emails(cc, o, n->domain_id, n->name,
                               cc_dcv_email_for(p.dcv_emails, n->name));
        }
    }
    (void)cc_order_try_issue(cc, o);

    j = cJSON_CreateObject();
    if (j == NULL)
        goto nomem;
    cc_add_num(j, "id", (double)o->id);
    cc_add_num(j, "certificate_id", (double)x->id);
    {
        cJSON *reqs = cJSON_AddArrayToObject(j, "requests");
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddItemToArray(reqs, ro);
        cc_add_num(ro, "id", (double)r->id);
        cc_add_str(ro, "status", r->status);
    }
    if (cc_method_token(o->method) && x->leaf == NULL) {
        cc_add_str(j, "dcv_random_value", o->rv);
        if (prod->vt != CC_VT_DV) {
            cJSON *doms = cJSON_AddArrayToObject(j, "domains");
            for (size_t i = 0; doms != NULL && i < o->names.n; i++) {
                struct cc_name *n = o->names.v[i];
                struct cc_domain *d = cc_domain_get(cc, n->domain_id, 0);
                cJSON *dj = cJSON_CreateObject();
                cJSON_AddItemToArray(doms, dj);
                cc_add_num(dj, "id", (double)n->domain_id);
                cc_add_str(dj, "name", n->name);
                cc_dcv_token_json(dj, o->rv, o->rv_exp, d != NULL && d->approved);
            }
        }
    }
    if (x->leaf != NULL) {
        cJSON *chain = cc_chain_json(cc, x, true);
        if (chain != NULL)
            cJSON_AddItemToObject(j, "certificate_chain", chain);
    }
    cc_send(c, 201, j);
    j = NULL;
    goto out;
nomem:
    cc_nomem(c);
out:
    cJSON_Delete(j);
    cc_parsed_free(&p);
}

/* ---- order info ---------------------------------------------------------------------- */

/* {order_id} may also be a certificate's thumbprint or serial (A2). */
static struct cc_order *cc_order_lookup(struct cc_ctx *c, const char *s)
{
    int64_t id;
    if (cc_parse_id(s, &id)) {
        struct cc_order *o = cc_order_get(c->cc, id, c->key->account_id);
        if (o != NULL)
            return o;
    }
    if (strlen(s) >= 8 && strlen(s) < 80) {
        for (size_t i = 0; i < c->cc->certs.n; i++) {
            struct cc_cert *x = c->cc->certs.v[i];
            if (x->leaf != NULL &&
                (strcasecmp(x->thumb, s) == 0 || strcasecmp(x->serial, s) == 0))
                return cc_order_get(c->cc, x->order_id, c->key->account_id);
        }
    }
    return NULL;
}

static struct cc_order *cc_order_or_404(struct cc_ctx *c)
{
    struct cc_order *o = cc_order_lookup(c, c->arg[0]);
    if (o == NULL)
        cc_err(c, 404, "not_found|order", "The specified order was not found.");
    return o;
}

static void cc_names_json(cJSON *o, const char *key, const struct cc_cert *x)
{
    cJSON *a = cJSON_AddArrayToObject(o, key);
    for (size_t i = 0; a != NULL && i < x->names.n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(x->names.v[i]));
}

static void cc_user_json(cJSON *o, const char *key, int64_t user_id)
{
    char email[64];
    cJSON *u = cJSON_AddObjectToObject(o, key);
    if (u == NULL)
        return;
    snprintf(email, sizeof(email), "user%lld@example.com", (long long)user_id);
    cc_add_num(u, "id", (double)user_id);
    cc_add_str(u, "first_name", "API");
    cc_add_str(u, "last_name", "User");
    cc_add_str(u, "email", email);
}

void cc_org_json(cJSON *o, const struct cc_org *g, bool full)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(g->info, "name");
    cc_add_num(o, "id", (double)g->id);
    cc_add_str(o, "name", cJSON_IsString(name) ? name->valuestring : "");
    if (!full)
        return;
    static const char *const keys[] = {"assumed_name", "display_name", "address", "address2",
                                       "city", "state", "zip", "country", "telephone"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g->info, keys[i]);
        cc_add_str(o, keys[i], cJSON_IsString(v) ? v->valuestring
                               : strcmp(keys[i], "display_name") == 0 && cJSON_IsString(name)
                                   ? name->valuestring
                                   : "");
    }
    cc_add_str(o, "status", strcmp(g->ov, "active") == 0 || strcmp(g->ev, "active") == 0
                                ? "active"
                                : "pending");
    cJSON_AddBoolToObject(o, "is_active", true);
}

static void cc_cert_json(struct cc_server *cc, cJSON *c, const struct cc_order *o,
                         const struct cc_cert *x, int64_t now)
{
    char ts[40];
    cc_add_num(c, "id", (double)x->id);
    if (x->leaf != NULL) {
        char serial[80];
        snprintf(serial, sizeof(serial), "%s", x->serial);
        for (char *p = serial; *p != '\0'; p++)
            *p = (char)toupper((unsigned char)*p);
        cc_add_str(c, "thumbprint", x->thumb);
        cc_add_str(c, "serial_number", serial);
    }
    cc_add_str(c, "common_name", x->cn);
    cc_names_json(c, "dns_names", x);
    cc_add_str(c, "date_created", cc_iso(x->created, ts, sizeof(ts)));
    if (x->leaf != NULL) {
        cc_add_str(c, "date_issued", cc_iso(x->issued, ts, sizeof(ts)));
        cc_add_str(c, "valid_from", cc_date(x->not_before, ts, sizeof(ts)));
        cc_add_str(c, "valid_till", cc_date(x->not_after, ts, sizeof(ts)));
        cc_add_num(c, "days_remaining",
                   (double)(x->not_after > now ? (x->not_after - now) / CC_DAY : 0));
        cc_add_num(c, "key_size", x->key_size);
    }
    cc_add_str(c, "csr", x->csr);
    cc_add_str(c, "signature_hash", x->sig_hash);
    {
        cJSON *cv = cJSON_AddObjectToObject(c, "cert_validity");
        if (o->cert_secs > 0)
            cc_add_num(cv, "days", (double)(o->cert_secs / CC_DAY));
        else
            cc_add_num(cv, "years", o->validity_years > 0 ? o->validity_years : 1);
    }
    if (o->org_id != 0) {
        cJSON *org = cJSON_AddObjectToObject(c, "organization");
        cc_add_num(org, "id", (double)o->org_id);
    }
    {
        const cJSON *ou = cJSON_GetObjectItemCaseSensitive(o->echo, "organization_units");
        cJSON_AddItemToObject(c, "organization_units",
                              ou != NULL ? cJSON_Duplicate(ou, true) : cJSON_CreateArray());
    }
    {
        cJSON *sp = cJSON_AddObjectToObject(c, "server_platform");
        cc_add_num(sp, "id", (double)x->platform_id);
        cc_add_str(sp, "name", x->platform_id == -1 ? "OTHER" : "Platform");
        cc_add_str(sp, "install_url", "");
        cc_add_str(sp, "csr_url", "");
    }
    {
        cJSON *ca = cJSON_AddObjectToObject(c, "ca_cert");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o->echo, "ca_cert_id");
        cc_add_str(ca, "id", cJSON_IsString(id) ? id->valuestring : "mockca-int-0");
        cc_add_str(ca, "name", "mockca intermediate");
    }
    (void)cc;
}

static cJSON *cc_order_json(struct cc_server *cc, const struct cc_order *o, int64_t now)
{
    char ts[40];
    const struct cc_cert *x = cc_cert_get(cc, o->cert_id);
    cJSON *j = cJSON_CreateObject();
    cJSON *t;
    if (j == NULL)
        return NULL;
    cc_add_num(j, "id", (double)o->id);
    if (x != NULL)
        cc_cert_json(cc, cJSON_AddObjectToObject(j, "certificate"), o, x, now);
    cc_add_str(j, "status", o->status);
    cJSON_AddBoolToObject(j, "is_renewal", o->renewal_of != 0);
    cJSON_AddBoolToObject(j, "is_renewed", o->is_renewed);
    cc_add_num(j, "renewed_order_id", (double)o->renewal_of);
    cc_add_str(j, "date_created", cc_iso(o->created, ts, sizeof(ts)));
    if (o->org_id != 0) {
        const struct cc_org *g = cc_org_get(cc, o->org_id, 0);
        if (g != NULL)
            cc_org_json(cJSON_AddObjectToObject(j, "organization"), g, true);
    }
    cc_add_num(j, "validity_years", o->validity_years > 0 ? o->validity_years : 1);
    cc_add_str(j, "order_valid_till", cc_date(o->valid_till, ts, sizeof(ts)));
    t = cJSON_GetObjectItemCaseSensitive(o->echo, "disable_renewal_notifications");
    cJSON_AddBoolToObject(j, "disable_renewal_notifications", cJSON_IsTrue(t));
    t = cJSON_GetObjectItemCaseSensitive(o->echo, "container");
    {
        cJSON *ct = cJSON_AddObjectToObject(j, "container");
        const cJSON *cid = t != NULL ? cJSON_GetObjectItemCaseSensitive(t, "id") : NULL;
        cc_add_num(ct, "id", cJSON_IsNumber(cid) ? cid->valuedouble : 1);
        cc_add_str(ct, "name", "mockca");
    }
    cc_product_json(cJSON_AddObjectToObject(j, "product"), o->product, true);
    {
        const cJSON *contacts = cJSON_GetObjectItemCaseSensitive(o->echo, "contacts");
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(o->echo, "technical_contact");
        const cJSON *v, *oc = NULL, *tcc = tc;
        cJSON_ArrayForEach(v, contacts)
        {
            const char *ty = NULL;
            if (json_get_string(v, "contact_type", &ty) != MC_OK)
                continue;
            if (strcmp(ty, "organization_contact") == 0 && oc == NULL)
                oc = v;
            if (strcmp(ty, "technical_contact") == 0 && tcc == NULL)
                tcc = v;
        }
        if (oc == NULL && o->org_id != 0) {
            const struct cc_org *g = cc_org_get(cc, o->org_id, 0);
            oc = g != NULL ? cJSON_GetObjectItemCaseSensitive(g->info, "organization_contact")
                           : NULL;
        }
        cJSON_AddItemToObject(j, "organization_contact",
                              oc != NULL ? cJSON_Duplicate(oc, true) : cJSON_CreateObject());
        cJSON_AddItemToObject(j, "technical_contact",
                              tcc != NULL ? cJSON_Duplicate(tcc, true) : cJSON_CreateObject());
    }
    cc_user_json(j, "user", o->user_id);
    {
        cJSON *reqs = cJSON_AddArrayToObject(j, "requests");
        for (size_t i = 0; reqs != NULL && i < cc->requests.n; i++) {
            const struct cc_request *r = cc->requests.v[i];
            if (r->order_id != o->id)
                continue;
            cJSON *ro = cJSON_CreateObject();
            cJSON_AddItemToArray(reqs, ro);
            cc_add_num(ro, "id", (double)r->id);
            cc_add_str(ro, "date", cc_iso(r->date, ts, sizeof(ts)));
            cc_add_str(ro, "type", r->type);
            cc_add_str(ro, "status", r->status);
            cc_add_str(ro, "comments", r->comments);
        }
    }
    cc_add_num(j, "receipt_id", (double)(o->id + 900000));
    t = cJSON_GetObjectItemCaseSensitive(o->echo, "cs_provisioning_method");
    cc_add_str(j, "cs_provisioning_method", cJSON_IsString(t) ? t->valuestring : "none");
    {
        char pub[48];
        snprintf(pub, sizeof(pub), "mockca%lld", (long long)o->id);
        cc_add_str(j, "public_id", pub);
    }
    cJSON_AddBoolToObject(j, "allow_duplicates", false);
    t = cJSON_GetObjectItemCaseSensitive(o->echo, "payment_method");
    cc_add_str(j, "payment_method", cJSON_IsString(t) ? t->valuestring : "balance");
    cc_add_str(j, "dcv_method", o->method);
    static const char *const echoed[] = {"comments", "custom_fields", "locale", "auto_renew",
                                         "custom_renewal_message", "disable_ct",
                                         "additional_emails"};
    for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++) {
        t = cJSON_GetObjectItemCaseSensitive(o->echo, echoed[i]);
        if (t != NULL)
            cJSON_AddItemToObject(j, echoed[i], cJSON_Duplicate(t, true));
    }
    return j;
}

/* GET /order/certificate/{order_id} (A2). */
void cc_h_order_info(struct cc_ctx *c)
{
    struct cc_order *o = cc_order_or_404(c);
    const char *caa;
    cJSON *j;
    if (o == NULL)
        return;
    j = cc_order_json(c->cc, o, c->now);
    caa = http_request_query(c->req, "include_caa_status");
    if (j != NULL && caa != NULL && strcmp(caa, "true") == 0 &&
        (strcmp(o->status, "pending") == 0 || strcmp(o->status, "needs_approval") == 0)) {
        cJSON *m = cJSON_AddObjectToObject(j, "caa_status_message");
        for (size_t i = 0; m != NULL && i < o->names.n; i++)
            cc_add_str(m, ((struct cc_name *)o->names.v[i])->name, "CAA check is not called yet");
    }
    cc_send(c, 200, j);
}

static int cc_cmp_created_asc(const void *a, const void *b)
{
    const struct cc_order *x = *(struct cc_order *const *)a, *y = *(struct cc_order *const *)b;
    return x->created != y->created ? (x->created < y->created ? -1 : 1)
                                    : (x->id < y->id ? -1 : x->id > y->id);
}

static int cc_cmp_created_desc(const void *a, const void *b)
{
    return cc_cmp_created_asc(b, a);
}

static int cc_cmp_id_asc(const void *a, const void *b)
{
    const struct cc_order *x = *(struct cc_order *const *)a, *y = *(struct cc_order *const *)b;
    return x->id < y->id ? -1 : x->id > y->id;
}

static int cc_cmp_id_desc(const void *a, const void *b)
{
    return cc_cmp_id_asc(b, a);
}

static bool cc_query_int(struct cc_ctx *c, const char *name, int64_t min, int64_t max,
                         int64_t def, int64_t *out)
{
    const char *s = http_request_query(c->req, name);
    char *end = NULL;
    long long v;
    *out = def;
    if (s == NULL)
        return true;
    if (s[0] == '\0' || strlen(s) > 18)
        return false;
    v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* GET /order/certificate (A2 list orders). */
void cc_h_order_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *fstatus = http_request_query(c->req, "filters[status]");
    const char *fcn = http_request_query(c->req, "filters[common_name]");
    const char *fprod = http_request_query(c->req, "filters[product_name_id]");
    const char *fdate = http_request_query(c->req, "filters[date_created]");
    const char *sort = http_request_query(c->req, "sort");
    int64_t limit, offset;
    struct cc_order **sel = NULL;
    size_t n = 0;
    char ts[40];
    cJSON *j = NULL, *a;
    int (*cmp)(const void *, const void *) = cc_cmp_created_desc;

    if (!cc_query_int(c, "limit", 1, 1000, 1000, &limit)) {
        cc_err(c, 400, "invalid_value:limit", "limit contains an invalid value.");
        return;
    }
    if (!cc_query_int(c, "offset", 0, INT32_MAX, 0, &offset)) {
        cc_err(c, 400, "invalid_value:offset", "offset contains an invalid value.");
        return;
    }
    if (sort != NULL) {
        if (strcmp(sort, "date_created") == 0)
            cmp = cc_cmp_created_asc;
        else if (strcmp(sort, "-date_created") == 0)
            cmp = cc_cmp_created_desc;
        else if (strcmp(sort, "order_id") == 0 || strcmp(sort, "id") == 0)
            cmp = cc_cmp_id_asc;
        else if (strcmp(sort, "-order_id") == 0 || strcmp(sort, "-id") == 0)
            cmp = cc_cmp_id_desc;
        else {
            cc_err(c, 400, "invalid_value:sort", "sort contains an invalid value.");
            return;
        }
    }
    sel = calloc(cc->orders.n + 1, sizeof(*sel));
    if (sel == NULL) {
        cc_nomem(c);
        return;
    }
    for (size_t i = 0; i < cc->orders.n; i++) {
        struct cc_order *o = cc->orders.v[i];
        const struct cc_cert *x = cc_cert_get(cc, o->cert_id);
        if (o->account_id != c->key->account_id)
            continue;
        if (fstatus != NULL && strcmp(fstatus, o->status) != 0)
            continue;
        if (fcn != NULL && (x == NULL || strcasecmp(fcn, x->cn) != 0))
            continue;
        if (fprod != NULL && strcmp(fprod, o->product->name_id) != 0)
            continue;
        if (fdate != NULL && strncmp(cc_date(o->created, ts, sizeof(ts)), fdate, strlen(fdate)) != 0)
            continue;
        sel[n++] = o;
    }
    qsort(sel, n, sizeof(*sel), cmp);
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "orders");
    for (size_t i = (size_t)offset; a != NULL && i < n && i < (size_t)(offset + limit); i++) {
        const struct cc_order *o = sel[i];
        const struct cc_cert *x = cc_cert_get(cc, o->cert_id);
        cJSON *oj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, oj);
        cc_add_num(oj, "id", (double)o->id);
        if (x != NULL) {
            cJSON *cj = cJSON_AddObjectToObject(oj, "certificate");
            cc_add_num(cj, "id", (double)x->id);
            cc_add_str(cj, "common_name", x->cn);
            cc_names_json(cj, "dns_names", x);
            if (x->leaf != NULL)
                cc_add_str(cj, "valid_till", cc_date(x->not_after, ts, sizeof(ts)));
            cc_add_str(cj, "signature_hash", x->sig_hash);
        }
        cc_add_str(oj, "status", o->status);
        cc_add_str(oj, "date_created", cc_iso(o->created, ts, sizeof(ts)));
        if (o->org_id != 0) {
            const struct cc_org *g = cc_org_get(cc, o->org_id, 0);
            if (g != NULL)
                cc_org_json(cJSON_AddObjectToObject(oj, "organization"), g, false);
        }
        cc_add_num(oj, "validity_years", o->validity_years > 0 ? o->validity_years : 1);
        cJSON *ct = cJSON_AddObjectToObject(oj, "container");
        cc_add_num(ct, "id", 1);
        cc_add_str(ct, "name", "mockca");
        cc_product_json(cJSON_AddObjectToObject(oj, "product"), o->product, false);
        cc_add_num(oj, "price", 0);
    }
    cJSON *pg = cJSON_AddObjectToObject(j, "page");
    cc_add_num(pg, "total", (double)n);
    cc_add_num(pg, "limit", (double)limit);
    cc_add_num(pg, "offset", (double)offset);
    free(sel);
    cc_send(c, 200, j);
}

/* PUT /order/certificate/{order_id}/status (A3). */
void cc_h_order_status(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o = NULL;
    const char *st = NULL, *note = NULL;
    bool send = false;
    enum mc_err r;

    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "status", &st) != MC_OK) {
        cc_err(c, 400, "invalid_value:status", "status contains an invalid value.");
        return;
    }
    r = json_get_string(c->body, "note", &note);
    if (r == MC_ERR_INVALID || (note != NULL && strlen(note) > CC_MAX_STR) ||
        json_get_bool(c->body, "send_emails", &send) == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:note", "note contains an invalid value.");
        return;
    }
    o = cc_order_or_404(c);
    if (o == NULL)
        return;
    if (strcasecmp(st, "canceled") == 0) {
        /* A3: real clients send "CANCELED", the docs "canceled": both are taken. */
        if (strcmp(o->status, "reissue_pending") == 0) {
            struct cc_cert *x = cc_cert_get(cc, o->reissue_cert_id);
            struct cc_request *rq = x != NULL ? cc_request_get(cc, x->request_id) : NULL;
            if (x != NULL)
                snprintf(x->status, sizeof(x->status), "rejected");
            if (rq != NULL) {
                snprintf(rq->status, sizeof(rq->status), "rejected");
                rq->processed = c->now;
                free(rq->processor_comment);
                rq->processor_comment = note != NULL ? strdup(note) : NULL;
            }
            o->reissue_cert_id = 0;
            cc_order_set_status(cc, o, "issued");
        } else if (strcmp(o->status, "pending") == 0 || strcmp(o->status, "needs_approval") == 0 ||
                   strcmp(o->status, "waiting_pickup") == 0) {
            struct cc_request *rq = cc_request_get(cc, o->request_id);
            if (rq != NULL && strcmp(rq->status, "pending") == 0) {
                snprintf(rq->status, sizeof(rq->status), "rejected");
                rq->processed = c->now;
            }
            cc_order_set_status(cc, o, "canceled");
        } else {
            cc_err(c, 400, "invalid_status|order",
                   "The order cannot be canceled in its current status.");
            return;
        }
    } else if (strcmp(st, "renewed") == 0) {
        struct cc_cert *x = cc_cert_get(cc, o->cert_id);
        if (x == NULL || x->leaf == NULL || x->not_after - c->now > 90 * CC_DAY ||
            (strcmp(o->status, "issued") != 0 && strcmp(o->status, "expired") != 0)) {
            cc_err(c, 400, "invalid_status|order", "Only orders within 90 days of expiry can be marked renewed.");
            return;
        }
        cc_order_set_status(cc, o, "renewed");
    } else if (strcmp(st, "not_renewed") == 0) {
        if (strcmp(o->status, "renewed") != 0) {
            cc_err(c, 400, "invalid_status|order", "Only renewed orders can be marked not_renewed.");
            return;
        }
        cc_order_set_status(cc, o, "not_renewed");
    } else {
        cc_err(c, 400, "invalid_value:status", "status contains an invalid value.");
        return;
    }
    cc_no_content(c);
}

/* ---- organizations (A5) -------------------------------------------------------------- */

cJSON *cc_org_validations_json(const struct cc_org *g)
{
    char ts[40];
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "validations");
    if (g == NULL || a == NULL)
        return j;
    for (int k = 0; k < 2; k++) {
        const char *st = k == 0 ? g->ov : g->ev;
        if (st[0] == '\0')
            continue;
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(a, v);
        cc_add_str(v, "type", k == 0 ? "ov" : "ev");
        cc_add_str(v, "name", k == 0 ? "OV" : "EV");
        cc_add_str(v, "description", k == 0 ? "Normal Organization Validation"
                                            : "Extended Organization Validation (EV)");
        cc_add_str(v, "date_created", cc_iso(k == 0 ? g->ov_date : g->ev_date, ts, sizeof(ts)));
        if ((k == 0 ? g->ov_until : g->ev_until) != 0)
            cc_add_str(v, "validated_until",
                       cc_iso(k == 0 ? g->ov_until : g->ev_until, ts, sizeof(ts)));
        cc_add_str(v, "status", st);
        if (k == 1) {
            cJSON *vu = cJSON_AddArrayToObject(v, "verified_users");
            cJSON *u = cJSON_CreateObject();
            cJSON_AddItemToArray(vu, u);
            cc_add_num(u, "id", 12);
            cc_add_str(u, "first_name", "API");
            cc_add_str(u, "last_name", "User");
        }
    }
    return j;
}

static struct cc_org *cc_org_or_404(struct cc_ctx *c)
{
    int64_t id;
    struct cc_org *g = NULL;
    if (cc_parse_id(c->arg[0], &id))
        g = cc_org_get(c->cc, id, c->key->account_id);
    if (g == NULL)
        cc_err(c, 404, "not_found|organization", "The specified organization was not found.");
    return g;
}

void cc_h_org_info(struct cc_ctx *c)
{
    struct cc_org *g = cc_org_or_404(c);
    cJSON *j;
    if (g == NULL)
        return;
    j = cJSON_CreateObject();
    cc_org_json(j, g, true);
    cJSON *v = cc_org_validations_json(g);
    cJSON *a = cJSON_DetachItemFromObjectCaseSensitive(v, "validations");
    cJSON_Delete(v);
    if (a != NULL)
        cJSON_AddItemToObject(j, "validations", a);
    cJSON *ct = cJSON_AddObjectToObject(j, "container");
    cc_add_num(ct, "id", 1);
    cc_add_str(ct, "name", "mockca");
    cc_send(c, 200, j);
}

void cc_h_org_validation(struct cc_ctx *c)
{
    struct cc_org *g = cc_org_or_404(c);
    if (g != NULL)
        cc_send(c, 200, cc_org_validations_json(g));
}

/* POST /organization/{id}/validation: submits types for validation; they stay pending
 * until the management API advances them. [I] 204. */
void cc_h_org_validation_submit(struct cc_ctx *c)
{
    struct cc_org *g;
    const cJSON *a = NULL, *v;
    if (!cc_need_body(c))
        return;
    if (json_get_array(c->body, "validations", &a) != MC_OK || cJSON_GetArraySize(a) == 0) {
        cc_err(c, 400, "invalid_value:validations", "validations contains an invalid value.");
        return;
    }
    cJSON_ArrayForEach(v, a)
    {
        const char *t = NULL;
        if (!cJSON_IsObject(v) || json_get_string(v, "type", &t) != MC_OK ||
            (strcmp(t, "ov") != 0 && strcmp(t, "ev") != 0)) {
            cc_err(c, 400, "invalid_value:validations", "validations contains an invalid value.");
            return;
        }
    }
    g = cc_org_or_404(c);
    if (g == NULL)
        return;
    cJSON_ArrayForEach(v, a)
    {
        const char *t = NULL;
        if (json_get_string(v, "type", &t) != MC_OK)
            continue;
        char *slot = strcmp(t, "ov") == 0 ? g->ov : g->ev;
        if (strcmp(slot, "active") != 0) {
            snprintf(slot, 12, "pending");
            if (strcmp(t, "ov") == 0)
                g->ov_date = c->now;
            else
                g->ev_date = c->now;
        }
    }
    cc_no_content(c);
}

/* GET /order/certificate/{order_id}/validation (A2). */
void cc_h_order_validation(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o = cc_order_or_404(c);
    char ts[40];
    cJSON *j, *a;
    if (o == NULL)
        return;
    j = cJSON_CreateObject();
    cc_add_num(j, "order_id", (double)o->id);
    cc_add_str(j, "order_status", o->status);
    if (o->org_id != 0) {
        struct cc_org *g = cc_org_get(cc, o->org_id, 0);
        const cJSON *nm = g != NULL ? cJSON_GetObjectItemCaseSensitive(g->info, "name") : NULL;
        cc_add_num(j, "organization_id", (double)o->org_id);
        cc_add_str(j, "organization_name", cJSON_IsString(nm) ? nm->valuestring : "");
        cJSON *v = cc_org_validations_json(g);
        cJSON *va = cJSON_DetachItemFromObjectCaseSensitive(v, "validations");
        cJSON_Delete(v);
        cJSON_AddItemToObject(j, "organization_validations", va != NULL ? va : cJSON_CreateArray());
    }
    a = cJSON_AddArrayToObject(j, "dns_name_validations");
    for (size_t i = 0; a != NULL && i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        bool ok = cc_name_covered(cc, o, n);
        const char *scope = strncmp(n->name, "*.", 2) == 0 ? n->name + 2 : n->name;
        struct cc_domain *d = cc_domain_get(cc, n->domain_id, 0);
        int64_t at = d != NULL && d->approved ? d->approved_at : n->approved_at;
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(a, v);
        cc_add_num(v, "domain_id", (double)n->domain_id);
        cc_add_str(v, "name_scope", scope);
        cc_add_str(v, "approval_scope", "subdomains");
        cc_add_str(v, "status", ok ? "approved" : "pending");
        cc_add_str(v, "method", o->method);
        cJSON *dn = cJSON_AddArrayToObject(v, "dns_names");
        cJSON_AddItemToArray(dn, cJSON_CreateString(n->name));
        if (ok)
            cc_add_str(v, "approval_expiration_date", cc_iso(at + 397 * CC_DAY, ts, sizeof(ts)));
    }
    cc_send(c, 200, j);
}

/* ---- status changes (A6) ------------------------------------------------------------- */

/* "yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss" ('+' arrives as a space) or the same with "yy". */
static bool cc_parse_when(const char *s, bool end, int64_t *out)
{
    char d[16];
    int hh = 0, mm = 0, ss = 0;
    size_t dl = strcspn(s, " +T");
    if (dl == 8 && dl < sizeof(d)) { /* "yy-mm-dd" */
        snprintf(d, sizeof(d), "20%.*s", (int)dl, s);
    } else if (dl == 10) {
        snprintf(d, sizeof(d), "%.*s", (int)dl, s);
    } else {
        return false;
    }
    if (!cc_parse_date(d, out))
        return false;
    if (s[dl] == '\0') {
        if (end)
            *out += CC_DAY - 1;
        return true;
    }
    if (sscanf(s + dl + 1, "%2d:%2d:%2d", &hh, &mm, &ss) != 3 || hh > 23 || mm > 59 || ss > 59 ||
        strlen(s + dl + 1) != 8)
        return false;
    *out += hh * 3600 + mm * 60 + ss;
    return true;
}

void cc_h_status_changes(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *range = http_request_query(c->req, "filters[status_last_updated]");
    int64_t minutes = 0, seconds = 0, from_ms, to_ms = clock_now_ms(cc->clock);
    bool have_m = http_request_query(c->req, "minutes") != NULL;
    bool have_s = http_request_query(c->req, "seconds") != NULL;
    cJSON *j, *a = NULL;

    if (!cc_query_int(c, "minutes", 0, INT32_MAX, 0, &minutes)) {
        cc_err(c, 400, "invalid_value:minutes", "minutes contains an invalid value.");
        return;
    }
    if (!cc_query_int(c, "seconds", 0, INT32_MAX, 0, &seconds)) {
        cc_err(c, 400, "invalid_value:seconds", "seconds contains an invalid value.");
        return;
    }
    if (range != NULL) {
        const char *dots = strstr(range, "...");
        char a1[32], a2[32];
        int64_t t1, t2;
        if (dots == NULL || (size_t)(dots - range) >= sizeof(a1) || strlen(dots + 3) >= sizeof(a2)) {
            cc_err(c, 400, "invalid_value:status_last_updated",
                   "status_last_updated contains an invalid value.");
            return;
        }
        snprintf(a1, sizeof(a1), "%.*s", (int)(dots - range), range);
        snprintf(a2, sizeof(a2), "%s", dots + 3);
        if (!cc_parse_when(a1, false, &t1) || !cc_parse_when(a2, true, &t2) || t2 < t1) {
            cc_err(c, 400, "invalid_value:status_last_updated",
                   "status_last_updated contains an invalid value.");
            return;
        }
        if (t2 - t1 > 7 * CC_DAY) {
            cc_err(c, 400, "time_frame_too_long", "An error occurred while processing your request.");
            return;
        }
        from_ms = t1 * 1000;
        to_ms = t2 * 1000 + 999;
    } else {
        if (!have_m && !have_s) {
            /* [I] the docs require one of minutes, seconds or the filter; no code named */
            cc_err(c, 400, "missing_param:minutes", "minutes or seconds is required.");
            return;
        }
        if (minutes * 60 + seconds > 7 * CC_DAY) {
            /* [I] the message text is undocumented (A6) */
            cc_err(c, 400, "time_frame_too_long", "An error occurred while processing your request.");
            return;
        }
        from_ms = to_ms - (minutes * 60 + seconds) * 1000;
    }
    j = cJSON_CreateObject();
    /* One entry per order: its last change inside the window; an order that changed again
     * after the window's end is left out (A6). */
    for (size_t i = cc->nchanges; i-- > 0;) {
        const struct cc_change *ch = &cc->changes[(cc->changes_head + i) % CC_MAX_CHANGES];
        bool seen = false, later = false;
        if (ch->account_id != c->key->account_id || ch->at_ms < from_ms || ch->at_ms > to_ms)
            continue;
        for (size_t k = i + 1; k < cc->nchanges; k++) {
            const struct cc_change *c2 = &cc->changes[(cc->changes_head + k) % CC_MAX_CHANGES];
            if (c2->order_id != ch->order_id)
                continue;
            if (c2->at_ms <= to_ms)
                seen = true;
            else
                later = true;
        }
        if (seen || later)
            continue;
        if (a == NULL)
            a = cJSON_AddArrayToObject(j, "orders");
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        struct cc_order *ord = cc_order_get(cc, ch->order_id, 0);
        cc_add_num(o, "order_id", (double)ch->order_id);
        cc_add_num(o, "certificate_id", (double)(ord != NULL ? ord->cert_id : ch->cert_id));
        cc_add_str(o, "status", ch->status);
    }
    cc_send(c, 200, j);
}

/* ---- reissue (A8) ------------------------------------------------------------------- */

void cc_h_reissue(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o;
    struct cc_parsed p;
    struct cc_perr pe;
    struct cc_cert *x = NULL;
    struct cc_request *r = NULL;
    bool approved;
    const char *comments = NULL;
    cJSON *j;

    memset(&p, 0, sizeof(p));
    if (!cc_need_body(c))
        return;
    o = cc_order_or_404(c);
    if (o == NULL)
        return;
    if (!cc_order_parse(c->body, o->product, true, c->now, &p, &pe)) {
        cc_err(c, pe.status, pe.code, pe.msg);
        goto out;
    }
    if (p.skip_approval && c->key->role != CC_ROLE_ADMIN) {
        cc_err(c, 403, "access_denied|missing_permission",
               "skip_approval needs an administrator key.");
        goto out;
    }
    if (strcmp(o->status, "issued") != 0) {
        cc_err(c, 400, "invalid_status|order", "Only issued orders can be reissued.");
        goto out;
    }
    if (json_get_string(c->body, "comments", &comments) != MC_OK)
        comments = NULL;
    x = cc_cert_new(cc, &p, o->id, c->now);
    if (x == NULL)
        goto nomem;
    if (p.cert_secs == 0)
        x->not_after = 0;
    approved = p.skip_approval || cc->auto_approve;
    r = cc_request_new(cc, c, "reissue", o->id, x->id, approved, comments);
    if (r == NULL)
        goto nomem;
    x->request_id = r->id;
    o->reissue_cert_id = x->id;
    if (!cc_order_names(cc, o, p.names, p.nnames, c->now))
        goto nomem;
    if (cc_method_token(o->method) && (o->rv[0] == '\0' || o->rv_exp <= c->now)) {
        if (cc_random_value(o->rv, 32) != MC_OK)
            goto nomem;
        o->rv_exp = c->now + CC_RV_TTL;
    }
    cc_order_set_status(cc, o, "reissue_pending");
    if (strcmp(o->method, "email") == 0)
        for (size_t i = 0; i < o->names.n; i++) {
            struct cc_name *n = o->names.v[i];
            if (!cc_name_covered(cc, o, n))
                cc_send_emails(cc, o, n->domain_id, n->name, NULL);
        }
    (void)cc_order_try_issue(cc, o);
    j = cJSON_CreateObject();
    cc_add_num(j, "id", (double)o->id);
    cc_add_num(j, "certificate_id", (double)x->id);
    {
        cJSON *reqs = cJSON_AddArrayToObject(j, "requests");
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddItemToArray(reqs, ro);
        cc_add_num(ro, "id", (double)r->id);
        cc_add_str(ro, "status", r->status);
    }
    if (x->leaf != NULL) {
        cJSON *chain = cc_chain_json(cc, x, true);
        if (chain != NULL)
            cJSON_AddItemToObject(j, "certificate_chain", chain);
    } else if (cc_method_token(o->method)) {
        cc_add_str(j, "dcv_random_value", o->rv);
    }
    cc_send(c, 201, j);
    goto out;
nomem:
    cc_nomem(c);
out:
    cc_parsed_free(&p);
}

void cc_h_reissue_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o = cc_order_or_404(c);
    const char *arch = http_request_query(c->req, "show_archived");
    bool show_archived = arch != NULL && strcmp(arch, "true") == 0;
    char ts[40];
    cJSON *j, *a;
    if (o == NULL)
        return;
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "certificates");
    for (size_t i = cc->certs.n; a != NULL && i-- > 0;) {
        const struct cc_cert *x = cc->certs.v[i];
        if (x->order_id != o->id || x->duplicate || (x->archived && !show_archived))
            continue;
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, cj);
        cc_add_num(cj, "id", (double)x->id);
        cc_add_str(cj, "thumbprint", x->thumb);
        {
            char serial[80];
            snprintf(serial, sizeof(serial), "%s", x->serial);
            for (char *p = serial; *p != '\0'; p++)
                *p = (char)toupper((unsigned char)*p);
            cc_add_str(cj, "serial_number", serial);
        }
        cc_add_str(cj, "common_name", x->cn);
        cc_names_json(cj, "dns_names", x);
        cc_add_str(cj, "status", x->status);
        cc_add_str(cj, "date_created", cc_iso(x->created, ts, sizeof(ts)));
        if (x->leaf != NULL) {
            cc_add_str(cj, "date_issued", cc_iso(x->issued, ts, sizeof(ts)));
            cc_add_str(cj, "valid_till", cc_date(x->not_after, ts, sizeof(ts)));
            cc_add_num(cj, "days_remaining",
                       (double)(x->not_after > c->now ? (x->not_after - c->now) / CC_DAY : 0));
        }
        cc_add_str(cj, "csr", x->csr);
        cc_add_num(cj, "key_size", x->key_size);
        cc_add_num(cj, "archived", x->archived ? 1 : 0);
        cc_add_num(cj, "user_id", (double)o->user_id);
        cc_add_str(cj, "email", "user@example.com");
        cc_add_str(cj, "firstname", "API");
        cc_add_str(cj, "lastname", "User");
        cc_add_num(cj, "receipt_id", (double)(o->id + 900000));
        size_t wild = 0;
        for (size_t k = 0; k < x->names.n; k++)
            wild += strncmp(x->names.v[k], "*.", 2) == 0;
        cc_add_num(cj, "purchased_dns_names", (double)(x->names.n - wild));
        cc_add_num(cj, "purchased_wildcard_names", (double)wild);
    }
    cc_send(c, 200, j);
}

/* ---- revoke and requests (A9) -------------------------------------------------------- */

static int cc_reason_parse(const char *s)
{
    static const struct {
        const char *n;
        int v;
    } t[] = {{"unspecified", CA_REASON_UNSPECIFIED},
             {"keyCompromise", CA_REASON_KEY_COMPROMISE},
             {"affiliationChanged", CA_REASON_AFFILIATION_CHANGED},
             {"superseded", CA_REASON_SUPERSEDED},
             {"cessationOfOperation", CA_REASON_CESSATION_OF_OPERATION}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcasecmp(t[i].n, s) == 0)
            return t[i].v;
    return -1;
}

static void cc_revoke_one(struct cc_server *cc, struct cc_cert *x, int reason)
{
    if (x->leaf == NULL || strcmp(x->status, "revoked") == 0)
        return;
    enum mc_err e = ca_revoke(cc->ca, x->serial, reason);
    if (e != MC_OK && e != MC_ERR_EXISTS) /* EXISTS: revoked already, through ACME */
        log_msg(LOGL_WARN, "cc.revoke.failed", "serial=%s err=%s", x->serial, mc_strerror(e));
    snprintf(x->status, sizeof(x->status), "revoked");
}

/* Carries out a revoke: x alone, or every certificate of o. */
static void cc_do_revoke(struct cc_server *cc, struct cc_order *o, struct cc_cert *x, int reason)
{
    if (x != NULL) {
        cc_revoke_one(cc, x, reason);
    } else {
        for (size_t i = 0; i < cc->certs.n; i++) {
            struct cc_cert *y = cc->certs.v[i];
            if (y->order_id == o->id)
                cc_revoke_one(cc, y, reason);
        }
    }
    struct cc_cert *cur = cc_cert_get(cc, o->cert_id);
    if (cur != NULL && strcmp(cur->status, "revoked") == 0)
        cc_order_set_status(cc, o, "revoked");
}

static void cc_request_json(struct cc_server *cc, cJSON *j, const struct cc_request *r)
{
    char ts[40];
    cc_add_num(j, "id", (double)r->id);
    cc_add_str(j, "date", cc_iso(r->date, ts, sizeof(ts)));
    cc_add_str(j, "type", r->type);
    cc_add_str(j, "status", r->status);
    cc_user_json(j, "requester", r->requester);
    cc_add_str(j, "comments", r->comments);
    (void)cc;
}

static void cc_revoke(struct cc_ctx *c, struct cc_order *o, struct cc_cert *x)
{
    struct cc_server *cc = c->cc;
    const char *comments = NULL, *reason_s = NULL;
    bool skip = false;
    int reason = CA_REASON_UNSPECIFIED;
    struct cc_request *r;
    cJSON *j;

    if (c->body != NULL) {
        /* A9: the docs' table says "comment", every example and client "comments". */
        if (json_get_string(c->body, "comments", &comments) == MC_ERR_INVALID ||
            (comments == NULL && json_get_string(c->body, "comment", &comments) == MC_ERR_INVALID)) {
            cc_err(c, 400, "invalid_value:comments", "comments contains an invalid value.");
            return;
        }
        enum mc_err e = json_get_string(c->body, "revocation_reason", &reason_s);
        if (e == MC_ERR_INVALID || (e == MC_OK && (reason = cc_reason_parse(reason_s)) < 0)) {
            cc_err(c, 400, "invalid_value:revocation_reason",
                   "revocation_reason contains an invalid value.");
            return;
        }
        if (json_get_bool(c->body, "skip_approval", &skip) == MC_ERR_INVALID) {
            cc_err(c, 400, "invalid_value:skip_approval", "skip_approval contains an invalid value.");
            return;
        }
    }
    if (skip && c->key->role != CC_ROLE_ADMIN) {
        cc_err(c, 403, "access_denied|missing_permission",
               "skip_approval needs an administrator key.");
        return;
    }
    if (strcmp(o->status, "reissue_pending") == 0) {
        cc_err(c, 400, "reissue_pending", "A certificate with a pending reissue cannot be revoked.");
        return;
    }
    if (x != NULL ? (x->leaf == NULL || strcmp(x->status, "revoked") == 0)
                  : strcmp(o->status, "issued") != 0) {
        cc_err(c, 400, "invalid_status|certificate", "The certificate is not issued.");
        return;
    }
    if (skip) {
        cc_do_revoke(cc, o, x, reason);
        cc_no_content(c);
        return;
    }
    r = cc_request_new(cc, c, "revoke", o->id, x != NULL ? x->id : 0, false, comments);
    if (r == NULL) {
        cc_nomem(c);
        return;
    }
    r->reason = reason;
    r->whole_order = x == NULL;
    j = cJSON_CreateObject();
    cc_request_json(cc, j, r);
    cc_send(c, 201, j);
}

/* PUT /certificate/{certificate_id or serial}/revoke */
void cc_h_revoke_cert(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_cert *x = NULL;
    struct cc_order *o = NULL;
    int64_t id;
    if (cc_parse_id(c->arg[0], &id))
        x = cc_cert_get(cc, id);
    for (size_t i = 0; x == NULL && i < cc->certs.n; i++) {
        struct cc_cert *y = cc->certs.v[i];
        if (y->leaf != NULL && strcasecmp(y->serial, c->arg[0]) == 0)
            x = y;
    }
    if (x != NULL)
        o = cc_order_get(cc, x->order_id, c->key->account_id);
    if (o == NULL) {
        cc_err(c, 404, "not_found|certificate", "The specified certificate was not found.");
        return;
    }
    cc_revoke(c, o, x);
}

void cc_h_revoke_order(struct cc_ctx *c)
{
    struct cc_order *o = cc_order_or_404(c);
    if (o != NULL)
        cc_revoke(c, o, NULL);
}

static struct cc_request *cc_request_or_404(struct cc_ctx *c)
{
    int64_t id;
    struct cc_request *r = NULL;
    if (cc_parse_id(c->arg[0], &id))
        r = cc_request_get(c->cc, id);
    if (r != NULL && r->account_id != c->key->account_id)
        r = NULL;
    if (r == NULL)
        cc_err(c, 404, "not_found|request", "The specified request was not found.");
    return r;
}

void cc_h_request_info(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_request *r = cc_request_or_404(c);
    char ts[40];
    cJSON *j;
    if (r == NULL)
        return;
    j = cJSON_CreateObject();
    cc_request_json(cc, j, r);
    if (r->processed != 0) {
        cc_add_str(j, "date_processed", cc_iso(r->processed, ts, sizeof(ts)));
        cc_user_json(j, "processor", 1000);
        cc_user_json(j, "reviewer", 1000);
    }
    cc_add_str(j, "processor_comment", r->processor_comment);
    struct cc_order *o = cc_order_get(cc, r->order_id, 0);
    if (o != NULL) {
        cJSON *oj = cJSON_AddObjectToObject(j, "order");
        const struct cc_cert *x = cc_cert_get(cc, r->cert_id != 0 ? r->cert_id : o->cert_id);
        cc_add_num(oj, "id", (double)o->id);
        cc_add_str(oj, "status", o->status);
        if (x != NULL)
            cc_cert_json(cc, cJSON_AddObjectToObject(oj, "certificate"), o, x, c->now);
        cc_product_json(cJSON_AddObjectToObject(oj, "product"), o->product, false);
    }
    cc_send(c, 200, j);
}

/* PUT /request/{request_id}/status (A9): an administrator approves or rejects. */
void cc_h_request_status(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_request *r;
    struct cc_order *o;
    const char *st = NULL, *pc = NULL;
    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "status", &st) != MC_OK ||
        (strcmp(st, "approved") != 0 && strcmp(st, "rejected") != 0 &&
         strcmp(st, "pending") != 0 && strcmp(st, "submitted") != 0)) {
        cc_err(c, 400, "invalid_value:status", "status contains an invalid value.");
        return;
    }
    if (json_get_string(c->body, "processor_comment", &pc) == MC_ERR_INVALID ||
        (pc != NULL && strlen(pc) > CC_MAX_STR)) {
        cc_err(c, 400, "invalid_value:processor_comment",
               "processor_comment contains an invalid value.");
        return;
    }
    r = cc_request_or_404(c);
    if (r == NULL)
        return;
    if (strcmp(r->status, "approved") == 0 || strcmp(r->status, "rejected") == 0) {
        cc_err(c, 400, "request_already_processed", "The request has already been processed.");
        return;
    }
    o = cc_order_get(cc, r->order_id, 0);
    snprintf(r->status, sizeof(r->status), "%s", st);
    free(r->processor_comment);
    r->processor_comment = pc != NULL ? strdup(pc) : NULL;
    if (strcmp(st, "approved") == 0 || strcmp(st, "rejected") == 0)
        r->processed = c->now;
    if (o != NULL && strcmp(st, "approved") == 0) {
        if (strcmp(r->type, "revoke") == 0) {
            cc_do_revoke(cc, o, r->whole_order ? NULL : cc_cert_get(cc, r->cert_id), r->reason);
        } else if (strcmp(r->type, "duplicate") == 0) {
            struct cc_cert *x = cc_cert_get(cc, r->cert_id);
            if (x != NULL && x->leaf == NULL && !cc_issue_cert(cc, o, x, c->now))
                log_msg(LOGL_WARN, "cc.issue.failed", "order=%lld duplicate=%lld",
                        (long long)o->id, (long long)x->id);
        } else if (strcmp(r->type, "new_request") == 0) {
            if (strcmp(o->status, "needs_approval") == 0)
                cc_order_set_status(cc, o, "pending");
            (void)cc_order_try_issue(cc, o);
        } else {
            (void)cc_order_try_issue(cc, o);
        }
    } else if (o != NULL && strcmp(st, "rejected") == 0) {
        struct cc_cert *x = cc_cert_get(cc, r->cert_id);
        if (strcmp(r->type, "new_request") == 0) {
            if (x != NULL)
                snprintf(x->status, sizeof(x->status), "rejected");
            cc_order_set_status(cc, o, "rejected");
        } else if (strcmp(r->type, "duplicate") == 0) {
            if (x != NULL)
                snprintf(x->status, sizeof(x->status), "rejected");
        } else if (strcmp(r->type, "reissue") == 0 && o->reissue_cert_id == r->cert_id) {
            if (x != NULL)
                snprintf(x->status, sizeof(x->status), "rejected");
            o->reissue_cert_id = 0;
            cc_order_set_status(cc, o, "issued");
        }
    }
    cc_no_content(c);
}

/* ---- paging, shared by the list endpoints --------------------------------------------- */

bool cc_paging(struct cc_ctx *c, int64_t *limit, int64_t *offset)
{
    if (!cc_query_int(c, "limit", 1, 1000, 1000, limit)) {
        cc_err(c, 400, "invalid_value:limit", "limit contains an invalid value.");
        return false;
    }
    if (!cc_query_int(c, "offset", 0, INT32_MAX, 0, offset)) {
        cc_err(c, 400, "invalid_value:offset", "offset contains an invalid value.");
        return false;
    }
    return true;
}

void cc_page_json(cJSON *j, size_t total, int64_t limit, int64_t offset)
{
    cJSON *pg = cJSON_AddObjectToObject(j, "page");
    cc_add_num(pg, "total", (double)total);
    cc_add_num(pg, "limit", (double)limit);
    cc_add_num(pg, "offset", (double)offset);
}

/* ---- duplicates (A0: 201; requests of type "duplicate", A9) --------------------------- */

/* POST /order/certificate/{order_id}/duplicate: another certificate for names of an issued
 * order, usually with another key. [I] The names must be names of the order (no new DCV);
 * the duplicate ends when the order's current certificate ends. It waits for approval like
 * a reissue; approved, it is signed at once (the order's DCV is done). The order's status
 * and its current certificate do not change. */
void cc_h_duplicate(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o;
    struct cc_parsed p;
    struct cc_perr pe;
    struct cc_cert *x = NULL, *cur;
    struct cc_request *r = NULL;
    const char *comments = NULL;
    bool approved;
    cJSON *j;

    memset(&p, 0, sizeof(p));
    if (!cc_need_body(c))
        return;
    o = cc_order_or_404(c);
    if (o == NULL)
        return;
    if (!cc_order_parse(c->body, o->product, true, c->now, &p, &pe)) {
        cc_err(c, pe.status, pe.code, pe.msg);
        goto out;
    }
    if (p.skip_approval && c->key->role != CC_ROLE_ADMIN) {
        cc_err(c, 403, "access_denied|missing_permission",
               "skip_approval needs an administrator key.");
        goto out;
    }
    cur = cc_cert_get(cc, o->cert_id);
    if (strcmp(o->status, "issued") != 0 || cur == NULL || cur->leaf == NULL) {
        cc_err(c, 400, "invalid_status|order", "Only issued orders can be duplicated.");
        goto out;
    }
    for (size_t i = 0; i < p.nnames; i++) {
        bool known = false;
        for (size_t k = 0; k < o->names.n && !known; k++)
            known = strcmp(((struct cc_name *)o->names.v[k])->name, p.names[i]) == 0;
        if (!known) {
            cc_err(c, 400, "invalid_value:dns_names",
                   "A duplicate may only contain names of the order.");
            goto out;
        }
    }
    if (json_get_string(c->body, "comments", &comments) != MC_OK)
        comments = NULL;
    x = cc_cert_new(cc, &p, o->id, c->now);
    if (x == NULL)
        goto nomem;
    x->duplicate = true;
    x->not_after = cur->not_after;
    approved = p.skip_approval || cc->auto_approve;
    r = cc_request_new(cc, c, "duplicate", o->id, x->id, approved, comments);
    if (r == NULL)
        goto nomem;
    x->request_id = r->id;
    if (approved && !cc_issue_cert(cc, o, x, c->now))
        log_msg(LOGL_WARN, "cc.issue.failed", "order=%lld duplicate=%lld", (long long)o->id,
                (long long)x->id);
    j = cJSON_CreateObject();
    cc_add_num(j, "id", (double)o->id);
    cc_add_num(j, "certificate_id", (double)x->id);
    {
        cJSON *reqs = cJSON_AddArrayToObject(j, "requests");
        cJSON *ro = cJSON_CreateObject();
        cJSON_AddItemToArray(reqs, ro);
        cc_add_num(ro, "id", (double)r->id);
        cc_add_str(ro, "status", r->status);
    }
    if (x->leaf != NULL) {
        cJSON *chain = cc_chain_json(cc, x, true);
        if (chain != NULL)
            cJSON_AddItemToObject(j, "certificate_chain", chain);
    }
    cc_send(c, 201, j);
    goto out;
nomem:
    cc_nomem(c);
out:
    cc_parsed_free(&p);
}

/* GET /order/certificate/{order_id}/duplicate: {"certificates":[...]} as list reissues. */
void cc_h_duplicate_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o = cc_order_or_404(c);
    char ts[40];
    cJSON *j, *a;
    if (o == NULL)
        return;
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "certificates");
    for (size_t i = cc->certs.n; a != NULL && i-- > 0;) {
        const struct cc_cert *x = cc->certs.v[i];
        char serial[80];
        if (x->order_id != o->id || !x->duplicate)
            continue;
        cJSON *cj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, cj);
        cc_add_num(cj, "id", (double)x->id);
        cc_add_str(cj, "thumbprint", x->thumb);
        snprintf(serial, sizeof(serial), "%s", x->serial);
        for (char *q = serial; *q != '\0'; q++)
            *q = (char)toupper((unsigned char)*q);
        cc_add_str(cj, "serial_number", serial);
        cc_add_str(cj, "common_name", x->cn);
        cc_names_json(cj, "dns_names", x);
        cc_add_str(cj, "status", x->status);
        cc_add_str(cj, "date_created", cc_iso(x->created, ts, sizeof(ts)));
        if (x->leaf != NULL) {
            cc_add_str(cj, "date_issued", cc_iso(x->issued, ts, sizeof(ts)));
            cc_add_str(cj, "valid_till", cc_date(x->not_after, ts, sizeof(ts)));
            cc_add_num(cj, "days_remaining",
                       (double)(x->not_after > c->now ? (x->not_after - c->now) / CC_DAY : 0));
        }
        cc_add_str(cj, "csr", x->csr);
        cc_add_num(cj, "key_size", x->key_size);
        cc_add_num(cj, "user_id", (double)o->user_id);
        cc_add_str(cj, "firstname", "API");
        cc_add_str(cj, "lastname", "User");
    }
    cc_send(c, 200, j);
}

/* ---- GET /request: the account's requests ------------------------------------------- */

/* [I] The spec has request info only (A9); CertCentral's list lives at GET /request with
 * filters[status] and filters[type] and the usual paging. Newest first. */
void cc_h_request_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *fstatus = http_request_query(c->req, "filters[status]");
    const char *ftype = http_request_query(c->req, "filters[type]");
    int64_t limit, offset;
    size_t total = 0;
    cJSON *j, *a;
    static const char *const sts[] = {"pending", "approved", "rejected", "submitted"};
    static const char *const tys[] = {"new_request", "reissue", "revoke", "duplicate"};
    bool ok;

    if (!cc_paging(c, &limit, &offset))
        return;
    ok = fstatus == NULL;
    for (size_t i = 0; !ok && i < 4; i++)
        ok = strcmp(fstatus, sts[i]) == 0;
    if (!ok) {
        cc_err(c, 400, "invalid_value:filters[status]", "filters[status] contains an invalid value.");
        return;
    }
    ok = ftype == NULL;
    for (size_t i = 0; !ok && i < 4; i++)
        ok = strcmp(ftype, tys[i]) == 0;
    if (!ok) {
        cc_err(c, 400, "invalid_value:filters[type]", "filters[type] contains an invalid value.");
        return;
    }
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "requests");
    for (size_t i = cc->requests.n; a != NULL && i-- > 0;) {
        const struct cc_request *r = cc->requests.v[i];
        const struct cc_order *o;
        if (r->account_id != c->key->account_id ||
            (fstatus != NULL && strcmp(fstatus, r->status) != 0) ||
            (ftype != NULL && strcmp(ftype, r->type) != 0))
            continue;
        if (total++ < (size_t)offset || total > (size_t)(offset + limit))
            continue;
        cJSON *rj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, rj);
        cc_request_json(cc, rj, r);
        o = cc_order_get(cc, r->order_id, 0);
        if (o != NULL) {
            const struct cc_cert *x = cc_cert_get(cc, r->cert_id != 0 ? r->cert_id : o->cert_id);
            cJSON *oj = cJSON_AddObjectToObject(rj, "order");
            cc_add_num(oj, "id", (double)o->id);
            cc_add_str(oj, "status", o->status);
            if (x != NULL) {
                cJSON *cj = cJSON_AddObjectToObject(oj, "certificate");
                cc_add_num(cj, "id", (double)x->id);
                cc_add_str(cj, "common_name", x->cn);
            }
            cc_product_json(cJSON_AddObjectToObject(oj, "product"), o->product, false);
        }
    }
    cc_page_json(j, total, limit, offset);
    cc_send(c, 200, j);
}

/* ---- organizations: list and create --------------------------------------------------- */

/* GET /organization: {"organizations":[{id,status,name,assumed_name,display_name,
 * is_active,address,...,container}], "page"}. filters[status] ("active"|"pending"). */
void cc_h_org_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *fstatus = http_request_query(c->req, "filters[status]");
    int64_t limit, offset;
    size_t total = 0;
    cJSON *j, *a;

    if (!cc_paging(c, &limit, &offset))
        return;
    if (fstatus != NULL && strcmp(fstatus, "active") != 0 && strcmp(fstatus, "pending") != 0) {
        cc_err(c, 400, "invalid_value:filters[status]", "filters[status] contains an invalid value.");
        return;
    }
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "organizations");
    for (size_t i = 0; a != NULL && i < cc->orgs.n; i++) {
        const struct cc_org *g = cc->orgs.v[i];
        bool active = strcmp(g->ov, "active") == 0 || strcmp(g->ev, "active") == 0;
        if (g->account_id != c->key->account_id)
            continue;
        if (fstatus != NULL && (strcmp(fstatus, "active") == 0) != active)
            continue;
        if (total++ < (size_t)offset || total > (size_t)(offset + limit))
            continue;
        cJSON *oj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, oj);
        cc_org_json(oj, g, true);
        cJSON *ct = cJSON_AddObjectToObject(oj, "container");
        cc_add_num(ct, "id", 1);
        cc_add_str(ct, "name", "mockca");
        cJSON_AddBoolToObject(ct, "is_active", true);
    }
    cc_page_json(j, total, limit, offset);
    cc_send(c, 200, j);
}

/* POST /organization: {name, address, city, country (required), assumed_name, address2,
 * state, zip, telephone, organization_contact{...}, container{id}} -> 201 {"id"}. Every
 * string at most CC_MAX_STR; the organization starts unvalidated (no "ov"/"ev" yet). */
void cc_h_org_create(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    static const char *const req_keys[] = {"name", "address", "city", "country"};
    static const char *const opt_keys[] = {"assumed_name", "address2", "state", "zip",
                                           "telephone"};
    const cJSON *oc = NULL;
    struct cc_org *g;
    cJSON *j;
    char code[64];

    if (!cc_need_body(c))
        return;
    for (size_t i = 0; i < sizeof(req_keys) / sizeof(req_keys[0]); i++) {
        const char *v = NULL;
        if (json_get_string(c->body, req_keys[i], &v) != MC_OK || v[0] == '\0' ||
            strlen(v) > CC_MAX_STR) {
            snprintf(code, sizeof(code), "invalid_value:%s", req_keys[i]);
            cc_err(c, 400, code, "A required field is missing or contains an invalid value.");
            return;
        }
    }
    for (size_t i = 0; i < sizeof(opt_keys) / sizeof(opt_keys[0]); i++) {
        const char *v = NULL;
        enum mc_err e = json_get_string(c->body, opt_keys[i], &v);
        if (e == MC_ERR_INVALID || (e == MC_OK && strlen(v) > CC_MAX_STR)) {
            snprintf(code, sizeof(code), "invalid_value:%s", opt_keys[i]);
            cc_err(c, 400, code, "A field contains an invalid value.");
            return;
        }
    }
    if (json_get_object(c->body, "organization_contact", &oc) == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:organization_contact",
               "organization_contact contains an invalid value.");
        return;
    }
    if (cc->orgs.n >= CC_MAX_OBJS) {
        cc_err(c, 429, "request_limit_exceeded", "Service unavailable, please limit request volume");
        return;
    }
    g = cc_org_new(cc, c->key->account_id, c->body, c->now);
    if (g == NULL) {
        cc_nomem(c);
        return;
    }
    g->ov[0] = '\0'; /* nothing submitted yet: POST /organization/{id}/validation does */
    j = cJSON_CreateObject();
    cc_add_num(j, "id", (double)g->id);
    cc_send(c, 201, j);
}
