/* Integration tests for libcertcli's certificate flow (client/issue.c, revocation.c,
 * renew.c) against an in-process mockca: http-01 with one and several names, dns-01 for a
 * wildcard through the embedded dnsmock's management API, an IP identifier, a user's CSR
 * (and one with the wrong names refused before anything is sent), profiles, alternate
 * chains, ARI and "replaces", a failed validation with every record cleaned up, and
 * revocation by account and by certificate key. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "acme_client.h"
#include "client/issue.h"
#include "client/lineage.h"
#include "client/registration.h"
#include "client/renew.h"
#include "client/revocation.h"
#include "client/solver.h"
#include "client/solver_impl.h"
#include "client/wire.h"
#include "common/ari.h"
#include "common/file.h"
#include "common/json.h"
#include "common/keys.h"
#include "common/pem.h"
#include "common/x509.h"
#include "testutil.h"

#define P URN

static struct solver *g_http; /* the real http-01 standalone solver */
static uint16_t g_http_port;  /* where mockca validates http-01 */
static char *g_root_file;     /* mockca's TLS root, for the session and tu_http */
static struct sess *g_s;
static EVP_PKEY *g_acct;
static unsigned g_alt_roots; /* alternate_roots for the next start */
static bool g_profiles;      /* add a "shortlived" profile */
static bool g_use_responder; /* leave http-01 at the test client's responder */

static void adjust(struct mockca_config *cfg)
{
    if (!g_use_responder)
        cfg->http_port = g_http_port; /* ac_start set its responder's; ours instead */
    cfg->alternate_roots = g_alt_roots;
    /* Pebble's 3 s / 5 s Retry-After would make each poll wait; the session caps waits at
     * 1 s anyway (max_wait_s), this only keeps the run short. */
    cfg->retry_after_authz_s = 0;
    cfg->retry_after_order_s = 0;
    if (g_profiles) {
        size_t i = cfg->n_profiles;
        cfg->profiles[i].name = strdup("shortlived");
        cfg->profiles[i].description = strdup("six days");
        cfg->profiles[i].validity_s = 6 * 86400;
        ck_assert_ptr_nonnull(cfg->profiles[i].name);
        cfg->n_profiles = i + 1;
    }
}

static struct sess *open_session(EVP_PKEY *key)
{
    struct sess_opts o;
    struct sess *s = NULL;
    struct reg_new rq = {0};
    bool created = false;

    sess_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = g_root_file;
    o.max_wait_s = 1;
    o.seed = 1;
    ck_assert_int_eq(sess_new(&o, &s), MC_OK);
    ck_assert_int_eq(sess_set_account(s, key, NULL), MC_OK);
    rq.agree_tos = true;
    ck_assert_int_eq(reg_register(s, &rq, &created, NULL), MC_OK);
    ck_assert(created);
    ck_assert_ptr_nonnull(sess_kid(s));
    return s;
}

static void start(unsigned alt_roots, bool profiles)
{
    struct solver_config sc = {0};
    char *dir = NULL;

    sc.kind = SOLVER_HTTP_STANDALONE;
    sc.address = "127.0.0.1";
    sc.port = 0;
    ck_assert_int_eq(solver_new(&sc, &g_http), MC_OK);
    g_http_port = solver_port(g_http);
    ck_assert_uint_ne(g_http_port, 0);
    g_alt_roots = alt_roots;
    g_profiles = profiles;
    ac_start(adjust, true);
    dir = tu_tmpdir();
    ck_assert_int_ge(asprintf(&g_root_file, "%s/root.pem", dir), 0);
    free(dir);
    ac_write_tls_root(g_root_file);
    g_acct = newkey();
    g_s = open_session(g_acct);
}

static void setup(void)
{
    g_use_responder = false;
    start(0, false);
}

static void setup_alt(void)
{
    g_use_responder = false;
    start(1, true);
}

