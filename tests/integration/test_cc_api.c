/* test_cc_api.c: mockca's CertCentral Services API v2 over HTTP, as a team whose code
 * calls DigiCert would see it. Each test starts the front end on a common/http.h server
 * of its own, with a CA, an in-process dnsmock that the DCV checks ask, and a small web
 * server that serves fileauth.txt per host. Bodies come from fixtures/certcentral/, and
 * responses must carry every field of the matching fixture with the same JSON type. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/pkcs7.h>
#include <zip.h>

#include "common/b64url.h"
#include "common/csr.h"
#include "common/http.h"
#include "common/keys.h"
#include "common/pem.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "mockca/ca.h"
#include "mockca/cc/cc.h"
#include "testutil.h"

#define ADMIN "ADMINKEY0001"
#define USER "USERKEY0001"
#define VIEWER "VIEWERKEY001"
#define OTHER "OTHERACCT001" /* an administrator of another account */

static struct mc_clock *clk;
static struct ca *ca;
static struct dnsmock *dm;
static struct cc_server *cc;
static struct http_server *api, *web;
static char base[64];

/* ---- the client's web server: fileauth.txt per host ---------------------------------- */

static pthread_mutex_t web_mu = PTHREAD_MUTEX_INITIALIZER;
static char web_host[8][128], web_path[8][160], web_body[8][300];
static size_t web_n;

static void web_put(const char *host, const char *path, const char *body)
{
    pthread_mutex_lock(&web_mu);
    ck_assert_uint_lt(web_n, 8);
    snprintf(web_host[web_n], sizeof(web_host[0]), "%s", host);
    snprintf(web_path[web_n], sizeof(web_path[0]), "%s", path);
    snprintf(web_body[web_n], sizeof(web_body[0]), "%s", body);
    web_n++;
    pthread_mutex_unlock(&web_mu);
}

static void web_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    char host[128];
    (void)ctx;
    snprintf(host, sizeof(host), "%s", req->host);
    char *colon = strchr(host, ':');
    if (colon != NULL)
        *colon = '\0';
    pthread_mutex_lock(&web_mu);
    for (size_t i = 0; i < web_n; i++)
        if (strcmp(web_host[i], host) == 0 && strcmp(web_path[i], req->path) == 0) {
            enum mc_err e = http_response_body(resp, 200, "text/plain", web_body[i],
                                               strlen(web_body[i]));
            pthread_mutex_unlock(&web_mu);
            ck_assert_int_eq(e, MC_OK);
            return;
        }
    pthread_mutex_unlock(&web_mu);
    ck_assert_int_eq(http_response_error(resp, 404, "no such file"), MC_OK);
}

static void api_error(void *ctx, const struct http_request *req, int status, const char *message,
                      struct http_response *resp)
{
    (void)ctx;
    cc_layer_error(req, status, message, resp);
}

static const struct http_route api_routes[] = {
    {"GET", "/services/v2/*", cc_handle},    {"POST", "/services/v2/*", cc_handle},
    {"PUT", "/services/v2/*", cc_handle},    {"DELETE", "/services/v2/*", cc_handle},
    {"GET", "/cc/*", cc_mgmt_handle},        {"POST", "/cc/*", cc_mgmt_handle},
};

static const struct http_route web_routes[] = {
    {"GET", "/.well-known/pki-validation/*", web_get},
};

static void env_start(unsigned rate_limit)
{
    struct ca_config cac;
    struct cc_config cfg;
    struct http_server_config hc;
    static const struct cc_key_config keys[] = {
        {ADMIN, "administrator", 1}, {USER, "user", 1}, {VIEWER, "viewer", 1}, {OTHER, "administrator", 2}};

    web_n = 0;
    clk = clock_new();
    ck_assert_ptr_nonnull(clk);
    memset(&cac, 0, sizeof(cac));
    cac.clock = clk;
    ck_assert_int_eq(ca_new(&cac, &ca), MC_OK);
    dm = tu_dnsmock_start();
    memset(&hc, 0, sizeof(hc));
    hc.routes = web_routes;
    hc.nroutes = 1;
    ck_assert_int_eq(http_server_start(&hc, &web), MC_OK);

    memset(&cfg, 0, sizeof(cfg));
    cfg.dns_server = dnsmock_addr(dm);
    cfg.http_port = http_server_port(web);
    cfg.dcv_timeout_ms = 2000;
    cfg.keys = keys;
    cfg.nkeys = 4;
    cfg.rate_short_limit = rate_limit;
    cfg.rate_short_window_ms = 60000;
    cfg.acme_directory_url = "https://127.0.0.1:14000/dir";
    ck_assert_int_eq(cc_new(&cfg, ca, clk, &cc), MC_OK);

    memset(&hc, 0, sizeof(hc));
    hc.routes = api_routes;
    hc.nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
    hc.ctx = cc;
    hc.max_body = 128 * 1024; /* above CC_MAX_BODY, so cc's own cap answers */
    hc.error = api_error;
    ck_assert_int_eq(http_server_start(&hc, &api), MC_OK);
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", (unsigned)http_server_port(api));
}

static void setup(void)
{
    env_start(0);
}

static void teardown(void)
{
    http_server_stop(api);
    http_server_stop(web);
    cc_free(cc);
    dnsmock_stop(dm);
    ca_free(ca);
    clock_free(clk);
    api = web = NULL;
    cc = NULL;
    dm = NULL;
    ca = NULL;
    clk = NULL;
}

/* ---- helpers ------------------------------------------------------------------------ */

struct resp {
    long status;
    cJSON *j;
    char *raw;
    size_t len;
    char *ctype;
    char *retry_after;
};

static void resp_free(struct resp *r)
{
    cJSON_Delete(r->j);
    free(r->raw);
    free(r->ctype);
    free(r->retry_after);
    memset(r, 0, sizeof(*r));
}

/* One API call; key NULL sends no X-DC-DEVKEY. */
static long call(const char *method, const char *path, const char *key, const char *body,
                 struct resp *out)
{
    struct tu_http h;
    char url[512], keyh[128];
    const char *hdrs[3] = {"Content-Type: application/json", NULL, NULL};
    memset(out, 0, sizeof(*out));
    memset(&h, 0, sizeof(h));
    if (key != NULL) {
        snprintf(keyh, sizeof(keyh), "X-DC-DEVKEY: %s", key);
        hdrs[1] = keyh;
    }
    snprintf(url, sizeof(url), "%s%s", base, path);
    ck_assert_int_eq(tu_http(method, url, body, hdrs, NULL, &h), 0);
    out->status = h.status;
    out->raw = h.body;
    out->len = h.body_len;
    h.body = NULL;
    out->ctype = tu_http_header(&h, "Content-Type");
    out->retry_after = tu_http_header(&h, "Retry-After");
    if (out->raw != NULL && out->len > 0 && out->ctype != NULL &&
        strstr(out->ctype, "json") != NULL)
        out->j = cJSON_Parse(out->raw);
    tu_http_free(&h);
    return out->status;
}

static const char *err_code(const struct resp *r)
{
    cJSON *e = cJSON_GetObjectItemCaseSensitive(r->j, "errors");
    ck_assert_msg(cJSON_IsArray(e), "errors is not an array in %s", r->raw ? r->raw : "");
    cJSON *e0 = cJSON_GetArrayItem(e, 0);
    ck_assert_ptr_nonnull(e0);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e0, "message")));
    cJSON *c = cJSON_GetObjectItemCaseSensitive(e0, "code");
    ck_assert(cJSON_IsString(c));
    return c->valuestring;
}

static void expect_err(const char *method, const char *path, const char *key, const char *body,
                       long status, const char *code)
{
    struct resp r;
    call(method, path, key, body, &r);
    ck_assert_msg(r.status == status, "%s %s: status %ld, want %ld (%s)", method, path, r.status,
                  status, r.raw ? r.raw : "");
    ck_assert_str_eq(err_code(&r), code);
    resp_free(&r);
}

static double num(const cJSON *j, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", k);
    return v->valuedouble;
}

static const char *str(const cJSON *j, const char *k)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

static char *fixture(const char *name)
{
    char path[512];
    FILE *f;
    long n;
    char *buf;
    snprintf(path, sizeof(path), "%s/fixtures/certcentral/%s", MC_SOURCE_DIR, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "fixture %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = calloc(1, (size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static cJSON *fixture_json(const char *name)
{
    char *t = fixture(name);
    cJSON *j = cJSON_Parse(t);
    free(t);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* Every member of want is in got with the same JSON type; objects recursively, arrays
 * through their first elements. */
static void shape(const cJSON *want, const cJSON *got, const char *where)
{
    char sub[256];
    if (cJSON_IsObject(want)) {
        const cJSON *m;
        ck_assert_msg(cJSON_IsObject(got), "%s: not an object", where);
        cJSON_ArrayForEach(m, want)
        {
            const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, m->string);
            snprintf(sub, sizeof(sub), "%s.%s", where, m->string);
            ck_assert_msg(g != NULL, "%s: missing", sub);
            shape(m, g, sub);
        }
    } else if (cJSON_IsArray(want)) {
        ck_assert_msg(cJSON_IsArray(got), "%s: not an array", where);
        if (cJSON_GetArraySize(want) > 0 && cJSON_GetArraySize(got) > 0) {
            snprintf(sub, sizeof(sub), "%s[0]", where);
            shape(cJSON_GetArrayItem(want, 0), cJSON_GetArrayItem(got, 0), sub);
        }
    } else if (cJSON_IsBool(want)) {
        ck_assert_msg(cJSON_IsBool(got), "%s: not a bool", where);
    } else {
        ck_assert_msg((want->type & 0xFF) == (got->type & 0xFF), "%s: type %d, want %d", where,
                      got->type & 0xFF, want->type & 0xFF);
    }
}

static void shape_fixture(const char *name, const cJSON *got)
{
    cJSON *w = fixture_json(name);
    shape(w, got, name);
    cJSON_Delete(w);
}

/* A CSR (PEM) for cn plus the other names. */
static char *make_csr(const char *cn, const char *const *sans, size_t n)
{
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    struct ident_list l = {0};
    char *pem = NULL;
    ck_assert_int_eq(key_generate(KEY_EC_P256, &key), MC_OK);
    ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, cn), MC_OK);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(ident_list_add(&l, IDENT_DNS, sans[i]), MC_OK);
    ck_assert_int_eq(csr_build(key, cn, &l, false, &req), MC_OK);
    ck_assert_int_eq(pem_write_csr(req, &pem), MC_OK);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ident_list_free(&l);
    return pem;
}

/* The fixture body with certificate.csr replaced by a real CSR for its names, then
 * changed by edit (may be NULL). New string. */
