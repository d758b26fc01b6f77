/* test_cli_dc.c: the CertCentral client's pure parts: the request token (A10) against the
 * spec's vector and against mockca's own cc_request_token, base36, the error envelope
 * (A0), ids that may enter a path, the order body (A1), and the chain text. */
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/rand.h>

#include "client/dc.h"
#include "common/json.h"
#include "mockca/cc/cc.h"
#include "testutil.h"

START_TEST(t_token_vector)
{
    char tok[DC_TOKEN_LEN + 1];
    /* The vector of the spec (A10) and of issue 5, computed with Python and with Java. */
    ck_assert_int_eq(dc_request_token("someToken", "20240101000000", "some-token-value", tok),
                     MC_OK);
    ck_assert_str_eq(tok, "20240101000000345q4ar5ij8cr65xnydd7vw1dimi5ukr0t28yk6zyv25zz6iaw");
    ck_assert_uint_eq(strlen(tok), 64);
    ck_assert_int_eq(dc_request_token("k", "2024010100000", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(dc_request_token("k", "2024010100000x", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(dc_request_token(NULL, "20240101000000", "csr", tok), MC_ERR_INVALID);
    ck_assert_int_eq(dc_request_token("k", "20240101000000", NULL, tok), MC_ERR_INVALID);
}
END_TEST

/* The client and the mock must agree on every key and CSR, not only on one vector. */
START_TEST(t_token_matches_mock)
{
    char mine[DC_TOKEN_LEN + 1], theirs[65], key[40], csr[300];
    unsigned char rnd[64];
    for (int i = 0; i < 50; i++) {
        ck_assert_int_eq(RAND_bytes(rnd, sizeof rnd), 1);
        for (size_t k = 0; k < sizeof key - 1; k++)
            key[k] = (char)('!' + rnd[k % sizeof rnd] % 90);
        key[sizeof key - 1] = '\0';
        snprintf(csr, sizeof csr, "-----BEGIN CERTIFICATE REQUEST-----\n%02x%02x%02x\n-----END "
                                  "CERTIFICATE REQUEST-----\n",
                 rnd[1], rnd[2], rnd[i]);
        ck_assert_int_eq(dc_request_token(key, "20251231235959", csr, mine), MC_OK);
        ck_assert_int_eq(cc_request_token(key, "20251231235959", csr, theirs), MC_OK);
        ck_assert_str_eq(mine, theirs);
    }
}
END_TEST

START_TEST(t_base36)
{
    uint8_t n[32];
    char out[51];
    memset(n, 0, sizeof n);
    dc_base36(n, out);
    ck_assert_str_eq(out, "00000000000000000000000000000000000000000000000000");
    n[31] = 35;
    dc_base36(n, out);
    ck_assert_str_eq(out, "0000000000000000000000000000000000000000000000000z");
    n[31] = 36;
    dc_base36(n, out);
    ck_assert_str_eq(out, "00000000000000000000000000000000000000000000000010");
    n[30] = 1;
    n[31] = 0; /* 256 = 7*36 + 4 */
    dc_base36(n, out);
    ck_assert_str_eq(out, "00000000000000000000000000000000000000000000000074");
    memset(n, 0xff, sizeof n);
    dc_base36(n, out);
    /* 2^256 - 1 in base 36, 50 digits, no padding left (computed with Python). */
    ck_assert_str_eq(out, "6dp5qcb22im238nr3wvp0ic7q99w035jmy2iw7i6n43d37jtof");
    ck_assert_uint_eq(strlen(out), 50);
}
END_TEST

START_TEST(t_timestamp)
{
    char ts[15];
    dc_timestamp(1704067200, ts); /* 2024-01-01T00:00:00Z */
    ck_assert_str_eq(ts, "20240101000000");
    dc_timestamp(1571664612, ts); /* the seed's example: 2019-10-21 13:30:12 */
    ck_assert_str_eq(ts, "20191021133012");
}
END_TEST

START_TEST(t_error_envelope)
{
    struct dc_error e;
    const char *body = "{\"errors\":[{\"code\":\"not_found|order\",\"message\":\"The specified "
                       "order was not found.\"},{\"code\":\"invalid_dns_txt\",\"message\":\"x\"}]}";
    ck_assert_int_eq(dc_error_parse(404, body, strlen(body), &e), MC_OK);
    ck_assert_int_eq(e.status, 404);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_str_eq(e.items[0].code, "not_found|order");
    ck_assert_str_eq(e.items[0].message, "The specified order was not found.");
    ck_assert(dc_error_has(&e, "not_found"));
    ck_assert(dc_error_has(&e, "not_found|order"));
    ck_assert(dc_error_has(&e, "invalid_dns_txt"));
    ck_assert(!dc_error_has(&e, "not_fou"));
    ck_assert(!dc_error_has(&e, "invalid_dns"));
    dc_error_clear(&e);
    ck_assert_uint_eq(e.n, 0);

    /* The object form of riboseinc's fixture is read too. */
    body = "{\"errors\":{\"code\":\"access_denied|missing_permission\",\"message\":\"no\"}}";
    ck_assert_int_eq(dc_error_parse(403, body, strlen(body), &e), MC_OK);
    ck_assert_uint_eq(e.n, 1);
    ck_assert(dc_error_has(&e, "access_denied"));
    dc_error_clear(&e);

    /* Not an envelope: no items, still a parse. Items without a string code are skipped;
     * a missing message is "". Control bytes are made spaces. */
    body = "<html>502 Bad Gateway</html>";
    ck_assert_int_eq(dc_error_parse(502, body, strlen(body), &e), MC_OK);
    ck_assert_uint_eq(e.n, 0);
    dc_error_clear(&e);
    body = "{\"errors\":[{\"code\":5},\"x\",{\"code\":\"a\\nb\"}]}";
    ck_assert_int_eq(dc_error_parse(400, body, strlen(body), &e), MC_OK);
    ck_assert_uint_eq(e.n, 1);
    ck_assert_str_eq(e.items[0].code, "a b");
    ck_assert_str_eq(e.items[0].message, "");
    dc_error_clear(&e);
    ck_assert_int_eq(dc_error_parse(400, NULL, 0, &e), MC_OK);
    ck_assert_uint_eq(e.n, 0);
    dc_error_clear(&e);

    /* At most DC_MAX_ERRORS items are kept. */
    cJSON *j = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(j, "errors");
    for (int i = 0; i < DC_MAX_ERRORS + 10; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", "request_limit_exceeded");
        cJSON_AddItemToArray(a, o);
    }
    char *t = cJSON_PrintUnformatted(j);
    ck_assert_int_eq(dc_error_parse(429, t, strlen(t), &e), MC_OK);
    ck_assert_uint_eq(e.n, DC_MAX_ERRORS);
    dc_error_clear(&e);
    free(t);
    cJSON_Delete(j);
}
END_TEST

START_TEST(t_ids)
{
    ck_assert(dc_id_ok("542772"));
    ck_assert(dc_id_ok("0A1B2C3D4E5F"));
    ck_assert(dc_id_ok("ssl_dv_geotrust"));
    ck_assert(!dc_id_ok(""));
    ck_assert(!dc_id_ok(NULL));
    ck_assert(!dc_id_ok(".."));
    ck_assert(!dc_id_ok("1/../../account"));
    ck_assert(!dc_id_ok("1?x=y"));
    ck_assert(!dc_id_ok("1 2"));
    char big[DC_MAX_ID + 2];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    ck_assert(!dc_id_ok(big));
    big[DC_MAX_ID] = '\0';
    ck_assert(dc_id_ok(big));
    ck_assert(dc_format_ok("pem_all"));
    ck_assert(dc_format_ok("default"));
    ck_assert(!dc_format_ok("pem"));
    ck_assert(!dc_format_ok("../x"));
}
END_TEST

static const char *sget(const cJSON *o, const char *k)
{
    const char *s = NULL;
    ck_assert_msg(json_get_string(o, k, &s) == MC_OK, "no string %s", k);
    return s;
}

START_TEST(t_order_body)
{
    struct dc_order_req r;
    cJSON *b = NULL, *extra;
    const cJSON *cert, *o, *a;
    const char *sans[] = {"www.example.com", "app.example.com"};
    const char *ous[] = {"Accounting"};
    struct dc_contact contacts[] = {{"organization_contact", 12, NULL, NULL, NULL, NULL, NULL},
                                    {"technical_contact", 0, "Gia", "Booth", "Tech", "555",
                                     "gia@example.com"}};
    struct dc_dcv_email em[] = {{"example.com", "example.com", "admin@example.com"}};
    struct dc_custom_field cf[] = {{11, "Invoice #1"}};
    int64_t v;
    bool bv;

    dc_order_req_init(&r);
    ck_assert_int_eq(dc_order_body(&r, &b), MC_ERR_INVALID);
    r.product = "ssl_basic";
    r.common_name = "example.com";
    r.csr = "CSR";
    r.dns_names = sans;
    r.n_dns_names = 2;
    r.signature_hash = "sha256";
    r.server_platform_id = -1;
    r.organization_units = ous;
    r.n_organization_units = 1;
    r.cert_validity.days = 90;
    r.organization_id = 946767;
    r.contacts = contacts;
    r.n_contacts = 2;
    r.validity.years = 1;
    r.validity.custom_expiration_date = "2026-05-01";
    r.order_validity.years = 2;
    r.dcv_method = "dns-txt-token";
    r.dcv_emails = em;
    r.n_dcv_emails = 1;
    r.skip_approval = true;
    r.comments = "hello";
    r.container_id = 93288;
    r.custom_fields = cf;
    r.n_custom_fields = 1;
    r.payment_method = "balance";
    r.auto_renew = 0;
    r.disable_renewal_notifications = 1;
    r.disable_ct = 0;
    r.locale = "en";
    r.renewal_of_order_id = 7;
    extra = cJSON_Parse("{\"comments\":\"from extra\",\"cs_provisioning_method\":\"none\"}");
    r.extra = extra;
    ck_assert_int_eq(dc_order_body(&r, &b), MC_OK);

    ck_assert_int_eq(json_get_object(b, "certificate", &cert), MC_OK);
    ck_assert_str_eq(sget(cert, "common_name"), "example.com");
    ck_assert_str_eq(sget(cert, "csr"), "CSR");
    ck_assert_int_eq(json_get_array(cert, "dns_names", &a), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(a), 2);
    ck_assert_int_eq(json_get_object(cert, "server_platform", &o), MC_OK);
    ck_assert_int_eq(json_get_int(o, "id", -10, 10, &v), MC_OK);
    ck_assert_int_eq(v, -1);
    ck_assert_int_eq(json_get_object(cert, "cert_validity", &o), MC_OK);
    ck_assert_int_eq(json_get_int(o, "days", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 90);
    ck_assert_int_eq(json_get_object(b, "organization", &o), MC_OK);
    ck_assert_int_eq(json_get_int(o, "id", 0, 1000000, &v), MC_OK);
    ck_assert_int_eq(json_get_array(o, "contacts", &a), MC_OK);
    ck_assert_int_eq(json_get_int(cJSON_GetArrayItem(a, 0), "user_id", 0, 100, &v), MC_OK);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(a, 0), "first_name"));
    ck_assert_str_eq(sget(cJSON_GetArrayItem(a, 1), "email"), "gia@example.com");
    ck_assert_int_eq(json_get_int(b, "validity_years", 0, 10, &v), MC_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_str_eq(sget(b, "custom_expiration_date"), "2026-05-01");
    ck_assert_int_eq(json_get_object(b, "order_validity", &o), MC_OK);
    ck_assert_int_eq(json_get_int(o, "years", 0, 10, &v), MC_OK);
    ck_assert_str_eq(sget(b, "dcv_method"), "dns-txt-token");
    ck_assert_int_eq(json_get_array(b, "dcv_emails", &a), MC_OK);
    ck_assert_str_eq(sget(cJSON_GetArrayItem(a, 0), "dns_name"), "example.com");
    ck_assert_int_eq(json_get_bool(b, "skip_approval", &bv), MC_OK);
    ck_assert(bv);
    ck_assert_int_eq(json_get_bool(b, "use_auth_key", &bv), MC_ERR_NOT_FOUND);
    ck_assert_str_eq(sget(b, "comments"), "from extra"); /* extra wins */
    ck_assert_str_eq(sget(b, "cs_provisioning_method"), "none");
    ck_assert_int_eq(json_get_int(b, "auto_renew", 0, 1, &v), MC_OK);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(json_get_bool(b, "disable_renewal_notifications", &bv), MC_OK);
    ck_assert(bv);
    ck_assert_int_eq(json_get_bool(b, "disable_ct", &bv), MC_OK);
    ck_assert(!bv);
    ck_assert_int_eq(json_get_int(b, "renewal_of_order_id", 0, 100, &v), MC_OK);
    ck_assert_int_eq(json_get_object(b, "container", &o), MC_OK);
    ck_assert_int_eq(json_get_array(b, "custom_fields", &a), MC_OK);
    ck_assert_str_eq(sget(cJSON_GetArrayItem(a, 0), "value"), "Invoice #1");
    cJSON_Delete(b);
    b = NULL;

    /* A bad date and an empty name are refused before anything is sent. */
    r.validity.custom_expiration_date = "2026-5-1";
    ck_assert_int_eq(dc_order_body(&r, &b), MC_ERR_INVALID);
    r.validity.custom_expiration_date = NULL;
    sans[1] = "";
    ck_assert_int_eq(dc_order_body(&r, &b), MC_ERR_INVALID);
    cJSON_Delete(extra);
}
END_TEST

START_TEST(t_chain_pem_and_names)
{
    struct dc_placed p;
    char *pem = NULL, **names = NULL;
    size_t n = 0;
    struct dc_chain_cert ch[2] = {{NULL, "-----BEGIN CERTIFICATE-----\r\nAAA\r\n-----END "
                                         "CERTIFICATE-----\r\n"},
                                  {NULL, "-----BEGIN CERTIFICATE-----\r\nBBB\r\n-----END "
                                         "CERTIFICATE-----"}};
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(dc_placed_chain_pem(&p, &pem), MC_ERR_NOT_FOUND);
    p.chain = ch;
    p.n_chain = 2;
    ck_assert_int_eq(dc_placed_chain_pem(&p, &pem), MC_OK);
    ck_assert_str_eq(pem, "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n"
                          "-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n");
    free(pem);

    cJSON *o = cJSON_Parse("{\"certificate\":{\"common_name\":\"Example.com\",\"dns_names\":"
                           "[\"example.com\",\"*.example.com\",\"www.example.com\"]}}");
    ck_assert_int_eq(dc_order_names(o, &names, &n), MC_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(names[0], "example.com");
    ck_assert_str_eq(names[1], "*.example.com");
    dc_strv_free(names, n);
    cJSON_Delete(o);
    o = cJSON_Parse("{\"certificate\":{\"dns_names\":[]}}");
    ck_assert_int_eq(dc_order_names(o, &names, &n), MC_ERR_INVALID);
    cJSON_Delete(o);
}
END_TEST

/* A placer that records what it was asked to do. */
struct rec {
    char log[2048];
    int fail_at; /* the nth present fails (1-based), 0: never */
    int presents;
};

static enum mc_err rec_txt(void *arg, const char *fqdn, const char *value)
{
    struct rec *r = arg;
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof r->log - l, "+%s=%s;", fqdn, value);
    return ++r->presents == r->fail_at ? MC_ERR_IO : MC_OK;
}

static enum mc_err rec_txt_del(void *arg, const char *fqdn, const char *value)
{
    struct rec *r = arg;
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof r->log - l, "-%s=%s;", fqdn, value);
    return MC_OK;
}

static enum mc_err rec_file(void *arg, const char *name, const char *path, const char *content)
{
    struct rec *r = arg;
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof r->log - l, "+%s%s=%s;", name, path, content);
    return MC_OK;
}

static enum mc_err rec_file_del(void *arg, const char *name, const char *path)
{
    struct rec *r = arg;
    size_t l = strlen(r->log);
    snprintf(r->log + l, sizeof r->log - l, "-%s%s;", name, path);
    return MC_OK;
}

START_TEST(t_place)
{
    struct rec rc;
    struct dc_placer p = {&rc, rec_txt, NULL, rec_txt_del, rec_file, rec_file_del, false};
    char *names[] = {"example.com", "*.example.com"};
    char *bad[] = {"exa mple.com"};

    memset(&rc, 0, sizeof rc);
    ck_assert_int_eq(dc_place(&p, "dns-txt-token", names, 2, "RV"), MC_OK);
    ck_assert_str_eq(rc.log, "+_dnsauth.example.com=RV;+_dnsauth.example.com=RV;");
    memset(&rc, 0, sizeof rc);
    p.txt_at_name = true;
    ck_assert_int_eq(dc_unplace(&p, "dns-txt-token", names, 1, "RV"), MC_OK);
    ck_assert_str_eq(rc.log, "-example.com=RV;");
    /* a failure takes away what was placed */
    memset(&rc, 0, sizeof rc);
    rc.fail_at = 2;
    ck_assert_int_eq(dc_place(&p, "dns-txt-token", names, 2, "RV"), MC_ERR_IO);
    ck_assert_str_eq(rc.log, "+example.com=RV;+example.com=RV;-example.com=RV;");
    memset(&rc, 0, sizeof rc);
    ck_assert_int_eq(dc_place(&p, "http-token", names, 1, "RV"), MC_OK);
    ck_assert_str_eq(rc.log, "+example.com/.well-known/pki-validation/fileauth.txt=RV;");
    ck_assert_int_eq(dc_place(&p, "http-token", names, 2, "RV"), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(dc_place(&p, "dns-cname-token", names, 1, "RV"), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(dc_place(&p, "dns-txt-token", bad, 1, "RV"), MC_ERR_INVALID);
    p.file_present = NULL;
    ck_assert_int_eq(dc_place(&p, "http-token", names, 1, "RV"), MC_ERR_UNSUPPORTED);
}
END_TEST

START_TEST(t_new_checks)
{
    struct dc_opts o;
    struct dc_client *c = NULL;
    dc_opts_init(&o);
    ck_assert_int_eq(dc_new(&o, &c), MC_ERR_INVALID); /* no key */
    o.api_key = "bad key";
    ck_assert_int_eq(dc_new(&o, &c), MC_ERR_INVALID);
    o.api_key = "GOODKEY";
    o.base_url = "ftp://example.com/";
    ck_assert_int_eq(dc_new(&o, &c), MC_ERR_INVALID);
    o.base_url = "http://127.0.0.1:1/services/v2";
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    ck_assert_str_eq(dc_base_url(c), "http://127.0.0.1:1/services/v2/");
    ck_assert_ptr_null(dc_last_error(c));
    dc_free(c);
    o.base_url = NULL;
    ck_assert_int_eq(dc_new(&o, &c), MC_OK);
    ck_assert_str_eq(dc_base_url(c), DC_DEFAULT_BASE_URL);
    dc_free(c);
    dc_free(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_dc");
    TCase *tc = tcase_create("dc");
    tcase_add_test(tc, t_token_vector);
    tcase_add_test(tc, t_token_matches_mock);
    tcase_add_test(tc, t_base36);
    tcase_add_test(tc, t_timestamp);
    tcase_add_test(tc, t_error_envelope);
    tcase_add_test(tc, t_ids);
    tcase_add_test(tc, t_order_body);
    tcase_add_test(tc, t_chain_pem_and_names);
    tcase_add_test(tc, t_place);
    tcase_add_test(tc, t_new_checks);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