static void teardown(void)
{
    char *slash;

    sess_free(g_s);
    g_s = NULL;
    EVP_PKEY_free(g_acct);
    g_acct = NULL;
    ac_stop();
    solver_free(g_http);
    g_http = NULL;
    unlink(g_root_file);
    slash = strrchr(g_root_file, '/');
    *slash = '\0';
    rmdir(g_root_file);
    free(g_root_file);
    g_root_file = NULL;
}

/* ---- fakes built on solver_impl.h: what a test needs that no real kind does ---------- */

static int g_presented, g_cleaned;

static const char *dns_mgmt_url(void)
{
    return dnsmock_mgmt_url(mockca_dnsmock(g_m));
}

static void fake_destroy(struct solver *sv)
{
    (void)sv;
}

/* An http-01 solver that publishes a WRONG key authorization through the test client's
 * responder, counting presents and cleanups. */
static enum mc_err fake_bad_present(struct solver *sv, const struct chall_ctx *c)
{
    (void)sv;
    provision_http(c->token, "wrong.keyauthorization");
    g_presented++;
    return MC_OK;
}

static enum mc_err fake_bad_cleanup(struct solver *sv, const struct chall_ctx *c)
{
    (void)sv;
    (void)c;
    g_cleaned++;
    return MC_OK;
}

static const struct solver_ops fake_bad_ops = {fake_bad_present, fake_bad_cleanup, fake_destroy};

static struct solver *fake_solver(enum solver_kind kind, const struct solver_ops *ops)
{
    struct solver *sv = calloc(1, sizeof *sv);
    ck_assert_ptr_nonnull(sv);
    sv->cfg.kind = kind;
    sv->ops = ops;
    return sv;
}

/* dns-01 through the embedded dnsmock's management API. */
static struct solver *dns_solver(void)
{
    struct solver_config sc = {0};
    struct solver *sv = NULL;

    sc.kind = SOLVER_DNS_MGMT;
    sc.mgmt_url = dns_mgmt_url();
    ck_assert_int_eq(solver_new(&sc, &sv), MC_OK);
    return sv;
}

/* ---- helpers -------------------------------------------------------------------------- */

static void idents_of(struct ident_list *l, const char *const *names, size_t n)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; i < n; i++) {
        enum ident_type t =
            strchr(names[i], ':') != NULL || (names[i][0] >= '0' && names[i][0] <= '9') ? IDENT_IP
                                                                                        : IDENT_DNS;
        ck_assert_int_eq(ident_list_add(l, t, names[i]), MC_OK);
    }
}

static char *cn_of(const X509_NAME *name)
{
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *u = NULL;
    char *out;

    ck_assert_int_ge(i, 0);
    ck_assert_int_ge(
        ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))), 0);
    out = strdup((char *)u);
    OPENSSL_free(u);
    return out;
}

/* Verifies r's chain (leaf + intermediates) up to chain's root from mockca. */
static void assert_chain_verifies(const struct issue_result *r, size_t chain)
{
    STACK_OF(X509) *certs = NULL, *roots = NULL;
    char *root_pem = NULL;
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    STACK_OF(X509) *untrusted = sk_X509_new_null();

    ck_assert_int_eq(mockca_root_pem(g_m, chain, &root_pem), MC_OK);
    ck_assert_int_eq(pem_read_certs(root_pem, strlen(root_pem), &roots), MC_OK);
    ck_assert_int_eq(X509_STORE_add_cert(st, sk_X509_value(roots, 0)), 1);
    ck_assert_int_eq(pem_read_certs(r->chain_pem, strlen(r->chain_pem), &certs), MC_OK);
    for (int i = 1; i < sk_X509_num(certs); i++)
        sk_X509_push(untrusted, sk_X509_value(certs, i));
    ck_assert_int_eq(X509_STORE_CTX_init(ctx, st, sk_X509_value(certs, 0), untrusted), 1);
    ck_assert_msg(X509_verify_cert(ctx) == 1, "chain does not verify: %s",
                  X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    sk_X509_free(untrusted);
    sk_X509_pop_free(certs, X509_free);
    sk_X509_pop_free(roots, X509_free);
    free(root_pem);
}

/* Issues for names with solvers; asserts success and the leaf's SANs. */
static void issue_ok(const char *const *names, size_t n, struct solver *const *solvers,
                     size_t n_solvers, EVP_PKEY *ck, struct issue_result *r)
{
    struct issue_req rq = {0};
    struct ident_list sans = {0};
    enum mc_err e;

    idents_of(&rq.idents, names, n);
    rq.cert_key = ck;
    rq.solvers = solvers;
    rq.n_solvers = n_solvers;
    rq.poll_timeout_s = 30;
    e = issue_cert(g_s, &rq, r);
    ck_assert_msg(e == MC_OK, "issue_cert: %s (%s)", mc_strerror(e), sess_last_error(g_s));
    ck_assert_ptr_nonnull(r->leaf);
    ck_assert_ptr_nonnull(r->chain_pem);
    ck_assert_int_eq(wire_check_url(r->cert_url), MC_OK);
    ck_assert_int_eq(wire_check_url(r->order_url), MC_OK);
    ck_assert_int_eq(x509_sans(r->leaf, &sans), MC_OK);
    ck_assert(ident_list_same_set(&sans, &rq.idents));
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(r->leaf), ck), 1);
    ident_list_free(&sans);
    ident_list_free(&rq.idents);
}