static char *body_from(const char *name, void (*edit)(cJSON *b, void *arg), void *arg)
{
    cJSON *b = fixture_json(name);
    cJSON *cert = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    if (edit != NULL)
        edit(b, arg);
    cert = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    if (cert != NULL && cJSON_GetObjectItemCaseSensitive(cert, "csr") != NULL) {
        const char *cn = str(cert, "common_name");
        char *csr = make_csr(cn, NULL, 0);
        cJSON_ReplaceItemInObjectCaseSensitive(cert, "csr", cJSON_CreateString(csr));
        free(csr);
    }
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    return s;
}

static void set_str(cJSON *o, const char *k, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddStringToObject(o, k, v);
}

static void set_num(cJSON *o, const char *k, double v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddNumberToObject(o, k, v);
}

static void set_bool(cJSON *o, const char *k, bool v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, k);
    cJSON_AddBoolToObject(o, k, v);
}

/* A DV body: common name cn, method, extra names. */
static char *dv_body(const char *cn, const char *method, const char *extra_json)
{
    char *csr = make_csr(cn, NULL, 0);
    cJSON *b = fixture_json("order_dv_request.json");
    cJSON *cert = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    set_str(cert, "common_name", cn);
    set_str(cert, "csr", csr);
    set_str(b, "dcv_method", method);
    if (extra_json != NULL) {
        cJSON *x = cJSON_Parse(extra_json), *m;
        ck_assert_ptr_nonnull(x);
        cJSON_ArrayForEach(m, x)
        {
            cJSON_DeleteItemFromObjectCaseSensitive(b, m->string);
            cJSON_AddItemToObject(b, m->string, cJSON_Duplicate(m, true));
        }
        cJSON_Delete(x);
    }
    char *s = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    free(csr);
    return s;
}

static void order_path(char *buf, size_t n, double id, const char *rest)
{
    snprintf(buf, n, "/services/v2/order/certificate/%.0f%s", id, rest != NULL ? rest : "");
}

static const char *order_status(double id)
{
    static char st[32];
    struct resp r;
    char p[128];
    order_path(p, sizeof(p), id, NULL);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    snprintf(st, sizeof(st), "%s", str(r.j, "status"));
    resp_free(&r);
    return st;
}

static void add_txt(const char *host, const char *value)
{
    ck_assert_int_eq(zone_add_txt(dnsmock_zones(dm), host, value, strlen(value)), MC_OK);
}

static double total_orders(const char *key)
{
    struct resp r;
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate", key, NULL, &r), 200);
    double t = num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total");
    resp_free(&r);
    return t;
}

/* Places a DV order and returns its id (and random value into rv when asked). */
static double place_dv(const char *cn, const char *method, const char *extra, char *rv, size_t rvn)
{
    struct resp r;
    char *b = dv_body(cn, method, extra);
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_dv_geotrust", ADMIN, b, &r),
                     201);
    double id = num(r.j, "id");
    if (rv != NULL)
        snprintf(rv, rvn, "%s", str(r.j, "dcv_random_value"));
    resp_free(&r);
    free(b);
    return id;
}

static const char *skip_extra = "{\"skip_approval\":true}";

/* ---- authentication, roles, errors -------------------------------------------------- */

START_TEST(t_auth_roles)
{
    struct resp r;
    call("GET", "/services/v2/product", NULL, NULL, &r);
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(err_code(&r), "invalid_api_key");
    ck_assert_ptr_nonnull(strstr(r.ctype, "application/json"));
    resp_free(&r);
    expect_err("GET", "/services/v2/product", "WRONGKEY", NULL, 401, "invalid_api_key");
    ck_assert_int_eq(call("GET", "/services/v2/product", VIEWER, NULL, &r), 200);
    resp_free(&r);
    char *b = dv_body("viewer.example.com", "dns-txt-token", NULL);
    expect_err("POST", "/services/v2/order/certificate/ssl_dv_geotrust", VIEWER, b, 403,
               "access_denied|missing_permission");
    free(b);
    /* a user key may not skip approval, nor approve requests */
    b = dv_body("user.example.com", "dns-txt-token", skip_extra);
    expect_err("POST", "/services/v2/order/certificate/ssl_dv_geotrust", USER, b, 403,
               "access_denied|missing_permission");
    free(b);
    expect_err("PUT", "/services/v2/request/300001/status", USER, "{\"status\":\"approved\"}", 403,
               "access_denied|missing_permission");
    expect_err("POST", "/services/v2/account/auth-key", USER, NULL, 403,
               "access_denied|missing_permission");
    ck_assert_double_eq(total_orders(ADMIN), 0);
    expect_err("GET", "/services/v2/no/such/route", ADMIN, NULL, 404, "not_found|route");
}
END_TEST

START_TEST(t_products)
{
    struct resp r;
    ck_assert_int_eq(call("GET", "/services/v2/product", ADMIN, NULL, &r), 200);
    cJSON *p, *a = cJSON_GetObjectItemCaseSensitive(r.j, "products");
    bool dv = false, ov = false, ev = false;
    cJSON_ArrayForEach(p, a)
    {
        dv = dv || strcmp(str(p, "name_id"), "ssl_dv_geotrust") == 0;
        ov = ov || strcmp(str(p, "name_id"), "ssl_basic") == 0;
        ev = ev || strcmp(str(p, "name_id"), "ssl_ev_securesite_flex") == 0;
    }
    ck_assert(dv && ov && ev);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/product/ssl_ev_plus", ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "validation_type"), "ev");
    resp_free(&r);
    expect_err("GET", "/services/v2/product/no_such", ADMIN, NULL, 404, "not_found|product");
    char *b = dv_body("x.example.com", "dns-txt-token", NULL);
    expect_err("POST", "/services/v2/order/certificate/no_such", ADMIN, b, 404, "not_found|product");
    expect_err("POST", "/services/v2/order/certificate/ssl", ADMIN, b, 400, "ambiguous_product");
    free(b);
    b = dv_body("hint.example.com", "dns-txt-token", "{\"product\":{\"type_hint\":\"dv\"}}");
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl", ADMIN, b, &r), 201);
    resp_free(&r);
    free(b);
}
END_TEST

/* ---- seed 002: the OV lifecycle ---------------------------------------------------- */

static void ov_token_edit(cJSON *b, void *arg)
{
    set_str(b, "dcv_method", (const char *)arg);
    set_bool(b, "skip_approval", true);
    cJSON_DeleteItemFromObjectCaseSensitive(b, "dcv_emails");
}

static size_t pem_count(const char *s)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL; p++)
        n++;
    return n;
}

static zip_int64_t zip_entries(const struct resp *r)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(r->raw, r->len, 0, &ze);
    ck_assert_ptr_nonnull(src);
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY, &ze);
    ck_assert_ptr_nonnull(za);
    zip_int64_t n = zip_get_num_entries(za, 0);
    zip_discard(za);
    zip_error_fini(&ze);
    return n;
}

