/* Unit tests for common/log.c: line shape, level filter, redaction, quoting. */
#include <check.h>
#include <pthread.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/log.h"

static char *mem_buf;
static size_t mem_len;
static FILE *mem;

static void mem_open(void)
{
    mem_buf = NULL;
    mem_len = 0;
    mem = open_memstream(&mem_buf, &mem_len);
    ck_assert_ptr_nonnull(mem);
    log_set_stream(mem);
}

/* Detaches the stream and returns what was logged (caller frees). */
static char *mem_take(void)
{
    log_set_stream(NULL);
    fclose(mem);
    mem = NULL;
    return mem_buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

START_TEST(test_line_shape)
{
    mem_open();
    log_set_level(LOGL_INFO);
    log_msg(LOGL_INFO, "dns.listen", "addr=%s port=%d", "127.0.0.1", 8053);
    char *out = mem_take();
    regex_t re;
    ck_assert_int_eq(
        regcomp(&re,
                "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                "level=info event=dns\\.listen addr=127\\.0\\.0\\.1 port=8053\n$",
                REG_EXTENDED),
        0);
    ck_assert_msg(regexec(&re, out, 0, NULL, 0) == 0, "line: %s", out);
    regfree(&re);
    free(out);

    /* No caller text: the line ends after the event. */
    mem_open();
    log_msg(LOGL_WARN, "x.y", "%s", "");
    out = mem_take();
    ck_assert_ptr_nonnull(strstr(out, " level=warn event=x.y\n"));
    free(out);
}
END_TEST

START_TEST(test_level_filter)
{
    mem_open();
    log_set_level(LOGL_WARN);
    ck_assert(log_enabled(LOGL_ERROR));
    ck_assert(log_enabled(LOGL_WARN));
    ck_assert(!log_enabled(LOGL_INFO));
    log_msg(LOGL_DEBUG, "d", "n=1");
    log_msg(LOGL_INFO, "i", "n=2");
    log_msg(LOGL_WARN, "w", "n=3");
    log_msg(LOGL_ERROR, "e", "n=4");
    log_set_level(LOGL_DEBUG);
    log_msg(LOGL_DEBUG, "d2", "n=5");
    char *out = mem_take();
    ck_assert_int_eq(count_lines(out), 3);
    ck_assert_ptr_null(strstr(out, "n=1"));
    ck_assert_ptr_null(strstr(out, "n=2"));
    ck_assert_ptr_nonnull(strstr(out, "level=warn event=w n=3"));
    ck_assert_ptr_nonnull(strstr(out, "level=error event=e n=4"));
    ck_assert_ptr_nonnull(strstr(out, "level=debug event=d2 n=5"));
    free(out);

    /* A NULL stream silences everything. */
    ck_assert(!log_enabled(LOGL_ERROR));
    log_msg(LOGL_ERROR, "e", "quiet=1");

    ck_assert_int_eq(log_level_parse("error"), LOGL_ERROR);
    ck_assert_int_eq(log_level_parse("warn"), LOGL_WARN);
    ck_assert_int_eq(log_level_parse("info"), LOGL_INFO);
    ck_assert_int_eq(log_level_parse("debug"), LOGL_DEBUG);
    ck_assert_int_eq(log_level_parse("verbose"), -1);
    ck_assert_int_eq(log_level_parse(""), -1);
    ck_assert_int_eq(log_level_parse(NULL), -1);
}
END_TEST

START_TEST(test_secret)
{
    mem_open();
    log_set_level(LOGL_INFO);
    log_set_show_secrets(false);
    log_msg(LOGL_INFO, "k", "hmac=%s", log_secret("s3cr3t"));
    log_set_show_secrets(true);
    log_msg(LOGL_INFO, "k", "hmac=%s", log_secret("s3cr3t"));
    char *out = mem_take();
    char *first = strstr(out, "hmac=[redacted]\n");
    ck_assert_ptr_nonnull(first);
    ck_assert_ptr_nonnull(strstr(first, "hmac=s3cr3t\n"));
    ck_assert_ptr_eq(strstr(out, "s3cr3t"), strstr(first, "s3cr3t"));
    free(out);
    ck_assert_str_eq(log_secret(NULL), "");
}
END_TEST

START_TEST(test_quote)
{
    char buf[64];
    ck_assert_str_eq(log_quote("plain-value_1.2", buf, sizeof(buf)), "plain-value_1.2");
    ck_assert_str_eq(log_quote("two words", buf, sizeof(buf)), "\"two words\"");
    ck_assert_str_eq(log_quote("a=b", buf, sizeof(buf)), "\"a=b\"");
    ck_assert_str_eq(log_quote("say \"hi\"", buf, sizeof(buf)), "\"say \\\"hi\\\"\"");
    ck_assert_str_eq(log_quote("l1\nl2\t\\", buf, sizeof(buf)), "\"l1\\nl2\\t\\\\\"");
    ck_assert_str_eq(log_quote("\x01", buf, sizeof(buf)), "\"\\x01\"");
    ck_assert_str_eq(log_quote("", buf, sizeof(buf)), "\"\"");
    ck_assert_str_eq(log_quote(NULL, buf, sizeof(buf)), "\"\"");
    /* Truncation keeps the closing quote and never splits an escape. */
    char small[8];
    ck_assert_str_eq(log_quote("abcdefghij", small, sizeof(small)), "abcdefg");
    ck_assert_str_eq(log_quote("a bcdefghij", small, sizeof(small)), "\"a bcd\"");
    ck_assert_str_eq(log_quote("a b\"cdef", small, sizeof(small)), "\"a b\\\"\"");
    ck_assert_str_eq(log_quote("a bc\"def", small, sizeof(small)), "\"a bc\"");
    ck_assert_str_eq(log_quote("a b", buf, 1), "");
}
END_TEST

START_TEST(test_one_line_per_call)
{
    mem_open();
    log_set_level(LOGL_INFO);
    /* A newline smuggled in the caller's text cannot start a forged line. */
    log_msg(LOGL_INFO, "inj", "v=%s", "x\nts=fake level=error event=forged");
    char *big = malloc(10000);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', 9999);
    big[9999] = '\0';
    log_msg(LOGL_INFO, "big", "v=%s", big);
    free(big);
    char *out = mem_take();
    ck_assert_int_eq(count_lines(out), 2);
    ck_assert_ptr_nonnull(strstr(out, "...\n")); /* the long line says it was cut */
    free(out);
}
END_TEST

START_TEST(test_openssl_errors)
{
    mem_open();
    log_set_level(LOGL_INFO);
    /* Provoke a real error: an unknown algorithm name. */
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "NO-SUCH-ALG", NULL);
    ck_assert_ptr_null(ctx);
    ck_assert(ERR_peek_error() != 0);
    log_openssl_errors(LOGL_ERROR, "crypto.fail");
    ck_assert(ERR_peek_error() == 0); /* drained */
    /* Nothing queued: nothing logged. */
    log_openssl_errors(LOGL_ERROR, "crypto.none");
    /* Drained even when the level hides the line. */
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "NO-SUCH-ALG", NULL);
    ck_assert(ERR_peek_error() != 0);
    log_openssl_errors(LOGL_DEBUG, "crypto.hidden");
    ck_assert(ERR_peek_error() == 0);
    char *out = mem_take();
    ck_assert_int_eq(count_lines(out), 1);
    ck_assert_ptr_nonnull(strstr(out, "level=error event=crypto.fail openssl_errors="));
    ck_assert_ptr_nonnull(strstr(out, "openssl=\"error:"));
    free(out);
}
END_TEST

static void *log_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 200; i++)
        log_msg(LOGL_INFO, "thr", "worker=%d i=%d pad=%s", id, i,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

START_TEST(test_threads_whole_lines)
{
    mem_open();
    log_set_level(LOGL_INFO);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, log_worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *out = mem_take();
    ck_assert_int_eq(count_lines(out), 800);
    /* Every line is whole: it starts with ts= and ends with the pad. */
    int good = 0;
    for (char *line = out; *line != '\0';) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        if (strncmp(line, "ts=", 3) == 0 && nl - line > 60 && nl[-1] == 'x' &&
            strstr(line, " event=thr worker=") != NULL)
            good++;
        line = nl + 1;
    }
    ck_assert_int_eq(good, 800);
    free(out);
}
END_TEST

static Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_line_shape);
    tcase_add_test(tc, test_level_filter);
    tcase_add_test(tc, test_secret);
    tcase_add_test(tc, test_quote);
    tcase_add_test(tc, test_one_line_per_call);
    tcase_add_test(tc, test_openssl_errors);
    tcase_add_test(tc, test_threads_whole_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(log_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