/* ---- tests ---------------------------------------------------------------------------- */

START_TEST(test_http01_single)
{
    const char *names[] = {"single.example.com"};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    char *cn = NULL;

    issue_ok(names, 1, &g_http, 1, ck, &r);
    assert_chain_verifies(&r, 0);
    cn = cn_of(X509_get_subject_name(r.leaf));
    ck_assert_str_eq(cn, "single.example.com");
    ck_assert_ptr_nonnull(r.issuer_cn);
    ck_assert_uint_eq(r.n_alternates, 0);
    ck_assert_ptr_null(r.problem);
    free(cn);
    issue_result_free(&r);
    ck_assert_ptr_null(r.leaf);
    issue_result_free(NULL);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_http01_several)
{
    const char *names[] = {"a.example.com", "b.example.com", "c.example.org"};
    struct issue_result r;
    EVP_PKEY *ck = NULL;

    ck_assert_int_eq(key_generate(KEY_RSA2048, &ck), MC_OK);
    issue_ok(names, 3, &g_http, 1, ck, &r);
    assert_chain_verifies(&r, 0);
    issue_result_free(&r);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_dns01_wildcard)
{
    const char *names[] = {"*.wild.example.com", "wild.example.com"};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    /* http-01 first in preference: the wildcard authorization offers only dns-01, so it
     * falls through to the DNS solver, and the base name uses http-01 */
    struct solver *solvers[2] = {g_http, dns_solver()};
    ldns_pkt *pkt = NULL;

    issue_ok(names, 2, solvers, 2, ck, &r);
    assert_chain_verifies(&r, 0);
    /* the TXT record is gone afterwards */
    pkt = tu_dns_query(dnsmock_dns_port(mockca_dnsmock(g_m)), "_acme-challenge.wild.example.com",
                       LDNS_RR_TYPE_TXT, false);
    ck_assert_ptr_nonnull(pkt);
    ck_assert_uint_eq(ldns_pkt_ancount(pkt), 0);
    ldns_pkt_free(pkt);
    issue_result_free(&r);
    solver_free(solvers[1]);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_ip_identifier)
{
    const char *names[] = {"127.0.0.1"};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    X509_NAME *subj;

    issue_ok(names, 1, &g_http, 1, ck, &r);
    /* an IP-only order gets no CN */
    subj = X509_get_subject_name(r.leaf);
    ck_assert_int_lt(X509_NAME_get_index_by_NID(subj, NID_commonName, -1), 0);
    issue_result_free(&r);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_validity_request)
{
    const char *names[] = {"window.example.com"};
    struct issue_req rq = {0};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    int64_t now = time(NULL), nb = 0, na = 0;

    idents_of(&rq.idents, names, 1);
    rq.cert_key = ck;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    rq.poll_timeout_s = 30;
    rq.not_before = now + 3600;
    rq.not_after = now + 5 * 86400;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_int_eq(x509_validity(r.leaf, &nb, &na), MC_OK);
    ck_assert_int_eq(nb, rq.not_before);
    ck_assert_int_eq(na, rq.not_after);
    issue_result_free(&r);
    /* an empty window is refused before anything is sent */
    rq.not_after = rq.not_before;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_ERR_INVALID);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_user_csr)
{
    struct issue_req rq = {0};
    struct issue_result r;
    struct ident_list sans = {0};
    EVP_PKEY *ck = newkey();
    X509_REQ *csr = NULL;
    const char *names[] = {"csr.example.com", "www.csr.example.com"};

    idents_of(&rq.idents, names, 2);
    ck_assert_int_eq(csr_build(ck, "csr.example.com", &rq.idents, false, &csr), MC_OK);
    rq.csr = csr;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    rq.poll_timeout_s = 30;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_int_eq(EVP_PKEY_eq(X509_get0_pubkey(r.leaf), ck), 1);
    ck_assert_int_eq(x509_sans(r.leaf, &sans), MC_OK);
    ck_assert(ident_list_same_set(&sans, &rq.idents));
    issue_result_free(&r);
    ident_list_free(&sans);
    ident_list_free(&rq.idents);
    X509_REQ_free(csr);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_csr_mismatch_refused_locally)
{
    struct issue_req rq = {0};
    struct issue_result r;
    struct ident_list other = {0};
    EVP_PKEY *ck = newkey();
    X509_REQ *csr = NULL;
    struct sess_stats before, after;
    const char *names[] = {"one.example.com"};
    const char *csr_names[] = {"one.example.com", "two.example.com"};

    idents_of(&rq.idents, names, 1);
    idents_of(&other, csr_names, 2);
    ck_assert_int_eq(csr_build(ck, NULL, &other, false, &csr), MC_OK);
    rq.csr = csr;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    sess_stats(g_s, &before);
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_ERR_MISMATCH);
    sess_stats(g_s, &after);
    /* nothing reached the CA */
    ck_assert_uint_eq(before.requests, after.requests);
    ck_assert_ptr_null(r.order_url);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    ident_list_free(&other);
    X509_REQ_free(csr);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_profile)
{
    struct issue_req rq = {0};
    struct issue_result r;
    struct sess_stats before, after;
    EVP_PKEY *ck = newkey();
    const char *names[] = {"short.example.com"};
    int64_t nb = 0, na = 0;
    const struct sess_dir *d = sess_directory(g_s);
    bool listed = false;

    /* the directory lists both profiles */
    for (size_t i = 0; i < d->n_profiles; i++)
        listed = listed || strcmp(d->profile_names[i], "shortlived") == 0;
    ck_assert(listed);
    idents_of(&rq.idents, names, 1);
    rq.cert_key = ck;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    rq.poll_timeout_s = 30;
    /* an unknown profile is refused before the CA hears of it */
    rq.profile = "nosuchprofile";
    sess_stats(g_s, &before);
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_ERR_UNSUPPORTED);
    sess_stats(g_s, &after);
    ck_assert_uint_eq(before.requests, after.requests);
    issue_result_free(&r);
    /* the short profile gives a six-day certificate */
    rq.profile = "shortlived";
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_int_eq(x509_validity(r.leaf, &nb, &na), MC_OK);
    ck_assert_int_le(na - nb, 6 * 86400 + 3600);
    ck_assert_int_ge(na - nb, 6 * 86400 - 3600);
    issue_result_free(&r);
    /* and the default one a 90-day certificate (Pebble's default validity is longer than
     * six days in any case) */
    rq.profile = NULL;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_int_eq(x509_validity(r.leaf, &nb, &na), MC_OK);
    ck_assert_int_gt(na - nb, 10 * 86400);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_preferred_chain)
{
    struct issue_req rq = {0};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    const char *names[] = {"chain.example.com"};
    char *pem = NULL, *alt_cn = NULL, *def_cn = NULL;
    X509 *root = NULL;

    ck_assert_int_eq(mockca_root_pem(g_m, 1, &pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &root), MC_OK);
    alt_cn = cn_of(X509_get_subject_name(root));
    free(pem);
    X509_free(root);
    ck_assert_int_eq(mockca_root_pem(g_m, 0, &pem), MC_OK);
    ck_assert_int_eq(pem_read_cert(pem, strlen(pem), &root), MC_OK);
    def_cn = cn_of(X509_get_subject_name(root));
    free(pem);
    X509_free(root);
    ck_assert_str_ne(alt_cn, def_cn);

    idents_of(&rq.idents, names, 1);
    rq.cert_key = ck;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    rq.poll_timeout_s = 30;
    /* no preference: the default chain */
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_uint_eq(r.n_alternates, 1);
    ck_assert_str_eq(r.issuer_cn, def_cn);
    assert_chain_verifies(&r, 0);
    issue_result_free(&r);
    /* the alternate root by name */
    rq.preferred_chain = alt_cn;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_uint_eq(r.n_alternates, 1);
    ck_assert_str_eq(r.issuer_cn, alt_cn);
    ck_assert_ptr_nonnull(strstr(r.cert_url, "alternate"));
    assert_chain_verifies(&r, 1);
    issue_result_free(&r);
    /* a name no chain has: the default chain, no failure */
    rq.preferred_chain = "No Such Root";
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_OK);
    ck_assert_str_eq(r.issuer_cn, def_cn);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    free(alt_cn);
    free(def_cn);
    EVP_PKEY_free(ck);
}
END_TEST

