/* cc.c: the CertCentral front end's frame: configuration, the route table, API-key
 * authentication and roles, rate limits, the error envelope, the management API, and the
 * store's lookups, status-change log and sweep. The endpoints live in cc_order.c,
 * cc_dcv.c, cc_dl.c and cc_key.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "common/json.h"
#include "common/log.h"
#include "mockca/cc/cc_int.h"

/* ---- products (A1) -------------------------------------------------------------------- */

static const struct cc_product cc_product_table[] = {
    {"ssl_plus", "Standard SSL", CC_VT_OV, false},
    {"ssl_multi_domain", "Multi-Domain SSL", CC_VT_OV, false},
    {"ssl_wildcard", "Wildcard SSL", CC_VT_OV, true},
    {"ssl_ev_plus", "EV SSL", CC_VT_EV, false},
    {"ssl_ev_multi_domain", "EV Multi-Domain SSL", CC_VT_EV, false},
    {"ssl_cloud_wildcard", "Cloud Wildcard SSL", CC_VT_OV, true},
    {"ssl_basic", "Basic OV", CC_VT_OV, false},
    {"ssl_securesite_flex", "Secure Site OV", CC_VT_OV, false},
    {"ssl_ev_securesite_flex", "Secure Site EV", CC_VT_EV, false},
    {"ssl_securesite_pro", "Secure Site Pro SSL", CC_VT_OV, false},
    {"ssl_ev_securesite_pro", "Secure Site Pro EV SSL", CC_VT_EV, false},
    {"ssl_dv_geotrust", "GeoTrust Standard DV", CC_VT_DV, false},
    {"ssl_dv_rapidssl", "RapidSSL Standard DV", CC_VT_DV, false},
    {"wildcard_dv_geotrust", "GeoTrust Wildcard DV", CC_VT_DV, true},
    {"wildcard_dv_rapidssl", "RapidSSL Wildcard DV", CC_VT_DV, true},
    {"cloud_dv_geotrust", "GeoTrust Cloud DV", CC_VT_DV, false},
};

const struct cc_product *cc_product_find(const char *name_id)
{
    for (size_t i = 0; name_id != NULL && i < sizeof(cc_product_table) / sizeof(cc_product_table[0]);
         i++)
        if (strcmp(cc_product_table[i].name_id, name_id) == 0)
            return &cc_product_table[i];
    return NULL;
}

size_t cc_products(const struct cc_product **out)
{
    *out = cc_product_table;
    return sizeof(cc_product_table) / sizeof(cc_product_table[0]);
}

const char *cc_vt_name(enum cc_vt vt)
{
    return vt == CC_VT_EV ? "ev" : vt == CC_VT_OV ? "ov" : "dv";
}

void cc_product_json(cJSON *o, const struct cc_product *p, bool full)
{
    static const char *const vname[] = {"", "DV", "OV", "EV"};
    static const char *const vdesc[] = {"", "Domain Validation", "Normal Organization Validation",
                                        "Extended Organization Validation (EV)"};
    cc_add_str(o, "name_id", p->name_id);
    cc_add_str(o, "name", p->name);
    cc_add_str(o, "type", "ssl_certificate");
    if (!full)
        return;
    cc_add_str(o, "validation_type", cc_vt_name(p->vt));
    cc_add_str(o, "validation_name", vname[p->vt]);
    cc_add_str(o, "validation_description", vdesc[p->vt]);
}

/* GET /product: the product list ([I]: shape as the order's product object plus limits). */
static void cc_h_products(struct cc_ctx *c)
{
    const struct cc_product *p = NULL;
    size_t n = cc_products(&p);
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "products");
    if (a == NULL) {
        cJSON_Delete(j);
        cc_nomem(c);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cc_product_json(o, &p[i], true);
        cJSON_AddBoolToObject(o, "allowed_wildcard", p[i].wildcard || p[i].vt != CC_VT_DV);
    }
    cc_send(c, 200, j);
}

/* GET /product/{name_id} */
static void cc_h_product_info(struct cc_ctx *c)
{
    const struct cc_product *p = cc_product_find(c->arg[0]);
    cJSON *j;
    if (p == NULL) {
        cc_err(c, 404, "not_found|product", "The specified product was not found.");
        return;
    }
    j = cJSON_CreateObject();
    cc_product_json(j, p, true);
    cJSON *yrs = cJSON_AddArrayToObject(j, "allowed_validity_years");
    for (int y = 1; yrs != NULL && y <= 3; y++)
        cJSON_AddItemToArray(yrs, cJSON_CreateNumber(y));
    cJSON_AddNumberToObject(j, "max_dns_names", CC_MAX_NAMES - 1);
    cJSON *m = cJSON_AddArrayToObject(j, "allowed_dcv_methods");
    const char *ms[] = {"email", "dns-txt-token", "dns-cname-token", "http-token",
                        "http-token-dynamic"};
    for (size_t i = 0; m != NULL && i < (p->vt == CC_VT_DV ? 4u : 5u); i++)
        cJSON_AddItemToArray(m, cJSON_CreateString(ms[i]));
    cc_send(c, 200, j);
}

/* ---- helpers ------------------------------------------------------------------------- */

