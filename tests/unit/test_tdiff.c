/* Unit tests for mockca/tdiff.c and the transcript reader: normalization, alignment and
 * what `mockca diff` reports, on crafted transcripts. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mockca/tdiff.h"
#include "mockca/transcript.h"

/* One record: listener acme, the given method, path, status, response headers and body. */
static cJSON *rec(const char *method, const char *path, int status, const char *resp_headers,
                  const char *resp_body)
{
    char text[4096];
    snprintf(text, sizeof(text),
             "{\"seq\": 1, \"time\": 123, \"listener\": \"acme\", \"method\": \"%s\", \"path\": \"%s\","
             " \"request\": {\"headers\": {}, \"jws\": false, \"body\": \"\"}, \"status\": %d,"
             " \"response\": {\"headers\": %s, \"body\": %s}, \"account\": null,"
             " \"user_agent\": null}",
             method, path, status, resp_headers, resp_body);
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "bad test record %s", text);
    return j;
}

static cJSON *arr(cJSON *first, ...)
{
    cJSON *a = cJSON_CreateArray();
    va_list ap;
    va_start(ap, first);
    for (cJSON *x = first; x != NULL; x = va_arg(ap, cJSON *))
        cJSON_AddItemToArray(a, x);
    va_end(ap);
    return a;
}

static cJSON *diff(cJSON *a, cJSON *b, bool keep)
{
    struct td_options o = {keep};
    cJSON *res = NULL;
    ck_assert_int_eq(td_diff(a, b, &o, &res), MC_OK);
    cJSON_Delete(a);
    cJSON_Delete(b);
    return res;
}

static bool equal(const cJSON *res)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(res, "equal"));
}

static const cJSON *change(const cJSON *res, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(res, "changes"), i);
}