/* Sets the ARI window of leaf through mockca's management API. */
static void set_window(X509 *leaf, const char *start, const char *end)
{
    char *pem = NULL, *ari = NULL;
    cJSON *body = cJSON_CreateObject();
    char *text = NULL, *url = NULL;
    struct tu_http h = {0};
    const char *hdrs[] = {"Content-Type: application/json", NULL};

    ck_assert_int_eq(pem_write_cert(leaf, &pem), MC_OK);
    ck_assert_int_ge(asprintf(&ari,
                              "{\"suggestedWindow\":{\"start\":\"%s\",\"end\":\"%s\"},"
                              "\"explanationURL\":\"https://ca.example/why\"}",
                              start, end),
                     0);
    cJSON_AddStringToObject(body, "Certificate", pem);
    cJSON_AddStringToObject(body, "ARIResponse", ari);
    text = cJSON_PrintUnformatted(body);
    ck_assert_int_ge(asprintf(&url, "%s/set-renewal-info/", mockca_mgmt_url(g_m)), 0);
    ck_assert_int_eq(tu_http("POST", url, text, hdrs, g_root_file, &h), 0);
    ck_assert_msg(h.status == 200, "set-renewal-info: %ld %s", h.status, h.body);
    tu_http_free(&h);
    free(url);
    free(text);
    cJSON_Delete(body);
    free(pem);
    free(ari);
}

