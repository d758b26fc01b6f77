/* Unit tests of client/wire.c: challenge tokens, server URLs, object statuses and RFC 3339
 * timestamps, including hostile and malformed values. Table-driven. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/wire.h"
#include "testutil.h"

START_TEST(test_token)
{
    struct {
        const char *v;
        enum mc_err err;
    } t[] = {
        {"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA", MC_OK}, /* RFC 8555 8.3 example */
        {"a", MC_OK},
        {"A-_z09", MC_OK},
        {"", MC_ERR_INVALID},
        {"../../etc/passwd", MC_ERR_INVALID},
        {"abc.def", MC_ERR_INVALID},
        {"abc=", MC_ERR_INVALID},
        {"ab+c", MC_ERR_INVALID},
        {"ab c", MC_ERR_INVALID},
        {"ab\nc", MC_ERR_INVALID},
        {"tok;rm -rf /", MC_ERR_INVALID},
        {"$(id)", MC_ERR_INVALID},
        {"\xc3\xa9", MC_ERR_INVALID},
        {NULL, MC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(wire_check_token(t[i].v) == t[i].err, "case %zu", i);

    char *big = malloc(WIRE_MAX_TOKEN + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'x', WIRE_MAX_TOKEN + 1);
    big[WIRE_MAX_TOKEN] = '\0';
    ck_assert_int_eq(wire_check_token(big), MC_OK); /* exactly the cap */
    big[WIRE_MAX_TOKEN] = 'x';
    big[WIRE_MAX_TOKEN + 1] = '\0';
    ck_assert_int_eq(wire_check_token(big), MC_ERR_TOO_BIG);
    free(big);
}
END_TEST