START_TEST(test_normalized_run_differences_are_equal)
{
    /* Two runs of the same exchange: other ports, ids, nonces, dates, serials, tokens. */
    cJSON *a = arr(rec("POST", "/my-order/B2H3RRLBMRVOupC66XW93g", 200,
                       "{\"Replay-Nonce\": \"rMRpkee5PYZlugJQLbe1og\", \"Link\": "
                       "\"<https://127.0.0.1:35343/dir>;rel=\\\"index\\\"\"}",
                       "{\"status\": \"valid\", \"expires\": \"2026-11-24T07:34:18.079Z\","
                       " \"certificate\": \"https://127.0.0.1:35343/certZ/447c5ad912c952049df77ec0b3d412bf\","
                       " \"identifiers\": [{\"type\": \"dns\", \"value\": \"a.example\"},"
                       "  {\"type\": \"dns\", \"value\": \"b.example\"}], \"token\": \"HyUaTwU7eGFzKKl2\"}"),
                   NULL);
    cJSON *b = arr(rec("POST", "/my-order/SBVoMaeaqjxgiQcfSVntwA", 200,
                       "{\"Replay-Nonce\": \"zmGpgtry7WjekA20mOXydw\", \"Link\": "
                       "\"<https://127.0.0.1:40000/dir>;rel=\\\"index\\\"\"}",
                       "{\"status\": \"valid\", \"expires\": \"2027-01-01T00:00:00Z\","
                       " \"certificate\": \"https://127.0.0.1:40000/certZ/0011aabbccddeeff00112233\","
                       " \"identifiers\": [{\"type\": \"dns\", \"value\": \"b.example\"},"
                       "  {\"type\": \"dns\", \"value\": \"a.example\"}], \"token\": \"x\"}"),
                   NULL);
    cJSON *res = diff(a, b, false);
    ck_assert(equal(res));
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_status_header_and_field_changes)
{
    cJSON *a = arr(rec("POST", "/order-plz", 201, "{\"Location\": \"https://h:1/my-order/Ab1cd2ef3gh4ij5kl6\"}",
                       "{\"status\": \"pending\", \"identifiers\": [], \"profile\": \"default\"}"),
                   NULL);
    cJSON *b = arr(rec("POST", "/order-plz", 429, "{\"Retry-After\": \"5\"}",
                       "{\"status\": \"pending\", \"identifiers\": {}, \"detail\": \"slow down\"}"),
                   NULL);
    cJSON *res = diff(a, b, false);
    ck_assert(!equal(res));
    const cJSON *c = change(res, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(c, "kind")->valuestring, "changed");
    ck_assert_str_eq(cJSON_GetObjectItem(c, "key")->valuestring, "acme POST /order-plz");
    bool status = false, loc_removed = false, ra_added = false, type = false, profile = false,
         detail = false;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(c, "diffs"))
    {
        const char *what = cJSON_GetObjectItem(d, "what")->valuestring;
        const char *name = cJSON_GetObjectItem(d, "name")->valuestring;
        const char *ch = cJSON_GetObjectItem(d, "change")->valuestring;
        if (strcmp(what, "status") == 0)
            status = cJSON_GetObjectItem(d, "old")->valueint == 201 &&
                     cJSON_GetObjectItem(d, "new")->valueint == 429;
        if (strcmp(name, "Location") == 0 && strcmp(ch, "removed") == 0)
            loc_removed = true;
        if (strcmp(name, "Retry-After") == 0 && strcmp(ch, "added") == 0)
            ra_added = true;
        if (strcmp(name, "identifiers") == 0 && strcmp(ch, "type") == 0)
            type = strcmp(cJSON_GetObjectItem(d, "old")->valuestring, "array") == 0;
        if (strcmp(name, "profile") == 0 && strcmp(ch, "removed") == 0)
            profile = true;
        if (strcmp(name, "detail") == 0 && strcmp(ch, "added") == 0)
            detail = true;
    }
    ck_assert(status && loc_removed && ra_added && type && profile && detail);
    /* The text form names them too. */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    td_print(res, f);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "~ acme POST /order-plz"));
    ck_assert_ptr_nonnull(strstr(buf, "status 201 -> 429"));
    ck_assert_ptr_nonnull(strstr(buf, "response header Retry-After added"));
    free(buf);
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_new_and_missing_requests_aligned)
{
    cJSON *a = arr(rec("GET", "/dir", 200, "{}", "{}"), rec("POST", "/sign-me-up", 201, "{}", "{}"),
                   rec("POST", "/revoke-cert", 200, "{}", "\"\""), rec("POST", "/order-plz", 201, "{}", "{}"),
                   NULL);
    cJSON *b = arr(rec("GET", "/dir", 200, "{}", "{}"), rec("HEAD", "/nonce-plz", 200, "{}", "\"\""),
                   rec("POST", "/sign-me-up", 201, "{}", "{}"), rec("POST", "/order-plz", 201, "{}", "{}"),
                   NULL);
    cJSON *res = diff(a, b, false);
    ck_assert(!equal(res));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "changes")), 2);
    const cJSON *c0 = change(res, 0), *c1 = change(res, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(c0, "kind")->valuestring, "new");
    ck_assert_str_eq(cJSON_GetObjectItem(c0, "key")->valuestring, "acme HEAD /nonce-plz");
    ck_assert_int_eq(cJSON_GetObjectItem(c0, "new_index")->valueint, 1);
    ck_assert_str_eq(cJSON_GetObjectItem(c1, "kind")->valuestring, "missing");
    ck_assert_str_eq(cJSON_GetObjectItem(c1, "key")->valuestring, "acme POST /revoke-cert");
    ck_assert_int_eq(cJSON_GetObjectItem(c1, "old_index")->valueint, 2);
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_poll_repeats_collapse)
{
    /* Three polls in one run, one in the other: the same protocol unless asked. */
    cJSON *a = arr(rec("GET", "/my-order/Ab1cd2ef3gh4ij5kl6", 200, "{}", "{\"status\": \"processing\"}"),
                   rec("GET", "/my-order/Ab1cd2ef3gh4ij5kl6", 200, "{}", "{\"status\": \"processing\"}"),
                   rec("GET", "/my-order/Ab1cd2ef3gh4ij5kl6", 200, "{}", "{\"status\": \"valid\"}"), NULL);
    cJSON *b = arr(rec("GET", "/my-order/Zz9yy8xx7ww6vv5uu4", 200, "{}", "{\"status\": \"valid\"}"), NULL);
    cJSON *a2 = cJSON_Duplicate(a, 1), *b2 = cJSON_Duplicate(b, 1);
    cJSON *res = diff(a, b, false);
    ck_assert(equal(res));
    cJSON_Delete(res);
    res = diff(a2, b2, true);
    ck_assert(!equal(res)); /* two polls unmatched (and maybe one changed status) */
    ck_assert_int_ge(cJSON_GetArraySize(cJSON_GetObjectItem(res, "changes")), 2);
    cJSON_Delete(res);
}
END_TEST

