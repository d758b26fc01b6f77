/* certcli's session (client/session.h) against mockca's injected faults
 * (mockca/acme/afault.h): a badNonce storm on every second request, a 503 with a
 * Retry-After HTTP-date, a 429 with Retry-After seconds, and a dropped connection. Each
 * case checks what session.h promises: retried and recovered, or reported cleanly, and
 * the session still usable afterwards. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "client/registration.h"
#include "client/session.h"
#include "common/file.h"
#include "common/keys.h"
#include "mockca/mockca.h"
#include "acme_client.h"
#include "testutil.h"

static char *g_tmp;
static char g_root_path[512];
static struct sess *g_s;

static void start_ca(void)
{
    ac_start(NULL, false);
    const char *pem = mockca_tls_root_pem(g_m);
    ck_assert_ptr_nonnull(pem);
    g_tmp = tu_tmpdir();
    snprintf(g_root_path, sizeof g_root_path, "%s/root.pem", g_tmp);
    ck_assert_int_eq(file_write_atomic(g_root_path, pem, strlen(pem), 0644), MC_OK);
}

static void teardown(void)
{
    sess_free(g_s);
    g_s = NULL;
    ac_stop();
    unlink(g_root_path);
    rmdir(g_tmp);
    free(g_tmp);
    g_tmp = NULL;
}

static struct sess *open_sess(void)
{
    struct sess_opts o;
    struct sess *s = NULL;

    sess_opts_init(&o);
    o.directory_url = mockca_directory_url(g_m);
    o.ca_bundle = g_root_path;
    o.seed = 7;
    o.max_wait_s = 5;
    o.backoff_base_ms = 50;
    o.backoff_cap_ms = 200;
    enum mc_err e = sess_new(&o, &s);
    ck_assert_msg(e == MC_OK, "sess_new: %s", mc_strerror(e));
    return s;
}

static void register_account(struct sess *s)
{
    EVP_PKEY *k = NULL;
    struct reg_new req = {.agree_tos = true};
    bool created = false;

    ck_assert_int_eq(key_generate(KEY_EC_P256, &k), MC_OK);
    ck_assert_int_eq(sess_set_account(s, k, NULL), MC_OK);
    EVP_PKEY_free(k);
    enum mc_err e = reg_register(s, &req, &created, NULL);
    ck_assert_msg(e == MC_OK, "register: %s", sess_last_error(s));
    ck_assert(created);
}

static uint64_t add_fault(const char *match, const char *action)
{
    cJSON *jm = match != NULL ? cJSON_Parse(match) : NULL;
    cJSON *ja = cJSON_Parse(action);
    char err[256] = "";
    uint64_t id = 0;

    enum mc_err e = mockca_fault_add(g_m, "acme", jm, ja, &id, err, sizeof(err));
    ck_assert_msg(e == MC_OK, "mockca_fault_add: %s (%s)", mc_strerror(e), err);
    cJSON_Delete(jm);
    cJSON_Delete(ja);
    return id;
}

static uint64_t fired(uint64_t id)
{
    uint64_t n = 0;
    ck_assert_int_eq(mockca_fault_fired(g_m, id, &n), MC_OK);
    return n;
}

static enum mc_err cli_new_order(struct sess *s, struct sess_resp *r)
{
    cJSON *p = cJSON_Parse("{\"identifiers\":[{\"type\":\"dns\",\"value\":\"cli.example.com\"}]}");
    enum mc_err e = sess_post(s, sess_directory(s)->new_order, p, SESS_SIGN_KID, r);
    cJSON_Delete(p);
    return e;
}

START_TEST(test_bad_nonce_storm)
{
    start_ca();
    uint64_t id = add_fault("{\"kind\":\"POST\",\"every\":2}", "{\"action\":\"badNonce\"}");
    g_s = open_sess();
    register_account(g_s);
    for (int i = 0; i < 10; i++) {
        struct sess_resp r;
        enum mc_err e = cli_new_order(g_s, &r);
        ck_assert_msg(e == MC_OK, "newOrder %d: %s", i, sess_last_error(g_s));
        ck_assert_int_eq(r.status, 201);
        sess_resp_free(&r);
    }
    struct sess_stats st;
    sess_stats(g_s, &st);
    ck_assert_uint_ge(st.bad_nonce_retries, 5);
    ck_assert_uint_eq(st.bad_nonce_retries, fired(id));
}
END_TEST

START_TEST(test_503_with_date_then_429_with_seconds)
{
    start_ca();
    g_s = open_sess();
    register_account(g_s);
    uint64_t busy = add_fault("{\"target\":\"newOrder\",\"nth\":1}",
                              "{\"action\":\"problem\",\"status\":503,\"retry_after\":1,"
                              "\"retry_after_form\":\"date\"}");
    uint64_t limited = add_fault("{\"target\":\"newOrder\",\"nth\":2}",
                                 "{\"action\":\"problem\",\"type\":\"rateLimited\","
                                 "\"retry_after\":1}");
    struct sess_resp r;
    enum mc_err e = cli_new_order(g_s, &r); /* 503, waited out, then 201 */
    ck_assert_msg(e == MC_OK, "newOrder: %s", sess_last_error(g_s));
    ck_assert_int_eq(r.status, 201);
    sess_resp_free(&r);
    ck_assert_uint_eq(fired(busy), 1);
    /* The 429 rule counts events it is offered: the 503's retry was its 1st, this is its
     * 2nd. A 429 whose Retry-After is within max_wait_s is waited out too. */
    e = cli_new_order(g_s, &r);
    ck_assert_msg(e == MC_OK, "newOrder: %s", sess_last_error(g_s));
    ck_assert_int_eq(r.status, 201);
    sess_resp_free(&r);
    ck_assert_uint_eq(fired(limited), 1);
    struct sess_stats st;
    sess_stats(g_s, &st);
    ck_assert_uint_ge(st.busy_waits, 2);
}
END_TEST

