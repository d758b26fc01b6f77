/* Integration tests of mockca's management API (mgmt.h), in-process over HTTPS with
 * libcurl: Pebble's /roots/N, /intermediates/N, /root-keys/N, /intermediate-keys/N (with
 * alternate roots, each PEM checked against the others with OpenSSL),
 * /cert-status-by-serial/HEX for a certificate issued and then revoked through the CA, and
 * our /clock; every refusal with its status. */
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/clock.h"
#include "common/csr.h"
#include "common/file.h"
#include "common/keys.h"
#include "common/pem.h"
#include "dnsmock/dnsmock.h"
#include "mockca/ca.h"
#include "mockca/internal.h" /* m->ca, m->store, m->clock: issue and revoke without ACME */
#include "mockca/mockca.h"
#include "mockca/store.h"
#include "testutil.h"

struct resp {
    long status;
    char *body;
    char *headers;
};

static struct mockca *g_m;

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    char **buf = ud;
    size_t add = size * n, old = *buf != NULL ? strlen(*buf) : 0;
    char *nb = realloc(*buf, old + add + 1);
    ck_assert_ptr_nonnull(nb);
    memcpy(nb + old, p, add);
    nb[old + add] = '\0';
    *buf = nb;
    return add;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof(*r));
}

/* method path (on the management URL) with body (POST when not NULL), verified against
 * mockca's TLS root. */
static void mgmt(const char *method, const char *path, const char *body, struct resp *out)
{
    CURL *c = curl_easy_init();
    char url[256];
    struct curl_slist *sl = NULL;

    ck_assert_ptr_nonnull(c);
    memset(out, 0, sizeof(*out));
    snprintf(url, sizeof(url), "%s%s", mockca_mgmt_url(g_m), path);
    struct curl_blob blob = {.data = (void *)mockca_tls_root_pem(g_m),
                             .len = strlen(mockca_tls_root_pem(g_m)),
                             .flags = CURL_BLOB_COPY};
    ck_assert_int_eq(curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob), CURLE_OK);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        sl = curl_slist_append(sl, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    }
    CURLcode rc = curl_easy_perform(c);
    ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, url, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    if (out->body == NULL)
        out->body = strdup("");
    if (out->headers == NULL)
        out->headers = strdup("");
}

static long mgmt_status(const char *method, const char *path, const char *body)
{
    struct resp r;
    long s;

    mgmt(method, path, body, &r);
    s = r.status;
    resp_free(&r);
    return s;
}

static void start_with(unsigned alternate_roots, const char *mgmt_addr)
{
    struct mockca_config cfg;

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    /* The binary's defaults come from config_init: an in-process user overrides them. */
    ck_assert_str_eq(cfg.dns_listen_addr, "127.0.0.1:8053");
    ck_assert_str_eq(cfg.dns_mgmt_addr, "127.0.0.1:8055");
    free(cfg.listen_addr);
    cfg.listen_addr = strdup("127.0.0.1:0");
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup(mgmt_addr);
    free(cfg.dns_listen_addr);
    cfg.dns_listen_addr = strdup("127.0.0.1:0");
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup("127.0.0.1:0");
    cfg.alternate_roots = alternate_roots;
    cfg.fault_seed = 4242;
    ck_assert_int_eq(mockca_start(&cfg, &g_m), MC_OK);
}

static void setup(void)
{
    start_with(1, "127.0.0.1:0");
}

static void teardown(void)
{
    mockca_stop(g_m);
    g_m = NULL;
}

static X509 *cert_of(const char *pem)
{
    X509 *x = NULL;
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &x), MC_OK);
    return x;
}

static EVP_PKEY *key_of(const char *pem)
{
    EVP_PKEY *k = NULL;
    ck_assert_int_eq(pem_read_private_key(pem, strlen(pem), &k), MC_OK);
    return k;
}

