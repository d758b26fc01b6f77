/* Integration tests for `mockca run` (mockca/run.c): a scenario run in-process against
 * small commands (curl, sh, python3's socket module), expectations met and unmet, the
 * reports and transcript written, a command killed at its timeout, the same seed replaying
 * the same fault decisions, and SKIP for a missing capability. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "mockca/mockca.h"
#include "mockca/run.h"
#include "mockca/transcript.h"
#include "tests/testutil.h"

static char *tmp;

static void setup(void)
{
    tmp = tu_tmpdir();
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
    if (system(cmd) != 0) {
        /* A leftover temp directory is not worth failing a test over. */
    }
    free(tmp);
}

static char *write_scenario(const char *name, const char *text)
{
    char *path = malloc(1024);
    snprintf(path, 1024, "%s/%s.json", tmp, name);
    ck_assert_int_eq(file_write_atomic(path, text, strlen(text), 0644), MC_OK);
    return path;
}

static bool exists(const char *dir, const char *file)
{
    char p[1024];
    struct stat st;
    int w = snprintf(p, sizeof(p), "%s/%s", dir, file);
    ck_assert(w > 0 && (size_t)w < sizeof(p));
    return stat(p, &st) == 0 && st.st_size > 0;
}

START_TEST(test_expectations_met)
{
    /* curl fetches the directory with the exported trust bundle and URL, twice: one
     * through ${ACME_DIRECTORY_URL} substituted in argv, one through the environment. */
    char *scn = write_scenario("met",
                               "{\"name\": \"dir-fetch\", \"expect\": {\"exit_code\": 0,"
                               " \"exchanges\": [{\"listener\": \"acme\", \"method\": \"GET\","
                               " \"path\": \"/dir\", \"status\": 200, \"count\": 2}]}}");
    char rdir[1024];
    char *argv[] = {"/bin/sh", "-c",
                    "curl -sf --cacert \"$SSL_CERT_FILE\" -o /dev/null ${ACME_DIRECTORY_URL} && "
                    "curl -sf -o /dev/null \"$MOCKCA_DIRECTORY\" && test -s \"$CURL_CA_BUNDLE\" && "
                    "test -n \"$MOCKCA_DNS_MGMT\" && test -n \"$DIGICERT_API_KEY\" && "
                    "test \"$LEGO_CA_CERTIFICATES\" = \"$REQUESTS_CA_BUNDLE\"",
                    NULL};
    struct run_options o = {0};
    struct run_result r;

    snprintf(rdir, sizeof(rdir), "%s/reports/met", tmp);
    o.scenario_path = scn;
    o.report_dir = rdir;
    o.argv = argv;
    o.seed = 1234;
    o.quiet = true;
    ck_assert_msg(run_scenario(&o, &r) == MC_OK, "%s", r.detail);
    ck_assert_msg(r.verdict == RUN_PASS, "verdict %d: %s", r.verdict, r.detail);
    ck_assert_int_eq(r.exit_code, 0);
    ck_assert_uint_eq(r.seed, 1234);
    ck_assert_uint_eq(r.requirements, 3); /* exit code, exchanges, finished in time */
    ck_assert_uint_eq(r.failed, 0);
    ck_assert_uint_ge(r.exchanges, 2);
    ck_assert(exists(rdir, "report.json"));
    ck_assert(exists(rdir, "report.junit.xml"));
    ck_assert(exists(rdir, "report.html"));
    ck_assert(exists(rdir, "transcript.jsonl"));

    /* The JSON report holds one requirement per expectation, with the scenario's ids. */
    char p[1200], *text = NULL;
    size_t len = 0;
    snprintf(p, sizeof(p), "%s/report.json", rdir);
    ck_assert_int_eq(file_read_all(p, 1 << 20, &text, &len), MC_OK);
    ck_assert_ptr_nonnull(strstr(text, "SCN-dir-fetch-1"));
    ck_assert_ptr_nonnull(strstr(text, "SCN-dir-fetch-2"));
    free(text);
    /* The transcript has the two directory fetches. */
    cJSON *recs = NULL;
    char err[256];
    snprintf(p, sizeof(p), "%s/transcript.jsonl", rdir);
    ck_assert_int_eq(tr_load(p, 0, &recs, err, sizeof(err)), MC_OK);
    ck_assert_int_ge(cJSON_GetArraySize(recs), 2);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(recs, 0), "path")->valuestring, "/dir");
    cJSON_Delete(recs);
    free(scn);
}
END_TEST