START_TEST(t_ov_lifecycle)
{
    struct resp r;
    char p[256], rv[64];
    char *b = body_from("order_ov_request.json", ov_token_edit, "dns-txt-token");
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_basic", ADMIN, b, &r), 201);
    free(b);
    shape_fixture("order_created_token.json", r.j);
    shape_fixture("order_created_ov_token.json", r.j);
    double id = num(r.j, "id"), cert_id = num(r.j, "certificate_id");
    snprintf(rv, sizeof(rv), "%s", str(r.j, "dcv_random_value"));
    ck_assert_uint_eq(strlen(rv), 32);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "domains")), 3);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "pending");

    /* nothing published yet */
    order_path(p, sizeof(p), id, "/check-dcv");
    call("PUT", p, ADMIN, NULL, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(err_code(&r), "invalid_dns_txt");
    shape_fixture("error_invalid_dns_txt.json", r.j);
    resp_free(&r);

    /* the value at the name itself and at _dnsauth.<name> both count */
    add_txt("_dnsauth.example.com", rv);
    add_txt("sub.example.com", rv);
    add_txt("_dnsauth.app.example.com", rv);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{}", &r), 200);
    shape_fixture("check_dcv_response.json", r.j);
    ck_assert_str_eq(str(r.j, "dcv_status"), "valid");
    ck_assert_str_eq(str(r.j, "order_status"), "pending"); /* the organization is not validated */
    resp_free(&r);

    order_path(p, sizeof(p), id, "/validation");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("order_validation.json", r.j);
    double org = num(r.j, "organization_id");
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/organization/%.0f/validation", org);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "validations"), 0),
                         "status"),
                     "pending");
    resp_free(&r);

    /* the validation team finishes: the management API advances the organization */
    snprintf(p, sizeof(p), "/cc/organization/%.0f/validation", org);
    ck_assert_int_eq(call("POST", p, NULL, "{\"type\":\"ov\",\"status\":\"active\"}", &r), 200);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/organization/%.0f/validation", org);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("org_validation.json", r.j);
    resp_free(&r);

    order_path(p, sizeof(p), id, NULL);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("order_info.json", r.j);
    ck_assert_str_eq(str(r.j, "status"), "issued");
    cJSON *cert = cJSON_GetObjectItemCaseSensitive(r.j, "certificate");
    ck_assert_double_eq(num(cert, "id"), cert_id);
    ck_assert_str_eq(str(cert, "common_name"), "example.com");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(cert, "dns_names")), 3);
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r.j, "organization"), "name"),
                     "Epigyne Unwieldiness llc");
    ck_assert_str_eq(str(r.j, "payment_method"), "balance");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r.j, "disable_renewal_notifications")));
    ck_assert_double_eq(num(r.j, "validity_years"), 2);
    char serial[80];
    snprintf(serial, sizeof(serial), "%s", str(cert, "serial_number"));
    resp_free(&r);
    /* the order is also found by serial */
    snprintf(p, sizeof(p), "/services/v2/order/certificate/%s", serial);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_double_eq(num(r.j, "id"), id);
    resp_free(&r);

    ck_assert_int_eq(call("GET", "/services/v2/order/certificate/status-changes?minutes=10", ADMIN,
                          NULL, &r),
                     200);
    shape_fixture("status_changes.json", r.j);
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "orders"), 0),
                         "status"),
                     "issued");
    resp_free(&r);

    /* downloads */
    static const struct {
        const char *fmt;
        size_t pems;
    } pems[] = {{"pem_all", 3}, {"pem_noroot", 2}, {"pem_nointermediate", 1}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/format/%s", cert_id,
                 pems[i].fmt);
        ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
        ck_assert_uint_eq(pem_count(r.raw), pems[i].pems);
        ck_assert_ptr_nonnull(strstr(r.ctype, "application/x-pem-file"));
        resp_free(&r);
    }
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/format/p7b", cert_id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    {
        const unsigned char *d = (const unsigned char *)r.raw;
        PKCS7 *p7 = d2i_PKCS7(NULL, &d, (long)r.len);
        ck_assert_ptr_nonnull(p7);
        ck_assert_int_eq(sk_X509_num(p7->d.sign->cert), 3);
        PKCS7_free(p7);
    }
    resp_free(&r);
    static const struct {
        const char *fmt;
        zip_int64_t n;
    } zips[] = {{"default", 3}, {"apache", 2}, {"default_cer", 3}, {"default_pem", 1}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/format/%s", cert_id,
                 zips[i].fmt);
        ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
        ck_assert_ptr_nonnull(strstr(r.ctype, "application/zip"));
        ck_assert_int_eq(zip_entries(&r), zips[i].n);
        resp_free(&r);
    }
    snprintf(p, sizeof(p), "/services/v2/certificate/download/order/%.0f", id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_int_eq(zip_entries(&r), 3);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/certificate/download/order/%.0f/format/pem_all", id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_uint_eq(pem_count(r.raw), 3);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/platform", cert_id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_int_eq(zip_entries(&r), 3);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/format/bogus", cert_id);
    expect_err("GET", p, ADMIN, NULL, 400, "invalid_value:format_type");
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/chain", cert_id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("chain.json", r.j);
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "intermediates"), 0),
                         "subject_common_name"),
                     "example.com");
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/certificate/intermediates", ADMIN, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "intermediates")), 1);
    resp_free(&r);

    /* reissue, waiting for approval */
    b = body_from("reissue_request.json", NULL, NULL);
    order_path(p, sizeof(p), id, "/reissue");
    ck_assert_int_eq(call("POST", p, USER, b, &r), 201);
    free(b);
    shape_fixture("reissue_created.json", r.j);
    double req = num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0), "id");
    double new_cert = num(r.j, "certificate_id");
    ck_assert_double_ne(new_cert, cert_id);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "reissue_pending");
    /* a pending reissue blocks revocation */
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/revoke", cert_id);
    expect_err("PUT", p, ADMIN, "{}", 400, "reissue_pending");
    snprintf(p, sizeof(p), "/services/v2/request/%.0f", req);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "type"), "reissue");
    ck_assert_str_eq(str(r.j, "status"), "pending");
    resp_free(&r);
    char *appr = fixture("request_status_approve.json");
    snprintf(p, sizeof(p), "/services/v2/request/%.0f/status", req);
    ck_assert_int_eq(call("PUT", p, ADMIN, appr, &r), 204);
    resp_free(&r);
    expect_err("PUT", p, ADMIN, appr, 400, "request_already_processed");
    ck_assert_str_eq(order_status(id), "issued"); /* both names were validated already */
    order_path(p, sizeof(p), id, "/reissue");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("reissue_list.json", r.j);
    ck_assert_double_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "certificates"), 0),
                            "id"),
                        new_cert);
    resp_free(&r);

    /* revoke with approval */
    char *rb = fixture("revoke_request.json");
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/revoke", new_cert);
    ck_assert_int_eq(call("PUT", p, USER, rb, &r), 201);
    shape_fixture("revoke_pending.json", r.j);
    ck_assert_str_eq(str(r.j, "status"), "pending");
    double rreq = num(r.j, "id");
    resp_free(&r);
    free(rb);
    ck_assert_str_eq(order_status(id), "issued");
    snprintf(p, sizeof(p), "/services/v2/request/%.0f/status", rreq);
    ck_assert_int_eq(call("PUT", p, ADMIN, appr, &r), 204);
    resp_free(&r);
    free(appr);
    ck_assert_str_eq(order_status(id), "revoked");
    order_path(p, sizeof(p), id, NULL);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    snprintf(serial, sizeof(serial), "%s",
             str(cJSON_GetObjectItemCaseSensitive(r.j, "certificate"), "serial_number"));
    resp_free(&r);
    for (char *q = serial; *q != '\0'; q++)
        *q = (char)tolower((unsigned char)*q);
    enum ca_status cs;
    int reason = -1;
    ck_assert_int_eq(ca_status(ca, serial, &cs, &reason, NULL), MC_OK);
    ck_assert_int_eq(cs, CA_STATUS_REVOKED);
    ck_assert_int_eq(reason, CA_REASON_SUPERSEDED);
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate/status-changes?seconds=600", ADMIN,
                          NULL, &r),
                     200);
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "orders"), 0),
                         "status"),
                     "revoked");
    resp_free(&r);
}
END_TEST

/* ---- place order: validity, wildcard, bad input ------------------------------------ */

START_TEST(t_validity_and_wildcards)
{
    struct resp r;
    const char *path = "/services/v2/order/certificate/ssl_dv_geotrust";
    char *b;
    static const struct {
        const char *extra, *code;
    } bad[] = {
        {"{\"validity_years\":4}", "invalid_value:validity_years"},
        {"{\"validity_years\":\"one\"}", "invalid_value:validity_years"},
        {"{\"validity_days\":2000}", "invalid_value:validity_days"},
        {"{\"custom_expiration_date\":\"2001-01-01\"}", "invalid_value:custom_expiration_date"},
        {"{\"custom_expiration_date\":\"next year\"}", "invalid_value:custom_expiration_date"},
        {"{\"dcv_method\":\"carrier-pigeon\"}", "invalid_dcv_method"},
        {"{\"order_validity\":{\"years\":5}}", "invalid_value:validity_years"},
        {"{\"payment_method\":\"gold\"}", "invalid_value:payment_method"},
        {"{\"skip_approval\":\"yes\"}", "invalid_value:skip_approval"},
        {"{\"comments\":42}", "invalid_value:comments"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        b = dv_body("v.example.com", "dns-txt-token", bad[i].extra);
        if (strstr(bad[i].extra, "dcv_method") != NULL) {
            free(b);
            b = dv_body("v.example.com", "carrier-pigeon", NULL);
        }
        expect_err("POST", path, ADMIN, b, 400, bad[i].code);
        free(b);
    }
    /* precedence: custom_expiration_date > validity_days > validity_years; the ones not
     * used are not looked at */
    char date[16], ts[16];
    time_t later = (time_t)(clock_now(clk) + 100 * 86400);
    struct tm tm;
    gmtime_r(&later, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d", &tm);
    char extra[200];
    snprintf(extra, sizeof(extra),
             "{\"custom_expiration_date\":\"%s\",\"validity_days\":9999,\"validity_years\":9}", date);
    b = dv_body("prec.example.com", "dns-txt-token", extra);
    ck_assert_int_eq(call("POST", path, ADMIN, b, &r), 201);
    free(b);
    char p[128];
    order_path(p, sizeof(p), num(r.j, "id"), NULL);
    resp_free(&r);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "order_valid_till"), date);
    resp_free(&r);
    later = (time_t)(clock_now(clk) + 30 * 86400);
    gmtime_r(&later, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%d", &tm);
    snprintf(extra, sizeof(extra), "{\"validity_days\":30,\"validity_years\":9}");
    b = dv_body("days.example.com", "dns-txt-token", extra);
    ck_assert_int_eq(call("POST", path, ADMIN, b, &r), 201);
    free(b);
    order_path(p, sizeof(p), num(r.j, "id"), NULL);
    resp_free(&r);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "order_valid_till"), ts);
    resp_free(&r);

    /* a certificate validity longer than the order's */
    {
        char *csr = make_csr("cv.example.com", NULL, 0);
        cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "certificate");
        cJSON_AddStringToObject(c, "common_name", "cv.example.com");
        cJSON_AddStringToObject(c, "csr", csr);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(c, "cert_validity"), "days", 300);
        cJSON_AddNumberToObject(o, "validity_days", 100);
        char *s = cJSON_PrintUnformatted(o);
        expect_err("POST", path, ADMIN, s, 400, "cert_validity_exceeds_order_validity");
        free(s);
        cJSON_Delete(o);
        free(csr);
    }

    /* wildcards: http-token cannot prove a name that is only there as a wildcard */
    char *csr = make_csr("*.wild.example.com", NULL, 0);
    cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "certificate");
    cJSON_AddStringToObject(c, "common_name", "*.wild.example.com");
    cJSON_AddStringToObject(c, "csr", csr);
    cJSON_AddNumberToObject(o, "validity_years", 1);
    cJSON_AddStringToObject(o, "dcv_method", "http-token");
    char *s = cJSON_PrintUnformatted(o);
    expect_err("POST", "/services/v2/order/certificate/wildcard_dv_geotrust", ADMIN, s, 400,
               "invalid_wildcard_dcv_method");
    free(s);
    cJSON *dn = cJSON_AddArrayToObject(c, "dns_names");
    cJSON_AddItemToArray(dn, cJSON_CreateString("wild.example.com"));
    s = cJSON_PrintUnformatted(o);
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/wildcard_dv_geotrust", ADMIN, s, &r),
                     201);
    resp_free(&r);
    free(s);
    /* a wildcard product needs a wildcard common name */
    set_str(c, "common_name", "plain.example.com");
    s = cJSON_PrintUnformatted(o);
    expect_err("POST", "/services/v2/order/certificate/wildcard_dv_geotrust", ADMIN, s, 400,
               "invalid_value:common_name");
    free(s);
    cJSON_Delete(o);
    free(csr);
}
END_TEST