/* The GET body of path, which must answer 200 with content type ct. */
static char *get_pem(const char *path, const char *ct)
{
    struct resp r;
    char *body;

    mgmt("GET", path, NULL, &r);
    ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
    ck_assert_msg(strcasestr(r.headers, ct) != NULL, "%s: %s", path, r.headers);
    body = r.body;
    r.body = NULL;
    resp_free(&r);
    return body;
}

/* ---- Pebble's PEM endpoints --------------------------------------------------------- */

START_TEST(test_roots_and_keys)
{
    const char *chain_ct = "Content-Type: application/pem-certificate-chain";
    const char *key_ct = "Content-Type: application/x-pem-file";
    char path[64], *lib_root = NULL;
    X509 *root[2], *inter[2];
    EVP_PKEY *rkey[2], *ikey[2];

    for (int i = 0; i < 2; i++) {
        char *pem;
        snprintf(path, sizeof(path), "/roots/%d", i);
        pem = get_pem(path, chain_ct);
        root[i] = cert_of(pem);
        if (i == 0) {
            /* The same root the library hands out (mockca_root_pem) and the binary writes. */
            ck_assert_int_eq(mockca_root_pem(g_m, 0, &lib_root), MC_OK);
            ck_assert_str_eq(pem, lib_root);
        }
        free(pem);
        snprintf(path, sizeof(path), "/intermediates/%d", i);
        pem = get_pem(path, chain_ct);
        inter[i] = cert_of(pem);
        free(pem);
        snprintf(path, sizeof(path), "/root-keys/%d", i);
        pem = get_pem(path, key_ct);
        rkey[i] = key_of(pem);
        free(pem);
        snprintf(path, sizeof(path), "/intermediate-keys/%d", i);
        pem = get_pem(path, key_ct);
        ikey[i] = key_of(pem);
        free(pem);
    }
    for (int i = 0; i < 2; i++) {
        /* Each key belongs to its certificate; each intermediate is signed by its root. */
        ck_assert_int_eq(X509_check_private_key(root[i], rkey[i]), 1);
        ck_assert_int_eq(X509_check_private_key(inter[i], ikey[i]), 1);
        ck_assert_int_eq(X509_check_issued(root[i], inter[i]), X509_V_OK);
        ck_assert_int_eq(X509_verify(inter[i], rkey[i]), 1);
    }
    /* Two different roots; one issuing key (ca.h: one leaf verifies under every chain). */
    ck_assert_int_ne(X509_cmp(root[0], root[1]), 0);
    ck_assert_int_eq(X509_verify(inter[1], rkey[0]), 0);
    ck_assert_int_eq(EVP_PKEY_eq(ikey[0], ikey[1]), 1);
    for (int i = 0; i < 2; i++) {
        X509_free(root[i]);
        X509_free(inter[i]);
        EVP_PKEY_free(rkey[i]);
        EVP_PKEY_free(ikey[i]);
    }
    free(lib_root);
}
END_TEST

START_TEST(test_alternate_links)
{
    struct resp r;
    char want[256];

    mgmt("GET", "/roots/0", NULL, &r);
    snprintf(want, sizeof(want), "<%s/roots/1>;rel=\"alternate\"", mockca_mgmt_url(g_m));
    ck_assert_msg(strstr(r.headers, want) != NULL, "%s", r.headers);
    ck_assert_ptr_null(strstr(r.headers, "/roots/0>"));
    resp_free(&r);
    mgmt("GET", "/intermediate-keys/1", NULL, &r);
    snprintf(want, sizeof(want), "<%s/intermediate-keys/0>;rel=\"alternate\"",
             mockca_mgmt_url(g_m));
    ck_assert_msg(strstr(r.headers, want) != NULL, "%s", r.headers);
    resp_free(&r);
}
END_TEST