START_TEST(test_ari_and_replaces)
{
    const char *names[] = {"ari.example.com"};
    struct issue_result r, r2, r3;
    struct issue_req rq = {0};
    struct ari_window w = {0};
    EVP_PKEY *ck = newkey();
    char *id = NULL;
    int64_t now = time(NULL), nb = 0, na = 0, due = 0;
    struct sess_resp o = {0};
    const char *echo = NULL;

    issue_ok(names, 1, &g_http, 1, ck, &r);
    /* mockca's own window first */
    ck_assert_int_eq(renew_fetch_ari(g_s, r.leaf, now, &w), MC_OK);
    ck_assert_int_gt(w.start, 0);
    ck_assert_int_lt(w.start, w.end);
    ck_assert_int_ge(w.next_check, now + 60);
    ck_assert_int_le(w.next_check, now + 7 * 86400);
    ck_assert_int_eq(x509_validity(r.leaf, &nb, &na), MC_OK);
    ck_assert_int_le(w.end, na);
    ari_window_free(&w);
    /* a window set through the management API, already begun */
    set_window(r.leaf, "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z");
    ck_assert_int_eq(renew_fetch_ari(g_s, r.leaf, now, &w), MC_OK);
    ck_assert_int_eq(w.start, 1577836800);
    ck_assert_int_eq(w.end, 1577923200);
    ck_assert_str_eq(w.explanation_url, "https://ca.example/why");
    ck_assert_int_eq(renew_due(nb, na, now, 0, &w, &due), RENEW_ARI);
    ck_assert_int_eq(due, 1577836800);
    ari_window_free(&w);

    /* the renewal carries replaces, which mockca echoes in the order */
    ck_assert_int_eq(ari_cert_id(r.leaf, &id), MC_OK);
    idents_of(&rq.idents, names, 1);
    rq.cert_key = ck;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    rq.replaces = id;
    rq.poll_timeout_s = 30;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r2), MC_OK);
    ck_assert_int_eq(sess_post(g_s, r2.order_url, NULL, SESS_SIGN_KID, &o), MC_OK);
    ck_assert_int_eq(json_get_string(o.json, "replaces", &echo), MC_OK);
    ck_assert_str_eq(echo, id);
    sess_resp_free(&o);
    /* a certificate can be replaced once: the CA refuses a second order */
    ck_assert_int_eq(issue_cert(g_s, &rq, &r3), MC_ERR_PROBLEM);
    ck_assert_ptr_nonnull(sess_last_problem(g_s));
    ck_assert_ptr_null(r3.problem);
    issue_result_free(&r);
    issue_result_free(&r2);
    issue_result_free(&r3);
    ident_list_free(&rq.idents);
    free(id);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_validation_failure)
{
    const char *names[] = {"bad1.example.com", "bad2.example.com"};
    struct issue_req rq = {0};
    struct issue_result r;
    EVP_PKEY *ck = newkey();
    struct solver *bad = fake_solver(SOLVER_HTTP_STANDALONE, &fake_bad_ops);

    /* this CA validates http-01 at the test client's responder (setup_responder), where
     * the fake solver publishes wrong key authorizations */
    g_presented = g_cleaned = 0;
    idents_of(&rq.idents, names, 2);
    rq.cert_key = ck;
    rq.solvers = &bad;
    rq.n_solvers = 1;
    rq.poll_timeout_s = 30;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_ERR_PROBLEM);
    ck_assert_ptr_nonnull(r.problem);
    ck_assert_str_eq(r.problem->type, P "unauthorized");
    ck_assert_int_eq(g_presented, 2);
    ck_assert_int_eq(g_cleaned, 2);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    solver_free(bad);
    EVP_PKEY_free(ck);
}
END_TEST

