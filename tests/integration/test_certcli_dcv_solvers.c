/* test_certcli_dcv_solvers.c: the solvers' generic entry points (solver_txt_*,
 * solver_file_*) that DigiCert's DCV values and request tokens use: TXT records through
 * dnsmock's management API (seen by a DNS query, and by the propagation check) and through
 * a hook, fileauth.txt through a webroot and through the built-in HTTP server, and
 * everything that must be refused before it reaches a record, a file or a hook. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "client/solver.h"
#include "common/file.h"
#include "dnsmock/dnsmock.h"
#include "testutil.h"

static struct dnsmock *d;

static void setup(void)
{
    d = tu_dnsmock_start();
    /* A zone with an authoritative server on loopback, for the propagation check. */
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-zone",
                                  "{\"zone\":\"example.test\",\"ns\":\"ns1.example.test\"}", NULL),
                     200);
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-a",
                                  "{\"host\":\"ns1.example.test\",\"addresses\":[\"127.0.0.1\"]}",
                                  NULL),
                     200);
}

static void teardown(void)
{
    dnsmock_stop(d);
    d = NULL;
}

/* The TXT values at name, joined with ',' into buf ("" when none). */
static const char *txt_at(const char *name, char *buf, size_t n)
{
    ldns_pkt *p = tu_dns_query(dnsmock_dns_port(d), name, LDNS_RR_TYPE_TXT, false);
    buf[0] = '\0';
    ck_assert_ptr_nonnull(p);
    ldns_rr_list *ans = ldns_pkt_answer(p);
    for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
        ldns_rr *rr = ldns_rr_list_rr(ans, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", l > 0 ? "," : "", s);
        free(s);
    }
    ldns_pkt_free(p);
    return buf;
}

