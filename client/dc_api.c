/* dc_api.c: the typed CertCentral endpoints of dc.h over dc_request (dc.c): orders, DCV,
 * status changes, downloads, reissue, revoke, requests, AuthKeys, and instant DV. Every id
 * that goes into a path is checked first (dc_id_ok), every filter value URL-encoded, every
 * body built with cJSON. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "client/dc.h"
#include "client/dc_int.h"
#include "common/clock.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"

#define DC_PATH_MAX 1024
#define DC_WATCH_MAX_ROUNDS 10000
#define DC_WATCH_MAX_WINDOW_S 604800 /* A6: seconds at most 7 days */
#define DC_TOKEN_SKEW_S 300          /* a token stamped this far back: the CA's clock may lag */

/* ---- helpers -------------------------------------------------------------------------- */

static enum mc_err dc_pathf(char *buf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum mc_err dc_pathf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    int k;
    va_start(ap, fmt);
    k = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return k < 0 || (size_t)k >= n ? MC_ERR_TOO_BIG : MC_OK;
}

static enum mc_err dc_check_id(struct dc_client *c, const char *what, const char *id)
{
    if (dc_id_ok(id))
        return MC_OK;
    dc_set_msg(c, "%s is not an id (1..%d of letters, digits, '_', '-', '.', ':')", what,
               DC_MAX_ID);
    return MC_ERR_INVALID;
}

/* One call whose JSON answer (an empty object for a 2xx without one) goes to *out when out
 * is not NULL. want: the success status expected (0: any 2xx). */
static enum mc_err dc_call(struct dc_client *c, const char *method, const char *path,
                           const cJSON *body, long want, cJSON **out, long *status)
{
    struct dc_resp r;
    enum mc_err err = dc_request(c, method, path, body, &r);
    if (status != NULL)
        *status = r.status;
    if (err != MC_OK)
        goto out;
    if (want != 0 && r.status != want)
        log_msg(LOGL_DEBUG, "certcli.dc.status", "path=%s status=%ld want=%ld", path, r.status,
                want);
    if (out != NULL) {
        if (r.json != NULL) {
            *out = r.json;
            r.json = NULL;
        } else if (r.len == 0 || r.status == 204) {
            *out = cJSON_CreateObject();
            if (*out == NULL)
                err = MC_ERR_NOMEM;
        } else {
            dc_set_msg(c, "%s %s: HTTP %ld without a JSON body", method, path, r.status);
            err = MC_ERR_INVALID;
        }
    }
out:
    dc_resp_free(&r);
    return err;
}