static void setup_responder(void)
{
    g_use_responder = true;
    start(0, false);
}

START_TEST(test_no_solver_for_challenge)
{
    const char *names[] = {"*.nosolver.example.com"};
    struct issue_req rq = {0};
    struct issue_result r;
    EVP_PKEY *ck = newkey();

    /* a wildcard offers only dns-01; an http-01 solver alone cannot answer */
    idents_of(&rq.idents, names, 1);
    rq.cert_key = ck;
    rq.solvers = &g_http;
    rq.n_solvers = 1;
    ck_assert_int_eq(issue_cert(g_s, &rq, &r), MC_ERR_UNSUPPORTED);
    issue_result_free(&r);
    ident_list_free(&rq.idents);
    EVP_PKEY_free(ck);
}
END_TEST

START_TEST(test_lineage_of_issued)
{
    const char *names[] = {"store.example.com", "127.0.0.1"};
    struct issue_result r;
    struct ident_list ids;
    struct ari_window w = {0};
    EVP_PKEY *ck = newkey(), *key_back = NULL;
    X509 *leaf_back = NULL;
    cJSON *meta = NULL, *meta_back = NULL;
    char *dir = tu_tmpdir(), *id = NULL, *cmd = NULL, *ex = NULL;
    const char *s = NULL;
    int64_t now = time(NULL), st = 0, en = 0, nc = 0;

    issue_ok(names, 2, &g_http, 1, ck, &r);
    idents_of(&ids, names, 2);
    struct lineage_meta_in in = {.name = "store",
                                 .directory = mockca_directory_url(g_m),
                                 .account = sess_kid(g_s),
                                 .idents = &ids,
                                 .key_type = "ec256",
                                 .challenge = "http-01",
                                 .issued_at = now,
                                 .leaf = r.leaf,
                                 .order_url = r.order_url,
                                 .cert_url = r.cert_url};
    ck_assert_int_eq(lineage_meta_new(&in, &meta), MC_OK);
    ck_assert_int_eq(renew_fetch_ari(g_s, r.leaf, now, &w), MC_OK);
    ck_assert_int_eq(lineage_meta_set_ari(meta, w.start, w.end, w.explanation_url, w.next_check),
                     MC_OK);
    ck_assert_int_eq(lineage_write(dir, "store", r.chain_pem, ck, meta), MC_OK);
    ck_assert_int_eq(lineage_read(dir, "store", &leaf_back, &key_back, &meta_back), MC_OK);
    ck_assert_int_eq(X509_cmp(leaf_back, r.leaf), 0);
    ck_assert_int_eq(EVP_PKEY_eq(key_back, ck), 1);
    ck_assert_int_eq(ari_cert_id(r.leaf, &id), MC_OK);
    ck_assert_int_eq(json_get_string(meta_back, "ari_id", &s), MC_OK);
    ck_assert_str_eq(s, id);
    ck_assert_int_eq(json_get_string(meta_back, "cert_url", &s), MC_OK);
    ck_assert_str_eq(s, r.cert_url);
    ck_assert_int_eq(lineage_meta_get_ari(meta_back, &st, &en, &ex, &nc), MC_OK);
    ck_assert_int_eq(st, w.start);
    ck_assert_int_eq(en, w.end);
    ck_assert_int_eq(nc, w.next_check);
    ck_assert_int_ge(asprintf(&cmd, "rm -rf '%s'", dir), 0);
    ck_assert_int_eq(system(cmd), 0);
    free(cmd);
    free(ex);
    free(id);
    free(dir);
    cJSON_Delete(meta);
    cJSON_Delete(meta_back);
    X509_free(leaf_back);
    EVP_PKEY_free(key_back);
    ari_window_free(&w);
    ident_list_free(&ids);
    issue_result_free(&r);
    EVP_PKEY_free(ck);
}
END_TEST