START_TEST(txt_mgmt)
{
    struct solver_config cfg = {.kind = SOLVER_DNS_MGMT, .mgmt_url = dnsmock_mgmt_url(d)};
    struct solver *sv = NULL;
    char buf[512];
    const char *tok = "20240101000000345q4ar5ij8cr65xnydd7vw1dimi5ukr0t28yk6zyv25zz6iaw";

    cfg.prop.enabled = true;
    cfg.prop.resolver = dnsmock_addr(d);
    cfg.prop.auth_port = dnsmock_dns_port(d);
    cfg.prop.timeout_s = 1;
    cfg.prop.interval_ms = 100;
    ck_assert_int_eq(solver_new(&cfg, &sv), MC_OK);
    ck_assert_int_eq(solver_txt_present(sv, "_dnsauth.WWW.example.test", tok), MC_OK);
    ck_assert_int_eq(solver_txt_present(sv, "_dnsauth.www.example.test.", "second-value"), MC_OK);
    ck_assert_int_eq(solver_txt_wait_ready(sv, "_dnsauth.www.example.test", tok), MC_OK);
    txt_at("_dnsauth.www.example.test.", buf, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, tok));
    ck_assert_ptr_nonnull(strstr(buf, "second-value"));
    /* A value never presented is not ready: a bounded wait. */
    ck_assert_int_eq(solver_txt_wait_ready(sv, "_dnsauth.www.example.test", "nope"), MC_ERR_TIMEOUT);
    /* Cleanup takes one value away and leaves the other. */
    ck_assert_int_eq(solver_txt_cleanup(sv, "_dnsauth.www.example.test", tok), MC_OK);
    txt_at("_dnsauth.www.example.test.", buf, sizeof buf);
    ck_assert_ptr_null(strstr(buf, tok));
    ck_assert_ptr_nonnull(strstr(buf, "second-value"));
    /* Cleaning what is not there is no failure. */
    ck_assert_int_eq(solver_txt_cleanup(sv, "_dnsauth.www.example.test", tok), MC_OK);

    /* Refused before anything is sent. */
    ck_assert_int_eq(solver_txt_present(sv, "bad name.example.test", tok), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "a..example.test", tok), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "", tok), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "x.example.test", "has space"), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "x.example.test", "q\"uote"), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "x.example.test", ""), MC_ERR_INVALID);
    ck_assert_int_eq(solver_file_present(sv, "/.well-known/pki-validation/fileauth.txt", tok),
                     MC_ERR_UNSUPPORTED);
    /* What is still present goes at solver_free. */
    solver_free(sv);
    txt_at("_dnsauth.www.example.test.", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(txt_hook)
{
    char *dir = tu_tmpdir(), hook[600], log[600], script[1400];
    char *got = NULL;
    size_t len = 0;
    struct solver_config cfg = {.kind = SOLVER_DNS_HOOK};
    struct solver *sv = NULL;

    ck_assert_ptr_nonnull(dir);
    snprintf(hook, sizeof hook, "%s/hook.sh", dir);
    snprintf(log, sizeof log, "%s/hook.log", dir);
    snprintf(script, sizeof script,
             "#!/bin/sh\necho \"$1 $2 $3 $CERTCLI_CHALLENGE [$CERTCLI_TOKEN]\" >> '%s'\n", log);
    ck_assert_int_eq(file_write_atomic(hook, script, strlen(script), 0755), MC_OK);
    cfg.hook = hook;
    ck_assert_int_eq(solver_new(&cfg, &sv), MC_OK);
    ck_assert_int_eq(solver_txt_present(sv, "_dnsauth.hook.test", "RV123"), MC_OK);
    ck_assert_int_eq(solver_txt_cleanup(sv, "_dnsauth.hook.test", "RV123"), MC_OK);
    solver_free(sv);
    ck_assert_int_eq(file_read_all(log, 4096, &got, &len), MC_OK);
    ck_assert_str_eq(got, "present _dnsauth.hook.test. RV123 dns-txt []\n"
                          "cleanup _dnsauth.hook.test. RV123 dns-txt []\n");
    free(got);
    unlink(hook);
    unlink(log);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(file_webroot)
{
    char *root = tu_tmpdir(), path[600], *got = NULL;
    size_t len = 0;
    struct stat st;
    struct solver_config cfg = {.kind = SOLVER_HTTP_WEBROOT};
    struct solver *sv = NULL;
    const char *fa = "/.well-known/pki-validation/fileauth.txt";

    ck_assert_ptr_nonnull(root);
    cfg.webroot = root;
    ck_assert_int_eq(solver_new(&cfg, &sv), MC_OK);
    ck_assert_int_eq(solver_file_present(sv, fa, "tok-value"), MC_OK);
    snprintf(path, sizeof path, "%s%s", root, fa);
    ck_assert_int_eq(file_read_all(path, 4096, &got, &len), MC_OK);
    ck_assert_str_eq(got, "tok-value");
    free(got);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0644);
    /* Replaced in place. */
    ck_assert_int_eq(solver_file_present(sv, fa, "other-value"), MC_OK);
    ck_assert_int_eq(file_read_all(path, 4096, &got, &len), MC_OK);
    ck_assert_str_eq(got, "other-value");
    free(got);
    ck_assert_int_eq(solver_file_cleanup(sv, fa), MC_OK);
    ck_assert_int_ne(stat(path, &st), 0);

    /* Nothing outside /.well-known/, no climbing, no hidden files, no control bytes. */
    static const char *const bad[] = {"/etc/passwd",
                                      "/.well-known/../x",
                                      "/.well-known/.hidden",
                                      "/.well-known/a//b",
                                      "/.well-known/",
                                      "/.well-known/a/b/c/d/e",
                                      "/.well-known/a b",
                                      ".well-known/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(solver_file_present(sv, bad[i], "x") == MC_ERR_INVALID, "%s", bad[i]);
    ck_assert_int_eq(solver_file_present(sv, fa, "bad\001byte"), MC_ERR_INVALID);
    ck_assert_int_eq(solver_file_present(sv, fa, ""), MC_ERR_INVALID);
    ck_assert_int_eq(solver_txt_present(sv, "x.example.test", "v"), MC_ERR_UNSUPPORTED);

    /* solver_free removes what is left and the folders it made. */
    ck_assert_int_eq(solver_file_present(sv, fa, "left"), MC_OK);
    solver_free(sv);
    ck_assert_int_ne(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/.well-known", root);
    ck_assert_int_ne(stat(path, &st), 0);
    ck_assert_int_eq(rmdir(root), 0);
    free(root);
}
END_TEST

START_TEST(file_standalone)
{
    struct solver_config cfg = {.kind = SOLVER_HTTP_STANDALONE, .address = "127.0.0.1"};
    struct solver *sv = NULL;
    struct tu_http h;
    char url[200];

    ck_assert_int_eq(solver_new(&cfg, &sv), MC_OK);
    ck_assert_int_eq(solver_file_present(sv, "/.well-known/pki-validation/fileauth.txt", "abc123"),
                     MC_OK);
    snprintf(url, sizeof url, "http://127.0.0.1:%u/.well-known/pki-validation/fileauth.txt",
             (unsigned)solver_port(sv));
    memset(&h, 0, sizeof h);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, "abc123");
    tu_http_free(&h);
    /* The built-in server routes pki-validation only. */
    ck_assert_int_eq(solver_file_present(sv, "/.well-known/other/x.txt", "abc"), MC_ERR_UNSUPPORTED);
    ck_assert_int_eq(solver_file_cleanup(sv, "/.well-known/pki-validation/fileauth.txt"), MC_OK);
    memset(&h, 0, sizeof h);
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);
    solver_free(sv);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_dcv_solvers");
    TCase *tc = tcase_create("generic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, txt_mgmt);
    tcase_add_test(tc, txt_hook);
    tcase_add_test(tc, file_webroot);
    tcase_add_test(tc, file_standalone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(suite());
}
