/* Integration tests of the load generator (client/bench.h) against an in-process mockca:
 * real issuances by several workers sharing one http-01 solver that mockca validates
 * against, the counts and percentiles a user reads off the report, a CA whose validations
 * cannot connect (failures counted by problem type, no hang), and option checks. */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "client/bench.h"
#include "client/solver.h"
#include "common/json.h"
#include "mockca/mockca.h"
#include "acme_client.h"
#include "testutil.h"

static struct solver *g_solver;
static uint16_t g_ca_http_port; /* what mockca validates http-01 on */
static char *g_dir;
static char g_bundle[512];

/* A port nothing listens on: bound by the kernel, then closed again. */
static uint16_t dead_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    ck_assert_int_ge(fd, 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void adjust(struct mockca_config *cfg)
{
    cfg->http_port = g_ca_http_port;
}

static void start(bool dead)
{
    struct solver_config sc;

    memset(&sc, 0, sizeof(sc));
    sc.kind = SOLVER_HTTP_STANDALONE;
    sc.address = "127.0.0.1";
    sc.port = 0;
    ck_assert_int_eq(solver_new(&sc, &g_solver), MC_OK);
    g_ca_http_port = dead ? dead_port() : solver_port(g_solver);
    ck_assert_int_ne(g_ca_http_port, 0);
    ac_start(adjust, false);

    g_dir = tu_tmpdir();
    snprintf(g_bundle, sizeof(g_bundle), "%s/tls-root.pem", g_dir);
    ac_write_tls_root(g_bundle);
}

static void setup(void)
{
    start(false);
}

static void setup_dead(void)
{
    start(true);
}

static void teardown(void)
{
    ac_stop();
    solver_free(g_solver);
    g_solver = NULL;
    unlink(g_bundle);
    rmdir(g_dir);
    free(g_dir);
    g_dir = NULL;
}

static void opts_for(struct bench_opts *o)
{
    bench_opts_init(o);
    o->directory_url = mockca_directory_url(g_m);
    o->ca_bundle = g_bundle;
    o->solver = g_solver;
    o->poll_timeout_s = 20;
    o->seed = 42;
}

/* What every report must satisfy: ordered percentiles, and as many samples as counts. */
static void assert_latency_sane(const struct bench_latency *l)
{
    ck_assert_uint_eq(l->sampled, l->count);
    if (l->count == 0)
        return;
    ck_assert(l->p50_ms >= 0);
    ck_assert(l->p50_ms <= l->p90_ms);
    ck_assert(l->p90_ms <= l->p99_ms);
    ck_assert(l->p99_ms <= l->max_ms);
    ck_assert(l->mean_ms <= l->max_ms);
}

START_TEST(test_bench_issues)
{
    struct bench_opts o;
    struct bench_result r;
    cJSON *j = NULL;
    const cJSON *steps = NULL, *total = NULL, *req = NULL;
    int64_t v = 0;

    opts_for(&o);
    o.workers = 2;
    o.count = 8; /* 2 workers x 4 */
    ck_assert_int_eq(bench_run(&o, &r), MC_OK);
    ck_assert_uint_eq(r.workers, 2);
    ck_assert_uint_eq(r.issuances, 8);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.n_fail, 0);
    ck_assert(r.wall_s > 0);
    ck_assert(r.rate > 0);
    /* One account per worker, registered before the clock starts. */
    ck_assert_uint_eq(r.step[BENCH_ACCOUNT].count, 2);
    for (int s = BENCH_ORDER; s < BENCH_NSTEPS; s++)
        ck_assert_uint_eq(r.step[s].count, 8);
    for (int s = 0; s < BENCH_NSTEPS; s++)
        assert_latency_sane(&r.step[s]);
    /* A step cannot take longer than the issuance it is part of. */
    for (int s = BENCH_ORDER; s < BENCH_TOTAL; s++)
        ck_assert(r.step[s].max_ms <= r.step[BENCH_TOTAL].max_ms);
    /* newOrder, authz, challenge, >= 1 authz poll, finalize, >= 1 order poll, download. */
    ck_assert_uint_ge(r.stats.requests, 7 * 8);
    ck_assert(r.requests_per_issuance >= 7.0);
    ck_assert_uint_gt(r.bytes_received, 0);
    /* Kept-alive: one connection per worker, far fewer than requests. */
    ck_assert_uint_lt(r.stats.connections, r.stats.requests);

    ck_assert_int_eq(bench_result_json(&r, &j), MC_OK);
    ck_assert_int_eq(json_get_int(j, "issuances", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 8);
    ck_assert_int_eq(json_get_object(j, "steps", &steps), MC_OK);
    ck_assert_int_eq(json_get_object(steps, "total", &total), MC_OK);
    ck_assert_int_eq(json_get_int(total, "count", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 8);
    ck_assert_int_eq(json_get_object(j, "requests", &req), MC_OK);
    ck_assert_int_eq(json_get_int(req, "total", 0, 100000, &v), MC_OK);
    ck_assert_int_eq((uint64_t)v, r.stats.requests);
    cJSON_Delete(j);
    bench_result_free(&r);
}
END_TEST

/* The options a user combines: warm-up, an account and two names per issuance, one
 * reused RSA certificate key. */
START_TEST(test_bench_variants)
{
    struct bench_opts o;
    struct bench_result r;

    opts_for(&o);
    o.workers = 2;
    o.count = 4;
    o.warmup = 2;
    o.account_per_issuance = true;
    o.names_per_order = 2;
    o.reuse_cert_key = true;
    o.cert_key_type = KEY_RSA2048;
    o.domain = "load.example";
    ck_assert_int_eq(bench_run(&o, &r), MC_OK);
    ck_assert_uint_eq(r.issuances, 4);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_eq(r.warmup_done, 2);
    /* Warm-up issuances are not measured: exactly the 4 measured ones per step. */
    for (int s = 0; s < BENCH_NSTEPS; s++) {
        ck_assert_uint_eq(r.step[s].count, 4);
        assert_latency_sane(&r.step[s]);
    }
    /* Two authorizations per order: at least two more requests than with one name. */
    ck_assert(r.requests_per_issuance >= 10.0);
    bench_result_free(&r);
}
END_TEST

/* A deadline instead of a count: the run stops by itself. */
START_TEST(test_bench_duration)
{
    struct bench_opts o;
    struct bench_result r;

    opts_for(&o);
    o.workers = 2;
    o.count = 0;
    o.duration_ms = 300;
    ck_assert_int_eq(bench_run(&o, &r), MC_OK);
    ck_assert_uint_eq(r.failures, 0);
    ck_assert_uint_ge(r.issuances, 1);
    ck_assert_uint_eq(r.step[BENCH_TOTAL].count, r.issuances);
    assert_latency_sane(&r.step[BENCH_TOTAL]);
    bench_result_free(&r);
}
END_TEST

/* mockca validates on a port where nothing listens: every issuance fails at validation,
 * counted by the challenge's problem type, and the run ends. */
START_TEST(test_bench_validation_fails)
{
    struct bench_opts o;
    struct bench_result r;

    opts_for(&o);
    o.workers = 2;
    o.count = 4;
    ck_assert_int_eq(bench_run(&o, &r), MC_OK);
    ck_assert_uint_eq(r.issuances, 0);
    ck_assert_uint_eq(r.failures, 4);
    ck_assert_uint_eq(r.n_fail, 1);
    ck_assert_str_eq(r.fail[0].type, URN "connection");
    ck_assert_uint_eq(r.fail[0].count, 4);
    ck_assert_ptr_nonnull(r.fail[0].example);
    ck_assert_uint_eq(r.step[BENCH_ORDER].count, 4); /* newOrder worked */
    ck_assert_uint_eq(r.step[BENCH_AUTHZ].count, 0);
    ck_assert_uint_eq(r.step[BENCH_TOTAL].count, 0);
    ck_assert(r.rate == 0);
    bench_result_free(&r);
}
END_TEST

/* No CA at all: each worker fails to open its session, says so, and stops. */
START_TEST(test_bench_no_server)
{
    struct bench_opts o;
    struct bench_result r;
    char url[64];

    opts_for(&o);
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/dir", (unsigned)dead_port());
    o.directory_url = url;
    o.workers = 2;
    o.count = 100;
    ck_assert_int_eq(bench_run(&o, &r), MC_OK);
    ck_assert_uint_eq(r.issuances, 0);
    ck_assert_uint_eq(r.failures, 2);
    ck_assert_uint_eq(r.n_fail, 1);
    ck_assert_str_eq(r.fail[0].type, "certcli:transport");
    bench_result_free(&r);
}
END_TEST

START_TEST(test_bench_bad_options)
{
    struct bench_opts o;
    struct bench_result r;

    opts_for(&o);
    o.directory_url = NULL;
    ck_assert_int_eq(bench_run(&o, &r), MC_ERR_INVALID);
    bench_result_free(&r);
    opts_for(&o);
    o.workers = 0;
    ck_assert_int_eq(bench_run(&o, &r), MC_ERR_INVALID);
    opts_for(&o);
    o.count = 0; /* and no duration */
    ck_assert_int_eq(bench_run(&o, &r), MC_ERR_INVALID);
    opts_for(&o);
    o.domain = "not a domain";
    ck_assert_int_eq(bench_run(&o, &r), MC_ERR_INVALID);
    opts_for(&o);
    o.names_per_order = BENCH_MAX_NAMES + 1;
    ck_assert_int_eq(bench_run(&o, &r), MC_ERR_INVALID);
    bench_result_free(&r);
    bench_result_free(NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("certcli_bench");
    TCase *tc = tcase_create("bench");
    TCase *dead = tcase_create("dead_http");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bench_issues);
    tcase_add_test(tc, test_bench_variants);
    tcase_add_test(tc, test_bench_duration);
    tcase_add_test(tc, test_bench_no_server);
    tcase_add_test(tc, test_bench_bad_options);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(dead, setup_dead, teardown);
    tcase_set_timeout(dead, 60);
    tcase_add_test(dead, test_bench_validation_fails);
    suite_add_tcase(s, dead);
    return s;
}

int main(void)
{
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = tu_run(suite());
    curl_global_cleanup();
    return rc;
}