/* Pebble answers an index that is not a number, or names no chain, with 404. */
START_TEST(test_bad_indexes)
{
    static const char *const paths[] = {
        "/roots/2",         "/roots/x",     "/roots/-1",
        "/roots/01x",       "/roots/1000",  "/roots/99999999999999999999",
        "/intermediates/2", "/root-keys/9", "/intermediate-keys/abc",
        "/roots/%20",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        ck_assert_msg(mgmt_status("GET", paths[i], NULL) == 404, "%s", paths[i]);
    ck_assert_int_eq(mgmt_status("GET", "/nope", NULL), 404);
    ck_assert_int_eq(mgmt_status("POST", "/roots/0", "{}"), 405);
    ck_assert_int_eq(mgmt_status("DELETE", "/clock", NULL), 405);
}
END_TEST

/* ---- /cert-status-by-serial ----------------------------------------------------------- */

/* Issues a leaf for example.com through the CA and registers it as an order would; the
 * serial (lowercase hex) and leaf PEM are new. */
static void issue(char **serial, char **pem)
{
    struct ident_list sans = {0};
    struct ca_issue_request req;
    EVP_PKEY *key = NULL;
    X509 *leaf = NULL;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &key), MC_OK);
    ck_assert_int_eq(ident_list_add(&sans, IDENT_DNS, "example.com"), MC_OK);
    memset(&req, 0, sizeof(req));
    req.public_key = key;
    req.sans = &sans;
    ck_assert_int_eq(ca_issue(g_m->ca, &req, &leaf, serial), MC_OK);
    ck_assert_int_eq(pem_write_cert(leaf, pem), MC_OK);
    ck_assert_int_eq(store_cert_add(g_m->store, *serial, "acct", "order", *pem), MC_OK);
    X509_free(leaf);
    EVP_PKEY_free(key);
    ident_list_free(&sans);
}

static cJSON *status_json(const char *serial, long want_status)
{
    struct resp r;
    char path[160];
    cJSON *j;

    snprintf(path, sizeof(path), "/cert-status-by-serial/%s", serial);
    mgmt("GET", path, NULL, &r);
    ck_assert_msg(r.status == want_status, "%s: %ld %s", path, r.status, r.body);
    ck_assert_ptr_nonnull(strcasestr(r.headers, "Content-Type: application/json"));
    j = cJSON_Parse(r.body);
    ck_assert_msg(j != NULL, "%s", r.body);
    resp_free(&r);
    return j;
}

static const char *jstr(const cJSON *j, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, name));
    ck_assert_msg(s != NULL, "no string %s", name);
    return s;
}

START_TEST(test_cert_status)
{
    char *serial = NULL, *pem = NULL, upper[80], padded[84];
    cJSON *j;
    regex_t re;

    issue(&serial, &pem);
    j = status_json(serial, 200);
    /* Pebble's members: Status, Serial, Certificate; no Reason or RevokedAt while valid. */
    ck_assert_int_eq(cJSON_GetArraySize(j), 3);
    ck_assert_str_eq(jstr(j, "Status"), "Valid");
    ck_assert_str_eq(jstr(j, "Serial"), serial);
    ck_assert_str_eq(jstr(j, "Certificate"), pem);
    cJSON_Delete(j);

    /* What `openssl x509 -serial` prints (uppercase, maybe zero-padded) finds it too, and
     * Serial comes back in Go's big.Int form. */
    snprintf(upper, sizeof(upper), "%s", serial);
    for (char *p = upper; *p != '\0'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    snprintf(padded, sizeof(padded), "00%s", upper);
    j = status_json(padded, 200);
    ck_assert_str_eq(jstr(j, "Serial"), serial);
    cJSON_Delete(j);

    /* Revoked at a virtual instant: Reason and RevokedAt (Go's time.String form) appear. */
    clock_freeze(g_m->clock);
    clock_set(g_m->clock, 1800000000123LL); /* 2027-01-15T08:00:00.123Z */
    ck_assert_int_eq(ca_revoke(g_m->ca, serial, CA_REASON_SUPERSEDED), MC_OK);
    j = status_json(serial, 200);
    ck_assert_int_eq(cJSON_GetArraySize(j), 5);
    ck_assert_str_eq(jstr(j, "Status"), "Revoked");
    ck_assert_str_eq(jstr(j, "Certificate"), pem);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "Reason")));
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "Reason")->valueint, 4);
    ck_assert_str_eq(jstr(j, "RevokedAt"), "2027-01-15 08:00:00 +0000 UTC");
    ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} \\+0000 UTC$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    ck_assert_int_eq(regexec(&re, jstr(j, "RevokedAt"), 0, NULL, 0), 0);
    regfree(&re);
    cJSON_Delete(j);
    free(serial);
    free(pem);
}
END_TEST