START_TEST(t_bad_input)
{
    struct resp r;
    const char *path = "/services/v2/order/certificate/ssl_dv_geotrust";
    double id = place_dv("mine.example.com", "dns-txt-token", NULL, NULL, 0);
    double before = total_orders(ADMIN);
    char p[160];

    expect_err("POST", path, ADMIN, "{\"certificate\":", 400, "bad_request_format");
    expect_err("POST", path, ADMIN, "[1,2]", 400, "bad_request_format");
    expect_err("POST", path, ADMIN, "{\"a\":1,\"a\":2}", 400, "bad_request_format");
    expect_err("POST", path, ADMIN, NULL, 400, "bad_request_format");
    expect_err("POST", path, ADMIN, "{\"certificate\":\"x\"}", 400, "invalid_value:certificate");
    expect_err("POST", path, ADMIN, "{\"certificate\":{\"csr\":\"x\"}}", 400,
               "missing_param:common_name");
    expect_err("POST", path, ADMIN,
               "{\"certificate\":{\"common_name\":\"a.example.com\",\"csr\":\"garbage\"}}", 400,
               "csr_invalid_cannot_parse");
    char *b = dv_body("types.example.com", "dns-txt-token", NULL);
    cJSON *j = cJSON_Parse(b);
    cJSON_AddStringToObject(cJSON_GetObjectItemCaseSensitive(j, "certificate"), "dns_names", "x");
    char *s = cJSON_PrintUnformatted(j);
    expect_err("POST", path, ADMIN, s, 400, "invalid_value:dns_names");
    free(s);
    cJSON_Delete(j);
    j = cJSON_Parse(b);
    set_str(cJSON_GetObjectItemCaseSensitive(j, "certificate"), "common_name", "bad..name");
    s = cJSON_PrintUnformatted(j);
    expect_err("POST", path, ADMIN, s, 400, "invalid_value:common_name");
    free(s);
    cJSON_Delete(j);
    free(b);
    /* a body over the cap */
    {
        cJSON *big = cJSON_CreateObject();
        char *pad = malloc(70000);
        memset(pad, 'a', 69999);
        pad[69999] = '\0';
        cJSON_AddStringToObject(big, "comments", pad);
        s = cJSON_PrintUnformatted(big);
        expect_err("POST", path, ADMIN, s, 413, "request_too_large");
        free(s);
        free(pad);
        cJSON_Delete(big);
    }
    /* unknown and foreign orders */
    static const char *const reads[] = {"", "/validation", "/reissue"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "/services/v2/order/certificate/999999%s", reads[i]);
        expect_err("GET", p, ADMIN, NULL, 404, "not_found|order");
        order_path(p, sizeof(p), id, reads[i]);
        expect_err("GET", p, OTHER, NULL, 404, "not_found|order");
    }
    static const char *const writes[] = {"/status", "/check-dcv", "/dcv-random-value",
                                         "/dcv-method", "/revoke", "/resend-emails"};
    for (size_t i = 0; i < 6; i++) {
        const char *wb = i == 0 ? "{\"status\":\"canceled\"}"
                         : i == 3 ? "{\"dcv_method\":\"dns-txt-token\"}"
                                  : "{}";
        order_path(p, sizeof(p), id, writes[i]);
        expect_err("PUT", p, OTHER, wb, 404, "not_found|order");
    }
    order_path(p, sizeof(p), id, "/status");
    expect_err("PUT", p, ADMIN, "{\"status\":7}", 400, "invalid_value:status");
    expect_err("PUT", p, ADMIN, "{\"status\":\"bogus\"}", 400, "invalid_value:status");
    expect_err("PUT", p, ADMIN, "not json", 400, "bad_request_format");
    order_path(p, sizeof(p), id, "/dcv-method");
    expect_err("PUT", p, ADMIN, "{\"dcv_method\":\"fax\"}", 400, "invalid_dcv_method");
    expect_err("GET", "/services/v2/request/1", ADMIN, NULL, 404, "not_found|request");
    expect_err("GET", "/services/v2/domain/1", ADMIN, NULL, 404, "not_found|domain");
    expect_err("GET", "/services/v2/organization/abc", ADMIN, NULL, 404, "not_found|organization");
    expect_err("GET", "/services/v2/certificate/1/chain", ADMIN, NULL, 404, "not_found|certificate");
    expect_err("GET", "/services/v2/order/certificate?limit=5000", ADMIN, NULL, 400,
               "invalid_value:limit");
    /* nothing in the store changed */
    ck_assert_double_eq(total_orders(ADMIN), before);
    ck_assert_str_eq(order_status(id), "needs_approval");
    ck_assert_double_eq(total_orders(OTHER), 0);
    (void)r;
}
END_TEST

/* ---- DCV methods ---------------------------------------------------------------------- */

START_TEST(t_email_dcv)
{
    struct resp r;
    char p[160];
    double id = place_dv("mail.example.com", "email", skip_extra, NULL, 0);
    ck_assert_uint_eq(cc_email_count(cc, "admin@mail.example.com"), 1);
    ck_assert_uint_eq(cc_email_count(cc, NULL), 5);
    order_path(p, sizeof(p), id, "/check-dcv");
    expect_err("PUT", p, ADMIN, NULL, 400, "invalid_dns_method");
    order_path(p, sizeof(p), id, "/resend-emails");
    ck_assert_int_eq(call("PUT", p, ADMIN,
                          "{\"domain_approval_emails\":[{\"domain\":\"mail.example.com\","
                          "\"email\":\"owner@mail.example.com\"}],\"locale\":\"en\"}",
                          &r),
                     204);
    resp_free(&r);
    ck_assert_uint_eq(cc_email_count(cc, "owner@mail.example.com"), 1);
    ck_assert_int_eq(call("GET", "/cc/emails", NULL, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "emails")), 6);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "pending");
    char mb[160];
    snprintf(mb, sizeof(mb), "{\"order_id\":%.0f,\"dns_name\":\"mail.example.com\"}", id);
    ck_assert_int_eq(call("POST", "/cc/email-dcv/approve", NULL, mb, &r), 200);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "issued");
    /* dcv_emails narrows the addresses */
    double id2 = place_dv("narrow.example.com", "email",
                          "{\"skip_approval\":true,\"dcv_emails\":[{\"dns_name\":\"narrow.example.com\","
                          "\"email_domain\":\"example.com\",\"email\":\"hostmaster@example.com\"}]}",
                          NULL, 0);
    ck_assert_uint_eq(cc_email_count(cc, "hostmaster@example.com"), 1);
    ck_assert_uint_eq(cc_email_count(cc, "admin@narrow.example.com"), 0);
    ck_assert_int_eq(cc_approve_email(cc, id2, "narrow.example.com"), MC_OK);
    ck_assert_str_eq(order_status(id2), "issued");
    ck_assert_int_eq(cc_approve_email(cc, id2, "not.on.order"), MC_ERR_NOT_FOUND);
}
END_TEST

START_TEST(t_http_token_and_cname)
{
    struct resp r;
    char p[160], rv[64], host[160];
    double id = place_dv("web.example.com", "http-token", skip_extra, rv, sizeof(rv));
    order_path(p, sizeof(p), id, "/check-dcv");
    expect_err("PUT", p, ADMIN, NULL, 400, "file_random_value_not_found");
    web_put("web.example.com", "/.well-known/pki-validation/fileauth.txt", "wrong-value");
    expect_err("PUT", p, ADMIN, NULL, 400, "file_random_value_not_found");
    web_put("web.example.com", "/.well-known/pki-validation/fileauth.txt", rv);
    /* the first matching entry wins in the test server: start over for this host */
    pthread_mutex_lock(&web_mu);
    snprintf(web_body[web_n - 2], sizeof(web_body[0]), "%s\n", rv);
    pthread_mutex_unlock(&web_mu);
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "order_status"), "issued");
    resp_free(&r);

    id = place_dv("cname.example.com", "dns-cname-token", skip_extra, rv, sizeof(rv));
    order_path(p, sizeof(p), id, "/check-dcv");
    expect_err("PUT", p, ADMIN, NULL, 400, "invalid_dns_txt");
    snprintf(host, sizeof(host), "%s.dcv.digicert.com", rv);
    ck_assert_int_eq(zone_set_cname(dnsmock_zones(dm), "_dnsauth.cname.example.com", host), MC_OK);
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "order_status"), "issued");
    resp_free(&r);
    /* the other documented placement: <value>.<name> CNAME dcv.digicert.com */
    id = place_dv("cname2.example.com", "dns-cname-token", skip_extra, rv, sizeof(rv));
    snprintf(host, sizeof(host), "%s.cname2.example.com", rv);
    ck_assert_int_eq(zone_set_cname(dnsmock_zones(dm), host, "dcv.digicert.com"), MC_OK);
    order_path(p, sizeof(p), id, "/check-dcv");
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "issued");
}
END_TEST

START_TEST(t_random_value_expiry_and_method_change)
{
    struct resp r;
    char p[160], rv[64], rv2[64];
    double id = place_dv("rv.example.com", "dns-txt-token", skip_extra, rv, sizeof(rv));
    order_path(p, sizeof(p), id, "/dcv-random-value");
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    shape_fixture("dcv_random_value.json", r.j);
    ck_assert_str_eq(str(r.j, "dcv_random_value"), rv); /* still valid: the same value */
    resp_free(&r);
    clock_advance(clk, 31LL * 86400 * 1000);
    add_txt("rv.example.com", rv);
    order_path(p, sizeof(p), id, "/check-dcv");
    expect_err("PUT", p, ADMIN, NULL, 400, "invalid_dns_txt"); /* 30 days are over */
    order_path(p, sizeof(p), id, "/dcv-random-value");
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    snprintf(rv2, sizeof(rv2), "%s", str(r.j, "dcv_random_value"));
    ck_assert_str_ne(rv2, rv);
    resp_free(&r);
    add_txt("_dnsauth.rv.example.com", rv2);
    order_path(p, sizeof(p), id, "/check-dcv");
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "issued");

    /* change method: email -> 204, token -> 200 with the value */
    id = place_dv("chg.example.com", "dns-txt-token", NULL, NULL, 0);
    order_path(p, sizeof(p), id, "/dcv-method");
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"dcv_method\":\"email\"}", &r), 204);
    resp_free(&r);
    ck_assert_uint_eq(cc_email_count(cc, "webmaster@chg.example.com"), 1);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"dcv_method\":\"http-token\"}", &r), 200);
    shape_fixture("dcv_random_value.json", r.j);
    resp_free(&r);
    order_path(p, sizeof(p), id, NULL);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "dcv_method"), "http-token");
    ck_assert_str_eq(str(r.j, "status"), "needs_approval");
    resp_free(&r);
}
END_TEST

START_TEST(t_cancel_and_approval)
{
    struct resp r;
    char p[160];
    char *cancel = fixture("cancel_request.json");
    /* a user's order waits for approval */
    char *b = dv_body("appr.example.com", "email", NULL);
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_dv_geotrust", USER, b, &r), 201);
    free(b);
    shape_fixture("order_created_pending.json", r.j);
    double id = num(r.j, "id");
    double req = num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0), "id");
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0),
                         "status"),
                     "pending");
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "needs_approval");
    snprintf(p, sizeof(p), "/services/v2/request/%.0f/status", req);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"status\":\"rejected\",\"processor_comment\":\"no\"}", &r),
                     204);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "rejected");
    snprintf(p, sizeof(p), "/services/v2/request/%.0f", req);
    ck_assert_int_eq(call("GET", p, USER, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "status"), "rejected");
    ck_assert_str_eq(str(r.j, "processor_comment"), "no");
    resp_free(&r);

    /* cancel: "CANCELED" as real clients send it, and "canceled" */
    id = place_dv("cancel.example.com", "dns-txt-token", NULL, NULL, 0);
    order_path(p, sizeof(p), id, "/status");
    ck_assert_int_eq(call("PUT", p, USER, cancel, &r), 204);
    ck_assert_uint_eq(r.len, 0);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "canceled");
    expect_err("PUT", p, USER, "{\"status\":\"canceled\"}", 400, "invalid_status|order");
    id = place_dv("cancel2.example.com", "dns-txt-token", skip_extra, NULL, 0);
    order_path(p, sizeof(p), id, "/status");
    ck_assert_int_eq(call("PUT", p, USER, "{\"status\":\"canceled\",\"send_emails\":false}", &r), 204);
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "canceled");
    free(cancel);
    ck_assert_int_eq(call("GET",
                          "/services/v2/order/certificate/status-changes?minutes=1", ADMIN, NULL,
                          &r),
                     200);
    cJSON *o;
    size_t canceled = 0;
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r.j, "orders"))
        canceled += strcmp(str(o, "status"), "canceled") == 0;
    ck_assert_uint_eq(canceled, 2);
    resp_free(&r);
}
END_TEST

