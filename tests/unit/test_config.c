/* Unit tests for mockca/config.c: Pebble's defaults, Pebble's JSON config files (Debian's
 * installed examples and our fixture), every field, every type error (with the config left
 * unchanged), and the PEBBLE_* environment variables. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/b64url.h"
#include "mockca/config.h"

#define DEBIAN_EXAMPLES "/usr/share/doc/pebble/examples"

/* ---- helpers ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || n > 1024 * 1024 ||
        fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

static enum mc_err apply(struct mockca_config *c, const char *json, char *err, size_t errn)
{
    return mockca_config_apply_json(c, json, strlen(json), err, errn);
}

static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Deep equality of two configurations: the "cfg unchanged" check. */
static bool config_eq(const struct mockca_config *a, const struct mockca_config *b)
{
    if (!str_eq(a->listen_addr, b->listen_addr) || !str_eq(a->mgmt_addr, b->mgmt_addr) ||
        !str_eq(a->tls_cert_file, b->tls_cert_file) || !str_eq(a->tls_key_file, b->tls_key_file) ||
        !str_eq(a->dns_server, b->dns_server) || !str_eq(a->ocsp_url, b->ocsp_url))
        return false;
    if (a->http_port != b->http_port || a->tls_port != b->tls_port ||
        a->va_nosleep != b->va_nosleep || a->va_sleep_max_s != b->va_sleep_max_s ||
        a->va_always_valid != b->va_always_valid || a->strict != b->strict ||
        a->nonce_reject_pct != b->nonce_reject_pct || a->authz_reuse_pct != b->authz_reuse_pct ||
        a->orders_per_page != b->orders_per_page ||
        a->retry_after_authz_s != b->retry_after_authz_s ||
        a->retry_after_order_s != b->retry_after_order_s || a->eab_required != b->eab_required ||
        a->ca_key_type != b->ca_key_type || a->chain_length != b->chain_length ||
        a->alternate_roots != b->alternate_roots)
        return false;
    if (a->n_eab_keys != b->n_eab_keys || a->n_caa_identities != b->n_caa_identities ||
        a->n_domain_blocklist != b->n_domain_blocklist || a->n_profiles != b->n_profiles)
        return false;
    for (size_t i = 0; i < a->n_eab_keys; i++) {
        if (!str_eq(a->eab_keys[i].kid, b->eab_keys[i].kid) ||
            a->eab_keys[i].mac_len != b->eab_keys[i].mac_len ||
            memcmp(a->eab_keys[i].mac, b->eab_keys[i].mac, a->eab_keys[i].mac_len) != 0)
            return false;
    }
    for (size_t i = 0; i < a->n_caa_identities; i++)
        if (!str_eq(a->caa_identities[i], b->caa_identities[i]))
            return false;
    for (size_t i = 0; i < a->n_domain_blocklist; i++)
        if (!str_eq(a->domain_blocklist[i], b->domain_blocklist[i]))
            return false;
    for (size_t i = 0; i < a->n_profiles; i++) {
        const struct mockca_profile *p = &a->profiles[i], *q = &b->profiles[i];
        if (!str_eq(p->name, q->name) || !str_eq(p->description, q->description) ||
            p->validity_s != q->validity_s || p->promote_cn != q->promote_cn)
            return false;
    }
    return true;
}

static const struct mockca_profile *find_profile(const struct mockca_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_profiles; i++)
        if (strcmp(c->profiles[i].name, name) == 0)
            return &c->profiles[i];
    return NULL;
}

/* A config that differs from the defaults in many fields, so "unchanged" means something. */
static const char *BASE_JSON =
    "{\"pebble\": {\"listenAddress\": \"127.0.0.1:1400\", \"httpPort\": 6002,"
    " \"externalAccountMACKeys\": {\"base-kid\": \"AAECAwQFBgcICQ\"},"
    " \"domainBlocklist\": [\"a.test\"], \"caaIdentities\": [\"ca.test\"],"
    " \"profiles\": {\"p1\": {\"description\": \"one\", \"validityPeriod\": 100}}}}";

static void base_config(struct mockca_config *c)
{
    char err[256];
    ck_assert_int_eq(mockca_config_init(c), MC_OK);
    ck_assert_msg(apply(c, BASE_JSON, err, sizeof(err)) == MC_OK, "base: %s", err);
}

/* ---- defaults ---- */

START_TEST(test_defaults)
{
    struct mockca_config c;

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_str_eq(c.listen_addr, "127.0.0.1:14000");
    ck_assert_str_eq(c.mgmt_addr, "127.0.0.1:15000");
    ck_assert_ptr_null(c.tls_cert_file);
    ck_assert_ptr_null(c.tls_key_file);
    ck_assert_ptr_null(c.dns_server);
    ck_assert_ptr_null(c.ocsp_url);
    ck_assert_uint_eq(c.http_port, 5002);
    ck_assert_uint_eq(c.tls_port, 5001);
    ck_assert(!c.va_nosleep);
    ck_assert_int_eq(c.va_sleep_max_s, 5);
    ck_assert(!c.va_always_valid);
    ck_assert(!c.strict);
    ck_assert_uint_eq(c.nonce_reject_pct, 0); /* ours: Pebble says 5 */
    ck_assert_uint_eq(c.authz_reuse_pct, 50);
    ck_assert_uint_eq(c.orders_per_page, 3);
    ck_assert_int_eq(c.retry_after_authz_s, 3);
    ck_assert_int_eq(c.retry_after_order_s, 5);
    ck_assert(!c.eab_required);
    ck_assert_uint_eq(c.n_eab_keys, 0);
    ck_assert_int_eq(c.ca_key_type, KEY_EC_P256);
    ck_assert_uint_eq(c.chain_length, 1);
    ck_assert_uint_eq(c.alternate_roots, 0);
    ck_assert_uint_eq(c.n_caa_identities, 0);
    ck_assert_uint_eq(c.n_domain_blocklist, 0);
    ck_assert_uint_eq(c.n_profiles, 1);
    ck_assert_str_eq(c.profiles[0].name, "default");
    ck_assert_ptr_nonnull(c.profiles[0].description);
    ck_assert_int_eq(c.profiles[0].validity_s, 157766400); /* Pebble's five years */
    ck_assert(!c.profiles[0].promote_cn);
    mockca_config_free(&c);
    /* free leaves a zeroed struct; freeing twice and freeing NULL are fine. */
    ck_assert_ptr_null(c.listen_addr);
    mockca_config_free(&c);
    mockca_config_free(NULL);
    ck_assert_int_eq(mockca_config_init(NULL), MC_ERR_INVALID);
}
END_TEST

/* ---- real Pebble config files ---- */