START_TEST(test_expectations_unmet)
{
    char *scn = write_scenario("unmet",
                               "{\"name\": \"unmet\", \"expect\": {\"issued\": [[\"a.example\"]],"
                               " \"revoked\": 1, \"exit_code\": 0}}");
    char *argv[] = {"/bin/sh", "-c", "exit 4", NULL};
    struct run_options o = {0};
    struct run_result r;

    o.scenario_path = scn;
    o.argv = argv;
    o.quiet = true;
    ck_assert_msg(run_scenario(&o, &r) == MC_OK, "%s", r.detail);
    ck_assert_int_eq(r.verdict, RUN_FAIL);
    ck_assert_int_eq(r.exit_code, 4);
    ck_assert_uint_eq(r.requirements, 4);
    ck_assert_uint_eq(r.failed, 3); /* issued, revoked, exit code; not the timeout */
    ck_assert_uint_ne(r.seed, 0);   /* a fresh seed, reported */
    free(scn);
}
END_TEST

START_TEST(test_timeout_kills_the_group)
{
    char *scn = write_scenario("slow", "{\"name\": \"slow\", \"timeout\": 1, \"expect\": {}}");
    char marker[1024], cmd[2048];
    /* A background child in the same group must go too: it would touch the marker. */
    snprintf(marker, sizeof(marker), "%s/survivor", tmp);
    snprintf(cmd, sizeof(cmd), "(sleep 3; touch '%s') & sleep 30", marker);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct run_options o = {0};
    struct run_result r;

    o.scenario_path = scn;
    o.argv = argv;
    o.quiet = true;
    ck_assert_msg(run_scenario(&o, &r) == MC_OK, "%s", r.detail);
    ck_assert(r.timed_out);
    ck_assert_int_eq(r.exit_code, -1);
    ck_assert_int_eq(r.verdict, RUN_FAIL);
    sleep(4);
    ck_assert_msg(access(marker, F_OK) != 0, "a process of the command's group outlived it");
    free(scn);
}
END_TEST

/* Sends 24 A queries for q0..q23.seed.example.com to MOCKCA_DNS over UDP and writes the
 * rcodes, one character each, to argv[1]. */
static const char *py_queries =
    "import os,socket,struct,sys\n"
    "h,p=os.environ['MOCKCA_DNS'].rsplit(':',1)\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.settimeout(3)\n"
    "out=''\n"
    "for i in range(24):\n"
    "  q=struct.pack('>HHHHHH',i+1,0x0100,1,0,0,0)\n"
    "  for l in ('q%d'%i,'seed','example','com'): q+=bytes([len(l)])+l.encode()\n"
    "  q+=b'\\0'+struct.pack('>HH',1,1)\n"
    "  s.sendto(q,(h,int(p)))\n"
    "  r,_=s.recvfrom(4096)\n"
    "  out+=str(r[3]&15)\n"
    "open(sys.argv[1],'w').write(out)\n";

static char *run_queries(const char *scn, uint64_t seed, const char *tag)
{
    char out[1024];
    char *argv[] = {"python3", "-c", (char *)py_queries, out, NULL};
    struct run_options o = {0};
    struct run_result r;
    char *text = NULL;
    size_t len = 0;

    snprintf(out, sizeof(out), "%s/rcodes-%s", tmp, tag);
    o.scenario_path = scn;
    o.argv = argv;
    o.seed = seed;
    o.quiet = true;
    ck_assert_msg(run_scenario(&o, &r) == MC_OK, "%s", r.detail);
    ck_assert_msg(r.verdict == RUN_PASS, "verdict %d (exit %d): %s", r.verdict, r.exit_code,
                  r.detail);
    ck_assert_int_eq(file_read_all(out, 4096, &text, &len), MC_OK);
    ck_assert_uint_eq(len, 24);
    return text;
}

START_TEST(test_seed_replays_fault_decisions)
{
    /* Half the queries under seed.example.com get SERVFAIL (rcode 2), drawn from the run's
     * seed: the same seed gives the same pattern. */
    char *scn = write_scenario(
        "seed", "{\"name\": \"seed\", \"faults\": [{\"name\": \"coin\", \"server\": \"dns\","
                " \"match\": {\"target\": \"*.seed.example.com.\", \"probability\": 0.5},"
                " \"action\": {\"action\": \"servfail\"}}],"
                " \"expect\": {\"exit_code\": 0, \"faults_fired\": {\"coin\": \">=1\"}}}");
    char *a = run_queries(scn, 42, "a");
    char *b = run_queries(scn, 42, "b");
    char *c = run_queries(scn, 4242, "c");
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strchr(a, '2'));
    ck_assert_ptr_nonnull(strchr(a, '0'));
    /* Another seed draws differently (24 fair coins agree by chance with p = 2^-24). */
    ck_assert_str_ne(a, c);
    free(a);
    free(b);
    free(c);
    free(scn);
}
END_TEST

/* expect.retry_after_respected: the directory answers 503 with Retry-After (2 s, seconds
 * or an HTTP-date) once; a command that asks again at once is judged early, one that
 * waits passes. */