void cc_add_str(cJSON *o, const char *k, const char *v)
{
    cJSON_AddStringToObject(o, k, v != NULL ? v : "");
}

void cc_add_num(cJSON *o, const char *k, double v)
{
    cJSON_AddNumberToObject(o, k, v);
}

char *cc_strdup_cap(const char *s)
{
    if (s == NULL || strlen(s) > CC_MAX_STR)
        return NULL;
    return strdup(s);
}

MC_MUST_CHECK enum mc_err cc_vec_push(struct cc_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t nc = v->cap == 0 ? 16 : v->cap * 2;
        void **nv = realloc(v->v, nc * sizeof(*nv));
        if (nv == NULL)
            return MC_ERR_NOMEM;
        v->v = nv;
        v->cap = nc;
    }
    v->v[v->n++] = p;
    return MC_OK;
}

void cc_vec_remove(struct cc_vec *v, size_t i)
{
    if (i >= v->n)
        return;
    memmove(&v->v[i], &v->v[i + 1], (v->n - i - 1) * sizeof(v->v[0]));
    v->n--;
}

enum mc_err cc_random_value(char *out, size_t len)
{
    static const char alpha[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned char b[64];
    if (len > sizeof(b))
        return MC_ERR_INVALID;
    if (RAND_bytes(b, (int)len) != 1)
        return MC_ERR_CRYPTO;
    for (size_t i = 0; i < len; i++)
        out[i] = alpha[b[i] % 36]; /* 256 % 36 bias is irrelevant for a test CA */
    out[len] = '\0';
    return MC_OK;
}

const char *cc_iso(int64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
    return buf;
}

const char *cc_date(int64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;
    gmtime_r(&tt, &tm);
    strftime(buf, n, "%Y-%m-%d", &tm);
    return buf;
}

bool cc_parse_date(const char *s, int64_t *out)
{
    struct tm tm;
    int y, m, d;
    char tail;
    if (s == NULL || strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return false;
    if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    *out = (int64_t)timegm(&tm);
    /* timegm normalizes 2025-02-30 to March: refuse dates that do not exist. */
    struct tm back;
    time_t tt = (time_t)*out;
    gmtime_r(&tt, &back);
    return back.tm_mday == d && back.tm_mon == m - 1;
}

bool cc_parse_id(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;
    if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 18)
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v <= 0)
        return false;
    *out = (int64_t)v;
    return true;
}

void cc_err(struct cc_ctx *c, int status, const char *code, const char *message)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "errors");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddItemToArray(a, e);
    cc_add_str(e, "code", code);
    cc_add_str(e, "message", message);
    http_response_reset(c->resp);
    if (a == NULL || e == NULL || http_response_json(c->resp, status, j) != MC_OK)
        c->resp->status = status;
    cJSON_Delete(j);
}

void cc_send(struct cc_ctx *c, int status, cJSON *j)
{
    if (j == NULL) {
        cc_nomem(c);
        return;
    }
    if (http_response_json(c->resp, status, j) != MC_OK)
        cc_nomem(c);
    cJSON_Delete(j);
}

void cc_no_content(struct cc_ctx *c)
{
    http_response_reset(c->resp);
    c->resp->status = 204;
}

void cc_bad_body(struct cc_ctx *c)
{
    cc_err(c, 400, "bad_request_format", "The request body is malformed.");
}

void cc_nomem(struct cc_ctx *c)
{
    cc_err(c, 500, "internal_error", "An error occurred while processing your request.");
}

bool cc_need_body(struct cc_ctx *c)
{
    if (c->body == NULL) {
        cc_err(c, 400, "bad_request_format", "The request body is missing.");
        return false;
    }
    return true;
}

/* ---- store ---------------------------------------------------------------------------- */

struct cc_order *cc_order_get(struct cc_server *cc, int64_t id, int64_t account)
{
    for (size_t i = 0; i < cc->orders.n; i++) {
        struct cc_order *o = cc->orders.v[i];
        if (o->id == id)
            return account == 0 || o->account_id == account ? o : NULL;
    }
    return NULL;
}

struct cc_cert *cc_cert_get(struct cc_server *cc, int64_t id)
{
    for (size_t i = 0; i < cc->certs.n; i++) {
        struct cc_cert *x = cc->certs.v[i];
        if (x->id == id)
            return x;
    }
    return NULL;
}

struct cc_request *cc_request_get(struct cc_server *cc, int64_t id)
{
    for (size_t i = 0; i < cc->requests.n; i++) {
        struct cc_request *r = cc->requests.v[i];
        if (r->id == id)
            return r;
    }
    return NULL;
}

struct cc_domain *cc_domain_get(struct cc_server *cc, int64_t id, int64_t account)
{
    for (size_t i = 0; i < cc->domains.n; i++) {
        struct cc_domain *d = cc->domains.v[i];
        if (d->id == id)
            return account == 0 || d->account_id == account ? d : NULL;
    }
    return NULL;
}

struct cc_org *cc_org_get(struct cc_server *cc, int64_t id, int64_t account)
{
    for (size_t i = 0; i < cc->orgs.n; i++) {
        struct cc_org *g = cc->orgs.v[i];
        if (g->id == id)
            return account == 0 || g->account_id == account ? g : NULL;
    }
    return NULL;
}