START_TEST(test_cert_status_refusals)
{
    char longhex[80];

    memset(longhex, 'a', 70);
    longhex[70] = '\0';
    /* Not hex: 400, as Pebble's big.Int SetString failure. */
    ck_assert_int_eq(mgmt_status("GET", "/cert-status-by-serial/xyz", NULL), 400);
    ck_assert_int_eq(mgmt_status("GET", "/cert-status-by-serial/0x1f", NULL), 400);
    ck_assert_int_eq(mgmt_status("GET", "/cert-status-by-serial/", NULL), 404);
    /* Hex, but not a serial we issued: 404. */
    ck_assert_int_eq(mgmt_status("GET", "/cert-status-by-serial/4f00112233445566", NULL), 404);
    ck_assert_int_eq(mgmt_status("GET", "/cert-status-by-serial/0", NULL), 404);
    /* Longer than any serial: refused as malformed before it reaches the CA. */
    char path[128];
    snprintf(path, sizeof(path), "/cert-status-by-serial/%s", longhex);
    ck_assert_int_eq(mgmt_status("GET", path, NULL), 400);
}
END_TEST

/* ---- /clock --------------------------------------------------------------------------- */

static cJSON *clock_call(const char *body, long want)
{
    struct resp r;
    cJSON *j = NULL;

    mgmt(body != NULL ? "POST" : "GET", "/clock", body, &r);
    ck_assert_msg(r.status == want, "%s: %ld %s", body != NULL ? body : "GET", r.status, r.body);
    if (want == 200) {
        j = cJSON_Parse(r.body);
        ck_assert_ptr_nonnull(j);
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "now_ms")));
        ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(j, "frozen")));
        ck_assert_ptr_nonnull(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "now")));
    }
    resp_free(&r);
    return j;
}

static double now_ms(const cJSON *j)
{
    return cJSON_GetObjectItemCaseSensitive(j, "now_ms")->valuedouble;
}

static bool frozen(const cJSON *j)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "frozen"));
}

START_TEST(test_clock)
{
    cJSON *a, *b;

    a = clock_call(NULL, 200);
    ck_assert(!frozen(a));
    ck_assert(now_ms(a) > 1.7e12); /* real time, not zero */
    cJSON_Delete(a);

    a = clock_call("{\"freeze\":true}", 200);
    ck_assert(frozen(a));
    ck_assert(clock_is_frozen(g_m->clock));
    b = clock_call(NULL, 200);
    ck_assert(now_ms(a) == now_ms(b)); /* frozen: time stands */
    cJSON_Delete(b);
    b = clock_call("{\"advance_ms\":3600000}", 200);
    ck_assert(now_ms(b) == now_ms(a) + 3600000.0);
    ck_assert(frozen(b));
    cJSON_Delete(b);
    b = clock_call("{\"advance_ms\":-1000}", 200);
    ck_assert(now_ms(b) == now_ms(a) + 3599000.0);
    cJSON_Delete(a);
    cJSON_Delete(b);

    a = clock_call("{\"set_ms\":1800000000000}", 200);
    ck_assert(now_ms(a) == 1800000000000.0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "now")),
                     "2027-01-15T08:00:00.000Z");
    ck_assert_int_eq(clock_now_ms(g_m->clock), 1800000000000LL); /* the CA's own clock */
    cJSON_Delete(a);
    /* set, then advance, then resume, in one call. */
    a = clock_call("{\"resume\":true,\"advance_ms\":5,\"set_ms\":1900000000000}", 200);
    ck_assert(!frozen(a));
    ck_assert(now_ms(a) >= 1900000000005.0 && now_ms(a) < 1900000060000.0);
    cJSON_Delete(a);
    a = clock_call("{\"reset\":true}", 200);
    ck_assert(!frozen(a));
    ck_assert(now_ms(a) < 1900000000000.0);
    cJSON_Delete(a);
}
END_TEST