static struct run_result run_retry(const char *name, const char *action, const char *gap)
{
    char text[1024], cmd[512];
    snprintf(text, sizeof(text),
             "{\"name\": \"%s\", \"requires\": [\"acme-faults\"], \"faults\": [{\"name\": \"busy\","
             " \"server\": \"acme\", \"match\": {\"target\": \"directory\", \"nth\": 1},"
             " \"action\": %s}], \"expect\": {\"exit_code\": 0, \"retry_after_respected\": true,"
             " \"faults_fired\": {\"busy\": 1}}}", name, action);
    char *scn = write_scenario(name, text);
    snprintf(cmd, sizeof(cmd),
             "curl -s -o /dev/null ${ACME_DIRECTORY_URL}; %s curl -sf -o /dev/null "
             "${ACME_DIRECTORY_URL}", gap);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct run_options o = {0};
    struct run_result r;
    o.scenario_path = scn;
    o.argv = argv;
    o.quiet = true;
    ck_assert_msg(run_scenario(&o, &r) == MC_OK, "%s", r.detail);
    free(scn);
    return r;
}

START_TEST(test_retry_after_respected)
{
    const char *secs = "{\"action\": \"problem\", \"status\": 503, \"retry_after\": 2}";
    const char *date = "{\"action\": \"problem\", \"status\": 503, \"retry_after\": 2,"
                       " \"retry_after_form\": \"date\"}";
    struct run_result r = run_retry("early", secs, "");
    ck_assert_int_eq(r.verdict, RUN_FAIL);
    ck_assert_uint_eq(r.failed, 1); /* only the wait: the command did succeed */
    r = run_retry("waited", secs, "sleep 2;");
    ck_assert_msg(r.verdict == RUN_PASS, "%s", r.detail);
    r = run_retry("early-date", date, "");
    ck_assert_int_eq(r.verdict, RUN_FAIL);
    ck_assert_uint_eq(r.failed, 1);
    /* An HTTP-date has whole seconds: waiting 2 s is always enough. */
    r = run_retry("waited-date", date, "sleep 2;");
    ck_assert_msg(r.verdict == RUN_PASS, "%s", r.detail);
}
END_TEST

START_TEST(test_skip_and_errors)
{
    char *scn = write_scenario("needs", "{\"name\": \"needs\", \"requires\": [\"time-travel\"],"
                                        " \"expect\": {}}");
    char *argv[] = {"true", NULL};
    struct run_options o = {0};
    struct run_result r;

    o.scenario_path = scn;
    o.argv = argv;
    o.quiet = true;
    ck_assert_int_eq(run_scenario(&o, &r), MC_OK);
    ck_assert_int_eq(r.verdict, RUN_SKIP);
    ck_assert_ptr_nonnull(strstr(r.detail, "time-travel"));
    free(scn);

    /* A client the scenario marks skip. */
    scn = write_scenario("cl", "{\"name\": \"cl\", \"expect\": {}, \"client_support\":"
                               " {\"uacme\": {\"skip\": \"no EAB\"}}}");
    o.scenario_path = scn;
    o.argv = NULL;
    o.client = "uacme";
    ck_assert_int_eq(run_scenario(&o, &r), MC_OK);
    ck_assert_int_eq(r.verdict, RUN_SKIP);
    ck_assert_ptr_nonnull(strstr(r.detail, "no EAB"));

    /* An unknown placeholder is a setup error, not a failed client. */
    char *argv2[] = {"echo", "${NO_SUCH_VARIABLE_HERE}", NULL};
    o.client = NULL;
    o.argv = argv2;
    ck_assert_int_ne(run_scenario(&o, &r), MC_OK);
    ck_assert_int_eq(r.verdict, RUN_ERROR);
    ck_assert_ptr_nonnull(strstr(r.detail, "NO_SUCH_VARIABLE_HERE"));
    free(scn);

    /* A scenario that does not parse. */
    scn = write_scenario("bad", "{\"name\": \"bad\"}");
    o.scenario_path = scn;
    ck_assert_int_ne(run_scenario(&o, &r), MC_OK);
    ck_assert_ptr_nonnull(strstr(r.detail, "expect: required"));
    free(scn);
}
END_TEST

START_TEST(test_capabilities)
{
    size_t n = 0;
    const char *const *caps = mockca_capabilities(&n);
    ck_assert_uint_ge(n, 2);
    ck_assert_ptr_null(caps[n]);
    ck_assert(mockca_has_capability("transcript"));
    ck_assert(!mockca_has_capability("time-travel"));
}
END_TEST

static Suite *run_suite(void)
{
    Suite *s = suite_create("mockca_run");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_expectations_met);
    tcase_add_test(tc, test_expectations_unmet);
    tcase_add_test(tc, test_timeout_kills_the_group);
    tcase_add_test(tc, test_seed_replays_fault_decisions);
    tcase_add_test(tc, test_retry_after_respected);
    tcase_add_test(tc, test_skip_and_errors);
    tcase_add_test(tc, test_capabilities);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(run_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