void cc_order_set_status(struct cc_server *cc, struct cc_order *o, const char *status)
{
    struct cc_change *ch;
    if (strcmp(o->status, status) == 0)
        return;
    snprintf(o->status, sizeof(o->status), "%s", status);
    o->updated = clock_now(cc->clock);
    /* A ring: the oldest record goes once CC_MAX_CHANGES are kept (7 days of polling is
     * all status-changes can ask for). */
    ch = &cc->changes[(cc->changes_head + cc->nchanges) % CC_MAX_CHANGES];
    if (cc->nchanges == CC_MAX_CHANGES)
        cc->changes_head = (cc->changes_head + 1) % CC_MAX_CHANGES;
    else
        cc->nchanges++;
    ch->at_ms = clock_now_ms(cc->clock);
    ch->order_id = o->id;
    ch->cert_id = o->cert_id;
    ch->account_id = o->account_id;
    snprintf(ch->status, sizeof(ch->status), "%s", status);
    log_msg(LOGL_INFO, "cc.order.status", "order=%lld status=%s", (long long)o->id, status);
}

static bool cc_final(const char *s)
{
    return strcmp(s, "canceled") == 0 || strcmp(s, "rejected") == 0 ||
           strcmp(s, "revoked") == 0 || strcmp(s, "expired") == 0;
}

/* Marks issued orders whose certificate ran out as expired, and when the store is over
 * its bound drops finished orders older than the retention (their certificates and
 * requests with them). */
void cc_sweep(struct cc_server *cc, int64_t now)
{
    for (size_t i = 0; i < cc->orders.n; i++) {
        struct cc_order *o = cc->orders.v[i];
        struct cc_cert *x = cc_cert_get(cc, o->cert_id);
        if (strcmp(o->status, "issued") == 0 && x != NULL && x->leaf != NULL &&
            x->not_after <= now)
            cc_order_set_status(cc, o, "expired");
    }
    if (cc->orders.n < cc->max_orders)
        return;
    for (size_t i = 0; i < cc->orders.n;) {
        struct cc_order *o = cc->orders.v[i];
        if (cc_final(o->status) && o->updated + cc->retention_s < now) {
            for (size_t k = 0; k < cc->certs.n;) {
                struct cc_cert *x = cc->certs.v[k];
                if (x->order_id == o->id) {
                    cc_cert_free(x);
                    cc_vec_remove(&cc->certs, k);
                } else {
                    k++;
                }
            }
            for (size_t k = 0; k < cc->requests.n;) {
                struct cc_request *r = cc->requests.v[k];
                if (r->order_id == o->id) {
                    free(r->comments);
                    free(r->processor_comment);
                    free(r);
                    cc_vec_remove(&cc->requests, k);
                } else {
                    k++;
                }
            }
            cc_order_free(o);
            cc_vec_remove(&cc->orders, i);
        } else {
            i++;
        }
    }
}

/* ---- keys ----------------------------------------------------------------------------- */

static int cc_role_parse(const char *s)
{
    if (s == NULL)
        return 0;
    if (strcmp(s, "administrator") == 0 || strcmp(s, "admin") == 0)
        return CC_ROLE_ADMIN;
    if (strcmp(s, "user") == 0)
        return CC_ROLE_USER;
    if (strcmp(s, "viewer") == 0 || strcmp(s, "read_only") == 0)
        return CC_ROLE_VIEWER;
    return 0;
}

static const char *cc_role_name(enum cc_role r)
{
    return r == CC_ROLE_ADMIN ? "administrator" : r == CC_ROLE_USER ? "user" : "viewer";
}

static enum mc_err cc_add_key_locked(struct cc_server *cc, const char *key, const char *role,
                                     int64_t account, const struct cc_apikey **out)
{
    struct cc_apikey *k = NULL;
    int r = cc_role_parse(role);
    if (r == 0 || key == NULL || key[0] == '\0' || strlen(key) > 256 || account < 0)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < cc->keys.n; i++)
        if (strcmp(((struct cc_apikey *)cc->keys.v[i])->key, key) == 0)
            return MC_ERR_EXISTS;
    if (cc->keys.n >= CC_MAX_OBJS)
        return MC_ERR_LIMIT;
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return MC_ERR_NOMEM;
    k->key = strdup(key);
    k->role = (enum cc_role)r;
    k->account_id = account == 0 ? 1 : account;
    k->user_id = 1000 + (int64_t)cc->keys.n;
    if (k->key == NULL || cc_vec_push(&cc->keys, k) != MC_OK) {
        free(k->key);
        free(k);
        return MC_ERR_NOMEM;
    }
    if (out != NULL)
        *out = k;
    return MC_OK;
}