START_TEST(test_clock_refusals)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        "{\"bogus\":1}",
        "{\"freeze\":false}",
        "{\"freeze\":true,\"resume\":true}",
        "{\"advance_ms\":\"1000\"}",
        "{\"advance_ms\":1.5}",
        "{\"set_ms\":-1}",
        "{\"set_ms\":1e300}",
        "{\"freeze\":true,\"freeze\":true}",
    };
    cJSON *a, *b;

    a = clock_call("{\"freeze\":true}", 200);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cJSON_Delete(clock_call(bad[i], 400));
    /* Nothing a refused call carried was applied, not even its good members. */
    cJSON_Delete(clock_call("{\"advance_ms\":1000,\"bogus\":1}", 400));
    b = clock_call(NULL, 200);
    ck_assert(frozen(b));
    ck_assert(now_ms(a) == now_ms(b));
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

/* ---- listeners ------------------------------------------------------------------------ */

/* The embedded dnsmock honours the new fields: port 0 gives a kernel port, and an empty
 * management address switches its API off; an empty mgmt_addr switches ours off. */
START_TEST(test_listeners_config)
{
    struct mockca_config cfg;
    struct mockca *m = NULL;

    ck_assert_ptr_nonnull(mockca_dnsmock(g_m));
    ck_assert_str_ne(mockca_dns_addr(g_m), "127.0.0.1:8053");
    ck_assert_int_ne(dnsmock_dns_port(mockca_dnsmock(g_m)), 0);
    ck_assert_ptr_nonnull(strstr(dnsmock_mgmt_url(mockca_dnsmock(g_m)), "http://127.0.0.1:"));
    ck_assert_uint_eq(mockca_fault_seed(g_m), 4242);
    ck_assert_uint_eq(dnsmock_fault_seed(mockca_dnsmock(g_m)), 4242);

    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    free(cfg.listen_addr);
    cfg.listen_addr = strdup("127.0.0.1:0");
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup("");
    free(cfg.dns_listen_addr);
    cfg.dns_listen_addr = NULL; /* NULL: loopback port 0 */
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup("");
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_OK);
    ck_assert_str_eq(mockca_mgmt_url(m), "");
    ck_assert_int_ne(dnsmock_dns_port(mockca_dnsmock(m)), 0);
    ck_assert_str_eq(dnsmock_mgmt_url(mockca_dnsmock(m)), "");
    ck_assert_uint_ne(mockca_fault_seed(m), 0);
    mockca_stop(m);

    /* A DNS address that does not parse fails the start, and the config is still taken. */
    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    free(cfg.listen_addr);
    cfg.listen_addr = strdup("127.0.0.1:0");
    free(cfg.mgmt_addr);
    cfg.mgmt_addr = strdup("");
    free(cfg.dns_listen_addr);
    cfg.dns_listen_addr = strdup("not an address");
    free(cfg.dns_mgmt_addr);
    cfg.dns_mgmt_addr = strdup(""); /* never the binary's 8055, even for a moment */
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_ERR_INVALID);
    ck_assert_ptr_null(m);
    ck_assert_ptr_null(cfg.dns_listen_addr);
}
END_TEST

/* caRootCertificate / caRootPrivateKey: mockca issues under the user's root, so the trust a
 * test suite ships keeps working from run to run. */