START_TEST(test_normalize_values)
{
    cJSON *r = rec("POST", "/certZ/447c5ad912c952049df77ec0b3d412bf/alternate/1", 200,
                   "{\"Retry-After\": \"Sun, 06 Nov 1994 08:49:37 GMT\"}",
                   "\"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\"");
    cJSON *n = td_normalize(r);
    ck_assert_str_eq(cJSON_GetObjectItem(n, "path")->valuestring, "/certZ/{id}/alternate/{id}");
    ck_assert_ptr_null(cJSON_GetObjectItem(n, "seq"));
    ck_assert_ptr_null(cJSON_GetObjectItem(n, "time"));
    cJSON *resp = cJSON_GetObjectItem(n, "response");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "headers"), "Retry-After")->valuestring,
                     "<date>");
    ck_assert_str_eq(cJSON_GetObjectItem(resp, "body")->valuestring, "<pem:CERTIFICATE>");
    cJSON_Delete(n);
    cJSON_Delete(r);
}
END_TEST

START_TEST(test_load_and_command)
{
    char dir[] = "/tmp/test_tdiff_XXXXXX";
    char a[64], b[64], c[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a.jsonl", dir);
    snprintf(b, sizeof(b), "%s/b.jsonl", dir);
    snprintf(c, sizeof(c), "%s/c.jsonl", dir);
    FILE *f = fopen(a, "w");
    fputs("{\"seq\":1,\"listener\":\"acme\",\"method\":\"GET\",\"path\":\"/dir\",\"status\":200}\n\n"
          "{\"dropped\":3}\n",
          f);
    fclose(f);
    f = fopen(b, "w");
    fputs("{\"seq\":1,\"listener\":\"acme\",\"method\":\"GET\",\"path\":\"/dir\",\"status\":500}\n", f);
    fclose(f);
    f = fopen(c, "w");
    fputs("{\"seq\":1,\"listener\"\n", f);
    fclose(f);
    cJSON *recs = NULL;
    char err[256];
    ck_assert_int_eq(tr_load(a, 0, &recs, err, sizeof(err)), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(recs), 1); /* blank and {"dropped"} lines skipped */
    cJSON_Delete(recs);
    ck_assert_int_eq(tr_load(c, 0, &recs, err, sizeof(err)), MC_ERR_INVALID);
    ck_assert_ptr_nonnull(strstr(err, ":1: not a JSON object"));

    /* Exit codes: 0 equal, 1 different, 2 errors. stdout goes to /dev/null meanwhile. */
    fflush(stdout);
    int saved = dup(1);
    FILE *devnull = freopen("/dev/null", "w", stdout);
    ck_assert_ptr_nonnull(devnull);
    char *argv1[] = {"diff", a, a, NULL};
    char *argv2[] = {"diff", "--json", a, b, NULL};
    char *argv3[] = {"diff", a, c, NULL};
    char *argv4[] = {"diff", a, NULL};
    int r1 = td_main(3, argv1), r2 = td_main(4, argv2), r3 = td_main(3, argv3), r4 = td_main(2, argv4);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ck_assert_int_eq(r1, 0);
    ck_assert_int_eq(r2, 1);
    ck_assert_int_eq(r3, 2);
    ck_assert_int_eq(r4, 2);
    unlink(a);
    unlink(b);
    unlink(c);
    rmdir(dir);
}
END_TEST

START_TEST(test_secret_names)
{
    ck_assert(tr_is_secret_name("auth_key"));
    ck_assert(tr_is_secret_name("HMAC"));
    ck_assert(!tr_is_secret_name("status"));
}
END_TEST

static Suite *tdiff_suite(void)
{
    Suite *s = suite_create("tdiff");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_normalized_run_differences_are_equal);
    tcase_add_test(tc, test_status_header_and_field_changes);
    tcase_add_test(tc, test_new_and_missing_requests_aligned);
    tcase_add_test(tc, test_poll_repeats_collapse);
    tcase_add_test(tc, test_normalize_values);
    tcase_add_test(tc, test_load_and_command);
    tcase_add_test(tc, test_secret_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(tdiff_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