static char *cert_status(X509 *leaf)
{
    char *serial = NULL, *url = NULL, *out = NULL;
    struct tu_http h = {0};

    ck_assert_int_eq(x509_serial_hex(leaf, &serial), MC_OK);
    ck_assert_int_ge(asprintf(&url, "%s/cert-status-by-serial/%s", mockca_mgmt_url(g_m), serial),
                     0);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, g_root_file, &h), 0);
    ck_assert_int_eq(h.status, 200);
    out = strdup(h.body);
    tu_http_free(&h);
    free(url);
    free(serial);
    return out;
}

START_TEST(test_revoke)
{
    const char *names[] = {"revoke.example.com"};
    struct issue_result r, r2;
    EVP_PKEY *ck = newkey(), *other = newkey();
    char *st = NULL;
    int code = -5;

    /* by the account, with a reason */
    issue_ok(names, 1, &g_http, 1, ck, &r);
    ck_assert_int_eq(rvk_reason_parse("superseded", &code), MC_OK);
    ck_assert_int_eq(code, 4);
    ck_assert_int_eq(rvk_revoke(g_s, r.leaf, NULL, code), MC_OK);
    st = cert_status(r.leaf);
    ck_assert_ptr_nonnull(strstr(st, "\"Revoked\""));
    ck_assert_ptr_nonnull(strstr(st, "\"Reason\":4"));
    free(st);
    /* the second time: alreadyRevoked */
    ck_assert_int_eq(rvk_revoke(g_s, r.leaf, NULL, code), MC_ERR_PROBLEM);
    ck_assert_str_eq(sess_last_problem(g_s)->type, P "alreadyRevoked");

    /* by the certificate's key; a key that is not the certificate's is refused locally */
    issue_ok(names, 1, &g_http, 1, ck, &r2);
    ck_assert_int_eq(rvk_revoke(g_s, r2.leaf, other, RVK_NO_REASON), MC_ERR_MISMATCH);
    /* a reason RFC 5280 does not use is the CA's to refuse */
    ck_assert_int_eq(rvk_revoke(g_s, r2.leaf, ck, 7), MC_ERR_PROBLEM);
    ck_assert_str_eq(sess_last_problem(g_s)->type, P "badRevocationReason");
    st = cert_status(r2.leaf);
    ck_assert_ptr_nonnull(strstr(st, "\"Valid\""));
    free(st);
    ck_assert_int_eq(rvk_reason_parse("keycompromise", &code), MC_OK);
    ck_assert_int_eq(rvk_revoke(g_s, r2.leaf, ck, code), MC_OK);
    st = cert_status(r2.leaf);
    ck_assert_ptr_nonnull(strstr(st, "\"Revoked\""));
    ck_assert_ptr_nonnull(strstr(st, "\"Reason\":1"));
    free(st);
    ck_assert_int_eq(rvk_revoke(g_s, r2.leaf, ck, code), MC_ERR_PROBLEM);
    ck_assert_str_eq(sess_last_problem(g_s)->type, P "alreadyRevoked");
    issue_result_free(&r);
    issue_result_free(&r2);
    EVP_PKEY_free(ck);
    EVP_PKEY_free(other);
}
END_TEST