START_TEST(test_debian_example)
{
    struct mockca_config c;
    char err[256];
    size_t len = 0;
    char *text = read_file(DEBIAN_EXAMPLES "/pebble-config.json", &len);

    /* ci/install-deps.sh installs pebble; its absence is a broken environment, not a skip. */
    ck_assert_msg(text != NULL, "%s/pebble-config.json is missing: install Debian's pebble",
                  DEBIAN_EXAMPLES);
    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(mockca_config_apply_json(&c, text, len, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(c.listen_addr, "0.0.0.0:14000");
    ck_assert_str_eq(c.mgmt_addr, "0.0.0.0:15000");
    ck_assert_str_eq(c.tls_cert_file, "test/certs/localhost/cert.pem");
    ck_assert_str_eq(c.tls_key_file, "test/certs/localhost/key.pem");
    ck_assert_uint_eq(c.http_port, 5002);
    ck_assert_uint_eq(c.tls_port, 5001);
    ck_assert_ptr_null(c.ocsp_url); /* "" means none */
    ck_assert(!c.eab_required);
    ck_assert_uint_eq(c.n_eab_keys, 0);
    ck_assert_uint_eq(c.n_profiles, 1);
    free(text);
    mockca_config_free(&c);
}
END_TEST

START_TEST(test_debian_example_eab)
{
    struct mockca_config c;
    char err[256];
    size_t len = 0;
    char *text = read_file(DEBIAN_EXAMPLES "/pebble-config-external-account-bindings.json", &len);
    const struct mockca_eab_key *k1 = NULL, *k2 = NULL;
    char *re = NULL;

    ck_assert_msg(text != NULL,
                  "%s/pebble-config-external-account-bindings.json is missing: install "
                  "Debian's pebble",
                  DEBIAN_EXAMPLES);
    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(mockca_config_apply_json(&c, text, len, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert(c.eab_required);
    ck_assert_uint_eq(c.n_eab_keys, 2);
    for (size_t i = 0; i < c.n_eab_keys; i++) {
        if (strcmp(c.eab_keys[i].kid, "kid-1") == 0)
            k1 = &c.eab_keys[i];
        else if (strcmp(c.eab_keys[i].kid, "kid-2") == 0)
            k2 = &c.eab_keys[i];
    }
    ck_assert_ptr_nonnull(k1);
    ck_assert_ptr_nonnull(k2);
    /* 64 base64url characters are 48 bytes; the first and last bytes as Python's
     * base64.urlsafe_b64decode gives them. */
    ck_assert_uint_eq(k1->mac_len, 48);
    ck_assert_uint_eq(k2->mac_len, 48);
    ck_assert_mem_eq(k1->mac, "\xcd\x63\x43\x64", 4);
    ck_assert_mem_eq(k1->mac + 44, "\x13\x43\x5d\x96", 4);
    ck_assert_mem_eq(k2->mac, "\x6f\x5d\x25\x2c", 4);
    /* And it re-encodes to the text in the file. */
    ck_assert_int_eq(b64url_encode(k1->mac, k1->mac_len, &re), MC_OK);
    ck_assert_str_eq(re, "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W");
    free(re);
    free(text);
    mockca_config_free(&c);
}
END_TEST

START_TEST(test_fixture)
{
    struct mockca_config c;
    char err[256];
    size_t len = 0;
    char *text = read_file(MC_SOURCE_DIR "/fixtures/pebble/pebble-config.json", &len);
    const struct mockca_profile *p;

    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(mockca_config_apply_json(&c, text, len, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_str_eq(c.listen_addr, "127.0.0.1:24000");
    ck_assert_str_eq(c.mgmt_addr, "127.0.0.1:25000");
    ck_assert_str_eq(c.tls_cert_file, "fixtures/pebble/listener-cert.pem");
    ck_assert_str_eq(c.tls_key_file, "fixtures/pebble/listener-key.pem");
    ck_assert_uint_eq(c.http_port, 5080);
    ck_assert_uint_eq(c.tls_port, 5443);
    ck_assert_ptr_null(c.ocsp_url);
    ck_assert(!c.eab_required);
    ck_assert_uint_eq(c.n_domain_blocklist, 2);
    ck_assert_str_eq(c.domain_blocklist[0], "forbidden.test");
    ck_assert_str_eq(c.domain_blocklist[1], "blocked.example.net");
    ck_assert_int_eq(c.retry_after_authz_s, 2);
    ck_assert_int_eq(c.retry_after_order_s, 7);
    ck_assert_int_eq(c.ca_key_type, KEY_RSA2048);
    ck_assert_uint_eq(c.n_profiles, 2);
    p = find_profile(&c, "default");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->validity_s, 7776000);
    ck_assert_str_eq(p->description, "Ninety-day certificates, as most CAs issue");
    p = find_profile(&c, "tlsserver-short");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(p->validity_s, 604800);
    /* The top-level "certcentral" object next to "pebble" (Pebble ignores it). */
    ck_assert_uint_eq(c.cc.n_keys, 2);
    ck_assert_str_eq(c.cc.keys[0].key, "FIXTURE-ADMIN-0001");
    ck_assert_str_eq(c.cc.keys[0].role, "administrator");
    ck_assert_str_eq(c.cc.keys[1].role, "user");
    ck_assert_int_eq(c.cc.keys[1].account_id, 1);
    ck_assert_int_eq(c.cc.dcv_timeout_ms, 2000);
    free(text);
    mockca_config_free(&c);
}
END_TEST

/* ---- every field ---- */

START_TEST(test_every_field)
{
    struct mockca_config c;
    char err[256];
    const char *json =
        "{\"pebble\": {"
        "\"listenAddress\": \"[::1]:443\","
        "\"managementListenAddress\": \":8443\","
        "\"certificate\": \"/tmp/c.pem\", \"privateKey\": \"/tmp/k.pem\","
        "\"httpPort\": 80, \"tlsPort\": 443,"
        "\"ocspResponderURL\": \"http://127.0.0.1:4002\","
        "\"externalAccountBindingRequired\": true,"
        "\"externalAccountMACKeys\": {\"k1\": \"AAECAwQFBgcICQ\", \"k2\": \"_-8\"},"
        "\"domainBlocklist\": [\"x.test\", \"y.test\"],"
        "\"caaIdentities\": [\"mockca.test\"],"
        "\"retryAfter\": {\"authz\": 0, \"order\": 86400},"
        "\"keyAlgorithm\": \"ecdsa\","
        "\"profiles\": {\"classic\": {\"description\": \"d\", \"validityPeriod\": 86400,"
        " \"promoteCommonName\": true}, \"bare\": {}}"
        "}}";
    const struct mockca_profile *p;

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    c.ca_key_type = KEY_RSA2048; /* so "ecdsa" visibly sets it */
    ck_assert_msg(apply(&c, json, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_str_eq(c.listen_addr, "[::1]:443");
    ck_assert_str_eq(c.mgmt_addr, ":8443");
    ck_assert_str_eq(c.tls_cert_file, "/tmp/c.pem");
    ck_assert_str_eq(c.tls_key_file, "/tmp/k.pem");
    ck_assert_uint_eq(c.http_port, 80);
    ck_assert_uint_eq(c.tls_port, 443);
    ck_assert_str_eq(c.ocsp_url, "http://127.0.0.1:4002");
    ck_assert(c.eab_required);
    ck_assert_uint_eq(c.n_eab_keys, 2);
    ck_assert_str_eq(c.eab_keys[0].kid, "k1");
    ck_assert_uint_eq(c.eab_keys[0].mac_len, 10);
    ck_assert_mem_eq(c.eab_keys[0].mac, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09", 10);
    ck_assert_str_eq(c.eab_keys[1].kid, "k2");
    ck_assert_uint_eq(c.eab_keys[1].mac_len, 2);
    ck_assert_mem_eq(c.eab_keys[1].mac, "\xff\xef", 2);
    ck_assert_uint_eq(c.n_domain_blocklist, 2);
    ck_assert_str_eq(c.domain_blocklist[1], "y.test");
    ck_assert_uint_eq(c.n_caa_identities, 1);
    ck_assert_str_eq(c.caa_identities[0], "mockca.test");
    ck_assert_int_eq(c.retry_after_authz_s, 0);
    ck_assert_int_eq(c.retry_after_order_s, 86400);
    ck_assert_int_eq(c.ca_key_type, KEY_EC_P256);
    ck_assert_uint_eq(c.n_profiles, 2);
    ck_assert_ptr_null(find_profile(&c, "default")); /* a profiles object replaces the set */
    p = find_profile(&c, "classic");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->description, "d");
    ck_assert_int_eq(p->validity_s, 86400);
    ck_assert(p->promote_cn);
    p = find_profile(&c, "bare");
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->description, "");
    ck_assert_int_eq(p->validity_s, 157766400);
    ck_assert(!p->promote_cn);

    /* A second file changes only what it names; "" clears the optional strings. */
    ck_assert_msg(apply(&c,
                        "{\"pebble\": {\"ocspResponderURL\": \"\", \"httpPort\": 5002,"
                        " \"certificate\": \"\", \"privateKey\": \"\"}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_ptr_null(c.ocsp_url);
    ck_assert_ptr_null(c.tls_cert_file);
    ck_assert_ptr_null(c.tls_key_file);
    ck_assert_uint_eq(c.http_port, 5002);
    ck_assert_uint_eq(c.tls_port, 443);
    ck_assert_uint_eq(c.n_eab_keys, 2);
    mockca_config_free(&c);
}
END_TEST

/* Pebble reads its file with Go's encoding/json: member names match case-insensitively and
 * null leaves a field alone; README: managementListenAddress "" or null disables it. */
START_TEST(test_go_decoder_rules)
{
    struct mockca_config c;
    char err[256];

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(apply(&c,
                        "{\"Pebble\": {\"ListenAddress\": \"127.0.0.2:1\", \"HTTPPORT\": 81,"
                        " \"tlsPort\": null, \"managementListenAddress\": null,"
                        " \"someFutureField\": 1}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_str_eq(c.listen_addr, "127.0.0.2:1");
    ck_assert_uint_eq(c.http_port, 81);
    ck_assert_uint_eq(c.tls_port, 5001);
    ck_assert_str_eq(c.mgmt_addr, "");
    ck_assert_msg(apply(&c, "{\"pebble\": {\"managementListenAddress\": \"127.0.0.1:1\"}}", err,
                        sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_str_eq(c.mgmt_addr, "127.0.0.1:1");
    ck_assert_msg(
        apply(&c, "{\"pebble\": {\"managementListenAddress\": \"\"}}", err, sizeof(err)) == MC_OK,
        "%s", err);
    ck_assert_str_eq(c.mgmt_addr, "");
    /* An exact match wins over a case variant. */
    ck_assert_msg(apply(&c, "{\"pebble\": {\"HttpPort\": 1, \"httpPort\": 2}}", err, sizeof(err)) ==
                      MC_OK,
                  "%s", err);
    ck_assert_uint_eq(c.http_port, 2);
    mockca_config_free(&c);
}
END_TEST

/* Pebble 2.4 (Debian's) had one certificateValidityPeriod instead of profiles. */
START_TEST(test_certificate_validity_period)
{
    struct mockca_config c;
    char err[256];

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(
        apply(&c, "{\"pebble\": {\"certificateValidityPeriod\": 3600}}", err, sizeof(err)) == MC_OK,
        "%s", err);
    ck_assert_int_eq(c.profiles[0].validity_s, 3600);
    ck_assert_msg(apply(&c, "{\"pebble\": {\"certificateValidityPeriod\": 0}}", err, sizeof(err)) ==
                      MC_OK,
                  "%s", err);
    ck_assert_int_eq(c.profiles[0].validity_s, 157766400);
    /* With profiles, it fills only those that do not set their own. */
    ck_assert_msg(apply(&c,
                        "{\"pebble\": {\"certificateValidityPeriod\": 60, \"profiles\":"
                        " {\"a\": {\"validityPeriod\": 10}, \"b\": {}}}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_int_eq(find_profile(&c, "a")->validity_s, 10);
    ck_assert_int_eq(find_profile(&c, "b")->validity_s, 60);
    /* An empty profiles object keeps the set. */
    ck_assert_msg(apply(&c, "{\"pebble\": {\"profiles\": {}}}", err, sizeof(err)) == MC_OK, "%s",
                  err);
    ck_assert_uint_eq(c.n_profiles, 2);
    mockca_config_free(&c);
}
END_TEST

/* ---- errors: each names the field and leaves cfg unchanged ---- */

struct bad_case {
    const char *pebble_body; /* the members inside "pebble" */
    const char *field;       /* must appear in the message */
};

/* Each case also sets listenAddress and domainBlocklist to good new values first, so an
 * applier that wrote fields as it went would be caught. */
static const struct bad_case bad_cases[] = {
    {"\"listenAddress\": 14000", "listenAddress"},
    {"\"listenAddress\": \"localhost\"", "listenAddress"},
    {"\"listenAddress\": \"example.com:14000\"", "listenAddress"},
    {"\"listenAddress\": \"127.0.0.1:70000\"", "listenAddress"},
    {"\"listenAddress\": \"\"", "listenAddress"},
    {"\"managementListenAddress\": true", "managementListenAddress"},
    {"\"managementListenAddress\": \"1.2.3.4\"", "managementListenAddress"},
    {"\"httpPort\": \"5002\"", "httpPort"},
    {"\"httpPort\": 5002.5", "httpPort"},
    {"\"httpPort\": 0", "httpPort"},
    {"\"httpPort\": 65536", "httpPort"},
    {"\"tlsPort\": -1", "tlsPort"},
    {"\"tlsPort\": [5001]", "tlsPort"},
    {"\"certificate\": 1", "certificate"},
    {"\"privateKey\": {}", "privateKey"},
    {"\"certificate\": \"/c.pem\"", "certificate"}, /* without privateKey */
    {"\"ocspResponderURL\": false", "ocspResponderURL"},
    {"\"externalAccountBindingRequired\": \"true\"", "externalAccountBindingRequired"},
    {"\"externalAccountBindingRequired\": 1", "externalAccountBindingRequired"},
    {"\"externalAccountMACKeys\": [\"a\"]", "externalAccountMACKeys"},
    {"\"externalAccountMACKeys\": {\"k\": 5}", "externalAccountMACKeys.k"},
    {"\"externalAccountMACKeys\": {\"k\": \"\"}", "externalAccountMACKeys.k"},
    {"\"externalAccountMACKeys\": {\"\": \"AAAA\"}", "externalAccountMACKeys"},
    {"\"domainBlocklist\": \"x.test\"", "domainBlocklist"},
    {"\"domainBlocklist\": [\"ok.test\", 3]", "domainBlocklist[1]"},
    {"\"domainBlocklist\": [\"\"]", "domainBlocklist[0]"},
    {"\"caaIdentities\": {}", "caaIdentities"},
    {"\"caaIdentities\": [null]", "caaIdentities[0]"},
    {"\"certificateValidityPeriod\": \"1h\"", "certificateValidityPeriod"},
    {"\"certificateValidityPeriod\": -5", "certificateValidityPeriod"},
    {"\"retryAfter\": 3", "retryAfter"},
    {"\"retryAfter\": {\"authz\": \"3\"}", "retryAfter.authz"},
    {"\"retryAfter\": {\"order\": -1}", "retryAfter.order"},
    {"\"retryAfter\": {\"order\": 1.5}", "retryAfter.order"},
    {"\"keyAlgorithm\": 256", "keyAlgorithm"},
    {"\"keyAlgorithm\": \"ed25519\"", "keyAlgorithm"},
    {"\"keyAlgorithm\": \"RSA\"", "keyAlgorithm"},
    {"\"profiles\": []", "profiles"},
    {"\"profiles\": {\"x\": 7}", "profiles.x"},
    {"\"profiles\": {\"x\": {\"description\": 1}}", "profiles.x.description"},
    {"\"profiles\": {\"x\": {\"validityPeriod\": \"90d\"}}", "profiles.x.validityPeriod"},
    {"\"profiles\": {\"x\": {\"validityPeriod\": 0}}", "profiles.x.validityPeriod"},
    {"\"profiles\": {\"x\": {\"validityPeriod\": -1}}", "profiles.x.validityPeriod"},
    {"\"profiles\": {\"x\": {\"promoteCommonName\": \"yes\"}}", "profiles.x.promoteCommonName"},
    {"\"profiles\": {\"ok\": {}, \"OK\": {}}", "profiles.OK"},
};

START_TEST(test_wrong_types)
{
    const struct bad_case *bc = &bad_cases[_i];
    struct mockca_config c, before;
    char err[256], json[1024];
    int n;

    base_config(&c);
    base_config(&before);
    n = snprintf(json, sizeof(json),
                 "{\"pebble\": {\"listenAddress\": \"127.0.0.9:9\", \"domainBlocklist\":"
                 " [\"new.test\"], \"retryAfter\": {\"authz\": 99}, %s}}",
                 bc->pebble_body);
    ck_assert(n > 0 && (size_t)n < sizeof(json));
    /* In the cases about listenAddress/domainBlocklist/retryAfter the later member with the
     * same name would be a duplicate; json_parse refuses those, which would not test the
     * field. Drop the prefix for them. */
    if (strncmp(bc->pebble_body, "\"listenAddress\"", 15) == 0 ||
        strncmp(bc->pebble_body, "\"domainBlocklist\"", 17) == 0 ||
        strncmp(bc->pebble_body, "\"retryAfter\"", 12) == 0)
        snprintf(json, sizeof(json), "{\"pebble\": {\"httpPort\": 9999, %s}}", bc->pebble_body);
    memset(err, 0, sizeof(err));
    ck_assert_msg(apply(&c, json, err, sizeof(err)) == MC_ERR_INVALID, "accepted: %s", json);
    ck_assert_msg(strstr(err, bc->field) != NULL, "message \"%s\" does not name %s", err,
                  bc->field);
    ck_assert_msg(config_eq(&c, &before), "cfg changed by %s", json);
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

START_TEST(test_bad_mac)
{
    /* Padding, the standard alphabet, whitespace, a length of 1 mod 4, stray bits. */
    static const char *const bad[] = {
        "AAECAwQFBgcICQ==", "AAECAwQFBgcICQ=", "ab+/", "ab cd", "abcde", "AB", "_-9"};
    struct mockca_config c, before;
    char err[256], json[256];

    base_config(&c);
    base_config(&before);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"pebble\": {\"externalAccountMACKeys\": {\"good\": \"AAAA\", \"kid-x\": "
                 "\"%s\"}}}",
                 bad[i]);
        ck_assert_msg(apply(&c, json, err, sizeof(err)) == MC_ERR_INVALID, "accepted %s", bad[i]);
        ck_assert_msg(strstr(err, "externalAccountMACKeys.kid-x") != NULL, "%s", err);
        ck_assert(config_eq(&c, &before));
    }
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

START_TEST(test_missing_pebble)
{
    static const char *const bad[] = {
        "{}", "{\"boulder\": {}}", "{\"pebble\": 1}", "{\"pebble\": null}",
        "[]", "{\"pebble\": [{}]}"};
    struct mockca_config c, before;
    char err[256];

    base_config(&c);
    base_config(&before);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(apply(&c, bad[i], err, sizeof(err)), MC_ERR_INVALID);
        ck_assert_msg(strstr(err, "\"pebble\"") != NULL, "%s", err);
        ck_assert(config_eq(&c, &before));
    }
    ck_assert_int_eq(apply(&c, "{\"pebble\": {}}", err, sizeof(err)), MC_OK);
    ck_assert(config_eq(&c, &before));
    /* Syntax errors and duplicate members. */
    ck_assert_int_eq(apply(&c, "{\"pebble\": {", err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_int_eq(
        apply(&c, "{\"pebble\": {\"httpPort\": 1, \"httpPort\": 2}}", err, sizeof(err)),
        MC_ERR_INVALID);
    ck_assert_int_eq(mockca_config_apply_json(&c, "", 0, err, sizeof(err)), MC_ERR_INVALID);
    /* A NULL err buffer is allowed. */
    ck_assert_int_eq(apply(&c, "{}", NULL, 0), MC_ERR_INVALID);
    ck_assert(config_eq(&c, &before));
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

START_TEST(test_over_cap)
{
    const size_t cap = 1024 * 1024;
    struct mockca_config c, before;
    char err[256];
    char *big = malloc(cap + 2);
    const char *head = "{\"pebble\": {\"ocspResponderURL\": \"";
    const char *tail = "\"}}";
    size_t hl = strlen(head), tl = strlen(tail);

    ck_assert_ptr_nonnull(big);
    base_config(&c);
    base_config(&before);
    /* Exactly 1 MiB + 1 byte of valid JSON: refused for size. */
    memcpy(big, head, hl);
    memset(big + hl, 'a', cap + 1 - hl - tl);
    memcpy(big + cap + 1 - tl, tail, tl);
    big[cap + 1] = '\0';
    ck_assert_int_eq(mockca_config_apply_json(&c, big, cap + 1, err, sizeof(err)), MC_ERR_TOO_BIG);
    ck_assert(config_eq(&c, &before));
    /* Exactly 1 MiB is read (the string is then over the per-field cap: INVALID by name). */
    memmove(big + cap - tl, tail, tl);
    ck_assert_int_eq(mockca_config_apply_json(&c, big, cap, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_msg(strstr(err, "ocspResponderURL") != NULL, "%s", err);
    ck_assert(config_eq(&c, &before));
    free(big);
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

/* {"pebble": {member: <n entries>}}, printed with cJSON: an array of "d<i>.test" strings
 * when object is false, else an object of n members "<prefix><i>": value. */
static char *pebble_entries(const char *member, int n, bool object, const char *prefix,
                            const cJSON *value)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *pb = cJSON_AddObjectToObject(root, "pebble");
    cJSON *c = object ? cJSON_AddObjectToObject(pb, member) : cJSON_AddArrayToObject(pb, member);
    char name[32];
    char *text;

    ck_assert_ptr_nonnull(c);
    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s%d%s", prefix, i, object ? "" : ".test");
        if (object)
            ck_assert(cJSON_AddItemToObject(c, name, cJSON_Duplicate(value, 1)));
        else
            ck_assert(cJSON_AddItemToArray(c, cJSON_CreateString(name)));
    }
    text = cJSON_PrintUnformatted(root);
    ck_assert_ptr_nonnull(text);
    cJSON_Delete(root);
    return text;
}

START_TEST(test_bounds)
{
    struct mockca_config c, before;
    char err[256];
    char *json;
    cJSON *empty = cJSON_CreateObject(), *mac = cJSON_CreateString("AAAA");

    base_config(&c);
    base_config(&before);
    /* MOCKCA_MAX_LIST + 1 blocklist entries. */
    json = pebble_entries("domainBlocklist", MOCKCA_MAX_LIST + 1, false, "d", NULL);
    ck_assert_int_eq(apply(&c, json, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_msg(strstr(err, "domainBlocklist") != NULL, "%s", err);
    ck_assert(config_eq(&c, &before));
    cJSON_free(json);
    /* Exactly MOCKCA_MAX_LIST is fine. */
    json = pebble_entries("domainBlocklist", MOCKCA_MAX_LIST, false, "d", NULL);
    ck_assert_msg(apply(&c, json, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_uint_eq(c.n_domain_blocklist, MOCKCA_MAX_LIST);
    cJSON_free(json);
    mockca_config_free(&c);
    base_config(&c);
    /* MOCKCA_MAX_PROFILES + 1 profiles. */
    json = pebble_entries("profiles", MOCKCA_MAX_PROFILES + 1, true, "p", empty);
    ck_assert_int_eq(apply(&c, json, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_msg(strstr(err, "profiles") != NULL, "%s", err);
    ck_assert(config_eq(&c, &before));
    cJSON_free(json);
    /* MOCKCA_MAX_EAB_KEYS + 1 MAC keys. */
    json = pebble_entries("externalAccountMACKeys", MOCKCA_MAX_EAB_KEYS + 1, true, "k", mac);
    ck_assert_int_eq(apply(&c, json, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_msg(strstr(err, "externalAccountMACKeys") != NULL, "%s", err);
    ck_assert(config_eq(&c, &before));
    cJSON_free(json);
    cJSON_Delete(empty);
    cJSON_Delete(mac);
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

/* ---- environment ---- */

static const char *const *env_table; /* name, value, name, value, ..., NULL */

static const char *table_getenv(const char *name)
{
    for (size_t i = 0; env_table != NULL && env_table[i] != NULL; i += 2)
        if (strcmp(env_table[i], name) == 0)
            return env_table[i + 1];
    return NULL;
}

static enum mc_err apply_env(struct mockca_config *c, const char *const *table, char *err,
                             size_t errn)
{
    env_table = table;
    return mockca_config_apply_env(c, table_getenv, err, errn);
}

START_TEST(test_env_every_variable)
{
    struct mockca_config c, d;
    char err[256];
    static const char *const all[] = {"PEBBLE_VA_NOSLEEP",
                                      "1",
                                      "PEBBLE_VA_SLEEPTIME",
                                      "15",
                                      "PEBBLE_VA_ALWAYS_VALID",
                                      "true",
                                      "PEBBLE_WFE_NONCEREJECT",
                                      "90",
                                      "PEBBLE_AUTHZREUSE",
                                      "100",
                                      "PEBBLE_WFE_ORDERS_PER_PAGE",
                                      "15",
                                      "PEBBLE_CHAIN_LENGTH",
                                      "3",
                                      "PEBBLE_ALTERNATE_ROOTS",
                                      "2",
                                      NULL};
    static const char *const none[] = {NULL};
    static const char *const empty[] = {"PEBBLE_VA_NOSLEEP", "", "PEBBLE_CHAIN_LENGTH", "", NULL};

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_int_eq(mockca_config_init(&d), MC_OK);
    /* Nothing set, or set to "": nothing changes (Go's os.Getenv gives "" for both). */
    ck_assert_int_eq(apply_env(&c, none, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(apply_env(&c, empty, err, sizeof(err)), MC_OK);
    ck_assert(config_eq(&c, &d));
    ck_assert_msg(apply_env(&c, all, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert(c.va_nosleep);
    ck_assert_int_eq(c.va_sleep_max_s, 15);
    ck_assert(c.va_always_valid);
    ck_assert_uint_eq(c.nonce_reject_pct, 90);
    ck_assert_uint_eq(c.authz_reuse_pct, 100);
    ck_assert_uint_eq(c.orders_per_page, 15);
    ck_assert_uint_eq(c.chain_length, 3);
    ck_assert_uint_eq(c.alternate_roots, 2);
    /* Range edges. */
    {
        static const char *const edges[] = {"PEBBLE_WFE_NONCEREJECT",
                                            "0",
                                            "PEBBLE_AUTHZREUSE",
                                            "0",
                                            "PEBBLE_VA_SLEEPTIME",
                                            "1",
                                            "PEBBLE_ALTERNATE_ROOTS",
                                            "0",
                                            "PEBBLE_CHAIN_LENGTH",
                                            "1",
                                            NULL};
        ck_assert_msg(apply_env(&c, edges, err, sizeof(err)) == MC_OK, "%s", err);
        ck_assert_uint_eq(c.nonce_reject_pct, 0);
        ck_assert_uint_eq(c.authz_reuse_pct, 0);
        ck_assert_int_eq(c.va_sleep_max_s, 1);
        ck_assert_uint_eq(c.alternate_roots, 0);
        ck_assert_uint_eq(c.chain_length, 1);
    }
    mockca_config_free(&c);
    mockca_config_free(&d);
}
END_TEST

START_TEST(test_env_bools)
{
    static const struct {
        const char *v;
        int want; /* 1 on, 0 off, -1 invalid */
    } cases[] = {{"1", 1},     {"true", 1},  {"True", 1},  {"TRUE", 1}, {"0", 0},
                 {"false", 0}, {"False", 0}, {"FALSE", 0}, {"yes", -1}, {"on", -1},
                 {"2", -1},    {" 1", -1},   {"tRuE", -1}, {"1 ", -1}};
    static const char *const vars[] = {"PEBBLE_VA_NOSLEEP", "PEBBLE_VA_ALWAYS_VALID"};
    char err[256];

    for (size_t v = 0; v < 2; v++) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            struct mockca_config c, before;
            const char *table[] = {vars[v], cases[i].v, NULL};
            bool got;
            enum mc_err rc;

            ck_assert_int_eq(mockca_config_init(&c), MC_OK);
            /* Start from the opposite of the expected value so a no-op is caught. */
            c.va_nosleep = c.va_always_valid = cases[i].want == 0;
            ck_assert_int_eq(mockca_config_init(&before), MC_OK);
            before.va_nosleep = before.va_always_valid = c.va_nosleep;
            rc = apply_env(&c, table, err, sizeof(err));
            got = v == 0 ? c.va_nosleep : c.va_always_valid;
            if (cases[i].want < 0) {
                ck_assert_msg(rc == MC_ERR_INVALID, "%s=\"%s\" accepted", vars[v], cases[i].v);
                ck_assert_msg(strstr(err, vars[v]) != NULL, "%s", err);
                ck_assert(config_eq(&c, &before));
            } else {
                ck_assert_msg(rc == MC_OK, "%s=\"%s\": %s", vars[v], cases[i].v, err);
                ck_assert_msg(got == (cases[i].want == 1), "%s=\"%s\"", vars[v], cases[i].v);
            }
            mockca_config_free(&c);
            mockca_config_free(&before);
        }
    }
}
END_TEST

static const char *const bad_env[][2] = {
    {"PEBBLE_VA_SLEEPTIME", "0"},
    {"PEBBLE_VA_SLEEPTIME", "-3"},
    {"PEBBLE_VA_SLEEPTIME", "5s"},
    {"PEBBLE_VA_SLEEPTIME", "3601"},
    {"PEBBLE_WFE_NONCEREJECT", "101"},
    {"PEBBLE_WFE_NONCEREJECT", "-1"},
    {"PEBBLE_WFE_NONCEREJECT", "5%"},
    {"PEBBLE_WFE_NONCEREJECT", "2.5"},
    {"PEBBLE_WFE_NONCEREJECT", " 5"},
    {"PEBBLE_WFE_NONCEREJECT", "0x10"},
    {"PEBBLE_AUTHZREUSE", "150"},
    {"PEBBLE_AUTHZREUSE", "half"},
    {"PEBBLE_WFE_ORDERS_PER_PAGE", "0"},
    {"PEBBLE_WFE_ORDERS_PER_PAGE", "1001"},
    {"PEBBLE_CHAIN_LENGTH", "0"},
    {"PEBBLE_CHAIN_LENGTH", "11"},
    {"PEBBLE_ALTERNATE_ROOTS", "-1"},
    {"PEBBLE_ALTERNATE_ROOTS", "17"},
    {"PEBBLE_ALTERNATE_ROOTS", "99999999999999999999999"},
};

START_TEST(test_env_bad_values)
{
    struct mockca_config c, before;
    char err[256];
    /* Good values first, so a variable-by-variable writer would be caught. */
    const char *table[] = {"PEBBLE_VA_NOSLEEP", "1", "PEBBLE_AUTHZREUSE", "7", bad_env[_i][0],
                           bad_env[_i][1],      NULL};

    if (strcmp(bad_env[_i][0], "PEBBLE_AUTHZREUSE") == 0)
        table[2] = "PEBBLE_WFE_NONCEREJECT";
    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_int_eq(mockca_config_init(&before), MC_OK);
    ck_assert_msg(apply_env(&c, table, err, sizeof(err)) == MC_ERR_INVALID, "%s=\"%s\" accepted",
                  bad_env[_i][0], bad_env[_i][1]);
    ck_assert_msg(strstr(err, bad_env[_i][0]) != NULL, "%s", err);
    ck_assert(config_eq(&c, &before));
    ck_assert_int_eq(mockca_config_apply_env(NULL, table_getenv, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_int_eq(mockca_config_apply_env(&c, NULL, NULL, 0), MC_ERR_INVALID);
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

/* Ours: store times, shuffling, a random profile, the Retry-After form. */
START_TEST(test_ours_store_and_randomness)
{
    struct mockca_config c;
    char err[256];

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert(c.shuffle);
    ck_assert(!c.random_profile);
    ck_assert_int_eq(c.retry_after_form, MOCKCA_RETRY_AFTER_RANDOM);
    ck_assert_int_eq(c.retention_s, 0);
    ck_assert_msg(apply(&c,
                        "{\"pebble\": {\"retentionSeconds\": 600, \"orderLifetimeSeconds\": 7200,"
                        " \"authzLifetimeSeconds\": 300, \"validAuthzLifetimeSeconds\": 86400,"
                        " \"shuffle\": false, \"randomProfile\": true,"
                        " \"retryAfterForm\": \"date\"}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_int_eq(c.retention_s, 600);
    ck_assert_int_eq(c.order_lifetime_s, 7200);
    ck_assert_int_eq(c.authz_lifetime_s, 300);
    ck_assert_int_eq(c.valid_authz_lifetime_s, 86400);
    ck_assert(!c.shuffle);
    ck_assert(c.random_profile);
    ck_assert_int_eq(c.retry_after_form, MOCKCA_RETRY_AFTER_DATE);
    ck_assert_int_eq(apply(&c, "{\"pebble\": {\"retryAfterForm\": \"seconds\"}}", err,
                           sizeof(err)),
                     MC_OK);
    ck_assert_int_eq(c.retry_after_form, MOCKCA_RETRY_AFTER_SECONDS);
    /* Refusals name the field and leave the config as it was. */
    ck_assert_int_eq(apply(&c, "{\"pebble\": {\"retryAfterForm\": \"never\"}}", err,
                           sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "retryAfterForm"));
    ck_assert_int_eq(apply(&c, "{\"pebble\": {\"retentionSeconds\": -1}}", err, sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "retentionSeconds"));
    ck_assert_int_eq(apply(&c, "{\"pebble\": {\"shuffle\": 1}}", err, sizeof(err)),
                     MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "shuffle"));
    ck_assert_int_eq(c.retry_after_form, MOCKCA_RETRY_AFTER_SECONDS);
    ck_assert_int_eq(c.retention_s, 600);
    mockca_config_free(&c);
}
END_TEST

/* MOCKCA_RATE_*: COUNT/SECONDS over the JSON's rateLimits, "0" turns one off. */
START_TEST(test_env_rate_limits)
{
    struct mockca_config c;
    char err[256];
    static const char *const set[] = {"MOCKCA_RATE_ORDERS_PER_ACCOUNT", "5/60",
                                      "MOCKCA_RATE_FAILED_VALIDATIONS_PER_IDENTIFIER", "3/3600",
                                      "MOCKCA_RATE_ACCOUNTS_PER_ADDRESS", "10/1", NULL};
    static const char *const off[] = {"MOCKCA_RATE_ORDERS_PER_ACCOUNT", "0", NULL};
    static const char *const bad[][3] = {{"MOCKCA_RATE_ORDERS_PER_ACCOUNT", "5", NULL},
                                         {"MOCKCA_RATE_ORDERS_PER_ACCOUNT", "5/0", NULL},
                                         {"MOCKCA_RATE_ORDERS_PER_ACCOUNT", "-1/60", NULL},
                                         {"MOCKCA_RATE_ACCOUNTS_PER_ADDRESS", "1/x", NULL},
                                         {"MOCKCA_RATE_ACCOUNTS_PER_ADDRESS", "1/60/2", NULL},
                                         {"MOCKCA_RATE_FAILED_VALIDATIONS_PER_IDENTIFIER",
                                          "100001/60", NULL}};

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_int_eq(apply(&c,
                           "{\"pebble\": {\"rateLimits\": {\"ordersPerAccount\": {\"count\": 1,"
                           " \"windowSeconds\": 9}}}}",
                           err, sizeof(err)),
                     MC_OK);
    ck_assert_msg(apply_env(&c, set, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_uint_eq(c.rl_orders_per_account.count, 5);
    ck_assert_int_eq(c.rl_orders_per_account.window_s, 60);
    ck_assert_uint_eq(c.rl_failed_validations.count, 3);
    ck_assert_int_eq(c.rl_failed_validations.window_s, 3600);
    ck_assert_uint_eq(c.rl_accounts_per_address.count, 10);
    ck_assert_int_eq(c.rl_accounts_per_address.window_s, 1);
    ck_assert_int_eq(apply_env(&c, off, err, sizeof(err)), MC_OK);
    ck_assert_uint_eq(c.rl_orders_per_account.count, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(apply_env(&c, bad[i], err, sizeof(err)) == MC_ERR_INVALID, "%s=%s",
                      bad[i][0], bad[i][1]);
        ck_assert_ptr_nonnull(strstr(err, bad[i][0]));
    }
    ck_assert_uint_eq(c.rl_accounts_per_address.count, 10); /* unchanged by refusals */
    mockca_config_free(&c);
}
END_TEST

/* ---- "certcentral" (ours) ---- */

static bool cc_eq(const struct mockca_cc_config *a, const struct mockca_cc_config *b)
{
    if (a->n_keys != b->n_keys || a->http_port != b->http_port ||
        a->dcv_timeout_ms != b->dcv_timeout_ms || a->auto_approve != b->auto_approve ||
        a->rl_short.count != b->rl_short.count || a->rl_short.window_s != b->rl_short.window_s ||
        a->rl_long.count != b->rl_long.count || a->rl_long.window_s != b->rl_long.window_s ||
        a->max_orders != b->max_orders || a->retention_s != b->retention_s ||
        a->max_cert_days != b->max_cert_days)
        return false;
    for (size_t i = 0; i < a->n_keys; i++)
        if (!str_eq(a->keys[i].key, b->keys[i].key) || !str_eq(a->keys[i].role, b->keys[i].role) ||
            a->keys[i].account_id != b->keys[i].account_id)
            return false;
    return true;
}

START_TEST(test_cc_defaults)
{
    struct mockca_config c;

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    /* No key: mockca_start makes one. The real service's limits per key. */
    ck_assert_uint_eq(c.cc.n_keys, 0);
    ck_assert_uint_eq(c.cc.rl_short.count, 100);
    ck_assert_int_eq(c.cc.rl_short.window_s, 5);
    ck_assert_uint_eq(c.cc.rl_long.count, 1000);
    ck_assert_int_eq(c.cc.rl_long.window_s, 180);
    ck_assert_uint_eq(c.cc.http_port, 0);
    ck_assert(!c.cc.auto_approve);
    ck_assert_int_eq(c.cc.max_orders, 0);
    mockca_config_free(&c);
}
END_TEST

START_TEST(test_cc_every_field)
{
    struct mockca_config c;
    char err[256];
    const char *json =
        "{\"pebble\": {\"httpPort\": 5080},"
        " \"certcentral\": {"
        "  \"apiKeys\": [{\"key\": \"A1\", \"role\": \"administrator\"},"
        "              {\"key\": \"U2\", \"role\": \"user\", \"accountId\": 7},"
        "              {\"key\": \"V3\", \"role\": \"viewer\", \"accountId\": 0}],"
        "  \"httpPort\": 8080, \"dcvTimeoutMs\": 1500, \"autoApprove\": true,"
        "  \"rateLimits\": {\"short\": {\"count\": 10, \"windowSeconds\": 2},"
        "                   \"long\": {\"count\": 0}},"
        "  \"maxOrders\": 50, \"retentionSeconds\": 3600, \"maxCertDays\": 199}}";

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(apply(&c, json, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_uint_eq(c.http_port, 5080); /* Pebble's field is its own */
    ck_assert_uint_eq(c.cc.n_keys, 3);
    ck_assert_str_eq(c.cc.keys[0].key, "A1");
    ck_assert_str_eq(c.cc.keys[0].role, "administrator");
    ck_assert_int_eq(c.cc.keys[0].account_id, 0);
    ck_assert_str_eq(c.cc.keys[1].key, "U2");
    ck_assert_str_eq(c.cc.keys[1].role, "user");
    ck_assert_int_eq(c.cc.keys[1].account_id, 7);
    ck_assert_str_eq(c.cc.keys[2].role, "viewer");
    ck_assert_uint_eq(c.cc.http_port, 8080);
    ck_assert_int_eq(c.cc.dcv_timeout_ms, 1500);
    ck_assert(c.cc.auto_approve);
    ck_assert_uint_eq(c.cc.rl_short.count, 10);
    ck_assert_int_eq(c.cc.rl_short.window_s, 2);
    ck_assert_uint_eq(c.cc.rl_long.count, 0); /* turned off */
    ck_assert_int_eq(c.cc.max_orders, 50);
    ck_assert_int_eq(c.cc.retention_s, 3600);
    ck_assert_int_eq(c.cc.max_cert_days, 199);

    /* A later file without "certcentral" keeps it all (the deep copy carries the keys);
     * one with apiKeys replaces the set, and an absent rate limit keeps its value. */
    ck_assert_msg(apply(&c, "{\"pebble\": {\"tlsPort\": 5443}}", err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_uint_eq(c.cc.n_keys, 3);
    ck_assert_str_eq(c.cc.keys[2].key, "V3");
    ck_assert_msg(apply(&c,
                        "{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"Z\","
                        " \"role\": \"user\"}], \"rateLimits\": {}}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    ck_assert_uint_eq(c.cc.n_keys, 1);
    ck_assert_str_eq(c.cc.keys[0].key, "Z");
    ck_assert_uint_eq(c.cc.rl_short.count, 10);
    mockca_config_free(&c);
}
END_TEST

static const struct {
    const char *json;
    const char *field; /* what the error message must name */
} cc_bad[] = {
    {"{\"pebble\": {}, \"certcentral\": []}", "certcentral"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": {}}}", "certcentral.apiKeys"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [\"K\"]}}", "certcentral.apiKeys[0]"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"role\": \"user\"}]}}",
     "certcentral.apiKeys[0].key"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"a b\", \"role\": \"user\"}]}}",
     "certcentral.apiKeys[0].key"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"\", \"role\": \"user\"}]}}",
     "certcentral.apiKeys[0].key"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"K\", \"role\": \"root\"}]}}",
     "certcentral.apiKeys[0].role"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"K\", \"role\": \"user\"},"
     " {\"key\": \"K\", \"role\": \"viewer\"}]}}",
     "certcentral.apiKeys[1].key"},
    {"{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"K\", \"role\": \"user\","
     " \"accountId\": -1}]}}",
     "certcentral.apiKeys[0]"},
    {"{\"pebble\": {}, \"certcentral\": {\"httpPort\": 70000}}", "certcentral.httpPort"},
    {"{\"pebble\": {}, \"certcentral\": {\"dcvTimeoutMs\": \"1s\"}}", "certcentral.dcvTimeoutMs"},
    {"{\"pebble\": {}, \"certcentral\": {\"autoApprove\": \"yes\"}}", "certcentral.autoApprove"},
    {"{\"pebble\": {}, \"certcentral\": {\"rateLimits\": 5}}", "certcentral.rateLimits"},
    {"{\"pebble\": {}, \"certcentral\": {\"rateLimits\": {\"short\": {\"count\": 5}}}}",
     "certcentral.rateLimits.short"},
    {"{\"pebble\": {}, \"certcentral\": {\"maxOrders\": 1.5}}", "certcentral.maxOrders"},
    {"{\"pebble\": {}, \"certcentral\": {\"maxCertDays\": -1}}", "certcentral.maxCertDays"},
};

START_TEST(test_cc_bad)
{
    struct mockca_config c, before;
    char err[256];

    base_config(&c);
    ck_assert_msg(apply(&c,
                        "{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"KEEP\","
                        " \"role\": \"user\"}]}}",
                        err, sizeof(err)) == MC_OK,
                  "%s", err);
    base_config(&before);
    ck_assert_int_eq(apply(&before,
                           "{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"KEEP\","
                           " \"role\": \"user\"}]}}",
                           err, sizeof(err)),
                     MC_OK);
    err[0] = '\0';
    ck_assert_int_eq(apply(&c, cc_bad[_i].json, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_msg(strstr(err, cc_bad[_i].field) != NULL, "case %d: \"%s\" does not name %s", _i,
                  err, cc_bad[_i].field);
    ck_assert(config_eq(&c, &before));
    ck_assert(cc_eq(&c.cc, &before.cc));
    mockca_config_free(&c);
    mockca_config_free(&before);
}
END_TEST

START_TEST(test_cc_env_key)
{
    struct mockca_config c;
    char err[256];
    static const char *const one[] = {"MOCKCA_CC_API_KEY", "ENVADMIN01", NULL};
    static const char *const bad[] = {"MOCKCA_CC_API_KEY", "has space", NULL};
    static const char *const empty[] = {"MOCKCA_CC_API_KEY", "", NULL};

    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_msg(apply_env(&c, one, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_uint_eq(c.cc.n_keys, 1);
    ck_assert_str_eq(c.cc.keys[0].key, "ENVADMIN01");
    ck_assert_str_eq(c.cc.keys[0].role, "administrator");
    ck_assert_int_eq(c.cc.keys[0].account_id, 1);
    /* The same key again (a second apply): not listed twice. Empty: nothing. */
    ck_assert_int_eq(apply_env(&c, one, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(apply_env(&c, empty, err, sizeof(err)), MC_OK);
    ck_assert_uint_eq(c.cc.n_keys, 1);
    /* Over a config file's keys: added to them. */
    mockca_config_free(&c);
    ck_assert_int_eq(mockca_config_init(&c), MC_OK);
    ck_assert_int_eq(apply(&c,
                           "{\"pebble\": {}, \"certcentral\": {\"apiKeys\": [{\"key\": \"F\","
                           " \"role\": \"viewer\"}]}}",
                           err, sizeof(err)),
                     MC_OK);
    ck_assert_int_eq(apply_env(&c, one, err, sizeof(err)), MC_OK);
    ck_assert_uint_eq(c.cc.n_keys, 2);
    ck_assert_str_eq(c.cc.keys[0].key, "F");
    ck_assert_str_eq(c.cc.keys[1].key, "ENVADMIN01");
    /* A key that cannot travel in a header: refused, naming the variable, cfg unchanged. */
    ck_assert_int_eq(apply_env(&c, bad, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, "MOCKCA_CC_API_KEY"));
    ck_assert_uint_eq(c.cc.n_keys, 2);
    mockca_config_free(&c);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_debian_example);
    tcase_add_test(tc, test_debian_example_eab);
    tcase_add_test(tc, test_fixture);
    tcase_add_test(tc, test_every_field);
    tcase_add_test(tc, test_go_decoder_rules);
    tcase_add_test(tc, test_certificate_validity_period);
    tcase_add_loop_test(tc, test_wrong_types, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
    tcase_add_test(tc, test_bad_mac);
    tcase_add_test(tc, test_missing_pebble);
    tcase_add_test(tc, test_over_cap);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_env_every_variable);
    tcase_add_test(tc, test_env_bools);
    tcase_add_test(tc, test_ours_store_and_randomness);
    tcase_add_test(tc, test_env_rate_limits);
    tcase_add_test(tc, test_cc_defaults);
    tcase_add_test(tc, test_cc_every_field);
    tcase_add_loop_test(tc, test_cc_bad, 0, (int)(sizeof(cc_bad) / sizeof(cc_bad[0])));
    tcase_add_test(tc, test_cc_env_key);
    tcase_add_loop_test(tc, test_env_bad_values, 0, (int)(sizeof(bad_env) / sizeof(bad_env[0])));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