START_TEST(t_status_changes_limits)
{
    struct resp r;
    const char *sc = "/services/v2/order/certificate/status-changes";
    char p[256], d1[16], d2[16];
    expect_err("GET", "/services/v2/order/certificate/status-changes?minutes=10081", ADMIN, NULL, 400,
               "time_frame_too_long");
    expect_err("GET", "/services/v2/order/certificate/status-changes?seconds=604801", ADMIN, NULL,
               400, "time_frame_too_long");
    expect_err("GET", "/services/v2/order/certificate/status-changes?minutes=5000&seconds=400000",
               ADMIN, NULL, 400, "time_frame_too_long");
    expect_err("GET", "/services/v2/order/certificate/status-changes?minutes=abc", ADMIN, NULL, 400,
               "invalid_value:minutes");
    expect_err("GET", sc, ADMIN, NULL, 400, "missing_param:minutes");
    expect_err("GET",
               "/services/v2/order/certificate/"
               "status-changes?filters%5Bstatus_last_updated%5D=2024-01-01...2024-01-09",
               ADMIN, NULL, 400, "time_frame_too_long");
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate/status-changes?minutes=10080",
                          ADMIN, NULL, &r),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(r.j), 0); /* {} when nothing changed */
    resp_free(&r);
    double id = place_dv("sc.example.com", "dns-txt-token", NULL, NULL, 0);
    time_t now = (time_t)clock_now(clk), y = now - 86400;
    struct tm tm;
    gmtime_r(&y, &tm);
    strftime(d1, sizeof(d1), "%Y-%m-%d", &tm);
    gmtime_r(&now, &tm);
    strftime(d2, sizeof(d2), "%Y-%m-%d", &tm);
    snprintf(p, sizeof(p), "%s?filters%%5Bstatus_last_updated%%5D=%s...%s", sc, d1, d2);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    cJSON *o0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "orders"), 0);
    ck_assert_double_eq(num(o0, "order_id"), id);
    ck_assert_str_eq(str(o0, "status"), "needs_approval");
    resp_free(&r);
    /* another account sees none of it */
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate/status-changes?minutes=10", OTHER,
                          NULL, &r),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(r.j), 0);
    resp_free(&r);
    /* the window moves with the virtual clock */
    clock_advance(clk, 20LL * 60 * 1000);
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate/status-changes?minutes=10", ADMIN,
                          NULL, &r),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(r.j), 0);
    resp_free(&r);
}
END_TEST

START_TEST(t_list_orders)
{
    struct resp r;
    double id1 = place_dv("l1.example.com", "email", skip_extra, NULL, 0);
    ck_assert_int_eq(cc_approve_email(cc, (int64_t)id1, "l1.example.com"), MC_OK);
    double id2 = place_dv("l2.example.com", "dns-txt-token", skip_extra, NULL, 0);
    place_dv("l3.example.com", "email", NULL, NULL, 0);
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate?sort=order_id", ADMIN, NULL, &r), 200);
    {
        /* DV orders have no organization: the rest of the fixture must match */
        cJSON *w = fixture_json("order_list.json");
        cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetArrayItem(
                                                    cJSON_GetObjectItemCaseSensitive(w, "orders"), 0),
                                                "organization");
        shape(w, r.j, "order_list.json");
        cJSON_Delete(w);
    }
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 3);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate?filters%5Bstatus%5D=pending",
                          ADMIN, NULL, &r),
                     200);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 1);
    ck_assert_double_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "orders"), 0),
                            "id"),
                        id2);
    resp_free(&r);
    ck_assert_int_eq(call("GET",
                          "/services/v2/order/certificate?filters%5Bcommon_name%5D=l3.example.com",
                          ADMIN, NULL, &r),
                     200);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 1);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/order/certificate?sort=order_id&limit=1&offset=1",
                          ADMIN, NULL, &r),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "orders")), 1);
    ck_assert_double_eq(num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "orders"), 0),
                            "id"),
                        id2);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "limit"), 1);
    resp_free(&r);
    ck_assert_int_eq(call("GET",
                          "/services/v2/order/certificate?filters%5Bproduct_name_id%5D=ssl_basic",
                          ADMIN, NULL, &r),
                     200);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 0);
    resp_free(&r);
    expect_err("GET", "/services/v2/order/certificate?sort=price", ADMIN, NULL, 400,
               "invalid_value:sort");
}
END_TEST

/* ---- domain-level DCV -------------------------------------------------------------- */

static void ov_email_edit(cJSON *b, void *arg)
{
    (void)arg;
    set_bool(b, "skip_approval", true);
    cJSON_DeleteItemFromObjectCaseSensitive(b, "dcv_emails");
    cJSON *cert = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    cJSON_DeleteItemFromObjectCaseSensitive(cert, "dns_names");
}

START_TEST(t_domain_dcv)
{
    struct resp r;
    char p[200], tok[64];
    char *b = body_from("order_ov_request.json", ov_email_edit, NULL);
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_plus", ADMIN, b, &r), 201);
    free(b);
    shape_fixture("order_created_email.json", r.j);
    double id = num(r.j, "id");
    resp_free(&r);
    order_path(p, sizeof(p), id, "/validation");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    cJSON *v0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "dns_name_validations"), 0);
    double dom = num(v0, "domain_id");
    double org = num(r.j, "organization_id");
    ck_assert_str_eq(str(v0, "status"), "pending");
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/token", dom);
    expect_err("POST", p, ADMIN, NULL, 400, "invalid_dcv_method"); /* still email */
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/emails", dom);
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 204);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/method", dom);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"dcv_method\":\"dns-cname-token\"}", &r), 200);
    shape_fixture("domain_method_cname.json", r.j);
    resp_free(&r);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"dcv_method\":\"dns-txt-token\"}", &r), 200);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/token", dom);
    ck_assert_int_eq(call("POST", p, ADMIN, NULL, &r), 200);
    shape_fixture("domain_token.json", r.j);
    snprintf(tok, sizeof(tok), "%s", str(r.j, "token"));
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f?include_dcv=true&include_validation=true", dom);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("domain_info.json", r.j);
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(r.j, "dcv_token"), "token"), tok);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/validate-token", dom);
    expect_err("PUT", p, ADMIN, NULL, 400, "invalid_dns_txt");
    add_txt("example.com", tok);
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "status"), "active");
    resp_free(&r);
    ck_assert_str_eq(order_status(id), "pending");
    ck_assert_int_eq(cc_org_validate(cc, (int64_t)org, "ov", "active"), MC_OK);
    ck_assert_str_eq(order_status(id), "issued");
    /* the validated domain and organization are reused: a new order issues at once */
    b = body_from("order_ov_request.json", ov_email_edit, NULL);
    cJSON *j = cJSON_Parse(b);
    free(b);
    cJSON_DeleteItemFromObjectCaseSensitive(j, "organization");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(j, "organization"), "id", org);
    b = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_plus", ADMIN, b, &r), 201);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.j, "certificate_chain"));
    resp_free(&r);
    expect_err("POST", "/services/v2/order/certificate/ssl_plus", OTHER, b, 404,
               "not_found|organization");
    free(b);
}
END_TEST

/* ---- AuthKey and instant DV (seed 004) ---------------------------------------------- */

static char *authkey(void)
{
    struct resp r;
    ck_assert_int_eq(call("POST", "/services/v2/account/auth-key", ADMIN, NULL, &r), 200);
    shape_fixture("authkey_created.json", r.j);
    char *k = strdup(str(r.j, "auth_key"));
    resp_free(&r);
    return k;
}

static void stamp(int64_t at, char ts[15])
{
    time_t t = (time_t)at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, 15, "%Y%m%d%H%M%S", &tm);
}

/* Places a use_auth_key DV order for cn with csr; returns the response. */
static void instant(const char *cn, const char *csr, const char *method, const char *key,
                    struct resp *r)
{
    cJSON *b = fixture_json("order_dv_request.json");
    cJSON *cert = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    set_str(cert, "common_name", cn);
    set_str(cert, "csr", csr);
    set_str(b, "dcv_method", method);
    set_bool(b, "use_auth_key", true);
    char *s = cJSON_PrintUnformatted(b);
    call("POST", "/services/v2/order/certificate/ssl_dv_rapidssl", key, s, r);
    free(s);
    cJSON_Delete(b);
}

