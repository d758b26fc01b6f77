/* libFuzzer target: arbitrary bodies on CertCentral's order routes, through cc_handle_key
 * on one in-process front end with a CA (mockca/cc/cc.h). No network: DCV asks a closed
 * loopback port with a 1 ms timeout, so a check-dcv fails fast.
 *
 * Input: byte 0 picks the route and method, byte 1 the order, request or certificate id
 * (the front end numbers them from fixed starts, so small offsets hit objects earlier
 * inputs made), byte 2 the key (administrator, user, viewer, none); the rest is the body.
 * Every "$CSR" in the body becomes a real CSR (JSON-escaped PEM) for "fuzz.example", so
 * the fuzzer gets past CSR parsing to the order logic. Invariants (abort when broken):
 * every answer has a status in 200..599, and an error answer is the {"errors":[...]}
 * envelope. Seeds: corpus/cc_order/. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/clock.h"
#include "common/csr.h"
#include "common/http.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/pem.h"
#include "mockca/ca.h"
#include "mockca/cc/cc.h"

#define FZ_MAX_BODY 8192
#define FZ_ORDER_BASE 100001 /* cc.c's first order, certificate and request ids */
#define FZ_CERT_BASE 200001
#define FZ_REQ_BASE 300001

struct fz_route {
    const char *method;
    const char *path;   /* before the id, or the whole path when base is 0 */
    const char *suffix; /* after the id */
    long long base;     /* first id; 0: no id in the path */
};

static const struct fz_route fz_routes[] = {
    {"POST", "/services/v2/order/certificate/ssl_dv_geotrust", "", 0},
    {"POST", "/services/v2/order/certificate/ssl_basic", "", 0},
    {"POST", "/services/v2/order/certificate/ssl_plus", "", 0},
    {"POST", "/services/v2/order/certificate/wildcard_dv_geotrust", "", 0},
    {"GET", "/services/v2/order/certificate/", "", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/status", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/check-dcv", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/dcv-random-value", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/dcv-method", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/resend-emails", FZ_ORDER_BASE},
    {"POST", "/services/v2/order/certificate/", "/reissue", FZ_ORDER_BASE},
    {"PUT", "/services/v2/order/certificate/", "/revoke", FZ_ORDER_BASE},
    {"GET", "/services/v2/order/certificate/", "/validation", FZ_ORDER_BASE},
    {"PUT", "/services/v2/certificate/", "/revoke", FZ_CERT_BASE},
    {"PUT", "/services/v2/request/", "/status", FZ_REQ_BASE},
    {"GET", "/services/v2/request/", "", FZ_REQ_BASE},
    {"GET", "/services/v2/order/certificate", "", 0},
    {"GET", "/services/v2/order/certificate/status-changes", "", 0},
    {"POST", "/services/v2/key/acme-eab", "", 0},
    {"PATCH", "/services/v2/order/certificate/", "", FZ_ORDER_BASE},
};

static const char *const fz_keys[] = {"FZADMIN", "FZUSER", "FZVIEWER", NULL};

static struct mc_clock *fz_clock;
static struct ca *fz_ca;
static struct cc_server *fz_cc;
static char *fz_csr_json; /* the CSR PEM as a JSON string's inside, without the quotes */

static void fz_init(void)
{
    static const struct cc_key_config keys[] = {
        {"FZADMIN", "administrator", 1}, {"FZUSER", "user", 1}, {"FZVIEWER", "viewer", 1}};
    struct ca_config cac;
    struct cc_config cfg;
    struct ident_list l = {0};
    EVP_PKEY *key = NULL;
    X509_REQ *req = NULL;
    char *pem = NULL, *quoted = NULL;
    cJSON *s;

    log_set_stream(NULL);
    fz_clock = clock_new();
    memset(&cac, 0, sizeof(cac));
    cac.clock = fz_clock;
    if (fz_clock == NULL || ca_new(&cac, &fz_ca) != MC_OK)
        abort();
    memset(&cfg, 0, sizeof(cfg));
    cfg.dns_server = "127.0.0.1:1"; /* nothing listens there */
    cfg.http_port = 1;
    cfg.dcv_timeout_ms = 1;
    cfg.acme_directory_url = "https://127.0.0.1:14000/dir";
    cfg.max_orders = 200; /* keeps a long run's store small */
    cfg.keys = keys;
    cfg.nkeys = sizeof(keys) / sizeof(keys[0]);
    if (cc_new(&cfg, fz_ca, fz_clock, &fz_cc) != MC_OK)
        abort();
    if (key_generate(KEY_EC_P256, &key) != MC_OK ||
        ident_list_add(&l, IDENT_DNS, "fuzz.example") != MC_OK ||
        csr_build(key, "fuzz.example", &l, false, &req) != MC_OK || pem_write_csr(req, &pem) != MC_OK)
        abort();
    s = cJSON_CreateString(pem);
    quoted = s != NULL ? cJSON_PrintUnformatted(s) : NULL;
    if (quoted == NULL)
        abort();
    quoted[strlen(quoted) - 1] = '\0';
    fz_csr_json = strdup(quoted + 1);
    if (fz_csr_json == NULL)
        abort();
    cJSON_free(quoted);
    cJSON_Delete(s);
    free(pem);
    X509_REQ_free(req);
    EVP_PKEY_free(key);
    ident_list_free(&l);
}

/* data with every "$CSR" replaced by the CSR, NUL-terminated, in a new buffer. */
static char *fz_body(const uint8_t *data, size_t n, size_t *len)
{
    size_t csr_len = strlen(fz_csr_json), cap = n + 1, o = 0;
    char *out;

    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(data + i, "$CSR", 4) == 0)
            cap += csr_len;
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n;) {
        if (i + 4 <= n && memcmp(data + i, "$CSR", 4) == 0) {
            memcpy(out + o, fz_csr_json, csr_len);
            o += csr_len;
            i += 4;
        } else {
            out[o++] = (char)data[i++];
        }
    }
    out[o] = '\0';
    *len = o;
    return out;
}