static bool dc_date_ok(const char *s)
{
    if (s == NULL || strlen(s) != 10)
        return false;
    for (size_t i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-')
                return false;
        } else if (!isdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool dc_add_str(cJSON *o, const char *k, const char *v)
{
    return v == NULL || cJSON_AddStringToObject(o, k, v) != NULL;
}

/* dc_call on the path pre + id + post (id already checked with dc_check_id). */
static enum mc_err dc_call_id(struct dc_client *c, const char *method, const char *pre,
                              const char *id, const char *post, const cJSON *body, long want,
                              cJSON **out, long *status)
{
    char path[DC_PATH_MAX];
    enum mc_err err = dc_pathf(path, sizeof path, "%s%s%s", pre, id, post);
    if (err == MC_OK)
        err = dc_call(c, method, path, body, want, out, status);
    return err;
}

/* PUT {k1: v1, k2: v2} (a NULL value left out) to pre + id + post, wanting 204: the
 * status changes of orders and requests. */
static enum mc_err dc_put_pair(struct dc_client *c, const char *pre, const char *id,
                               const char *post, const char *k1, const char *v1, const char *k2,
                               const char *v2)
{
    cJSON *b = cJSON_CreateObject();
    enum mc_err err;
    if (b == NULL || !dc_add_str(b, k1, v1) || !dc_add_str(b, k2, v2)) {
        cJSON_Delete(b);
        return MC_ERR_NOMEM;
    }
    err = dc_call_id(c, "PUT", pre, id, post, b, 204, NULL, NULL);
    cJSON_Delete(b);
    return err;
}

static bool dc_add_num(cJSON *o, const char *k, int64_t v)
{
    return v == 0 || cJSON_AddNumberToObject(o, k, (double)v) != NULL;
}

static bool dc_add_strv(cJSON *o, const char *k, const char *const *v, size_t n)
{
    cJSON *a;
    if (n == 0)
        return true;
    a = cJSON_AddArrayToObject(o, k);
    if (a == NULL)
        return false;
    for (size_t i = 0; i < n; i++) {
        cJSON *s = cJSON_CreateString(v[i]);
        if (s == NULL || !cJSON_AddItemToArray(a, s)) {
            cJSON_Delete(s);
            return false;
        }
    }
    return true;
}

/* Validity members: with prefix ("validity_") for the order level, plain in the objects. */
static enum mc_err dc_add_validity(cJSON *o, const struct dc_validity *v, bool order_level)
{
    if (v->years < 0 || v->days < 0)
        return MC_ERR_INVALID;
    if (v->custom_expiration_date != NULL && !dc_date_ok(v->custom_expiration_date))
        return MC_ERR_INVALID;
    if (!dc_add_num(o, order_level ? "validity_years" : "years", v->years) ||
        !dc_add_num(o, order_level ? "validity_days" : "days", v->days) ||
        !dc_add_str(o, "custom_expiration_date", v->custom_expiration_date))
        return MC_ERR_NOMEM;
    return MC_OK;
}

static bool dc_validity_set(const struct dc_validity *v)
{
    return v->years != 0 || v->days != 0 || v->custom_expiration_date != NULL;
}

static cJSON *dc_contact_json(const struct dc_contact *k)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o != NULL && dc_add_str(o, "contact_type", k->contact_type);
    if (ok && k->user_id > 0) {
        ok = dc_add_num(o, "user_id", k->user_id);
    } else if (ok) {
        ok = dc_add_str(o, "first_name", k->first_name) && dc_add_str(o, "last_name", k->last_name) &&
             dc_add_str(o, "job_title", k->job_title) && dc_add_str(o, "telephone", k->telephone) &&
             dc_add_str(o, "email", k->email);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static bool dc_strs_ok(const char *const *v, size_t n)
{
    if (n > DC_MAX_NAMES || (n > 0 && v == NULL))
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] == NULL || v[i][0] == '\0')
            return false;
    return true;
}

static cJSON *dc_emails_json(const struct dc_dcv_email *e, size_t n, const char *email_key)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(a, o)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        if (!dc_add_str(o, email_key, e[i].dns_name) ||
            !dc_add_str(o, "email_domain", e[i].email_domain) || !dc_add_str(o, "email", e[i].email)) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* ---- orders --------------------------------------------------------------------------- */

void dc_order_req_init(struct dc_order_req *r)
{
    memset(r, 0, sizeof *r);
    r->auto_renew = -1;
    r->disable_renewal_notifications = -1;
    r->disable_ct = -1;
}

enum mc_err dc_order_body(const struct dc_order_req *r, cJSON **out)
{
    cJSON *b = NULL, *cert = NULL, *o;
    enum mc_err err = MC_ERR_NOMEM;

    if (r == NULL || r->product == NULL || r->common_name == NULL || r->common_name[0] == '\0' ||
        r->csr == NULL || !dc_strs_ok(r->dns_names, r->n_dns_names) ||
        !dc_strs_ok(r->organization_units, r->n_organization_units) ||
        !dc_strs_ok(r->additional_emails, r->n_additional_emails) || r->n_contacts > 16 ||
        r->n_dcv_emails > DC_MAX_NAMES || r->n_custom_fields > 64)
        return MC_ERR_INVALID;
    b = cJSON_CreateObject();
    if (b == NULL)
        goto out;
    cert = cJSON_AddObjectToObject(b, "certificate");
    if (cert == NULL || !dc_add_str(cert, "common_name", r->common_name) ||
        !dc_add_strv(cert, "dns_names", r->dns_names, r->n_dns_names) ||
        !dc_add_str(cert, "csr", r->csr) || !dc_add_str(cert, "signature_hash", r->signature_hash) ||
        !dc_add_strv(cert, "organization_units", r->organization_units, r->n_organization_units) ||
        !dc_add_str(cert, "profile_option", r->profile_option))
        goto out;
    if (r->server_platform_id != 0) {
        o = cJSON_AddObjectToObject(cert, "server_platform");
        if (o == NULL || cJSON_AddNumberToObject(o, "id", (double)r->server_platform_id) == NULL)
            goto out;
    }
    if (r->ca_cert_id_str != NULL) {
        if (!dc_add_str(cert, "ca_cert_id", r->ca_cert_id_str))
            goto out;
    } else if (!dc_add_num(cert, "ca_cert_id", r->ca_cert_id)) {
        goto out;
    }
    if (dc_validity_set(&r->cert_validity)) {
        o = cJSON_AddObjectToObject(cert, "cert_validity");
        if (o == NULL)
            goto out;
        err = dc_add_validity(o, &r->cert_validity, false);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
    }
    if (r->organization_id != 0 || r->n_contacts > 0) {
        o = cJSON_AddObjectToObject(b, "organization");
        if (o == NULL || !dc_add_num(o, "id", r->organization_id))
            goto out;
        if (r->n_contacts > 0) {
            cJSON *a = cJSON_AddArrayToObject(o, "contacts");
            if (a == NULL)
                goto out;
            for (size_t i = 0; i < r->n_contacts; i++) {
                cJSON *k = dc_contact_json(&r->contacts[i]);
                if (k == NULL || !cJSON_AddItemToArray(a, k)) {
                    cJSON_Delete(k);
                    goto out;
                }
            }
        }
    }
    err = dc_add_validity(b, &r->validity, true);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    if (dc_validity_set(&r->order_validity)) {
        o = cJSON_AddObjectToObject(b, "order_validity");
        if (o == NULL)
            goto out;
        err = dc_add_validity(o, &r->order_validity, false);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_NOMEM;
    }
    if (!dc_add_str(b, "dcv_method", r->dcv_method))
        goto out;
    if (r->n_dcv_emails > 0) {
        cJSON *a = dc_emails_json(r->dcv_emails, r->n_dcv_emails, "dns_name");
        if (a == NULL || !cJSON_AddItemToObject(b, "dcv_emails", a)) {
            cJSON_Delete(a);
            goto out;
        }
    }
    if ((r->use_auth_key && cJSON_AddBoolToObject(b, "use_auth_key", true) == NULL) ||
        !dc_add_str(b, "auth_key_id", r->auth_key_id) ||
        (r->skip_approval && cJSON_AddBoolToObject(b, "skip_approval", true) == NULL) ||
        !dc_add_str(b, "comments", r->comments))
        goto out;
    if (r->container_id != 0) {
        o = cJSON_AddObjectToObject(b, "container");
        if (o == NULL || !dc_add_num(o, "id", r->container_id))
            goto out;
    }
    if (r->n_custom_fields > 0) {
        cJSON *a = cJSON_AddArrayToObject(b, "custom_fields");
        if (a == NULL)
            goto out;
        for (size_t i = 0; i < r->n_custom_fields; i++) {
            cJSON *f = cJSON_CreateObject();
            if (f == NULL || !cJSON_AddItemToArray(a, f)) {
                cJSON_Delete(f);
                goto out;
            }
            if (!dc_add_num(f, "metadata_id", r->custom_fields[i].metadata_id) ||
                !dc_add_str(f, "value", r->custom_fields[i].value))
                goto out;
        }
    }
    if (!dc_add_str(b, "payment_method", r->payment_method) ||
        (r->auto_renew >= 0 && cJSON_AddNumberToObject(b, "auto_renew", r->auto_renew ? 1 : 0) == NULL) ||
        !dc_add_str(b, "custom_renewal_message", r->custom_renewal_message) ||
        (r->disable_renewal_notifications >= 0 &&
         cJSON_AddBoolToObject(b, "disable_renewal_notifications",
                               r->disable_renewal_notifications != 0) == NULL) ||
        (r->disable_ct >= 0 && cJSON_AddBoolToObject(b, "disable_ct", r->disable_ct != 0) == NULL) ||
        !dc_add_str(b, "locale", r->locale) ||
        !dc_add_num(b, "renewal_of_order_id", r->renewal_of_order_id) ||
        !dc_add_strv(b, "additional_emails", r->additional_emails, r->n_additional_emails))
        goto out;
    if (r->technical_contact != NULL) {
        cJSON *k = dc_contact_json(r->technical_contact);
        if (k == NULL || !cJSON_AddItemToObject(b, "technical_contact", k)) {
            cJSON_Delete(k);
            goto out;
        }
    }
    if (r->type_hint != NULL) {
        o = cJSON_AddObjectToObject(b, "product");
        if (o == NULL || !dc_add_str(o, "type_hint", r->type_hint))
            goto out;
    }
    if (r->extra != NULL) {
        const cJSON *m;
        if (!cJSON_IsObject(r->extra)) {
            err = MC_ERR_INVALID;
            goto out;
        }
        cJSON_ArrayForEach(m, r->extra)
        {
            cJSON *d = cJSON_Duplicate(m, true);
            if (d == NULL)
                goto out;
            cJSON_DeleteItemFromObjectCaseSensitive(b, m->string);
            if (!cJSON_AddItemToObject(b, m->string, d)) {
                cJSON_Delete(d);
                goto out;
            }
        }
    }
    *out = b;
    b = NULL;
    err = MC_OK;
out:
    cJSON_Delete(b);
    return err;
}

void dc_placed_free(struct dc_placed *p)
{
    if (p == NULL)
        return;
    free(p->request_status);
    free(p->dcv_random_value);
    for (size_t i = 0; i < p->n_chain; i++) {
        free(p->chain[i].subject_common_name);
        free(p->chain[i].pem);
    }
    free(p->chain);
    cJSON_Delete(p->json);
    memset(p, 0, sizeof *p);
}

static enum mc_err dc_dup_opt(const cJSON *o, const char *k, char **out)
{
    const char *s;
    enum mc_err err = json_get_string(o, k, &s);
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (err != MC_OK)
        return err;
    *out = strdup(s);
    return *out == NULL ? MC_ERR_NOMEM : MC_OK;
}

static enum mc_err dc_int_opt(const cJSON *o, const char *k, int64_t *out)
{
    enum mc_err err = json_get_int(o, k, 0, INT64_MAX / 2, out);
    return err == MC_ERR_NOT_FOUND ? MC_OK : err;
}

/* Reads an order's or reissue's 201 answer (A1, A8) into p, taking json. */
static enum mc_err dc_placed_from(struct dc_client *c, cJSON *json, struct dc_placed *p)
{
    const cJSON *reqs, *chain, *it;
    enum mc_err err;

    p->json = json;
    if (!cJSON_IsObject(json) || json_get_int(json, "id", 1, INT64_MAX / 2, &p->id) != MC_OK) {
        dc_set_msg(c, "the answer has no order id");
        return MC_ERR_INVALID;
    }
    err = dc_int_opt(json, "certificate_id", &p->certificate_id);
    if (err == MC_OK)
        err = dc_dup_opt(json, "dcv_random_value", &p->dcv_random_value);
    if (err == MC_OK && json_get_array(json, "requests", &reqs) == MC_OK &&
        cJSON_GetArraySize(reqs) > 0) {
        it = cJSON_GetArrayItem(reqs, 0);
        if (cJSON_IsObject(it)) {
            err = dc_int_opt(it, "id", &p->request_id);
            if (err == MC_OK)
                err = dc_dup_opt(it, "status", &p->request_status);
        }
    }
    if (err == MC_OK && json_get_array(json, "certificate_chain", &chain) == MC_OK) {
        size_t n = (size_t)cJSON_GetArraySize(chain);
        if (n > 16)
            n = 16;
        p->chain = calloc(n > 0 ? n : 1, sizeof *p->chain);
        if (p->chain == NULL)
            return MC_ERR_NOMEM;
        cJSON_ArrayForEach(it, chain)
        {
            const char *pem;
            if (p->n_chain >= n)
                break;
            if (!cJSON_IsObject(it) || json_get_string(it, "pem", &pem) != MC_OK) {
                dc_set_msg(c, "certificate_chain entry without a pem");
                return MC_ERR_INVALID;
            }
            struct dc_chain_cert *cc = &p->chain[p->n_chain++];
            cc->pem = strdup(pem);
            if (cc->pem == NULL)
                return MC_ERR_NOMEM;
            err = dc_dup_opt(it, "subject_common_name", &cc->subject_common_name);
            if (err != MC_OK)
                break;
        }
    }
    if (err == MC_ERR_INVALID)
        dc_set_msg(c, "the order answer has a member of the wrong type");
    return err;
}

enum mc_err dc_placed_chain_pem(const struct dc_placed *p, char **out)
{
    size_t total = 1;
    char *buf, *w;
    if (p == NULL || p->n_chain == 0)
        return MC_ERR_NOT_FOUND;
    for (size_t i = 0; i < p->n_chain; i++)
        total += strlen(p->chain[i].pem) + 1;
    buf = malloc(total);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    w = buf;
    for (size_t i = 0; i < p->n_chain; i++) {
        const char *s = p->chain[i].pem;
        /* A1: PEM lines end in "\r\n" on the wire; files get plain newlines. */
        for (; *s != '\0'; s++)
            if (*s != '\r')
                *w++ = *s;
        if (w > buf && w[-1] != '\n')
            *w++ = '\n';
    }
    *w = '\0';
    *out = buf;
    return MC_OK;
}

enum mc_err dc_order_place(struct dc_client *c, const struct dc_order_req *r, struct dc_placed *out)
{
    cJSON *body = NULL, *ans = NULL;
    enum mc_err err;

    memset(out, 0, sizeof *out);
    err = dc_order_body(r, &body);
    if (err != MC_OK) {
        dc_set_msg(c, "order request incomplete or invalid");
        return err;
    }
    err = dc_check_id(c, "product", r->product);
    if (err == MC_OK)
        err = dc_call_id(c, "POST", "order/certificate/", r->product, "", body, 201, &ans, NULL);
    if (err == MC_OK) {
        err = dc_placed_from(c, ans, out);
        ans = NULL;
    }
    if (err == MC_OK)
        log_msg(LOGL_INFO, "certcli.dc.order", "id=%lld product=%s chain=%zu",
                (long long)out->id, r->product, out->n_chain);
    cJSON_Delete(body);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_order_info(struct dc_client *c, const char *id, bool include_caa, cJSON **out)
{
    char path[DC_PATH_MAX];
    enum mc_err err = dc_check_id(c, "order id", id);
    if (err == MC_OK)
        err = dc_pathf(path, sizeof path, "order/certificate/%s%s", id,
                       include_caa ? "?include_caa_status=true" : "");
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

/* Appends "&name=value" (value URL-encoded) to path. */
static enum mc_err dc_query_add(char *path, size_t n, const char *name, const char *value)
{
    char *enc;
    size_t len = strlen(path);
    enum mc_err err;
    if (value == NULL)
        return MC_OK;
    enc = curl_easy_escape(NULL, value, 0);
    if (enc == NULL)
        return MC_ERR_NOMEM;
    err = dc_pathf(path + len, n - len, "%c%s=%s", strchr(path, '?') != NULL ? '&' : '?', name,
                   enc);
    curl_free(enc);
    return err;
}

enum mc_err dc_order_list(struct dc_client *c, const struct dc_list_opts *o, cJSON **out)
{
    char path[DC_PATH_MAX] = "order/certificate", num[32];
    enum mc_err err = MC_OK;
    struct dc_list_opts none;

    if (o == NULL) {
        memset(&none, 0, sizeof none);
        o = &none;
    }
    if (o->limit < 0 || o->limit > 1000 || o->offset < 0)
        return MC_ERR_INVALID;
    err = dc_query_add(path, sizeof path, "filters%5Bstatus%5D", o->status);
    if (err == MC_OK)
        err = dc_query_add(path, sizeof path, "filters%5Bcommon_name%5D", o->common_name);
    if (err == MC_OK)
        err = dc_query_add(path, sizeof path, "filters%5Bproduct_name_id%5D", o->product_name_id);
    if (err == MC_OK)
        err = dc_query_add(path, sizeof path, "filters%5Bdate_created%5D", o->date_created);
    if (err == MC_OK && o->limit > 0) {
        snprintf(num, sizeof num, "%ld", o->limit);
        err = dc_query_add(path, sizeof path, "limit", num);
    }
    if (err == MC_OK && o->offset > 0) {
        snprintf(num, sizeof num, "%ld", o->offset);
        err = dc_query_add(path, sizeof path, "offset", num);
    }
    if (err == MC_OK)
        err = dc_query_add(path, sizeof path, "sort", o->sort);
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

enum mc_err dc_order_status(struct dc_client *c, const char *id, const char *status,
                            const char *note)
{
    enum mc_err err = dc_check_id(c, "order id", id);
    if (err != MC_OK)
        return err;
    return dc_put_pair(c, "order/certificate/", id, "/status", "status",
                       status != NULL ? status : "canceled", "note",
                       note != NULL ? note : "canceled by certcli");
}

enum mc_err dc_order_validation(struct dc_client *c, const char *id, cJSON **out)
{
    enum mc_err err = dc_check_id(c, "order id", id);
    if (err == MC_OK)
        err = dc_call_id(c, "GET", "order/certificate/", id, "/validation", NULL, 200, out, NULL);
    return err;
}

void dc_strv_free(char **v, size_t n)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static enum mc_err dc_names_add(char **v, size_t *n, const char *s)
{
    char *d;
    if (*n >= DC_MAX_NAMES + 1)
        return MC_ERR_TOO_BIG;
    for (size_t i = 0; i < *n; i++)
        if (strcasecmp(v[i], s) == 0)
            return MC_OK;
    d = strdup(s);
    if (d == NULL)
        return MC_ERR_NOMEM;
    for (char *p = d; *p != '\0'; p++)
        *p = (char)tolower((unsigned char)*p);
    v[(*n)++] = d;
    return MC_OK;
}

enum mc_err dc_order_names(const cJSON *order, char ***names, size_t *n)
{
    const cJSON *cert = NULL, *dns = NULL, *it;
    const char *cn = NULL;
    char **v = NULL;
    size_t k = 0;
    enum mc_err err;

    if (json_get_object(order, "certificate", &cert) != MC_OK ||
        json_get_string(cert, "common_name", &cn) != MC_OK)
        return MC_ERR_INVALID;
    v = calloc(DC_MAX_NAMES + 1, sizeof *v);
    if (v == NULL)
        return MC_ERR_NOMEM;
    err = dc_names_add(v, &k, cn);
    if (err == MC_OK && json_get_array(cert, "dns_names", &dns) == MC_OK) {
        cJSON_ArrayForEach(it, dns)
        {
            if (!cJSON_IsString(it)) {
                err = MC_ERR_INVALID;
                break;
            }
            err = dc_names_add(v, &k, it->valuestring);
            if (err != MC_OK)
                break;
        }
    }
    if (err != MC_OK) {
        dc_strv_free(v, k);
        return err;
    }
    *names = v;
    *n = k;
    return MC_OK;
}

/* ---- DCV ------------------------------------------------------------------------------ */

enum mc_err dc_dcv_random_value(struct dc_client *c, const char *id, char **value, char **expires)
{
    cJSON *ans = NULL;
    const char *v;
    enum mc_err err = dc_check_id(c, "order id", id);
    *value = NULL;
    if (expires != NULL)
        *expires = NULL;
    if (err == MC_OK)
        err = dc_call_id(c, "PUT", "order/certificate/", id, "/dcv-random-value", NULL, 200,
                         &ans, NULL);
    if (err == MC_OK && json_get_string(ans, "dcv_random_value", &v) != MC_OK) {
        dc_set_msg(c, "the answer has no dcv_random_value");
        err = MC_ERR_INVALID;
    }
    if (err == MC_OK) {
        *value = strdup(v);
        if (*value == NULL)
            err = MC_ERR_NOMEM;
    }
    if (err == MC_OK && expires != NULL)
        err = dc_dup_opt(ans, "expiration_date", expires);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_check_dcv(struct dc_client *c, const char *id, const char *const *names, size_t n,
                         cJSON **out)
{
    cJSON *b = NULL;
    enum mc_err err = dc_check_id(c, "order id", id);
    if (err != MC_OK)
        return err;
    if (n > DC_MAX_NAMES)
        return MC_ERR_TOO_BIG;
    if (n > 0) {
        /* A4 a): the subset form; the docs spell it two ways and the mock takes both. */
        cJSON *a;
        b = cJSON_CreateObject();
        a = b != NULL ? cJSON_AddArrayToObject(b, "dns_name_validations") : NULL;
        for (size_t i = 0; a != NULL && i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            if (o == NULL || !cJSON_AddItemToArray(a, o) || !dc_add_str(o, "dns_name", names[i])) {
                if (o != NULL && cJSON_GetArraySize(a) == 0)
                    cJSON_Delete(o);
                a = NULL;
            }
        }
        if (a == NULL) {
            cJSON_Delete(b);
            return MC_ERR_NOMEM;
        }
    }
    err = dc_call_id(c, "PUT", "order/certificate/", id, "/check-dcv", b, 200, out, NULL);
    cJSON_Delete(b);
    return err;
}

enum mc_err dc_dcv_method(struct dc_client *c, const char *id, const char *method, char **value)
{
    cJSON *b = NULL, *ans = NULL;
    long status = 0;
    enum mc_err err = dc_check_id(c, "order id", id);
    *value = NULL;
    if (err != MC_OK)
        return err;
    if (method == NULL)
        return MC_ERR_INVALID;
    b = cJSON_CreateObject();
    if (b == NULL || !dc_add_str(b, "dcv_method", method)) {
        cJSON_Delete(b);
        return MC_ERR_NOMEM;
    }
    err = dc_call_id(c, "PUT", "order/certificate/", id, "/dcv-method", b, 0, &ans, &status);
    /* A4 c): email answers 204 empty; a token method 200 with the new value. */
    if (err == MC_OK && status != 204)
        err = dc_dup_opt(ans, "dcv_random_value", value);
    cJSON_Delete(b);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_resend_emails(struct dc_client *c, const char *id, const struct dc_dcv_email *emails,
                             size_t n, const char *locale)
{
    cJSON *b = NULL, *a;
    enum mc_err err = dc_check_id(c, "order id", id);
    if (err != MC_OK)
        return err;
    if (n > DC_MAX_NAMES)
        return MC_ERR_TOO_BIG;
    b = cJSON_CreateObject();
    if (b == NULL)
        return MC_ERR_NOMEM;
    if (n > 0) {
        a = dc_emails_json(emails, n, "domain");
        if (a == NULL || !cJSON_AddItemToObject(b, "domain_approval_emails", a)) {
            cJSON_Delete(a);
            cJSON_Delete(b);
            return MC_ERR_NOMEM;
        }
    }
    if (!dc_add_str(b, "locale", locale)) {
        cJSON_Delete(b);
        return MC_ERR_NOMEM;
    }
    err = dc_call_id(c, "PUT", "order/certificate/", id, "/resend-emails", b, 204, NULL, NULL);
    cJSON_Delete(b);
    return err;
}

/* A name a value is placed for: LDH labels, an optional leading "*.". The solvers check
 * again; this keeps a hostile order from reaching them with anything else. */
static bool dc_name_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return false;
    if (strncmp(s, "*.", 2) == 0)
        s += 2;
    n = strnlen(s, 254);
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
            return false;
    return s[0] != '.' && s[n - 1] != '.' && strstr(s, "..") == NULL;
}

enum dc_pk { DC_PK_TXT, DC_PK_FILE, DC_PK_CNAME };

/* Places or takes away the value for one name. */
static enum mc_err dc_place_one(const struct dc_placer *p, enum dc_pk kind, const char *name,
                                const char *value, bool present)
{
    char fqdn[300], target[300];
    const char *base = strncmp(name, "*.", 2) == 0 ? name + 2 : name;
    switch (kind) {
    case DC_PK_TXT:
        snprintf(fqdn, sizeof fqdn, "%s%s", p->txt_at_name ? "" : "_dnsauth.", base);
        return present ? p->txt_present(p->arg, fqdn, value) : p->txt_cleanup(p->arg, fqdn, value);
    case DC_PK_CNAME:
        /* A4: _dnsauth.<domain> CNAME <random_value>.dcv.digicert.com, always at _dnsauth
         * (the name itself cannot hold a CNAME next to its other records). */
        snprintf(fqdn, sizeof fqdn, "_dnsauth.%s", base);
        snprintf(target, sizeof target, "%s.%s", value, DC_CNAME_SUFFIX);
        return present ? p->cname_present(p->arg, fqdn, target)
                       : p->cname_cleanup(p->arg, fqdn, target);
    case DC_PK_FILE:
    default:
        return present ? p->file_present(p->arg, base, DC_FILEAUTH_PATH, value)
                       : p->file_cleanup(p->arg, base, DC_FILEAUTH_PATH);
    }
}

static enum mc_err dc_place_kind(const struct dc_placer *p, const char *method, enum dc_pk *kind)
{
    if (p == NULL || method == NULL)
        return MC_ERR_INVALID;
    if (strcmp(method, "dns-txt-token") == 0) {
        *kind = DC_PK_TXT;
        return p->txt_present != NULL && p->txt_cleanup != NULL ? MC_OK : MC_ERR_UNSUPPORTED;
    }
    if (strcmp(method, "dns-cname-token") == 0) {
        *kind = DC_PK_CNAME;
        return p->cname_present != NULL && p->cname_cleanup != NULL ? MC_OK : MC_ERR_UNSUPPORTED;
    }
    if (strcmp(method, "http-token") == 0) {
        *kind = DC_PK_FILE;
        return p->file_present != NULL && p->file_cleanup != NULL ? MC_OK : MC_ERR_UNSUPPORTED;
    }
    /* email and http-token-dynamic have no value placed by us. */
    return MC_ERR_UNSUPPORTED;
}

enum mc_err dc_place(const struct dc_placer *p, const char *method, char *const *names, size_t n,
                     const char *value)
{
    enum dc_pk kind = DC_PK_TXT;
    size_t done = 0;
    enum mc_err err = dc_place_kind(p, method, &kind);
    if (err != MC_OK)
        return err;
    if (value == NULL || value[0] == '\0' || n > DC_MAX_NAMES)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        if (!dc_name_ok(names[i]))
            return MC_ERR_INVALID;
        /* A4: fileauth.txt proves the exact name only; a wildcard cannot be proven so. */
        if (kind == DC_PK_FILE && strncmp(names[i], "*.", 2) == 0)
            return MC_ERR_UNSUPPORTED;
    }
    for (; done < n; done++) {
        err = dc_place_one(p, kind, names[done], value, true);
        if (err != MC_OK)
            goto out;
    }
    if (kind == DC_PK_TXT && p->txt_wait != NULL) {
        char fqdn[300];
        for (size_t i = 0; i < n && err == MC_OK; i++) {
            const char *base = strncmp(names[i], "*.", 2) == 0 ? names[i] + 2 : names[i];
            snprintf(fqdn, sizeof fqdn, "%s%s", p->txt_at_name ? "" : "_dnsauth.", base);
            err = p->txt_wait(p->arg, fqdn, value);
        }
    }
out:
    if (err != MC_OK) {
        for (size_t i = 0; i < done; i++)
            (void)dc_place_one(p, kind, names[i], value, false);
    }
    return err;
}

enum mc_err dc_unplace(const struct dc_placer *p, const char *method, char *const *names, size_t n,
                       const char *value)
{
    enum dc_pk kind = DC_PK_TXT;
    enum mc_err err = dc_place_kind(p, method, &kind), e;
    if (err != MC_OK)
        return err;
    for (size_t i = 0; i < n; i++) {
        if (!dc_name_ok(names[i]))
            continue;
        e = dc_place_one(p, kind, names[i], value, false);
        if (err == MC_OK)
            err = e;
    }
    return err;
}

/* ---- status changes ------------------------------------------------------------------- */

enum mc_err dc_status_changes(struct dc_client *c, long minutes, long seconds, cJSON **out)
{
    char path[DC_PATH_MAX] = "order/certificate/status-changes", num[32];
    enum mc_err err = MC_OK;
    if (minutes < 0 || seconds < 0 || (minutes == 0 && seconds == 0))
        return MC_ERR_INVALID;
    if (minutes > 0) {
        snprintf(num, sizeof num, "%ld", minutes);
        err = dc_query_add(path, sizeof path, "minutes", num);
    }
    if (err == MC_OK && seconds > 0) {
        snprintf(num, sizeof num, "%ld", seconds);
        err = dc_query_add(path, sizeof path, "seconds", num);
    }
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

static bool dc_final_status(const char *s)
{
    static const char *const fin[] = {"rejected", "canceled", "revoked", "expired", "issued"};
    for (size_t i = 0; i < sizeof fin / sizeof fin[0]; i++)
        if (strcmp(s, fin[i]) == 0)
            return true;
    return false;
}

/* Sets *status (new) and returns MC_OK when done (want reached), MC_ERR_STATE when a final
 * status other than want, MC_ERR_TIMEOUT (meaning: keep going) otherwise. */
static enum mc_err dc_watch_judge(const char *seen, const char *want, char **status)
{
    char *d = strdup(seen);
    if (d == NULL)
        return MC_ERR_NOMEM;
    free(*status);
    *status = d;
    if (strcmp(seen, want) == 0)
        return MC_OK;
    /* "issued" is final only when waiting for something before it; waiting for "revoked"
     * from an issued order goes on. */
    if (dc_final_status(seen) && strcmp(seen, "issued") != 0)
        return MC_ERR_STATE;
    return MC_ERR_TIMEOUT;
}

enum mc_err dc_watch_order(struct dc_client *c, const char *id, const struct dc_watch *w,
                           char **status, int64_t *certificate_id)
{
    const char *want = w != NULL && w->want != NULL ? w->want : "issued";
    long interval_ms = w != NULL && w->interval_ms > 0 ? w->interval_ms : 2000;
    long timeout_s = w != NULL && w->timeout_s > 0 ? w->timeout_s : 300;
    bool progress = w != NULL && w->progress && isatty(STDERR_FILENO);
    cJSON *j = NULL;
    const cJSON *cert, *orders, *it;
    const char *st;
    int64_t oid = 0, start = clock_now_ms(NULL), deadline = start + (int64_t)timeout_s * 1000;
    enum mc_err err;

    *status = NULL;
    *certificate_id = 0;
    /* The order may have moved before the watch began: status-changes would only show it
     * within its window, the order itself always. It also gives the numeric id that
     * status-changes reports, whatever form (serial, thumbprint) id has. */
    err = dc_order_info(c, id, false, &j);
    if (err != MC_OK)
        goto out;
    if (json_get_int(j, "id", 1, INT64_MAX / 2, &oid) != MC_OK ||
        json_get_string(j, "status", &st) != MC_OK) {
        dc_set_msg(c, "order %s has no id or status", id);
        err = MC_ERR_INVALID;
        goto out;
    }
    if (json_get_object(j, "certificate", &cert) == MC_OK)
        if (json_get_int(cert, "id", 0, INT64_MAX / 2, certificate_id) != MC_OK)
            *certificate_id = 0; /* no certificate yet */
    err = dc_watch_judge(st, want, status);
    if (err != MC_ERR_TIMEOUT)
        goto out;
    for (int round = 0; round < DC_WATCH_MAX_ROUNDS; round++) {
        int64_t now = clock_now_ms(NULL);
        if (now >= deadline)
            break;
        dc_sleep(interval_ms < deadline - now ? interval_ms : deadline - now);
        now = clock_now_ms(NULL);
        /* The window covers everything since the watch began, plus slack for the CA's
         * clock: a change is never missed between two polls. */
        long window = (long)((now - start) / 1000) + interval_ms / 1000 + 60;
        if (window > DC_WATCH_MAX_WINDOW_S)
            window = DC_WATCH_MAX_WINDOW_S;
        cJSON_Delete(j);
        j = NULL;
        err = dc_status_changes(c, 0, window, &j);
        if (err != MC_OK)
            goto out;
        err = MC_ERR_TIMEOUT;
        if (json_get_array(j, "orders", &orders) != MC_OK)
            orders = NULL; /* A6: {} when nothing changed */
        cJSON_ArrayForEach(it, orders)
        {
            int64_t got = 0;
            if (!cJSON_IsObject(it) || json_get_int(it, "order_id", 0, INT64_MAX / 2, &got) != MC_OK ||
                got != oid || json_get_string(it, "status", &st) != MC_OK)
                continue;
            int64_t cid = 0;
            if (json_get_int(it, "certificate_id", 0, INT64_MAX / 2, &cid) == MC_OK && cid > 0)
                *certificate_id = cid;
            err = dc_watch_judge(st, want, status);
        }
        if (progress)
            fprintf(stderr, "\rorder %lld: %s (%llds)   ", (long long)oid,
                    *status != NULL ? *status : "?", (long long)((now - start) / 1000));
        if (err != MC_ERR_TIMEOUT)
            goto out;
    }
    dc_set_msg(c, "order %lld did not reach %s within %ld s (last: %s)", (long long)oid, want,
               timeout_s, *status != NULL ? *status : "unknown");
    err = MC_ERR_TIMEOUT;
out:
    if (progress)
        fprintf(stderr, "\n");
    if (err == MC_ERR_STATE)
        dc_set_msg(c, "order %lld is %s, not %s", (long long)oid, *status, want);
    cJSON_Delete(j);
    return err;
}

/* ---- downloads ------------------------------------------------------------------------ */

bool dc_format_ok(const char *fmt)
{
    static const char *const f[] = {"default",    "apache",  "default_cer",
                                    "cer",        "p7b",     "default_pem",
                                    "pem_all",    "pem_noroot", "pem_nointermediate"};
    if (fmt == NULL)
        return false;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcmp(fmt, f[i]) == 0)
            return true;
    return false;
}

enum mc_err dc_download(struct dc_client *c, const char *id, bool by_order, const char *fmt,
                        const char *path, char **ctype, size_t *len)
{
    char p[DC_PATH_MAX];
    struct dc_resp r;
    enum mc_err err = dc_check_id(c, by_order ? "order id" : "certificate id", id);

    memset(&r, 0, sizeof r);
    if (ctype != NULL)
        *ctype = NULL;
    if (err != MC_OK)
        return err;
    if (path == NULL)
        return MC_ERR_INVALID;
    if (fmt != NULL && strcmp(fmt, "platform") == 0) {
        if (by_order)
            return MC_ERR_UNSUPPORTED;
        err = dc_pathf(p, sizeof p, "certificate/%s/download/platform", id);
    } else if (fmt != NULL && !dc_format_ok(fmt)) {
        dc_set_msg(c, "unknown download format (default, apache, default_cer, cer, p7b, "
                      "default_pem, pem_all, pem_noroot, pem_nointermediate, platform)");
        return MC_ERR_INVALID;
    } else if (by_order) {
        err = fmt == NULL ? dc_pathf(p, sizeof p, "certificate/download/order/%s", id)
                          : dc_pathf(p, sizeof p, "certificate/download/order/%s/format/%s", id, fmt);
    } else {
        err = dc_pathf(p, sizeof p, "certificate/%s/download/format/%s", id,
                       fmt != NULL ? fmt : "default");
    }
    if (err == MC_OK)
        err = dc_request(c, "GET", p, NULL, &r);
    if (err == MC_OK && r.len == 0) {
        dc_set_msg(c, "the download is empty");
        err = MC_ERR_INVALID;
    }
    if (err == MC_OK) {
        err = file_write_atomic(path, r.body, r.len, 0644);
        if (err != MC_OK)
            dc_set_msg(c, "cannot write %s: %s", path, mc_strerror(err));
    }
    if (err == MC_OK) {
        if (len != NULL)
            *len = r.len;
        if (ctype != NULL && r.content_type != NULL) {
            *ctype = strdup(r.content_type);
            if (*ctype == NULL)
                err = MC_ERR_NOMEM;
        }
    }
    dc_resp_free(&r);
    return err;
}

enum mc_err dc_chain(struct dc_client *c, const char *cert_id, cJSON **out)
{
    enum mc_err err = dc_check_id(c, "certificate id", cert_id);
    if (err == MC_OK)
        err = dc_call_id(c, "GET", "certificate/", cert_id, "/chain", NULL, 200, out, NULL);
    return err;
}

/* ---- reissue, revoke, requests -------------------------------------------------------- */

/* POST order/certificate/{id}/{what} (reissue or duplicate: the same body, A8 and A0). */
static enum mc_err dc_reissue_like(struct dc_client *c, const char *id,
                                   const struct dc_reissue_req *r, const char *what,
                                   struct dc_placed *out)
{
    char path[DC_PATH_MAX];
    cJSON *b = NULL, *cert, *ans = NULL;
    enum mc_err err = dc_check_id(c, "order id", id);

    memset(out, 0, sizeof *out);
    if (err != MC_OK)
        return err;
    if (r == NULL || r->csr == NULL || !dc_strs_ok(r->dns_names, r->n_dns_names))
        return MC_ERR_INVALID;
    err = MC_ERR_NOMEM;
    b = cJSON_CreateObject();
    cert = b != NULL ? cJSON_AddObjectToObject(b, "certificate") : NULL;
    if (cert == NULL || !dc_add_str(cert, "common_name", r->common_name) ||
        !dc_add_strv(cert, "dns_names", r->dns_names, r->n_dns_names) ||
        !dc_add_str(cert, "csr", r->csr) || !dc_add_str(cert, "signature_hash", r->signature_hash) ||
        !dc_add_num(cert, "ca_cert_id", r->ca_cert_id) || !dc_add_str(b, "dcv_method", r->dcv_method) ||
        (r->skip_approval && cJSON_AddBoolToObject(b, "skip_approval", true) == NULL) ||
        !dc_add_str(b, "comments", r->comments))
        goto out;
    if (r->server_platform_id != 0) {
        cJSON *o = cJSON_AddObjectToObject(cert, "server_platform");
        if (o == NULL || cJSON_AddNumberToObject(o, "id", (double)r->server_platform_id) == NULL)
            goto out;
    }
    err = dc_pathf(path, sizeof path, "order/certificate/%s/%s", id, what);
    if (err == MC_OK)
        err = dc_call(c, "POST", path, b, 201, &ans, NULL);
    if (err == MC_OK) {
        err = dc_placed_from(c, ans, out);
        ans = NULL;
    }
out:
    cJSON_Delete(b);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_reissue(struct dc_client *c, const char *id, const struct dc_reissue_req *r,
                       struct dc_placed *out)
{
    return dc_reissue_like(c, id, r, "reissue", out);
}

enum mc_err dc_duplicate(struct dc_client *c, const char *id, const struct dc_reissue_req *r,
                         struct dc_placed *out)
{
    return dc_reissue_like(c, id, r, "duplicate", out);
}

void dc_revoked_free(struct dc_revoked *r)
{
    if (r == NULL)
        return;
    free(r->status);
    memset(r, 0, sizeof *r);
}

enum mc_err dc_revoke(struct dc_client *c, const char *id, bool by_order, const char *comments,
                      const char *reason, bool skip_approval, struct dc_revoked *out)
{
    char path[DC_PATH_MAX];
    cJSON *b = NULL, *ans = NULL;
    long status = 0;
    enum mc_err err = dc_check_id(c, by_order ? "order id" : "certificate id", id);

    memset(out, 0, sizeof *out);
    if (err != MC_OK)
        return err;
    b = cJSON_CreateObject();
    if (b == NULL || !dc_add_str(b, "comments", comments) ||
        !dc_add_str(b, "revocation_reason", reason) ||
        (skip_approval && cJSON_AddBoolToObject(b, "skip_approval", true) == NULL)) {
        cJSON_Delete(b);
        return MC_ERR_NOMEM;
    }
    err = by_order ? dc_pathf(path, sizeof path, "order/certificate/%s/revoke", id)
                   : dc_pathf(path, sizeof path, "certificate/%s/revoke", id);
    if (err == MC_OK)
        err = dc_call(c, "PUT", path, b, 0, &ans, &status);
    /* A9: 201 with the revoke request waiting for approval, or 204 when revoked at once. */
    if (err == MC_OK && status == 201) {
        out->pending = true;
        err = dc_int_opt(ans, "id", &out->request_id);
        if (err == MC_OK)
            err = dc_dup_opt(ans, "status", &out->status);
    }
    cJSON_Delete(b);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_request_status(struct dc_client *c, const char *request_id, const char *status,
                              const char *comment)
{
    enum mc_err err = dc_check_id(c, "request id", request_id);
    if (err != MC_OK)
        return err;
    if (status == NULL)
        return MC_ERR_INVALID;
    return dc_put_pair(c, "request/", request_id, "/status", "status", status,
                       "processor_comment", comment);
}

enum mc_err dc_request_info(struct dc_client *c, const char *request_id, cJSON **out)
{
    enum mc_err err = dc_check_id(c, "request id", request_id);
    if (err == MC_OK)
        err = dc_call_id(c, "GET", "request/", request_id, "", NULL, 200, out, NULL);
    return err;
}

/* ---- AuthKeys ------------------------------------------------------------------------- */

void dc_authkey_free(struct dc_authkey *k)
{
    if (k == NULL)
        return;
    free(k->id);
    if (k->key != NULL) {
        OPENSSL_cleanse(k->key, strlen(k->key));
        free(k->key);
    }
    free(k->expiration);
    memset(k, 0, sizeof *k);
}

/* An AuthKey answer: auth_key_id (a string, or a number on some accounts), auth_key. */
static enum mc_err dc_authkey_from(struct dc_client *c, const cJSON *j, struct dc_authkey *k)
{
    const char *s;
    int64_t n;
    char buf[32];
    if (json_get_string(j, "auth_key_id", &s) != MC_OK) {
        if (json_get_int(j, "auth_key_id", 0, INT64_MAX / 2, &n) != MC_OK) {
            dc_set_msg(c, "the answer has no auth_key_id");
            return MC_ERR_INVALID;
        }
        snprintf(buf, sizeof buf, "%lld", (long long)n);
        s = buf;
    }
    k->id = strdup(s);
    if (k->id == NULL)
        return MC_ERR_NOMEM;
    if (json_get_string(j, "auth_key", &s) != MC_OK) {
        dc_set_msg(c, "the answer has no auth_key");
        return MC_ERR_INVALID;
    }
    k->key = strdup(s);
    if (k->key == NULL)
        return MC_ERR_NOMEM;
    return dc_dup_opt(j, "expiration_datetime", &k->expiration);
}

enum mc_err dc_authkey_create(struct dc_client *c, long days, struct dc_authkey *out)
{
    char path[DC_PATH_MAX];
    cJSON *ans = NULL;
    enum mc_err err;
    memset(out, 0, sizeof *out);
    if (days < 0 || days > 36500)
        return MC_ERR_INVALID;
    err = days > 0 ? dc_pathf(path, sizeof path, "account/auth-key/%ld", days)
                   : dc_pathf(path, sizeof path, "account/auth-key");
    if (err == MC_OK)
        err = dc_call(c, "POST", path, NULL, 200, &ans, NULL);
    if (err == MC_OK)
        err = dc_authkey_from(c, ans, out);
    if (err != MC_OK)
        dc_authkey_free(out);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_authkey_show(struct dc_client *c, const char *id, struct dc_authkey *out)
{
    char path[DC_PATH_MAX];
    cJSON *ans = NULL;
    enum mc_err err = MC_OK;
    memset(out, 0, sizeof *out);
    if (id != NULL)
        err = dc_check_id(c, "AuthKey id", id);
    if (err == MC_OK)
        err = id != NULL ? dc_pathf(path, sizeof path, "account/auth-key/%s", id)
                         : dc_pathf(path, sizeof path, "account/auth-key");
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, &ans, NULL);
    if (err == MC_OK)
        err = dc_authkey_from(c, ans, out);
    if (err != MC_OK)
        dc_authkey_free(out);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_authkey_list(struct dc_client *c, cJSON **out)
{
    return dc_call(c, "GET", "account/auth-keys", NULL, 200, out, NULL);
}

enum mc_err dc_authkey_delete(struct dc_client *c, const char *id)
{
    char path[DC_PATH_MAX];
    enum mc_err err = MC_OK;
    if (id != NULL)
        err = dc_check_id(c, "AuthKey id", id);
    if (err == MC_OK)
        err = id != NULL ? dc_pathf(path, sizeof path, "account/auth-key/%s", id)
                         : dc_pathf(path, sizeof path, "account/auth-key");
    if (err == MC_OK)
        err = dc_call(c, "DELETE", path, NULL, 204, NULL, NULL);
    return err;
}

/* ---- instant DV ----------------------------------------------------------------------- */

enum mc_err dc_instant_dv(struct dc_client *c, const struct dc_order_req *r, const char *auth_key,
                          int64_t now, const struct dc_placer *p, const char *chain_path,
                          struct dc_placed *out, bool *issued)
{
    struct dc_authkey ak;
    struct dc_order_req req;
    char ts[15], token[DC_TOKEN_LEN + 1], *pem = NULL;
    char **names = NULL;
    size_t n = 0;
    bool placed = false;
    enum mc_err err = MC_OK, e;

    memset(&ak, 0, sizeof ak);
    memset(out, 0, sizeof *out);
    *issued = false;
    if (r == NULL || r->csr == NULL || r->common_name == NULL || p == NULL)
        return MC_ERR_INVALID;
    req = *r;
    if (req.dcv_method == NULL)
        req.dcv_method = "dns-txt-token";
    req.use_auth_key = true;
    if (auth_key == NULL) {
        err = dc_authkey_show(c, r->auth_key_id, &ak);
        if (err != MC_OK)
            goto out;
        auth_key = ak.key;
    }
    /* A10: the token is valid from its timestamp for 30 days and never before it; stamp it
     * a little in the past so that a CA clock behind ours still takes it. */
    dc_timestamp(now != 0 ? now : clock_now(NULL) - DC_TOKEN_SKEW_S, ts);
    err = dc_request_token(auth_key, ts, req.csr, token);
    if (err != MC_OK)
        goto out;
    names = calloc(req.n_dns_names + 1, sizeof *names);
    if (names == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    err = dc_names_add(names, &n, req.common_name);
    for (size_t i = 0; err == MC_OK && i < req.n_dns_names; i++)
        err = dc_names_add(names, &n, req.dns_names[i]);
    if (err != MC_OK)
        goto out;
    err = dc_place(p, req.dcv_method, names, n, token);
    if (err != MC_OK) {
        dc_set_msg(c, "placing the request token with %s failed: %s", req.dcv_method,
                   mc_strerror(err));
        goto out;
    }
    placed = true;
    err = dc_order_place(c, &req, out);
    if (err != MC_OK)
        goto out;
    if (out->n_chain > 0) {
        *issued = true;
        if (chain_path != NULL) {
            err = dc_placed_chain_pem(out, &pem);
            if (err == MC_OK)
                err = file_write_atomic(chain_path, pem, strlen(pem), 0644);
            if (err != MC_OK)
                dc_set_msg(c, "cannot write %s: %s", chain_path, mc_strerror(err));
        }
    }
    log_msg(LOGL_INFO, "certcli.dc.instant_dv", "order=%lld issued=%d method=%s",
            (long long)out->id, *issued ? 1 : 0, req.dcv_method);
out:
    if (placed) {
        /* The token has done its work (or failed to); it must not linger in DNS or on the
         * web server either way. */
        e = dc_unplace(p, req.dcv_method, names, n, token);
        if (e != MC_OK)
            log_msg(LOGL_WARN, "certcli.dc.unplace", "err=\"%s\"", mc_strerror(e));
    }
    dc_strv_free(names, n);
    dc_authkey_free(&ak);
    free(pem);
    OPENSSL_cleanse(token, sizeof token);
    return err;
}

/* ---- requests, organizations and domains ---------------------------------------------- */

enum mc_err dc_request_list(struct dc_client *c, const char *status, const char *type,
                            cJSON **out)
{
    char path[DC_PATH_MAX] = "request";
    enum mc_err err = dc_query_add(path, sizeof path, "filters[status]", status);
    if (err == MC_OK)
        err = dc_query_add(path, sizeof path, "filters[type]", type);
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

/* GET {what}/{id}{rest}, id checked first. */
static enum mc_err dc_get_by_id(struct dc_client *c, const char *what, const char *id,
                                const char *rest, cJSON **out)
{
    char path[DC_PATH_MAX];
    enum mc_err err = dc_check_id(c, what, id);
    if (err == MC_OK)
        err = dc_pathf(path, sizeof path, "%s/%s%s", what, id, rest);
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

enum mc_err dc_org_list(struct dc_client *c, cJSON **out)
{
    return dc_call(c, "GET", "organization", NULL, 200, out, NULL);
}

enum mc_err dc_org_info(struct dc_client *c, const char *id, cJSON **out)
{
    return dc_get_by_id(c, "organization", id, "", out);
}

enum mc_err dc_org_validation(struct dc_client *c, const char *id, cJSON **out)
{
    return dc_get_by_id(c, "organization", id, "/validation", out);
}

enum mc_err dc_org_create(struct dc_client *c, const struct dc_org_req *r, int64_t *id)
{
    cJSON *b = NULL, *ans = NULL, *ct;
    const cJSON *v;
    enum mc_err err = MC_ERR_INVALID;
    *id = 0;
    if (r == NULL || r->name == NULL || r->address == NULL || r->city == NULL ||
        r->country == NULL)
        return MC_ERR_INVALID;
    err = MC_ERR_NOMEM;
    b = cJSON_CreateObject();
    if (b == NULL || !dc_add_str(b, "name", r->name) ||
        !dc_add_str(b, "assumed_name", r->assumed_name) || !dc_add_str(b, "address", r->address) ||
        !dc_add_str(b, "address2", r->address2) || !dc_add_str(b, "city", r->city) ||
        !dc_add_str(b, "state", r->state) || !dc_add_str(b, "zip", r->zip) ||
        !dc_add_str(b, "country", r->country) || !dc_add_str(b, "telephone", r->telephone))
        goto out;
    if (r->contact_email != NULL) {
        ct = cJSON_AddObjectToObject(b, "organization_contact");
        if (ct == NULL || !dc_add_str(ct, "first_name", r->contact_first_name) ||
            !dc_add_str(ct, "last_name", r->contact_last_name) ||
            !dc_add_str(ct, "email", r->contact_email) ||
            !dc_add_str(ct, "telephone", r->telephone))
            goto out;
    }
    err = dc_call(c, "POST", "organization", b, 201, &ans, NULL);
    if (err != MC_OK)
        goto out;
    v = cJSON_GetObjectItemCaseSensitive(ans, "id");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1) {
        dc_set_msg(c, "POST organization: no id in the answer");
        err = MC_ERR_INVALID;
        goto out;
    }
    *id = (int64_t)v->valuedouble;
out:
    cJSON_Delete(b);
    cJSON_Delete(ans);
    return err;
}

enum mc_err dc_org_validation_submit(struct dc_client *c, const char *id,
                                     const char *const *types, size_t n)
{
    cJSON *b = NULL, *a;
    enum mc_err err = dc_check_id(c, "organization", id);
    if (err != MC_OK)
        return err;
    if (n == 0 || n > 8)
        return MC_ERR_INVALID;
    err = MC_ERR_NOMEM;
    b = cJSON_CreateObject();
    a = b != NULL ? cJSON_AddArrayToObject(b, "validations") : NULL;
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(a, o) || !dc_add_str(o, "type", types[i])) {
            a = NULL;
            break;
        }
    }
    if (a == NULL)
        goto out;
    err = dc_call_id(c, "POST", "organization/", id, "/validation", b, 204, NULL, NULL);
out:
    cJSON_Delete(b);
    return err;
}

enum mc_err dc_domain_list(struct dc_client *c, const char *search, cJSON **out)
{
    char path[DC_PATH_MAX] = "domain";
    enum mc_err err = dc_query_add(path, sizeof path, "filters[search]", search);
    if (err == MC_OK)
        err = dc_call(c, "GET", path, NULL, 200, out, NULL);
    return err;
}

enum mc_err dc_domain_info(struct dc_client *c, const char *id, cJSON **out)
{
    return dc_get_by_id(c, "domain", id, "?include_dcv=true&include_validation=true", out);
}

enum mc_err dc_domain_create(struct dc_client *c, const char *name, int64_t org_id,
                             const char *method, cJSON **out)
{
    cJSON *b = NULL, *o, *a, *v;
    enum mc_err err;
    if (name == NULL || !dc_name_ok(name) || strncmp(name, "*.", 2) == 0 || org_id <= 0)
        return MC_ERR_INVALID;
    err = MC_ERR_NOMEM;
    b = cJSON_CreateObject();
    o = b != NULL ? cJSON_AddObjectToObject(b, "organization") : NULL;
    a = b != NULL ? cJSON_AddArrayToObject(b, "validations") : NULL;
    v = cJSON_CreateObject();
    if (a == NULL || v == NULL || !cJSON_AddItemToArray(a, v)) {
        cJSON_Delete(v); /* not in the tree: ours to free */
        goto out;
    }
    if (o == NULL)
        goto out;
    if (!dc_add_str(v, "type", "ov") || !dc_add_str(b, "name", name) ||
        !dc_add_num(o, "id", org_id) || !dc_add_str(b, "dcv_method", method))
        goto out;
    err = dc_call(c, "POST", "domain", b, 201, out, NULL);
out:
    cJSON_Delete(b);
    return err;
}

enum mc_err dc_domain_validate(struct dc_client *c, const char *id, cJSON **out)
{
    enum mc_err err = dc_check_id(c, "domain", id);
    if (err == MC_OK)
        err = dc_call_id(c, "PUT", "domain/", id, "/dcv/validate-token", NULL, 200, out, NULL);
    return err;
}

enum mc_err dc_domain_token(struct dc_client *c, const char *id, cJSON **out)
{
    enum mc_err err = dc_check_id(c, "domain", id);
    if (err == MC_OK)
        err = dc_call_id(c, "POST", "domain/", id, "/dcv/token", NULL, 200, out, NULL);
    return err;
}

enum mc_err dc_domain_method(struct dc_client *c, const char *id, const char *method, cJSON **out)
{
    cJSON *b = NULL;
    enum mc_err err = dc_check_id(c, "domain", id);
    if (err != MC_OK)
        return err;
    if (method == NULL)
        return MC_ERR_INVALID;
    b = cJSON_CreateObject();
    if (b == NULL || !dc_add_str(b, "dcv_method", method)) {
        cJSON_Delete(b);
        return MC_ERR_NOMEM;
    }
    err = dc_call_id(c, "PUT", "domain/", id, "/dcv/method", b, 200, out, NULL);
    cJSON_Delete(b);
    return err;
}