START_TEST(test_url)
{
    struct {
        const char *v;
        enum mc_err err;
    } t[] = {
        {"https://127.0.0.1:14000/dir", MC_OK},
        {"https://acme-v02.api.letsencrypt.org/directory", MC_OK},
        {"http://example.com", MC_OK},
        {"HTTPS://Example.COM/x?y=1#z", MC_OK},
        {"https://[::1]:443/acme/new-acct", MC_OK},
        {"https://[2001:db8::1]/", MC_OK},
        {"https://a_b.example:1/", MC_OK},
        {"https://example.com:65535/", MC_OK},
        {"", MC_ERR_INVALID},
        {NULL, MC_ERR_INVALID},
        {"ftp://example.com/", MC_ERR_INVALID},
        {"file:///etc/passwd", MC_ERR_INVALID},
        {"javascript:alert(1)", MC_ERR_INVALID},
        {"https://", MC_ERR_INVALID},
        {"https:///path", MC_ERR_INVALID},
        {"https://:443/", MC_ERR_INVALID},
        {"//example.com/x", MC_ERR_INVALID},
        {"/acme/acct/1", MC_ERR_INVALID}, /* relative */
        {"not a url", MC_ERR_INVALID},
        {"https://exa mple.com/", MC_ERR_INVALID},
        {"https://example.com/a b", MC_ERR_INVALID},
        {"https://example.com/\r\nX-Evil: 1", MC_ERR_INVALID},
        {"https://example.com/\t", MC_ERR_INVALID},
        {"https://example.com/\x7f", MC_ERR_INVALID},
        {"https://ex\xc3\xa4mple.com/", MC_ERR_INVALID},
        {"https://user:pw@example.com/", MC_ERR_INVALID},
        {"https://example.com@evil.com/", MC_ERR_INVALID},
        {"https://example.com:0/", MC_ERR_INVALID},
        {"https://example.com:65536/", MC_ERR_INVALID},
        {"https://example.com:99999999/", MC_ERR_INVALID},
        {"https://example.com:-1/", MC_ERR_INVALID},
        {"https://example.com:/", MC_ERR_INVALID},
        {"https://example.com:80x/", MC_ERR_INVALID},
        {"https://[::1/", MC_ERR_INVALID},
        {"https://[]/", MC_ERR_INVALID},
        {"https://[zz::1]/", MC_ERR_INVALID},
        {"https://[::1]x/", MC_ERR_INVALID},
        {"https://exa<mple.com/", MC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(wire_check_url(t[i].v) == t[i].err, "case %zu: %s", i,
                      t[i].v != NULL ? t[i].v : "NULL");

    /* Length cap: at the cap fine, one over refused. */
    char *big = malloc(WIRE_MAX_URL + 2);
    ck_assert_ptr_nonnull(big);
    memcpy(big, "https://a.example/", 18);
    memset(big + 18, 'p', WIRE_MAX_URL - 18);
    big[WIRE_MAX_URL] = '\0';
    ck_assert_int_eq(wire_check_url(big), MC_OK);
    big[WIRE_MAX_URL] = 'p';
    big[WIRE_MAX_URL + 1] = '\0';
    ck_assert_int_eq(wire_check_url(big), MC_ERR_TOO_BIG);
    free(big);
}
END_TEST

/* RFC 3986 section 5.2 resolution of Location and Link references, then the URL rules. */
START_TEST(test_resolve_url)
{
    const char *base = "https://ca.example:14000/acme/order/7/cert?x=1#f";
    struct {
        const char *ref;
        enum mc_err err;
        const char *want;
    } t[] = {
        {"/acct/1", MC_OK, "https://ca.example:14000/acct/1"},
        {"../cert/alt/1", MC_OK, "https://ca.example:14000/acme/order/cert/alt/1"},
        {"alt/2", MC_OK, "https://ca.example:14000/acme/order/7/alt/2"},
        {"./a/../b", MC_OK, "https://ca.example:14000/acme/order/7/b"},
        {"../../../../../x", MC_OK, "https://ca.example:14000/x"}, /* no climbing out */
        {"?page=2", MC_OK, "https://ca.example:14000/acme/order/7/cert?page=2"},
        {"//mirror.example/dir", MC_OK, "https://mirror.example/dir"},
        /* Absolute http(s): byte for byte, case of the scheme kept. */
        {"HTTPS://Other.example/a/./b", MC_OK, "HTTPS://Other.example/a/./b"},
        {"http://127.0.0.1:1/x", MC_OK, "http://127.0.0.1:1/x"},
        /* Refused. */
        {"javascript:alert(1)", MC_ERR_INVALID, NULL},
        {"file:///etc/passwd", MC_ERR_INVALID, NULL},
        {"data:text/plain,x", MC_ERR_INVALID, NULL},
        {"//evil\n", MC_ERR_INVALID, NULL},
        {"/a\r\nSet-Cookie: x", MC_ERR_INVALID, NULL},
        {"/a b", MC_ERR_INVALID, NULL},
        {"/caf\xc3\xa9", MC_ERR_INVALID, NULL},
        {"/x\x7f", MC_ERR_INVALID, NULL},
        {"//user@evil/x", MC_ERR_INVALID, NULL},  /* userinfo, after the merge */
        {"//evil:99999/x", MC_ERR_INVALID, NULL}, /* port out of range */
        {"//", MC_ERR_INVALID, NULL},             /* no host */
        {"", MC_ERR_INVALID, NULL},
        {NULL, MC_ERR_INVALID, NULL},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *out = (char *)"unset";
        enum mc_err e = wire_resolve_url(base, t[i].ref, &out);
        ck_assert_msg(e == t[i].err, "case %zu (%s): %s", i, t[i].ref ? t[i].ref : "NULL",
                      mc_strerror(e));
        if (t[i].want != NULL)
            ck_assert_str_eq(out, t[i].want);
        else
            ck_assert_ptr_null(out);
        free(out);
    }

    /* A relative reference needs a base that is itself a valid URL. */
    char *out = NULL;
    ck_assert_int_eq(wire_resolve_url("file:///etc/", "passwd", &out), MC_ERR_INVALID);
    ck_assert_int_eq(wire_resolve_url(NULL, "/x", &out), MC_ERR_INVALID);
    ck_assert_ptr_null(out);

    /* The length cap, on the reference and on what it resolves to. */
    char *big = malloc(WIRE_MAX_URL + 2);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', WIRE_MAX_URL + 1);
    big[0] = '/';
    big[WIRE_MAX_URL + 1] = '\0';
    ck_assert_int_eq(wire_resolve_url(base, big, &out), MC_ERR_TOO_BIG);
    big[WIRE_MAX_URL - 5] = '\0'; /* fits alone, not after the base's origin */
    ck_assert_int_eq(wire_resolve_url(base, big, &out), MC_ERR_TOO_BIG);
    ck_assert_ptr_null(out);
    free(big);
}
END_TEST

START_TEST(test_uri)
{
    struct {
        const char *v;
        enum mc_err err;
    } t[] = {
        {"data:text/plain,Do%20what%20thou%20wilt", MC_OK}, /* Pebble's terms */
        {"https://example.com/tos.pdf", MC_OK},
        {"urn:example:x", MC_OK},
        {"a+b-c.d:x", MC_OK},
        {"data:", MC_ERR_INVALID},
        {":x", MC_ERR_INVALID},
        {"1abc:x", MC_ERR_INVALID},
        {"no-scheme", MC_ERR_INVALID},
        {"data:text/plain,a b", MC_ERR_INVALID},
        {"data:\x1b[2J", MC_ERR_INVALID},
        {"", MC_ERR_INVALID},
        {NULL, MC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(wire_check_uri(t[i].v) == t[i].err, "case %zu", i);
}
END_TEST

START_TEST(test_status)
{
    struct {
        enum wire_obj k;
        const char *v;
        enum mc_err err;
    } t[] = {
        {WIRE_ACCOUNT, "valid", MC_OK},
        {WIRE_ACCOUNT, "deactivated", MC_OK},
        {WIRE_ACCOUNT, "revoked", MC_OK},
        {WIRE_ACCOUNT, "pending", MC_ERR_INVALID},
        {WIRE_ORDER, "pending", MC_OK},
        {WIRE_ORDER, "ready", MC_OK},
        {WIRE_ORDER, "processing", MC_OK},
        {WIRE_ORDER, "valid", MC_OK},
        {WIRE_ORDER, "invalid", MC_OK},
        {WIRE_ORDER, "expired", MC_ERR_INVALID},
        {WIRE_ORDER, "deactivated", MC_ERR_INVALID},
        {WIRE_AUTHZ, "pending", MC_OK},
        {WIRE_AUTHZ, "expired", MC_OK},
        {WIRE_AUTHZ, "deactivated", MC_OK},
        {WIRE_AUTHZ, "revoked", MC_OK},
        {WIRE_AUTHZ, "ready", MC_ERR_INVALID},
        {WIRE_AUTHZ, "processing", MC_ERR_INVALID},
        {WIRE_CHALLENGE, "processing", MC_OK},
        {WIRE_CHALLENGE, "invalid", MC_OK},
        {WIRE_CHALLENGE, "ready", MC_ERR_INVALID},
        {WIRE_ORDER, "Valid", MC_ERR_INVALID}, /* case-sensitive */
        {WIRE_ORDER, "valid ", MC_ERR_INVALID},
        {WIRE_ORDER, "", MC_ERR_INVALID},
        {WIRE_ORDER, NULL, MC_ERR_INVALID},
        {(enum wire_obj)99, "valid", MC_ERR_INVALID},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        ck_assert_msg(wire_check_status(t[i].k, t[i].v) == t[i].err, "case %zu", i);
}
END_TEST

START_TEST(test_rfc3339)
{
    struct {
        const char *v;
        enum mc_err err;
        int64_t want;
    } t[] = {
        {"1970-01-01T00:00:00Z", MC_OK, 0},
        {"2026-11-24T03:24:15Z", MC_OK, INT64_C(1795490655)},
        {"2026-11-24T03:24:15.123Z", MC_OK, INT64_C(1795490655)},
        {"2026-11-24T03:24:15.999999999Z", MC_OK, INT64_C(1795490655)},
        {"2026-11-24t03:24:15z", MC_OK, INT64_C(1795490655)},
        {"2026-11-24 03:24:15Z", MC_OK, INT64_C(1795490655)},
        {"2026-11-24T05:24:15+02:00", MC_OK, INT64_C(1795490655)},
        {"2026-11-23T22:24:15-05:00", MC_OK, INT64_C(1795490655)},
        {"2024-02-29T00:00:00Z", MC_OK, INT64_C(1709164800)}, /* leap year */
        {"2000-02-29T12:00:00Z", MC_OK, INT64_C(951825600)},  /* 400-year rule */
        {"1994-11-06T08:49:37Z", MC_OK, INT64_C(784111777)},
        {"9999-12-31T23:59:59Z", MC_OK, INT64_C(253402300799)},
        {"1969-12-31T23:59:59Z", MC_OK, -1},                  /* before the epoch */
        {"2016-12-31T23:59:60Z", MC_OK, INT64_C(1483228800)}, /* leap second */
        {"2023-02-29T00:00:00Z", MC_ERR_INVALID, 0},
        {"2100-02-29T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-04-31T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-13-01T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-00-10T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-01-00T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-01-01T24:00:00Z", MC_ERR_INVALID, 0},
        {"2024-01-01T00:60:00Z", MC_ERR_INVALID, 0},
        {"2024-01-01T00:00:61Z", MC_ERR_INVALID, 0},
        {"2024-01-01T00:00:00", MC_ERR_INVALID, 0}, /* no offset */
        {"2024-01-01T00:00:00+0200", MC_ERR_INVALID, 0},
        {"2024-01-01T00:00:00+24:00", MC_ERR_INVALID, 0},
        {"2024-01-01T00:00:00.Z", MC_ERR_INVALID, 0},
        {"2024-01-01T00:00:00ZZ", MC_ERR_INVALID, 0},
        {"2024-1-01T00:00:00Z", MC_ERR_INVALID, 0},
        {"-2024-01-01T00:00:00Z", MC_ERR_INVALID, 0},
        {"+2024-01-01T00:00:00Z", MC_ERR_INVALID, 0},
        {"2024-01-01", MC_ERR_INVALID, 0},
        {"2024-01-01T", MC_ERR_INVALID, 0},
        {"", MC_ERR_INVALID, 0},
        {"garbage", MC_ERR_INVALID, 0},
        {"1712345678", MC_ERR_INVALID, 0},
        {NULL, MC_ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        int64_t got = -12345;
        enum mc_err e = wire_rfc3339(t[i].v, &got);
        ck_assert_msg(e == t[i].err, "case %zu (%s): err %d", i, t[i].v ? t[i].v : "NULL", e);
        if (e == MC_OK)
            ck_assert_msg(got == t[i].want, "case %zu: %lld want %lld", i, (long long)got,
                          (long long)t[i].want);
    }
    /* A very long fraction is refused by the length cap, not read forever. */
    char big[200];
    memcpy(big, "2024-01-01T00:00:00.", 20);
    memset(big + 20, '1', 170);
    memcpy(big + 190, "Z", 2);
    int64_t got;
    ck_assert_int_eq(wire_rfc3339(big, &got), MC_ERR_INVALID);
}
END_TEST

START_TEST(test_civil)
{
    int64_t got;
    ck_assert_int_eq(wire_civil_to_unix(1970, 1, 1, 0, 0, 0, &got), MC_OK);
    ck_assert(got == 0);
    ck_assert_int_eq(wire_civil_to_unix(1600, 2, 29, 0, 0, 0, &got), MC_OK);
    ck_assert_int_eq(wire_civil_to_unix(1700, 2, 29, 0, 0, 0, &got), MC_ERR_INVALID);
    ck_assert_int_eq(wire_civil_to_unix(10000, 1, 1, 0, 0, 0, &got), MC_ERR_INVALID);
    ck_assert_int_eq(wire_civil_to_unix(-1, 1, 1, 0, 0, 0, &got), MC_ERR_INVALID);
    ck_assert_int_eq(wire_civil_to_unix(2024, 12, 32, 0, 0, 0, &got), MC_ERR_INVALID);
    ck_assert_int_eq(wire_civil_to_unix(0, 1, 1, 0, 0, 0, &got), MC_OK);
    ck_assert(got == INT64_C(-62167219200));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cli_wire");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_token);
    tcase_add_test(tc, test_url);
    tcase_add_test(tc, test_uri);
    tcase_add_test(tc, test_resolve_url);
    tcase_add_test(tc, test_status);
    tcase_add_test(tc, test_rfc3339);
    tcase_add_test(tc, test_civil);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