static void quiet_cfg(struct mockca_config *cfg)
{
    ck_assert_int_eq(mockca_config_init(cfg), MC_OK);
    free(cfg->listen_addr);
    cfg->listen_addr = strdup("127.0.0.1:0");
    free(cfg->mgmt_addr);
    cfg->mgmt_addr = strdup("");
    free(cfg->dns_listen_addr);
    cfg->dns_listen_addr = NULL;
    free(cfg->dns_mgmt_addr);
    cfg->dns_mgmt_addr = strdup("");
}

START_TEST(test_ca_root_from_files)
{
    struct ca_config cc;
    struct ca *own = NULL;
    struct mockca_config cfg;
    struct mockca *m = NULL;
    char *root = NULL, *key = NULL, *served = NULL, *dir = tu_tmpdir();
    char cert_path[512], key_path[512], err[256] = "";
    X509 *a = NULL, *b = NULL;

    /* A root of "ours", made by another CA instance and kept in files. */
    memset(&cc, 0, sizeof(cc));
    ck_assert_int_eq(ca_new(&cc, &own), MC_OK);
    ck_assert_int_eq(ca_root_pem(own, 0, &root), MC_OK);
    ck_assert_int_eq(ca_root_key_pem(own, 0, &key), MC_OK);
    snprintf(cert_path, sizeof(cert_path), "%s/root.pem", dir);
    snprintf(key_path, sizeof(key_path), "%s/root.key", dir);
    ck_assert_int_eq(file_write_atomic(cert_path, root, strlen(root), 0644), MC_OK);
    ck_assert_int_eq(file_write_atomic(key_path, key, strlen(key), 0600), MC_OK);

    quiet_cfg(&cfg);
    cfg.ca_root_cert_file = strdup(cert_path);
    cfg.ca_root_key_file = strdup(key_path);
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_OK);
    ck_assert_int_eq(mockca_root_pem(m, 0, &served), MC_OK);
    ck_assert_int_eq(pem_read_cert(root, strlen(root), &a), MC_OK);
    ck_assert_int_eq(pem_read_cert(served, strlen(served), &b), MC_OK);
    ck_assert_int_eq(X509_cmp(a, b), 0);
    mockca_stop(m);
    m = NULL;

    /* A file that is not there fails the start. */
    quiet_cfg(&cfg);
    cfg.ca_root_cert_file = strdup(cert_path);
    cfg.ca_root_key_file = strdup("/nonexistent/root.key");
    ck_assert_int_eq(mockca_start(&cfg, &m), MC_ERR_NOT_FOUND);
    ck_assert_ptr_null(m);

    /* In a Pebble config, half the pair is refused by name. */
    ck_assert_int_eq(mockca_config_init(&cfg), MC_OK);
    static const char half[] = "{\"pebble\": {\"caRootCertificate\": \"/tmp/x.pem\"}}";
    ck_assert_int_eq(mockca_config_apply_json(&cfg, half, strlen(half), err, sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "caRootPrivateKey"));
    ck_assert_ptr_null(cfg.ca_root_cert_file);
    mockca_config_free(&cfg);

    X509_free(a);
    X509_free(b);
    free(served);
    free(root);
    free(key);
    ca_free(own);
    unlink(cert_path);
    unlink(key_path);
    rmdir(dir);
    free(dir);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("mockca_mgmt");
    TCase *tc = tcase_create("mgmt");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_roots_and_keys);
    tcase_add_test(tc, test_alternate_links);
    tcase_add_test(tc, test_bad_indexes);
    tcase_add_test(tc, test_cert_status);
    tcase_add_test(tc, test_cert_status_refusals);
    tcase_add_test(tc, test_clock);
    tcase_add_test(tc, test_clock_refusals);
    tcase_add_test(tc, test_listeners_config);
    tcase_add_test(tc, test_ca_root_from_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? 0 : 1;
}