/* An error answer must be the envelope (cc.h: "errors always as {"errors":[{code,
 * message}]}"). */
static void fz_check(const struct http_response *resp)
{
    cJSON *j, *errs, *e0;

    if (resp->status < 200 || resp->status > 599)
        abort();
    if (resp->status < 400)
        return;
    j = cJSON_ParseWithLength(resp->body != NULL ? resp->body : "", resp->body_len);
    errs = cJSON_GetObjectItemCaseSensitive(j, "errors");
    e0 = cJSON_GetArrayItem(errs, 0);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e0, "code")) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(e0, "message")))
        abort();
    cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    const struct fz_route *r;
    struct http_request req;
    struct http_response resp;
    char path[160], *body = NULL;
    size_t len = 0;

    if (!ready) {
        fz_init();
        ready = true;
    }
    if (size < 3 || size - 3 > FZ_MAX_BODY)
        return 0;
    r = &fz_routes[data[0] % (sizeof(fz_routes) / sizeof(fz_routes[0]))];
    if (r->base != 0)
        snprintf(path, sizeof(path), "%s%lld%s", r->path, r->base + (long long)(data[1] % 16),
                 r->suffix);
    else
        snprintf(path, sizeof(path), "%s", r->path);
    body = fz_body(data + 3, size - 3, &len);
    if (body == NULL)
        return 0;
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    req.method = r->method;
    req.path = path;
    req.host = "127.0.0.1";
    req.body = (const uint8_t *)body;
    req.body_len = len;
    snprintf(req.remote_addr, sizeof(req.remote_addr), "127.0.0.1");
    req.tls = true;
    cc_handle_key(fz_cc, fz_keys[data[2] % 4], &req, &resp);
    fz_check(&resp);
    http_response_reset(&resp);
    free(body);
    return 0;
}