START_TEST(t_authkey_and_instant_dv)
{
    struct resp r;
    char ts[15], tok[65], p[160];
    char *csr = make_csr("fast.example.com", NULL, 0);

    instant("fast.example.com", csr, "dns-txt-token", ADMIN, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(err_code(&r), "auth_key_not_setup");
    resp_free(&r);
    char *ak = authkey();
    expect_err("POST", "/services/v2/account/auth-key", ADMIN, NULL, 400,
               "auth_key_exists_for_account");
    ck_assert_int_eq(call("GET", "/services/v2/account/auth-key", ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "auth_key"), ak);
    resp_free(&r);

    /* a valid token at _dnsauth.<name>: issued in the response */
    stamp(clock_now(clk) - 3600, ts);
    ck_assert_int_eq(cc_request_token(ak, ts, csr, tok), MC_OK);
    add_txt("_dnsauth.fast.example.com", tok);
    instant("fast.example.com", csr, "dns-txt-token", USER, &r);
    ck_assert_int_eq(r.status, 201);
    shape_fixture("order_created_immediate.json", r.j);
    cJSON *chain = cJSON_GetObjectItemCaseSensitive(r.j, "certificate_chain");
    ck_assert_int_eq(cJSON_GetArraySize(chain), 3);
    ck_assert_str_eq(str(cJSON_GetArrayItem(chain, 0), "subject_common_name"), "fast.example.com");
    ck_assert_ptr_nonnull(strstr(str(cJSON_GetArrayItem(chain, 0), "pem"), "\r\n"));
    ck_assert_str_eq(str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0),
                         "status"),
                     "approved");
    ck_assert_str_eq(order_status(num(r.j, "id")), "issued");
    resp_free(&r);

    /* through fileauth.txt */
    char *csr2 = make_csr("file.example.com", NULL, 0);
    ck_assert_int_eq(cc_request_token(ak, ts, csr2, tok), MC_OK);
    web_put("file.example.com", "/.well-known/pki-validation/fileauth.txt", tok);
    instant("file.example.com", csr2, "http-token", ADMIN, &r);
    ck_assert_int_eq(r.status, 201);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.j, "certificate_chain"));
    resp_free(&r);

    /* every way the token can be wrong falls back to a pending order */
    struct {
        const char *name;
        int64_t at;
        const char *key;
        bool other_csr;
    } wrong[] = {
        {"stale.example.com", clock_now(clk) - 31LL * 86400, NULL, false},
        {"future.example.com", clock_now(clk) + 86400, NULL, false},
        {"wrongkey.example.com", clock_now(clk) - 60, "not-the-auth-key", false},
        {"wrongcsr.example.com", clock_now(clk) - 60, NULL, true},
        {"missing.example.com", 0, NULL, false},
    };
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        char *c = make_csr(wrong[i].name, NULL, 0);
        char *other = make_csr(wrong[i].name, NULL, 0);
        if (wrong[i].at != 0) {
            stamp(wrong[i].at, ts);
            ck_assert_int_eq(cc_request_token(wrong[i].key != NULL ? wrong[i].key : ak, ts,
                                              wrong[i].other_csr ? other : c, tok),
                             MC_OK);
            add_txt(wrong[i].name, tok);
        }
        instant(wrong[i].name, c, "dns-txt-token", ADMIN, &r);
        ck_assert_msg(r.status == 201, "%s: %ld", wrong[i].name, r.status);
        ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(r.j, "certificate_chain"));
        ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.j, "dcv_random_value"));
        ck_assert_str_ne(order_status(num(r.j, "id")), "issued");
        resp_free(&r);
        free(c);
        free(other);
    }

    /* TTL keys, list, details, delete */
    ck_assert_int_eq(call("POST", "/services/v2/account/auth-key/5", ADMIN, NULL, &r), 200);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(r.j, "expiration_datetime"));
    char ttl_id[64];
    snprintf(ttl_id, sizeof(ttl_id), "%s", str(r.j, "auth_key_id"));
    resp_free(&r);
    expect_err("POST", "/services/v2/account/auth-key/0", ADMIN, NULL, 400, "invalid_value:days");
    expect_err("GET", "/services/v2/account/auth-key", ADMIN, NULL, 400, "multiple_auth_keys");
    ck_assert_int_eq(call("GET", "/services/v2/account/auth-keys", ADMIN, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "auth_keys")), 2);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/account/auth-key/%s", ttl_id);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    resp_free(&r);
    ck_assert_int_eq(call("DELETE", p, ADMIN, NULL, &r), 204);
    resp_free(&r);
    expect_err("GET", p, ADMIN, NULL, 404, "not_found|auth_key");
    ck_assert_int_eq(call("DELETE", "/services/v2/account/auth-key", ADMIN, NULL, &r), 204);
    resp_free(&r);
    /* deleting voids the tokens: the same valid token no longer issues */
    instant("fast.example.com", csr, "dns-txt-token", ADMIN, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(err_code(&r), "auth_key_not_setup");
    resp_free(&r);
    free(ak);
    free(csr);
    free(csr2);
}
END_TEST

START_TEST(t_acme_eab)
{
    struct resp r;
    char *b = body_from("order_ov_request.json", ov_token_edit, "email");
    ck_assert_int_eq(call("POST", "/services/v2/order/certificate/ssl_basic", ADMIN, b, &r), 201);
    free(b);
    double id = num(r.j, "id");
    resp_free(&r);
    char p[160];
    order_path(p, sizeof(p), id, "/validation");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    int64_t org = (int64_t)num(r.j, "organization_id");
    resp_free(&r);
    cJSON *eb = fixture_json("acme_eab_request.json");
    set_num(eb, "organization_id", (double)org);
    char *s = cJSON_PrintUnformatted(eb);
    expect_err("POST", "/services/v2/key/acme-eab", ADMIN, s, 400, "organization_not_validated");
    expect_err("POST", "/services/v2/key/acme-eab", USER, s, 403, "access_denied|missing_permission");
    ck_assert_int_eq(cc_org_validate(cc, org, "ov", "active"), MC_OK);
    ck_assert_int_eq(call("POST", "/services/v2/key/acme-eab", ADMIN, s, &r), 201);
    shape_fixture("acme_eab_created.json", r.j);
    struct cc_eab_info info;
    ck_assert_int_eq(cc_eab_lookup(cc, str(r.j, "ext_act_kid"), &info), MC_OK);
    ck_assert_str_eq(info.product_name_id, "ssl_basic");
    ck_assert_int_eq(info.organization_id, org);
    ck_assert_int_eq(info.validity_years, 1);
    char *enc = NULL;
    ck_assert_int_eq(b64url_encode(info.hmac, info.hmac_len, &enc), MC_OK);
    ck_assert_str_eq(enc, str(r.j, "ext_act_hmac"));
    free(enc);
    resp_free(&r);
    ck_assert_int_eq(cc_eab_lookup(cc, "nope", &info), MC_ERR_NOT_FOUND);
    free(s);
    set_str(eb, "product_name_id", "no_such");
    s = cJSON_PrintUnformatted(eb);
    expect_err("POST", "/services/v2/key/acme-eab", ADMIN, s, 404, "not_found|product");
    free(s);
    cJSON_Delete(eb);
    expect_err("POST", "/services/v2/key/acme-eab", ADMIN, "{oops", 400, "bad_request_format");
}
END_TEST

START_TEST(t_mgmt_api_keys)
{
    struct resp r;
    ck_assert_int_eq(call("POST", "/cc/api-keys", NULL, "{\"role\":\"user\",\"key\":\"NEWKEY1\"}", &r),
                     201);
    ck_assert_str_eq(str(r.j, "role"), "user");
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/product", "NEWKEY1", NULL, &r), 200);
    resp_free(&r);
    ck_assert_int_eq(call("POST", "/cc/api-keys", NULL, "{\"role\":\"root\"}", &r), 400);
    resp_free(&r);
    ck_assert_int_eq(call("POST", "/cc/api-keys", NULL, "{\"role\":\"user\",\"key\":\"NEWKEY1\"}", &r),
                     409);
    resp_free(&r);
    ck_assert_int_eq(call("POST", "/cc/api-keys", NULL, "{\"role\":\"administrator\"}", &r), 201);
    char k[64];
    snprintf(k, sizeof(k), "%s", str(r.j, "key"));
    resp_free(&r);
    ck_assert_int_eq(call("POST", "/services/v2/account/auth-key", k, NULL, &r), 200);
    resp_free(&r);
}
END_TEST

/* ---- rate limits --------------------------------------------------------------------- */

static void rl_setup(void)
{
    env_start(3);
}

START_TEST(t_rate_limit)
{
    struct resp r;
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(call("GET", "/services/v2/product", ADMIN, NULL, &r), 200);
        resp_free(&r);
    }
    call("GET", "/services/v2/product", ADMIN, NULL, &r);
    ck_assert_int_eq(r.status, 429);
    ck_assert_str_eq(err_code(&r), "request_limit_exceeded");
    ck_assert_ptr_nonnull(r.retry_after);
    resp_free(&r);
    /* per key: another key still gets through */
    ck_assert_int_eq(call("GET", "/services/v2/product", USER, NULL, &r), 200);
    resp_free(&r);
    /* the window is on the virtual clock */
    clock_advance(clk, 61000);
    ck_assert_int_eq(call("GET", "/services/v2/product", ADMIN, NULL, &r), 200);
    resp_free(&r);
}
END_TEST


/* ---- organizations, domains, duplicates, requests, CAA (contract) -------------------- */

/* Creates an organization from the fixture and returns its id. */
static double make_org(const char *key)
{
    struct resp r;
    char *b = fixture("organization_create_request.json");
    ck_assert_int_eq(call("POST", "/services/v2/organization", key, b, &r), 201);
    shape_fixture("organization_created.json", r.j);
    double id = num(r.j, "id");
    resp_free(&r);
    free(b);
    return id;
}

/* Creates a domain of org from the fixture (name and method replaced) and returns its id. */
static double make_domain(double org, const char *name, const char *method)
{
    struct resp r;
    cJSON *b = fixture_json("domain_create_request.json");
    set_str(b, "name", name);
    set_str(b, "dcv_method", method);
    set_num(cJSON_GetObjectItemCaseSensitive(b, "organization"), "id", org);
    char *s = cJSON_PrintUnformatted(b);
    ck_assert_int_eq(call("POST", "/services/v2/domain", ADMIN, s, &r), 201);
    if (strcmp(method, "email") != 0)
        shape_fixture("domain_created.json", r.j);
    double id = num(r.j, "id");
    resp_free(&r);
    free(s);
    cJSON_Delete(b);
    return id;
}