START_TEST(test_429_beyond_max_wait_is_reported)
{
    start_ca();
    g_s = open_sess();
    register_account(g_s);
    add_fault("{\"target\":\"newOrder\",\"times\":1}",
              "{\"action\":\"problem\",\"type\":\"rateLimited\",\"detail\":\"come back tomorrow\","
              "\"retry_after\":86400}");
    struct sess_resp r;
    enum mc_err e = cli_new_order(g_s, &r);
    ck_assert_int_eq(e, MC_ERR_PROBLEM);
    const struct sess_problem *p = sess_last_problem(g_s);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(p->type, "urn:ietf:params:acme:error:rateLimited");
    ck_assert_int_eq(p->status, 429);
    ck_assert_int_eq(p->retry_after_s, 86400);
    ck_assert_ptr_nonnull(strstr(sess_last_error(g_s), "come back tomorrow"));
    sess_resp_free(&r);
    e = cli_new_order(g_s, &r); /* the rule is spent: the session goes on */
    ck_assert_int_eq(e, MC_OK);
    sess_resp_free(&r);
}
END_TEST

START_TEST(test_dropped_connection)
{
    start_ca();
    g_s = open_sess();
    register_account(g_s);
    uint64_t id = add_fault("{\"target\":\"newOrder\",\"times\":1}", "{\"action\":\"drop\"}");
    struct sess_resp r;
    enum mc_err e = cli_new_order(g_s, &r);
    /* session.h: transport errors are MC_ERR_IO. libcurl itself resends a request once
     * when a kept-alive connection turns out closed, so a single drop may also be
     * recovered below the session: both are clean outcomes. */
    ck_assert_msg(e == MC_OK || e == MC_ERR_IO, "drop: %s", mc_strerror(e));
    if (e == MC_ERR_IO)
        ck_assert_str_ne(sess_last_error(g_s), "");
    else
        ck_assert_int_eq(r.status, 201);
    sess_resp_free(&r);
    ck_assert_uint_eq(fired(id), 1);
    e = cli_new_order(g_s, &r);
    ck_assert_msg(e == MC_OK, "after the drop: %s", sess_last_error(g_s));
    ck_assert_int_eq(r.status, 201);
    sess_resp_free(&r);
}
END_TEST

START_TEST(test_garbage_is_reported)
{
    start_ca();
    g_s = open_sess();
    register_account(g_s);
    add_fault("{\"target\":\"newOrder\",\"times\":1}", "{\"action\":\"garbage\"}");
    struct sess_resp r;
    enum mc_err e = cli_new_order(g_s, &r);
    ck_assert_int_eq(e, MC_ERR_INVALID); /* JSON declared, not JSON sent */
    sess_resp_free(&r);
    e = cli_new_order(g_s, &r);
    ck_assert_int_eq(e, MC_OK);
    sess_resp_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_bad_nonce_storm);
    tcase_add_test(tc, test_503_with_date_then_429_with_seconds);
    tcase_add_test(tc, test_429_beyond_max_wait_is_reported);
    tcase_add_test(tc, test_dropped_connection);
    tcase_add_test(tc, test_garbage_is_reported);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