enum mc_err cc_add_api_key(struct cc_server *cc, const char *key, const char *role,
                           int64_t account_id)
{
    enum mc_err e;
    pthread_mutex_lock(&cc->mu);
    e = cc_add_key_locked(cc, key, role, account_id, NULL);
    pthread_mutex_unlock(&cc->mu);
    return e;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

enum mc_err cc_new(const struct cc_config *cfg, struct ca *ca, struct mc_clock *clock,
                   struct cc_server **out)
{
    struct cc_server *cc = NULL;
    enum mc_err e = MC_ERR_NOMEM;

    *out = NULL;
    cc = calloc(1, sizeof(*cc));
    if (cc == NULL)
        return MC_ERR_NOMEM;
    pthread_mutex_init(&cc->mu, NULL);
    cc->ca = ca;
    cc->clock = clock;
    cc->rl = ratelimit_new(clock);
    cc->changes = calloc(CC_MAX_CHANGES, sizeof(*cc->changes));
    cc->dns_server = strdup(cfg->dns_server != NULL ? cfg->dns_server : "127.0.0.1:8053");
    cc->acme_dir = strdup(cfg->acme_directory_url != NULL
                              ? cfg->acme_directory_url
                              : "https://127.0.0.1:14000/dir");
    if (cc->rl == NULL || cc->changes == NULL || cc->dns_server == NULL || cc->acme_dir == NULL)
        goto out;
    cc->http_port = cfg->http_port != 0 ? cfg->http_port : 80;
    cc->dcv_timeout_ms = cfg->dcv_timeout_ms > 0 ? cfg->dcv_timeout_ms : 3000;
    cc->rs_limit = cfg->rate_short_limit;
    cc->rs_win = cfg->rate_short_window_ms > 0 ? cfg->rate_short_window_ms : 5000;
    cc->rl_limit = cfg->rate_long_limit;
    cc->rl_win = cfg->rate_long_window_ms > 0 ? cfg->rate_long_window_ms : 180000;
    cc->auto_approve = cfg->auto_approve;
    cc->max_orders = cfg->max_orders > 0 ? cfg->max_orders : 10000;
    cc->retention_s = cfg->retention_s > 0 ? cfg->retention_s : 7 * CC_DAY;
    cc->max_cert_days = cfg->max_cert_days;
    cc->next_order = 100001;
    cc->next_cert = 200001;
    cc->next_req = 300001;
    cc->next_dom = 400001;
    cc->next_org = 500001;
    cc->next_email = 1;
    for (size_t i = 0; i < cfg->nkeys; i++) {
        e = cc_add_key_locked(cc, cfg->keys[i].key, cfg->keys[i].role, cfg->keys[i].account_id,
                              NULL);
        if (e != MC_OK)
            goto out;
    }
    *out = cc;
    cc = NULL;
    e = MC_OK;
out:
    cc_free(cc);
    return e;
}

static void cc_vec_free(struct cc_vec *v, void (*fn)(void *))
{
    for (size_t i = 0; i < v->n; i++)
        fn(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = v->cap = 0;
}

static void cc_free_key(void *p)
{
    struct cc_apikey *k = p;
    free(k->key);
    free(k);
}

static void cc_free_org(void *p)
{
    struct cc_org *g = p;
    cJSON_Delete(g->info);
    free(g);
}

static void cc_free_domain(void *p)
{
    struct cc_domain *d = p;
    free(d->name);
    free(d);
}

static void cc_free_order(void *p)
{
    cc_order_free(p);
}

static void cc_free_cert(void *p)
{
    cc_cert_free(p);
}

static void cc_free_request(void *p)
{
    struct cc_request *r = p;
    free(r->comments);
    free(r->processor_comment);
    free(r);
}

static void cc_free_email(void *p)
{
    struct cc_email *m = p;
    free(m->name);
    free(m->to);
    free(m);
}

static void cc_free_eab(void *p)
{
    struct cc_eab *e = p;
    free(e->name);
    OPENSSL_cleanse(e->hmac, sizeof(e->hmac));
    free(e);
}

static void cc_free_plain(void *p)
{
    free(p);
}

void cc_free(struct cc_server *cc)
{
    if (cc == NULL)
        return;
    cc_vec_free(&cc->keys, cc_free_key);
    cc_vec_free(&cc->orgs, cc_free_org);
    cc_vec_free(&cc->domains, cc_free_domain);
    cc_vec_free(&cc->orders, cc_free_order);
    cc_vec_free(&cc->certs, cc_free_cert);
    cc_vec_free(&cc->requests, cc_free_request);
    cc_vec_free(&cc->emails, cc_free_email);
    cc_vec_free(&cc->authkeys, cc_free_plain);
    cc_vec_free(&cc->eabs, cc_free_eab);
    ratelimit_free(cc->rl);
    free(cc->changes);
    free(cc->dns_server);
    free(cc->acme_dir);
    pthread_mutex_destroy(&cc->mu);
    free(cc);
}

/* ---- routing -------------------------------------------------------------------------- */

enum cc_perm { CC_READ = 1, CC_WRITE, CC_ADMIN };

/* Handlers that reach the network (DCV checks) release cc->mu around it themselves. */
struct cc_route {
    const char *method;
    const char *pattern; /* segments after CC_PREFIX; "{}" captures one */
    void (*fn)(struct cc_ctx *c);
    enum cc_perm perm;
};

static const struct cc_route cc_routes[] = {
    {"GET", "product", cc_h_products, CC_READ},
    {"GET", "product/{}", cc_h_product_info, CC_READ},
    {"GET", "order/certificate/status-changes", cc_h_status_changes, CC_READ},
    {"GET", "order/certificate", cc_h_order_list, CC_READ},
    {"POST", "order/certificate/{}", cc_h_order_place, CC_WRITE},
    {"GET", "order/certificate/{}", cc_h_order_info, CC_READ},
    {"PUT", "order/certificate/{}/status", cc_h_order_status, CC_WRITE},
    {"GET", "order/certificate/{}/validation", cc_h_order_validation, CC_READ},
    {"PUT", "order/certificate/{}/check-dcv", cc_h_check_dcv, CC_WRITE},
    {"PUT", "order/certificate/{}/dcv-random-value", cc_h_order_rv, CC_WRITE},
    {"PUT", "order/certificate/{}/dcv-method", cc_h_order_method, CC_WRITE},
    {"PUT", "order/certificate/{}/resend-emails", cc_h_order_resend, CC_WRITE},
    {"PUT", "order/certificate/{}/order-approval/resend-emails", cc_h_order_approval_resend,
     CC_WRITE},
    {"POST", "order/certificate/{}/reissue", cc_h_reissue, CC_WRITE},
    {"GET", "order/certificate/{}/reissue", cc_h_reissue_list, CC_READ},
    {"POST", "order/certificate/{}/duplicate", cc_h_duplicate, CC_WRITE},
    {"GET", "order/certificate/{}/duplicate", cc_h_duplicate_list, CC_READ},
    {"PUT", "order/certificate/{}/revoke", cc_h_revoke_order, CC_WRITE},
    {"PUT", "certificate/{}/revoke", cc_h_revoke_cert, CC_WRITE},
    {"GET", "certificate/intermediates", cc_h_intermediates, CC_READ},
    {"GET", "certificate/{}/download/format/{}", cc_h_download_cert, CC_READ},
    {"GET", "certificate/{}/download/platform", cc_h_download_platform, CC_READ},
    {"GET", "certificate/{}/download/platform/{}", cc_h_download_platform, CC_READ},
    {"GET", "certificate/download/order/{}", cc_h_download_order, CC_READ},
    {"GET", "certificate/download/order/{}/format/{}", cc_h_download_order, CC_READ},
    {"GET", "certificate/{}/chain", cc_h_chain, CC_READ},
    {"GET", "request", cc_h_request_list, CC_READ},
    {"GET", "request/{}", cc_h_request_info, CC_READ},
    {"PUT", "request/{}/status", cc_h_request_status, CC_ADMIN},
    {"GET", "domain", cc_h_domain_list, CC_READ},
    {"POST", "domain", cc_h_domain_create, CC_WRITE},
    {"GET", "domain/{}", cc_h_domain_info, CC_READ},
    {"PUT", "domain/{}/dcv/validate-token", cc_h_domain_validate, CC_WRITE},
    {"POST", "domain/{}/dcv/token", cc_h_domain_token, CC_WRITE},
    {"PUT", "domain/{}/dcv/method", cc_h_domain_method, CC_WRITE},
    {"PUT", "domain/{}/dcv/emails", cc_h_domain_emails, CC_WRITE},
    {"GET", "organization", cc_h_org_list, CC_READ},
    {"POST", "organization", cc_h_org_create, CC_WRITE},
    {"GET", "organization/{}", cc_h_org_info, CC_READ},
    {"GET", "organization/{}/validation", cc_h_org_validation, CC_READ},
    {"POST", "organization/{}/validation", cc_h_org_validation_submit, CC_WRITE},
    {"POST", "account/auth-key", cc_h_authkey_create, CC_ADMIN},
    {"POST", "account/auth-key/{}", cc_h_authkey_create, CC_ADMIN},
    {"GET", "account/auth-key", cc_h_authkey_get, CC_READ},
    {"GET", "account/auth-key/{}", cc_h_authkey_get, CC_READ},
    {"GET", "account/auth-keys", cc_h_authkey_list, CC_READ},
    {"DELETE", "account/auth-key", cc_h_authkey_delete, CC_ADMIN},
    {"DELETE", "account/auth-key/{}", cc_h_authkey_delete, CC_ADMIN},
    {"POST", "key/acme-eab", cc_h_eab_create, CC_ADMIN},
};

/* Matches the request's segments against pattern; fills c->arg. */
static bool cc_match(struct cc_ctx *c, const char *pattern)
{
    char buf[128];
    char *save = NULL, *tok;
    size_t i = 0, na = 0;
    snprintf(buf, sizeof(buf), "%s", pattern);
    for (tok = strtok_r(buf, "/", &save); tok != NULL; tok = strtok_r(NULL, "/", &save), i++) {
        if (i >= c->nseg)
            return false;
        if (strcmp(tok, "{}") == 0) {
            if (na < 4)
                c->arg[na++] = c->seg[i];
        } else if (strcmp(tok, c->seg[i]) != 0) {
            return false;
        }
    }
    return i == c->nseg;
}

/* Splits path (after CC_PREFIX) into c->seg, in a buffer the caller owns. */
static bool cc_split(struct cc_ctx *c, char *buf)
{
    char *save = NULL;
    c->nseg = 0;
    for (char *t = strtok_r(buf, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (c->nseg == CC_MAX_SEGS)
            return false;
        c->seg[c->nseg++] = t;
    }
    return true;
}

static bool cc_rate_ok(struct cc_server *cc, const struct cc_apikey *k, int64_t *retry_ms)
{
    char key[300];
    snprintf(key, sizeof(key), "cc-short:%s", k->key);
    if (cc->rs_limit > 0 &&
        ratelimit_take(cc->rl, key, cc->rs_limit, cc->rs_win, retry_ms) != MC_OK)
        return false;
    snprintf(key, sizeof(key), "cc-long:%s", k->key);
    if (cc->rl_limit > 0 &&
        ratelimit_take(cc->rl, key, cc->rl_limit, cc->rl_win, retry_ms) != MC_OK)
        return false;
    return true;
}

void cc_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
    cc_handle_key(ctx, http_request_header(req, "X-DC-DEVKEY"), req, resp);
}

void cc_handle_key(struct cc_server *cc, const char *devkey, const struct http_request *req,
                   struct http_response *resp)
{
    struct cc_ctx c;
    char *path = NULL;
    const struct cc_route *route = NULL;
    bool path_known = false;
    int64_t retry_ms = 0;

    memset(&c, 0, sizeof(c));
    c.cc = cc;
    c.req = req;
    c.resp = resp;
    if (strncmp(req->path, CC_PREFIX, strlen(CC_PREFIX)) != 0 ||
        strlen(req->path) > 2048) {
        cc_err(&c, 404, "not_found|route", "The specified route was not found.");
        return;
    }
    path = strdup(req->path + strlen(CC_PREFIX));
    if (path == NULL) {
        cc_nomem(&c);
        return;
    }
    pthread_mutex_lock(&cc->mu);
    c.now = clock_now(cc->clock);
    for (size_t i = 0; devkey != NULL && i < cc->keys.n; i++)
        if (strcmp(((struct cc_apikey *)cc->keys.v[i])->key, devkey) == 0)
            c.key = cc->keys.v[i];
    if (c.key == NULL) {
        /* [I] CertCentral documents no code for a bad key (A0): ours is invalid_api_key. */
        cc_err(&c, 401, "invalid_api_key", "The API key provided is invalid or missing.");
        goto out;
    }
    if (!cc_rate_ok(cc, c.key, &retry_ms)) {
        char ra[32];
        cc_err(&c, 429, "request_limit_exceeded",
               "Service unavailable, please limit request volume");
        snprintf(ra, sizeof(ra), "%lld", (long long)((retry_ms + 999) / 1000));
        if (http_response_header(resp, "Retry-After", ra) != MC_OK)
            log_msg(LOGL_WARN, "cc.header", "name=Retry-After");
        goto out;
    }
    if (!cc_split(&c, path)) {
        cc_err(&c, 404, "not_found|route", "The specified route was not found.");
        goto out;
    }
    for (size_t i = 0; i < sizeof(cc_routes) / sizeof(cc_routes[0]); i++) {
        if (!cc_match(&c, cc_routes[i].pattern))
            continue;
        path_known = true;
        if (strcmp(cc_routes[i].method, req->method) == 0) {
            route = &cc_routes[i];
            break;
        }
    }
    if (route == NULL) {
        if (path_known)
            cc_err(&c, 405, "method_not_allowed", "The method is not allowed for this route.");
        else
            cc_err(&c, 404, "not_found|route", "The specified route was not found.");
        goto out;
    }
    if ((route->perm == CC_WRITE && c.key->role < CC_ROLE_USER) ||
        (route->perm == CC_ADMIN && c.key->role < CC_ROLE_ADMIN)) {
        cc_err(&c, 403, "access_denied|missing_permission",
               "You do not have permission to perform this action.");
        goto out;
    }
    if (req->body_len > CC_MAX_BODY) {
        cc_err(&c, 413, "request_too_large", "The request body is too large.");
        goto out;
    }
    if (req->body_len > 0 && strcmp(req->method, "GET") != 0) {
        enum mc_err e = json_parse((const char *)req->body, req->body_len, CC_MAX_BODY,
                                   JSON_DEFAULT_MAX_DEPTH, &c.body);
        if (e != MC_OK || !cJSON_IsObject(c.body)) {
            cc_bad_body(&c);
            goto out;
        }
    }
    cc_sweep(cc, c.now);
    route->fn(&c);
    if (resp->status == 0)
        cc_nomem(&c);
out:
    pthread_mutex_unlock(&cc->mu);
    log_msg(LOGL_DEBUG, "cc.request", "method=%s path=%s status=%d", req->method, req->path,
            resp->status);
    cJSON_Delete(c.body);
    free(path);
}

void cc_layer_error(const struct http_request *req, int status, const char *message,
                    struct http_response *resp)
{
    struct cc_ctx c;
    memset(&c, 0, sizeof(c));
    c.req = req;
    c.resp = resp;
    if (status == 413)
        cc_err(&c, 413, "request_too_large", message);
    else if (status == 405)
        cc_err(&c, 405, "method_not_allowed", message);
    else
        cc_err(&c, status, "not_found|route", "The specified route was not found.");
}

/* ---- management ----------------------------------------------------------------------- */

enum mc_err cc_approve_email(struct cc_server *cc, int64_t order_id, const char *dns_name)
{
    enum mc_err e = MC_ERR_NOT_FOUND;
    struct cc_order *o;
    pthread_mutex_lock(&cc->mu);
    o = cc_order_get(cc, order_id, 0);
    for (size_t i = 0; o != NULL && dns_name != NULL && i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        if (strcasecmp(n->name, dns_name) != 0)
            continue;
        n->approved = true;
        n->approved_at = clock_now(cc->clock);
        struct cc_domain *d = cc_domain_get(cc, n->domain_id, 0);
        if (d != NULL) {
            d->approved = true;
            d->approved_at = n->approved_at;
        }
        e = MC_OK;
    }
    if (e == MC_OK)
        (void)cc_order_try_issue(cc, o);
    pthread_mutex_unlock(&cc->mu);
    return e;
}

static enum mc_err cc_approve_domain(struct cc_server *cc, int64_t domain_id, int *count)
{
    struct cc_domain *d;
    *count = 0;
    pthread_mutex_lock(&cc->mu);
    d = cc_domain_get(cc, domain_id, 0);
    if (d == NULL) {
        pthread_mutex_unlock(&cc->mu);
        return MC_ERR_NOT_FOUND;
    }
    d->approved = true;
    d->approved_at = clock_now(cc->clock);
    *count = 1;
    for (size_t i = 0; i < cc->orders.n; i++)
        (void)cc_order_try_issue(cc, cc->orders.v[i]);
    pthread_mutex_unlock(&cc->mu);
    return MC_OK;
}

enum mc_err cc_org_validate(struct cc_server *cc, int64_t org_id, const char *type,
                            const char *status)
{
    struct cc_org *g;
    char *slot;
    int64_t *until, *date;
    if (type == NULL || status == NULL ||
        (strcmp(status, "active") != 0 && strcmp(status, "pending") != 0 &&
         strcmp(status, "rejected") != 0))
        return MC_ERR_INVALID;
    pthread_mutex_lock(&cc->mu);
    g = cc_org_get(cc, org_id, 0);
    if (g == NULL) {
        pthread_mutex_unlock(&cc->mu);
        return MC_ERR_NOT_FOUND;
    }
    if (strcmp(type, "ov") == 0) {
        slot = g->ov;
        until = &g->ov_until;
        date = &g->ov_date;
    } else if (strcmp(type, "ev") == 0) {
        slot = g->ev;
        until = &g->ev_until;
        date = &g->ev_date;
    } else {
        pthread_mutex_unlock(&cc->mu);
        return MC_ERR_INVALID;
    }
    snprintf(slot, 12, "%s", status);
    *date = clock_now(cc->clock);
    *until = strcmp(status, "active") == 0 ? *date + 397 * CC_DAY : 0;
    for (size_t i = 0; i < cc->orders.n; i++) {
        struct cc_order *o = cc->orders.v[i];
        if (o->org_id == org_id)
            (void)cc_order_try_issue(cc, o);
    }
    pthread_mutex_unlock(&cc->mu);
    return MC_OK;
}

size_t cc_email_count(struct cc_server *cc, const char *to)
{
    size_t n = 0;
    pthread_mutex_lock(&cc->mu);
    for (size_t i = 0; i < cc->emails.n; i++) {
        struct cc_email *m = cc->emails.v[i];
        if (to == NULL || strcasecmp(m->to, to) == 0)
            n++;
    }
    pthread_mutex_unlock(&cc->mu);
    return n;
}

static void cc_mgmt_err(struct http_response *resp, int status, const char *msg)
{
    struct cc_ctx c;
    memset(&c, 0, sizeof(c));
    c.resp = resp;
    cc_err(&c, status, "bad_request", msg);
}

static void cc_mgmt_send(struct http_response *resp, int status, cJSON *j)
{
    struct cc_ctx c;
    memset(&c, 0, sizeof(c));
    c.resp = resp;
    cc_send(&c, status, j);
}

static int cc_mgmt_status(enum mc_err e)
{
    return e == MC_ERR_NOT_FOUND ? 404 : e == MC_ERR_EXISTS ? 409 : e == MC_ERR_NOMEM ? 500 : 400;
}

void cc_mgmt_handle(void *ctx, const struct http_request *req, struct http_response *resp)
{
    struct cc_server *cc = ctx;
    const char *sub = req->nparams > 0 ? req->params[req->nparams - 1] : "";
    cJSON *body = NULL, *j = NULL;
    enum mc_err e;
    int64_t id = 0;

    if (req->body_len > 0 &&
        (json_parse((const char *)req->body, req->body_len, CC_MAX_BODY, JSON_DEFAULT_MAX_DEPTH,
                    &body) != MC_OK ||
         !cJSON_IsObject(body))) {
        cc_mgmt_err(resp, 400, "malformed JSON body");
        goto out;
    }
    if (strcmp(req->method, "POST") == 0 && strcmp(sub, "api-keys") == 0) {
        const char *key = NULL, *role = NULL;
        char gen[33];
        int64_t acct = 0;
        const struct cc_apikey *k = NULL;
        if (body == NULL || json_get_string(body, "role", &role) != MC_OK ||
            json_get_string(body, "key", &key) == MC_ERR_INVALID ||
            json_get_int(body, "account_id", 0, INT32_MAX, &acct) == MC_ERR_INVALID) {
            cc_mgmt_err(resp, 400, "need role (administrator|user|viewer), optional key, account_id");
            goto out;
        }
        if (key == NULL) {
            if (cc_random_value(gen, 32) != MC_OK) {
                cc_mgmt_err(resp, 500, "no randomness");
                goto out;
            }
            for (char *p = gen; *p != '\0'; p++)
                *p = (char)toupper((unsigned char)*p);
            key = gen;
        }
        pthread_mutex_lock(&cc->mu);
        e = cc_add_key_locked(cc, key, role, acct, &k);
        if (e == MC_OK) {
            j = cJSON_CreateObject();
            cc_add_str(j, "key", k->key);
            cc_add_str(j, "role", cc_role_name(k->role));
            cc_add_num(j, "account_id", (double)k->account_id);
        }
        pthread_mutex_unlock(&cc->mu);
        if (e != MC_OK)
            cc_mgmt_err(resp, cc_mgmt_status(e), mc_strerror(e));
        else
            cc_mgmt_send(resp, 201, j);
        j = NULL;
    } else if (strcmp(req->method, "POST") == 0 && strcmp(sub, "email-dcv/approve") == 0) {
        const char *name = NULL;
        int n = 0;
        if (body != NULL && json_get_int(body, "domain_id", 1, INT64_MAX, &id) == MC_OK) {
            e = cc_approve_domain(cc, id, &n);
        } else if (body != NULL && json_get_int(body, "order_id", 1, INT64_MAX, &id) == MC_OK &&
                   json_get_string(body, "dns_name", &name) == MC_OK) {
            e = cc_approve_email(cc, id, name);
            n = e == MC_OK;
        } else {
            cc_mgmt_err(resp, 400, "need {order_id, dns_name} or {domain_id}");
            goto out;
        }
        if (e != MC_OK) {
            cc_mgmt_err(resp, cc_mgmt_status(e), mc_strerror(e));
            goto out;
        }
        j = cJSON_CreateObject();
        cc_add_num(j, "approved", n);
        cc_mgmt_send(resp, 200, j);
        j = NULL;
    } else if (strcmp(req->method, "GET") == 0 && strcmp(sub, "emails") == 0) {
        char ts[40];
        j = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(j, "emails");
        pthread_mutex_lock(&cc->mu);
        for (size_t i = 0; a != NULL && i < cc->emails.n; i++) {
            struct cc_email *m = cc->emails.v[i];
            cJSON *o = cJSON_CreateObject();
            cJSON_AddItemToArray(a, o);
            cc_add_num(o, "id", (double)m->id);
            cc_add_num(o, "order_id", (double)m->order_id);
            cc_add_num(o, "domain_id", (double)m->domain_id);
            cc_add_str(o, "dns_name", m->name);
            cc_add_str(o, "email", m->to);
            cc_add_str(o, "date_sent", cc_iso(m->at, ts, sizeof(ts)));
        }
        pthread_mutex_unlock(&cc->mu);
        cc_mgmt_send(resp, 200, j);
        j = NULL;
    } else if (strcmp(req->method, "POST") == 0 && strncmp(sub, "organization/", 13) == 0) {
        char idbuf[24];
        const char *type = NULL, *status = NULL;
        const char *slash = strchr(sub + 13, '/');
        if (slash == NULL || strcmp(slash, "/validation") != 0 ||
            (size_t)(slash - (sub + 13)) >= sizeof(idbuf)) {
            cc_mgmt_err(resp, 404, "no such management route");
            goto out;
        }
        memcpy(idbuf, sub + 13, (size_t)(slash - (sub + 13)));
        idbuf[slash - (sub + 13)] = '\0';
        if (!cc_parse_id(idbuf, &id) || body == NULL ||
            json_get_string(body, "type", &type) != MC_OK ||
            json_get_string(body, "status", &status) != MC_OK) {
            cc_mgmt_err(resp, 400, "need an organization id and {type, status}");
            goto out;
        }
        e = cc_org_validate(cc, id, type, status);
        if (e != MC_OK) {
            cc_mgmt_err(resp, cc_mgmt_status(e), mc_strerror(e));
            goto out;
        }
        pthread_mutex_lock(&cc->mu);
        j = cc_org_validations_json(cc_org_get(cc, id, 0));
        pthread_mutex_unlock(&cc->mu);
        cc_mgmt_send(resp, 200, j);
        j = NULL;
    } else if (strcmp(req->method, "POST") == 0 && strcmp(sub, "sweep") == 0) {
        size_t before = 0, after = 0;
        pthread_mutex_lock(&cc->mu);
        for (size_t i = 0; i < cc->orders.n; i++)
            before += strcmp(((struct cc_order *)cc->orders.v[i])->status, "expired") == 0;
        cc_sweep(cc, clock_now(cc->clock));
        for (size_t i = 0; i < cc->orders.n; i++)
            after += strcmp(((struct cc_order *)cc->orders.v[i])->status, "expired") == 0;
        pthread_mutex_unlock(&cc->mu);
        j = cJSON_CreateObject();
        cc_add_num(j, "expired", (double)(after > before ? after - before : 0));
        cc_mgmt_send(resp, 200, j);
        j = NULL;
    } else {
        cc_mgmt_err(resp, 404, "no such management route");
    }
out:
    cJSON_Delete(j);
    cJSON_Delete(body);
}