START_TEST(t_orgs_and_domains)
{
    struct resp r;
    char p[160];
    double org = make_org(ADMIN);

    /* new: no validation yet, listed with its address */
    ck_assert_int_eq(call("GET", "/services/v2/organization", ADMIN, NULL, &r), 200);
    shape_fixture("organization_list.json", r.j);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 1);
    cJSON *o0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "organizations"), 0);
    ck_assert_double_eq(num(o0, "id"), org);
    ck_assert_str_eq(str(o0, "city"), "Minneapolis");
    ck_assert_str_eq(str(o0, "status"), "pending");
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/organization?filters[status]=active", ADMIN, NULL, &r),
                     200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "organizations")), 0);
    resp_free(&r);
    /* another account sees none of it */
    ck_assert_int_eq(call("GET", "/services/v2/organization", OTHER, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "organizations")), 0);
    resp_free(&r);

    /* submitted, then advanced by the management API: active, with validated_until */
    snprintf(p, sizeof(p), "/services/v2/organization/%.0f/validation", org);
    ck_assert_int_eq(call("POST", p, ADMIN, "{\"validations\":[{\"type\":\"ov\"}]}", &r), 204);
    resp_free(&r);
    snprintf(p, sizeof(p), "/cc/organization/%.0f/validation", org);
    ck_assert_int_eq(call("POST", p, NULL, "{\"type\":\"ov\",\"status\":\"active\"}", &r), 200);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/organization/%.0f", org);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("organization_info.json", r.j);
    ck_assert_str_eq(str(r.j, "status"), "active");
    resp_free(&r);

    /* domains: token and email methods, listed, shown, no second of the same name */
    double dom = make_domain(org, "Corp.Example.com", "dns-txt-token");
    double dom2 = make_domain(org, "mail.example.org", "email");
    ck_assert_uint_eq(cc_email_count(cc, "admin@mail.example.org"), 1);
    ck_assert_int_eq(call("GET", "/services/v2/domain", ADMIN, NULL, &r), 200);
    shape_fixture("domain_list.json", r.j);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 2);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/domain?filters[search]=corp", ADMIN, NULL, &r), 200);
    cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "domains"), 0);
    ck_assert_double_eq(num(d0, "id"), dom);
    ck_assert_str_eq(str(d0, "name"), "corp.example.com");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "domains")), 1);
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f?include_dcv=true&include_validation=true", dom);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("domain_info.json", r.j);
    ck_assert_str_eq(str(r.j, "dcv_method"), "dns-txt-token");
    char token[64];
    snprintf(token, sizeof(token), "%s", str(cJSON_GetObjectItemCaseSensitive(r.j, "dcv_token"), "token"));
    resp_free(&r);
    /* the domain's token validates it */
    add_txt("_dnsauth.corp.example.com", token);
    snprintf(p, sizeof(p), "/services/v2/domain/%.0f/dcv/validate-token", dom);
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "status"), "active");
    resp_free(&r);
    cJSON *dup = fixture_json("domain_create_request.json");
    set_str(dup, "name", "corp.example.com");
    set_num(cJSON_GetObjectItemCaseSensitive(dup, "organization"), "id", org);
    char *ds = cJSON_PrintUnformatted(dup);
    expect_err("POST", "/services/v2/domain", ADMIN, ds, 400, "duplicate_domain");
    expect_err("POST", "/services/v2/domain", OTHER, ds, 404, "not_found|organization");
    free(ds);
    cJSON_Delete(dup);
    expect_err("POST", "/services/v2/domain", ADMIN,
               "{\"name\":\"*.x.example.com\",\"organization\":{\"id\":1}}", 400, "invalid_value:name");
    expect_err("POST", "/services/v2/organization", ADMIN, "{\"name\":\"n\"}", 400,
               "invalid_value:address");
    expect_err("POST", "/services/v2/organization", VIEWER,
               "{\"name\":\"n\"}", 403, "access_denied|missing_permission");
    (void)dom2;
}
END_TEST

/* An issued DV order for cn (dns-txt-token, skip_approval); its certificate id in *cert. */
static double issued_dv(const char *cn, double *cert)
{
    struct resp r;
    char rv[64], host[256], p[160];
    double id = place_dv(cn, "dns-txt-token", skip_extra, rv, sizeof(rv));
    snprintf(host, sizeof(host), "_dnsauth.%s", cn);
    add_txt(host, rv);
    order_path(p, sizeof(p), id, "/check-dcv");
    ck_assert_int_eq(call("PUT", p, ADMIN, NULL, &r), 200);
    ck_assert_str_eq(str(r.j, "order_status"), "issued");
    if (cert != NULL)
        *cert = num(r.j, "certificate_id");
    resp_free(&r);
    return id;
}

START_TEST(t_duplicates_and_requests)
{
    struct resp r;
    char p[200];
    double cert = 0, id = issued_dv("dup.example.com", &cert);

    /* a user key's duplicate waits for approval */
    cJSON *b = fixture_json("duplicate_request.json");
    cJSON *c = cJSON_GetObjectItemCaseSensitive(b, "certificate");
    char *csr = make_csr("dup.example.com", NULL, 0);
    set_str(c, "common_name", "dup.example.com");
    cJSON_ReplaceItemInObjectCaseSensitive(c, "dns_names", cJSON_CreateStringArray(
                                                               (const char *[]){"dup.example.com"}, 1));
    set_str(c, "csr", csr);
    char *s = cJSON_PrintUnformatted(b);
    order_path(p, sizeof(p), id, "/duplicate");
    ck_assert_int_eq(call("POST", p, USER, s, &r), 201);
    shape_fixture("duplicate_created.json", r.j);
    cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0);
    ck_assert_str_eq(str(r0, "status"), "pending");
    double req = num(r0, "id"), dcert = num(r.j, "certificate_id");
    ck_assert(dcert != cert);
    resp_free(&r);
    free(s);

    /* GET /request lists it, filtered by status and type */
    ck_assert_int_eq(call("GET", "/services/v2/request?filters[status]=pending", ADMIN, NULL, &r), 200);
    shape_fixture("request_list.json", r.j);
    cJSON *q0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0);
    ck_assert_double_eq(num(q0, "id"), req);
    ck_assert_str_eq(str(q0, "type"), "duplicate");
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 1);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/request?filters[type]=new_request", ADMIN, NULL, &r),
                     200);
    q0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0);
    ck_assert_str_eq(str(q0, "status"), "approved");
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/request?limit=1&offset=5", ADMIN, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "requests")), 0);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "page"), "total"), 2);
    resp_free(&r);
    ck_assert_int_eq(call("GET", "/services/v2/request", OTHER, NULL, &r), 200);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.j, "requests")), 0);
    resp_free(&r);
    expect_err("GET", "/services/v2/request?filters[status]=bogus", ADMIN, NULL, 400,
               "invalid_value:filters[status]");

    /* approved: signed at once; the order keeps its own certificate */
    snprintf(p, sizeof(p), "/services/v2/request/%.0f/status", req);
    ck_assert_int_eq(call("PUT", p, ADMIN, "{\"status\":\"approved\"}", &r), 204);
    resp_free(&r);
    order_path(p, sizeof(p), id, "/duplicate");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    shape_fixture("duplicate_list.json", r.j);
    cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "certificates"), 0);
    ck_assert_double_eq(num(d0, "id"), dcert);
    ck_assert_str_eq(str(d0, "status"), "issued");
    resp_free(&r);
    order_path(p, sizeof(p), id, NULL);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_double_eq(num(cJSON_GetObjectItemCaseSensitive(r.j, "certificate"), "id"), cert);
    ck_assert_str_eq(str(r.j, "status"), "issued");
    resp_free(&r);
    snprintf(p, sizeof(p), "/services/v2/certificate/%.0f/download/format/pem_all", dcert);
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    ck_assert_uint_eq(pem_count(r.raw), 3);
    resp_free(&r);
    /* the reissue list does not show duplicates */
    order_path(p, sizeof(p), id, "/reissue");
    ck_assert_int_eq(call("GET", p, ADMIN, NULL, &r), 200);
    cJSON *re = cJSON_GetObjectItemCaseSensitive(r.j, "certificates");
    ck_assert_int_eq(cJSON_GetArraySize(re), 1);
    ck_assert_double_eq(num(cJSON_GetArrayItem(re, 0), "id"), cert);
    resp_free(&r);

    /* names beyond the order's, and orders not issued, are refused */
    set_str(c, "common_name", "other.example.com");
    cJSON_ReplaceItemInObjectCaseSensitive(c, "dns_names", cJSON_CreateArray());
    s = cJSON_PrintUnformatted(b);
    order_path(p, sizeof(p), id, "/duplicate");
    expect_err("POST", p, ADMIN, s, 400, "invalid_value:dns_names");
    free(s);
    double pend = place_dv("pending.example.com", "dns-txt-token", NULL, NULL, 0);
    set_str(c, "common_name", "pending.example.com");
    s = cJSON_PrintUnformatted(b);
    order_path(p, sizeof(p), pend, "/duplicate");
    expect_err("POST", p, ADMIN, s, 400, "invalid_status|order");
    free(s);
    free(csr);
    cJSON_Delete(b);
}
END_TEST

START_TEST(t_caa)
{
    struct resp r;
    double before = total_orders(ADMIN);
    /* a CAA set naming another CA forbids; one naming digicert.com allows */
    ck_assert_int_eq(zone_add_caa(dnsmock_zones(dm), "caa-no.example.com", 0, "issue", "letsencrypt.org"),
                     MC_OK);
    ck_assert_int_eq(zone_add_caa(dnsmock_zones(dm), "caa-yes.example.com", 0, "issue", "digicert.com"),
                     MC_OK);
    ck_assert_int_eq(zone_add_caa(dnsmock_zones(dm), "caa-wild.example.com", 0, "issuewild", ";"),
                     MC_OK);
    char *b = dv_body("caa-no.example.com", "dns-txt-token", NULL);
    call("POST", "/services/v2/order/certificate/ssl_dv_geotrust", ADMIN, b, &r);
    ck_assert_int_eq(r.status, 400);
    ck_assert_str_eq(err_code(&r), "caa_check_failed|caa-no.example.com");
    shape_fixture("error_caa_check_failed.json", r.j);
    resp_free(&r);
    free(b);
    /* the CAA of a parent applies to a subdomain (RFC 8659 climbing) */
    b = dv_body("www.caa-no.example.com", "dns-txt-token", NULL);
    expect_err("POST", "/services/v2/order/certificate/ssl_dv_geotrust", ADMIN, b, 400,
               "caa_check_failed|www.caa-no.example.com");
    free(b);
    ck_assert_double_eq(total_orders(ADMIN), before);
    place_dv("caa-yes.example.com", "dns-txt-token", NULL, NULL, 0);
    /* issuewild ";" forbids wildcards only */
    place_dv("caa-wild.example.com", "dns-txt-token", NULL, NULL, 0);
    char *csr = make_csr("*.caa-wild.example.com", NULL, 0);
    cJSON *w = fixture_json("order_dv_request.json");
    set_str(cJSON_GetObjectItemCaseSensitive(w, "certificate"), "common_name", "*.caa-wild.example.com");
    set_str(cJSON_GetObjectItemCaseSensitive(w, "certificate"), "csr", csr);
    set_str(w, "dcv_method", "dns-txt-token");
    char *ws = cJSON_PrintUnformatted(w);
    expect_err("POST", "/services/v2/order/certificate/wildcard_dv_geotrust", ADMIN, ws, 400,
               "caa_check_failed|*.caa-wild.example.com");
    free(ws);
    free(csr);
    cJSON_Delete(w);
    ck_assert_double_eq(total_orders(ADMIN), before + 2);
}
END_TEST

/* ---- bad input on every route --------------------------------------------------------- */

/* What the store looks like from the API: the order list, the status changes of the last
 * hour, the requests, domains and organizations, as one string per account. */
static char *snapshot(const char *key)
{
    static const char *const paths[] = {
        "/services/v2/order/certificate?sort=order_id",
        "/services/v2/order/certificate/status-changes?minutes=60",
        "/services/v2/request", "/services/v2/domain", "/services/v2/organization",
        "/services/v2/account/auth-keys"};
    size_t cap = 1 << 20, len = 0;
    char *all = calloc(1, cap);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct resp r;
        ck_assert_int_eq(call("GET", paths[i], key, NULL, &r), 200);
        ck_assert_uint_lt(len + r.len + 2, cap);
        memcpy(all + len, r.raw, r.len);
        len += r.len;
        all[len++] = '\n';
        resp_free(&r);
    }
    return all;
}

