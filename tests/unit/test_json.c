/* Unit tests for common/json.c: caps, strictness, typed getters. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

static enum mc_err parse_str(const char *s, cJSON **out)
{
    return json_parse(s, strlen(s), JSON_DEFAULT_MAX_LEN, JSON_DEFAULT_MAX_DEPTH, out);
}

START_TEST(test_parse_ok_and_print)
{
    cJSON *j = NULL;
    ck_assert_int_eq(parse_str(" {\"a\": [1, 2, {\"b\": \"c\"}], \"d\": true}\r\n\t ", &j), MC_OK);
    ck_assert_ptr_nonnull(j);
    char *s = NULL;
    ck_assert_int_eq(json_print(j, &s), MC_OK);
    ck_assert_str_eq(s, "{\"a\":[1,2,{\"b\":\"c\"}],\"d\":true}");
    free(s);
    cJSON_Delete(j);

    /* Not NUL-terminated: only len bytes are read. */
    const char buf[] = {'[', '1', ']', 'x', 'x'};
    ck_assert_int_eq(json_parse(buf, 3, 100, 4, &j), MC_OK);
    ck_assert(cJSON_IsArray(j));
    cJSON_Delete(j);

    ck_assert_int_eq(json_print(NULL, &s), MC_ERR_INVALID);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_length_cap)
{
    cJSON *j = NULL;
    const char *s = "{\"a\":\"0123456789\"}"; /* 18 bytes */
    ck_assert_int_eq(json_parse(s, strlen(s), strlen(s), 4, &j), MC_OK);
    cJSON_Delete(j);
    j = NULL;
    ck_assert_int_eq(json_parse(s, strlen(s), strlen(s) - 1, 4, &j), MC_ERR_TOO_BIG);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_depth_cap)
{
    cJSON *j = NULL;
    /* Depth 3 passes a cap of 3 and fails a cap of 2; brackets in strings do not count. */
    const char *d3 = "{\"a\":[{\"s\":\"[[[[{{{{\"}]}";
    ck_assert_int_eq(json_parse(d3, strlen(d3), 1000, 3, &j), MC_OK);
    cJSON_Delete(j);
    j = NULL;
    ck_assert_int_eq(json_parse(d3, strlen(d3), 1000, 2, &j), MC_ERR_TOO_BIG);
    ck_assert_ptr_null(j);
    /* Scalars have depth 0. */
    ck_assert_int_eq(json_parse("5", 1, 10, 0, &j), MC_OK);
    cJSON_Delete(j);
    ck_assert_int_eq(json_parse("[]", 2, 10, 0, &j), MC_ERR_TOO_BIG);

    /* Far past cJSON's own 1000-level limit: ours answers TOO_BIG first. */
    size_t n = 5000;
    char *deep = malloc(2 * n);
    ck_assert_ptr_nonnull(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    ck_assert_int_eq(json_parse(deep, 2 * n, 4 * n, JSON_DEFAULT_MAX_DEPTH, &j), MC_ERR_TOO_BIG);
    /* An escaped quote inside a string does not end it. */
    const char *esc = "{\"a\":\"\\\"[[[[[\"}";
    ck_assert_int_eq(json_parse(esc, strlen(esc), 100, 1, &j), MC_OK);
    cJSON_Delete(j);
    free(deep);
}
END_TEST

START_TEST(test_duplicates)
{
    cJSON *j = NULL;
    ck_assert_int_eq(parse_str("{\"a\":1,\"a\":2}", &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(parse_str("{\"a\":1,\"b\":2,\"a\":3}", &j), MC_ERR_INVALID);
    /* Nested in an object and in an array. */
    ck_assert_int_eq(parse_str("{\"x\":{\"k\":1,\"k\":1}}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("[1,{\"y\":[{\"k\":1,\"z\":0,\"k\":2}]}]", &j), MC_ERR_INVALID);
    /* The same name after unescaping. */
    ck_assert_int_eq(parse_str("{\"a\":1,\"\\u0061\":2}", &j), MC_ERR_INVALID);
    /* Names are case-sensitive, and the same name in sibling objects is fine. */
    ck_assert_int_eq(parse_str("{\"a\":1,\"A\":2,\"o\":{\"a\":3},\"p\":{\"a\":4}}", &j), MC_OK);
    cJSON_Delete(j);
    j = NULL;
    /* Small objects are checked pair by pair, large ones by sorting: both ways, with the
     * clash between the first and the last member and with none. */
    static const size_t sizes[] = {2, 11, 12, 13, 40};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        for (int clash = 0; clash < 2; clash++) {
            char text[1024];
            size_t pos = 0;
            text[pos++] = '{';
            for (size_t m = 0; m < sizes[k]; m++) {
                size_t name = (clash && m == sizes[k] - 1) ? 0 : m;
                pos += (size_t)snprintf(text + pos, sizeof(text) - pos, "%s\"m%zu\":%zu",
                                        m > 0 ? "," : "", name, m);
            }
            text[pos++] = '}';
            text[pos] = '\0';
            ck_assert_int_eq(parse_str(text, &j), clash ? MC_ERR_INVALID : MC_OK);
            cJSON_Delete(j);
            j = NULL;
        }
    }
}
END_TEST

START_TEST(test_syntax_trailing_nul)
{
    cJSON *j = NULL;
    ck_assert_int_eq(parse_str("{\"a\":1} x", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":1}{}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("[1,2]]", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":1,}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("   ", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":", &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    /* A raw NUL byte, inside a string and after the value. */
    const char in_str[] = "{\"a\":\"x\0y\"}";
    ck_assert_int_eq(json_parse(in_str, sizeof(in_str) - 1, 100, 4, &j), MC_ERR_INVALID);
    const char after[] = "{\"a\":1}\0";
    ck_assert_int_eq(json_parse(after, sizeof(after) - 1, 100, 4, &j), MC_ERR_INVALID);
    /* The \u0000 escape would truncate the C string cJSON keeps. */
    ck_assert_int_eq(parse_str("{\"a\":\"x\\u0000y\"}", &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
}
END_TEST

START_TEST(test_strict_lexing)
{
    cJSON *j = NULL;
    /* Numbers by RFC 8259 section 6 only: strtod would take these. */
    static const char *const bad_numbers[] = {"01",    "1.",     "-",          "1e", "1e+",
                                              "-01.5", "[1.e5]", "{\"a\":00}", "2E-"};
    for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++)
        ck_assert_msg(parse_str(bad_numbers[i], &j) == MC_ERR_INVALID, "%s", bad_numbers[i]);
    static const char *const good_numbers[] = {"0",   "-0",   "10",      "-1.5",
                                               "1e5", "1E-5", "0.25e+2", "[0,-0.0,123]"};
    for (size_t i = 0; i < sizeof(good_numbers) / sizeof(good_numbers[0]); i++) {
        ck_assert_msg(parse_str(good_numbers[i], &j) == MC_OK, "%s", good_numbers[i]);
        cJSON_Delete(j);
    }
    /* Control bytes: not between tokens, not raw inside strings. */
    ck_assert_int_eq(parse_str("\x01{}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":\f1}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":\"x\ny\"}", &j), MC_ERR_INVALID);
    ck_assert_int_eq(parse_str("{\"a\":\"x\\ny\"}", &j), MC_OK); /* escaped is fine */
    const char *s = NULL;
    ck_assert_int_eq(json_get_string(j, "a", &s), MC_OK);
    ck_assert_str_eq(s, "x\ny");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_getters)
{
    cJSON *j = NULL;
    const char *doc = "{\"s\":\"str\",\"b\":false,\"i\":42,\"neg\":-7,\"f\":1.5,\"big\":1e300,"
                      "\"o\":{\"x\":1},\"a\":[1],\"n\":null,\"e\":1e2}";
    ck_assert_int_eq(parse_str(doc, &j), MC_OK);

    const char *s = NULL;
    ck_assert_int_eq(json_get_string(j, "s", &s), MC_OK);
    ck_assert_str_eq(s, "str");
    ck_assert_int_eq(json_get_string(j, "S", &s), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(json_get_string(j, "n", &s), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(json_get_string(j, "i", &s), MC_ERR_INVALID);

    bool b = true;
    ck_assert_int_eq(json_get_bool(j, "b", &b), MC_OK);
    ck_assert(!b);
    ck_assert_int_eq(json_get_bool(j, "zz", &b), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(json_get_bool(j, "s", &b), MC_ERR_INVALID);

    int64_t v = 0;
    ck_assert_int_eq(json_get_int(j, "i", 0, 100, &v), MC_OK);
    ck_assert_int_eq(v, 42);
    ck_assert_int_eq(json_get_int(j, "i", 0, 42, &v), MC_OK);
    ck_assert_int_eq(json_get_int(j, "i", 43, 100, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "i", 0, 41, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "neg", INT64_MIN, INT64_MAX, &v), MC_OK);
    ck_assert_int_eq(v, -7);
    ck_assert_int_eq(json_get_int(j, "neg", 0, INT64_MAX, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "f", INT64_MIN, INT64_MAX, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "big", INT64_MIN, INT64_MAX, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "e", 0, 1000, &v), MC_OK);
    ck_assert_int_eq(v, 100);
    ck_assert_int_eq(json_get_int(j, "s", 0, 1, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "n", 0, 1, &v), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(json_get_int(j, "zz", 0, 1, &v), MC_ERR_NOT_FOUND);

    const cJSON *o = NULL;
    ck_assert_int_eq(json_get_object(j, "o", &o), MC_OK);
    ck_assert_int_eq(json_get_int(o, "x", 0, 9, &v), MC_OK);
    ck_assert_int_eq(json_get_object(j, "a", &o), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_object(j, "zz", &o), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(json_get_array(j, "a", &o), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(o), 1);
    ck_assert_int_eq(json_get_array(j, "o", &o), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_array(j, "n", &o), MC_ERR_NOT_FOUND);

    /* A getter on something that is not an object. */
    const cJSON *arr = NULL;
    ck_assert_int_eq(json_get_array(j, "a", &arr), MC_OK);
    ck_assert_int_eq(json_get_string(arr, "s", &s), MC_ERR_INVALID);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_int_extremes)
{
    cJSON *j = NULL;
    const char *doc = "{\"max53\":9007199254740992,\"min\":-9223372036854775808,"
                      "\"over\":9223372036854775808,\"tiny\":1e-300}";
    ck_assert_int_eq(parse_str(doc, &j), MC_OK);
    int64_t v = 0;
    ck_assert_int_eq(json_get_int(j, "max53", 0, INT64_MAX, &v), MC_OK);
    ck_assert_int_eq(v, 9007199254740992LL);
    ck_assert_int_eq(json_get_int(j, "min", INT64_MIN, 0, &v), MC_OK);
    ck_assert(v == INT64_MIN);
    ck_assert_int_eq(json_get_int(j, "over", INT64_MIN, INT64_MAX, &v), MC_ERR_INVALID);
    ck_assert_int_eq(json_get_int(j, "tiny", INT64_MIN, INT64_MAX, &v), MC_ERR_INVALID);
    cJSON_Delete(j);
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_parse_ok_and_print);
    tcase_add_test(tc, test_length_cap);
    tcase_add_test(tc, test_depth_cap);
    tcase_add_test(tc, test_duplicates);
    tcase_add_test(tc, test_syntax_trailing_nul);
    tcase_add_test(tc, test_strict_lexing);
    tcase_add_test(tc, test_getters);
    tcase_add_test(tc, test_int_extremes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(json_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