START_TEST(test_reason_names)
{
    int c = -1;
    ck_assert_int_eq(rvk_reason_parse("0", &c), MC_OK);
    ck_assert_int_eq(c, 0);
    ck_assert_int_eq(rvk_reason_parse("10", &c), MC_OK);
    ck_assert_int_eq(c, 10);
    ck_assert_int_eq(rvk_reason_parse("AACOMPROMISE", &c), MC_OK);
    ck_assert_int_eq(c, 10);
    ck_assert_int_eq(rvk_reason_parse("7", &c), MC_ERR_INVALID);
    ck_assert_int_eq(rvk_reason_parse("11", &c), MC_ERR_INVALID);
    ck_assert_int_eq(rvk_reason_parse("01", &c), MC_ERR_INVALID);
    ck_assert_int_eq(rvk_reason_parse("-1", &c), MC_ERR_INVALID);
    ck_assert_int_eq(rvk_reason_parse("bogus", &c), MC_ERR_INVALID);
    ck_assert_str_eq(rvk_reason_name(5), "cessationOfOperation");
    ck_assert_ptr_null(rvk_reason_name(7));
    ck_assert_ptr_null(rvk_reason_name(11));
}
END_TEST

static Suite *issue_suite(void)
{
    Suite *s = suite_create("certcli_issue");
    TCase *tc = tcase_create("issue");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_http01_single);
    tcase_add_test(tc, test_http01_several);
    tcase_add_test(tc, test_dns01_wildcard);
    tcase_add_test(tc, test_ip_identifier);
    tcase_add_test(tc, test_user_csr);
    tcase_add_test(tc, test_validity_request);
    tcase_add_test(tc, test_csr_mismatch_refused_locally);
    tcase_add_test(tc, test_ari_and_replaces);
    tcase_add_test(tc, test_revoke);
    tcase_add_test(tc, test_lineage_of_issued);
    suite_add_tcase(s, tc);

    tc = tcase_create("chains_profiles");
    tcase_add_checked_fixture(tc, setup_alt, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_profile);
    tcase_add_test(tc, test_preferred_chain);
    suite_add_tcase(s, tc);

    tc = tcase_create("failures");
    tcase_add_checked_fixture(tc, setup_responder, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_validation_failure);
    tcase_add_test(tc, test_no_solver_for_challenge);
    suite_add_tcase(s, tc);

    tc = tcase_create("offline");
    tcase_add_test(tc, test_reason_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(issue_suite());
}