struct route_case {
    const char *method, *path; /* "%s": the id of the route's object */
    char kind;                 /* o order, c certificate, r request, d domain, g organization,
                                  k AuthKey, 0 none */
    const char *not_found;     /* the code for an unknown or foreign id */
    const char *wrong_body;    /* a body of the wrong types (NULL: the route takes none) */
    const char *wrong_code;    /* what it answers */
};

static const struct route_case routes[] = {
    {"GET", "order/certificate/%s", 'o', "not_found|order", NULL, NULL},
    {"PUT", "order/certificate/%s/status", 'o', "not_found|order", "{\"status\":7}",
     "invalid_value:status"},
    {"GET", "order/certificate/%s/validation", 'o', "not_found|order", NULL, NULL},
    {"PUT", "order/certificate/%s/check-dcv", 'o', "not_found|order",
     "{\"dns_name_validations\":\"x\"}", "invalid_value:dns_name_validations"},
    {"PUT", "order/certificate/%s/dcv-random-value", 'o', "not_found|order", NULL, NULL},
    {"PUT", "order/certificate/%s/dcv-method", 'o', "not_found|order", "{\"dcv_method\":5}",
     "invalid_dcv_method"},
    {"PUT", "order/certificate/%s/resend-emails", 'o', "not_found|order",
     "{\"domain_approval_emails\":\"x\"}", "invalid_value:domain_approval_emails"},
    {"PUT", "order/certificate/%s/order-approval/resend-emails", 'o', "not_found|order", NULL,
     NULL},
    {"POST", "order/certificate/%s/reissue", 'o', "not_found|order", "{\"certificate\":\"x\"}",
     "invalid_value:certificate"},
    {"GET", "order/certificate/%s/reissue", 'o', "not_found|order", NULL, NULL},
    {"POST", "order/certificate/%s/duplicate", 'o', "not_found|order", "{\"certificate\":[1]}",
     "invalid_value:certificate"},
    {"GET", "order/certificate/%s/duplicate", 'o', "not_found|order", NULL, NULL},
    {"PUT", "order/certificate/%s/revoke", 'o', "not_found|order", "{\"skip_approval\":\"yes\"}",
     "invalid_value:skip_approval"},
    {"PUT", "certificate/%s/revoke", 'c', "not_found|certificate",
     "{\"revocation_reason\":9}", "invalid_value:revocation_reason"},
    {"GET", "certificate/%s/download/format/pem_all", 'c', "not_found|certificate", NULL, NULL},
    {"GET", "certificate/%s/download/platform", 'c', "not_found|certificate", NULL, NULL},
    {"GET", "certificate/%s/chain", 'c', "not_found|certificate", NULL, NULL},
    {"GET", "certificate/download/order/%s", 'o', "not_found|order", NULL, NULL},
    {"GET", "certificate/download/order/%s/format/pem_all", 'o', "not_found|order", NULL, NULL},
    {"GET", "request/%s", 'r', "not_found|request", NULL, NULL},
    {"PUT", "request/%s/status", 'r', "not_found|request", "{\"status\":true}",
     "invalid_value:status"},
    {"GET", "domain/%s", 'd', "not_found|domain", NULL, NULL},
    {"PUT", "domain/%s/dcv/validate-token", 'd', "not_found|domain", NULL, NULL},
    {"POST", "domain/%s/dcv/token", 'd', "not_found|domain", NULL, NULL},
    {"PUT", "domain/%s/dcv/method", 'd', "not_found|domain", "{\"dcv_method\":[]}",
     "invalid_dcv_method"},
    {"PUT", "domain/%s/dcv/emails", 'd', "not_found|domain", NULL, NULL},
    {"GET", "organization/%s", 'g', "not_found|organization", NULL, NULL},
    {"GET", "organization/%s/validation", 'g', "not_found|organization", NULL, NULL},
    {"POST", "organization/%s/validation", 'g', "not_found|organization",
     "{\"validations\":{\"type\":\"ov\"}}", "invalid_value:validations"},
    {"GET", "account/auth-key/%s", 'k', "not_found|auth_key", NULL, NULL},
    {"DELETE", "account/auth-key/%s", 'k', "not_found|auth_key", NULL, NULL},
    {"POST", "order/certificate/ssl_dv_geotrust", 0, NULL, "{\"certificate\":{\"common_name\":5}}",
     "invalid_value:common_name"},
    {"POST", "organization", 0, NULL, "{\"name\":5}", "invalid_value:name"},
    {"POST", "domain", 0, NULL, "{\"name\":\"x.example.com\",\"organization\":{\"id\":\"1\"}}",
     "invalid_value:organization"},
    {"POST", "key/acme-eab", 0, NULL, "{\"name\":5}", "invalid_value:name"},
    {"POST", "account/auth-key/%s", 0, NULL, NULL, NULL},
};

/* "/services/v2/" + tmpl with its "%s" replaced by id. */
static void route_path(char *out, size_t n, const char *tmpl, const char *id)
{
    const char *at = strstr(tmpl, "%s");
    if (at == NULL)
        snprintf(out, n, "/services/v2/%s", tmpl);
    else
        snprintf(out, n, "/services/v2/%.*s%s%s", (int)(at - tmpl), tmpl, id, at + 2);
}

/* A body a route accepts, so that an unknown id is what it answers about. */
static const char *ok_body(const char *tmpl)
{
    static const struct {
        const char *suffix, *body;
    } t[] = {{"/status", "{\"status\":\"approved\",\"note\":\"n\"}"},
             {"/dcv-method", "{\"dcv_method\":\"dns-txt-token\"}"},
             {"/dcv/method", "{\"dcv_method\":\"email\"}"},
             {"/validation", "{\"validations\":[{\"type\":\"ov\"}]}"}};
    size_t n = strlen(tmpl);
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        size_t k = strlen(t[i].suffix);
        if (n >= k && strcmp(tmpl + n - k, t[i].suffix) == 0)
            return t[i].body;
    }
    return "{}";
}

START_TEST(t_bad_input_every_route)
{
    struct resp r;
    char path[256], idbuf[64];
    double cert = 0, order = issued_dv("table.example.com", &cert);
    double org = make_org(ADMIN), dom = make_domain(org, "table.example.org", "dns-txt-token");
    double req = 0;
    char *kid = NULL;

    ck_assert_int_eq(call("GET", "/services/v2/request", ADMIN, NULL, &r), 200);
    req = num(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.j, "requests"), 0), "id");
    resp_free(&r);
    ck_assert_int_eq(call("POST", "/services/v2/account/auth-key", ADMIN, NULL, &r), 200);
    kid = strdup(str(r.j, "auth_key_id"));
    resp_free(&r);

    char *big = malloc(CC_MAX_BODY + 100);
    memset(big, ' ', CC_MAX_BODY + 99);
    big[0] = '{';
    big[CC_MAX_BODY + 98] = '}';
    big[CC_MAX_BODY + 99] = '\0';

    char *before = snapshot(ADMIN), *before_other = snapshot(OTHER);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route_case *rc = &routes[i];
        const char *own = NULL;
        bool write = strcmp(rc->method, "GET") != 0 && strcmp(rc->method, "DELETE") != 0;
        switch (rc->kind) {
        case 'o': snprintf(idbuf, sizeof(idbuf), "%.0f", order); own = idbuf; break;
        case 'c': snprintf(idbuf, sizeof(idbuf), "%.0f", cert); own = idbuf; break;
        case 'r': snprintf(idbuf, sizeof(idbuf), "%.0f", req); own = idbuf; break;
        case 'd': snprintf(idbuf, sizeof(idbuf), "%.0f", dom); own = idbuf; break;
        case 'g': snprintf(idbuf, sizeof(idbuf), "%.0f", org); own = idbuf; break;
        case 'k': own = kid; break;
        default: own = "abc"; break;
        }
        if (rc->not_found != NULL) {
            /* unknown ids: a number nobody has, a word, and the id in another account */
            static const char *const unknown[] = {"999999", "nonsense-id"};
            for (size_t u = 0; u < 2; u++) {
                route_path(path, sizeof(path), rc->path, unknown[u]);
                expect_err(rc->method, path, ADMIN, write ? ok_body(rc->path) : NULL, 404, rc->not_found);
            }
            route_path(path, sizeof(path), rc->path, own);
            expect_err(rc->method, path, OTHER, write ? ok_body(rc->path) : NULL, 404, rc->not_found);
        }
        route_path(path, sizeof(path), rc->path, own);
        if (write) {
            expect_err(rc->method, path, ADMIN, "{\"a\":", 400, "bad_request_format");
            expect_err(rc->method, path, ADMIN, "[\"not an object\"]", 400, "bad_request_format");
            expect_err(rc->method, path, ADMIN, big, 413, "request_too_large");
        }
        if (rc->wrong_body != NULL)
            expect_err(rc->method, path, ADMIN, rc->wrong_body, 400, rc->wrong_code);
    }
    char *after = snapshot(ADMIN), *after_other = snapshot(OTHER);
    ck_assert_str_eq(after, before);
    ck_assert_str_eq(after_other, before_other);
    ck_assert_str_eq(order_status(order), "issued");
    free(before);
    free(after);
    free(before_other);
    free(after_other);
    free(big);
    free(kid);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cc_api");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, t_auth_roles);
    tcase_add_test(tc, t_products);
    tcase_add_test(tc, t_ov_lifecycle);
    tcase_add_test(tc, t_validity_and_wildcards);
    tcase_add_test(tc, t_bad_input);
    tcase_add_test(tc, t_email_dcv);
    tcase_add_test(tc, t_http_token_and_cname);
    tcase_add_test(tc, t_random_value_expiry_and_method_change);
    tcase_add_test(tc, t_cancel_and_approval);
    tcase_add_test(tc, t_status_changes_limits);
    tcase_add_test(tc, t_list_orders);
    tcase_add_test(tc, t_domain_dcv);
    tcase_add_test(tc, t_authkey_and_instant_dv);
    tcase_add_test(tc, t_acme_eab);
    tcase_add_test(tc, t_mgmt_api_keys);
    tcase_add_test(tc, t_orgs_and_domains);
    tcase_add_test(tc, t_duplicates_and_requests);
    tcase_add_test(tc, t_caa);
    tcase_add_test(tc, t_bad_input_every_route);
    suite_add_tcase(s, tc);
    TCase *rl = tcase_create("ratelimit");
    tcase_add_checked_fixture(rl, rl_setup, teardown);
    tcase_add_test(rl, t_rate_limit);
    suite_add_tcase(s, rl);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
