/* Unit tests for common/report.c: outcomes and totals, caps, escaping of hostile strings in
 * all three forms, the JUnit XML read back by a small strict XML reader, and the JSON form
 * parsed back. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/json.h"
#include "common/report.h"
#include "testutil.h"

#define HOSTILE "</script><b>&\"'"

static const struct report_req cat[] = {
    {"T-MUST-001", "RFC 8555 6.2", REPORT_MUST, "Content-Type is application/jose+json"},
    {"T-MUST-002", "RFC 8555 6.5", REPORT_MUST, "nonce " HOSTILE},
    {"T-SHOULD-001", "RFC 8555 7.1", REPORT_SHOULD, "a should"},
    {"T-MUST-003", "RFC 8555 7.3", REPORT_MUST, "never exercised"},
};
#define NCAT (sizeof(cat) / sizeof(cat[0]))

static char *g_dir;

static void setup(void)
{
    g_dir = tu_tmpdir();
    ck_assert_ptr_nonnull(g_dir);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    free(g_dir);
    g_dir = NULL;
}

static char *path_of(const char *name)
{
    char *p = NULL;
    ck_assert_int_ne(asprintf(&p, "%s/%s", g_dir, name), -1);
    return p;
}

static char *slurp(const char *path)
{
    char *s = NULL;
    size_t n = 0;
    ck_assert_int_eq(file_read_all(path, 64 * 1024 * 1024, &s, &n), MC_OK);
    return s;
}

/* A report with hostile strings everywhere: two exchanges, findings on MUST-002 (twice)
 * and on SHOULD-001, MUST-001 exercised only. */
static struct report *sample(void)
{
    struct report *r = report_new("acme-" HOSTILE, "https://x/" HOSTILE, 42, cat, NCAT);
    ck_assert_ptr_nonnull(r);
    struct report_exchange x = {
        .at_ms = 1700000000000,
        .actor = "acct-" HOSTILE,
        .user_agent = "ua\x01\x1f\x7f",
        .method = "POST",
        .url = "https://127.0.0.1/new-acct?a=1&b=<2>",
        .req_headers = "Content-Type: application/jose+json\nX-Evil: " HOSTILE,
        .req_body = "{\"a\":\"\x02\x03 bell\x07 tab\t nl\n\"}",
        .status = 400,
        .resp_headers = "Replay-Nonce: abc\nContent-Type: application/problem+json",
        /* Invalid UTF-8: a lone continuation byte, a truncated sequence, an overlong '/',
         * a surrogate, and a C1 control (U+0085) that is valid UTF-8. */
        .resp_body = "bad \x80 \xe2\x82 \xc0\xaf \xed\xa0\x80 c1 \xc2\x85 ok \xc3\xa9",
    };
    ck_assert_int_eq(report_add_exchange(r, &x), 0);
    struct report_exchange y = {.at_ms = 1700000000500, .method = "GET", .status = 200};
    ck_assert_int_eq(report_add_exchange(r, &y), 1);
    ck_assert_int_eq(report_exercised(r, "T-MUST-001"), MC_OK);
    ck_assert_int_eq(report_exercised(r, "T-MUST-002"), MC_OK);
    ck_assert_int_eq(report_violation(r, "T-MUST-002", "acct-" HOSTILE, 0, "detail " HOSTILE),
                     MC_OK);
    ck_assert_int_eq(report_violation(r, "T-MUST-002", NULL, -1, "second\x01"), MC_OK);
    ck_assert_int_eq(report_violation(r, "T-SHOULD-001", NULL, 1, "should " HOSTILE), MC_OK);
    report_set_times(r, 1700000000000, 1700000002000);
    return r;
}

START_TEST(test_outcomes_and_totals)
{
    struct report *r = sample();
    struct report_totals t;
    ck_assert_int_eq(report_outcome_of(r, "T-MUST-001"), REPORT_PASS);
    ck_assert_int_eq(report_outcome_of(r, "T-MUST-002"), REPORT_FAIL);
    ck_assert_int_eq(report_outcome_of(r, "T-SHOULD-001"), REPORT_FAIL);
    ck_assert_int_eq(report_outcome_of(r, "T-MUST-003"), REPORT_SKIP);
    ck_assert_int_eq(report_outcome_of(r, "NO-SUCH"), REPORT_SKIP);
    report_totals(r, &t);
    ck_assert_uint_eq(t.pass, 1);
    ck_assert_uint_eq(t.fail, 2);
    ck_assert_uint_eq(t.skip, 1);
    ck_assert_uint_eq(t.must_fail, 1);
    ck_assert_uint_eq(t.should_fail, 1);
    ck_assert_uint_eq(t.findings, 3);
    ck_assert_uint_eq(t.exchanges, 2);
    /* Unknown ids are refused and change nothing. */
    ck_assert_int_eq(report_exercised(r, "NO-SUCH"), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(report_violation(r, "NO-SUCH", NULL, -1, "x"), MC_ERR_NOT_FOUND);
    ck_assert_int_eq(report_exercised(r, NULL), MC_ERR_NOT_FOUND);
    report_totals(r, &t);
    ck_assert_uint_eq(t.findings, 3);
    /* A violation alone (never report_exercised) fails the requirement. */
    ck_assert_int_eq(report_violation(r, "T-MUST-003", NULL, -1, "x"), MC_OK);
    ck_assert_int_eq(report_outcome_of(r, "T-MUST-003"), REPORT_FAIL);
    report_free(r);
    report_free(NULL);
}
END_TEST

START_TEST(test_caps)
{
    struct report *r = report_new("s", "t", 1, cat, NCAT);
    struct report_totals t;
    char *big = malloc(REPORT_MAX_BODY * 2 + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 'a', REPORT_MAX_BODY * 2);
    big[REPORT_MAX_BODY * 2] = '\0';
    struct report_exchange x = {.method = "GET", .resp_body = big, .status = 200};
    ck_assert(!report_exchanges_full(r));
    for (long i = 0; i < REPORT_MAX_EXCHANGES; i++)
        ck_assert_int_eq(report_add_exchange(r, &x), i);
    ck_assert(report_exchanges_full(r));
    ck_assert(report_exchanges_full(NULL));
    /* Past the cap: counted, not kept. */
    ck_assert_int_eq(report_add_exchange(r, &x), -1);
    ck_assert_int_eq(report_add_exchange(r, &x), -1);
    for (long i = 0; i < REPORT_MAX_FINDINGS; i++)
        ck_assert_int_eq(report_violation(r, "T-SHOULD-001", NULL, i % 10, "f"), MC_OK);
    ck_assert_int_eq(report_violation(r, "T-MUST-001", NULL, -1, "over"), MC_ERR_LIMIT);
    report_totals(r, &t);
    ck_assert_uint_eq(t.exchanges, REPORT_MAX_EXCHANGES + 2);
    ck_assert_uint_eq(t.findings, REPORT_MAX_FINDINGS + 1);
    /* The finding past the cap still fails its requirement. */
    ck_assert_int_eq(report_outcome_of(r, "T-MUST-001"), REPORT_FAIL);
    ck_assert_uint_eq(t.must_fail, 1);

    cJSON *j = NULL;
    ck_assert_int_eq(report_to_json(r, &j), MC_OK);
    const cJSON *xs = cJSON_GetObjectItemCaseSensitive(j, "exchanges");
    ck_assert_int_eq(cJSON_GetArraySize(xs), REPORT_MAX_EXCHANGES);
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(xs, 0), "response");
    const char *body = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(resp, "body"));
    ck_assert_uint_eq(strlen(body), REPORT_MAX_BODY);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(resp, "truncated")));
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(j, "totals");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(tot, "exchanges")->valueint,
                     REPORT_MAX_EXCHANGES + 2);
    cJSON_Delete(j);
    free(big);
    report_free(r);
}
END_TEST

static const char *json_str(const cJSON *o, const char *name)
{
    const char *s = NULL;
    ck_assert_int_eq(json_get_string(o, name, &s), MC_OK);
    return s;
}

/* True if s is valid UTF-8 (no overlongs, no surrogates). */
static bool valid_utf8(const unsigned char *s)
{
    while (*s != '\0') {
        size_t n;
        unsigned cp;
        if (*s < 0x80) {
            s++;
            continue;
        }
        if (*s >= 0xc2 && *s <= 0xdf) {
            n = 2;
            cp = *s & 0x1f;
        } else if (*s >= 0xe0 && *s <= 0xef) {
            n = 3;
            cp = *s & 0x0f;
        } else if (*s >= 0xf0 && *s <= 0xf4) {
            n = 4;
            cp = *s & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        s += n;
    }
    return true;
}

START_TEST(test_json_round_trip)
{
    struct report *r = sample();
    char *p = path_of("r.json");
    ck_assert_int_eq(report_write_json(r, p), MC_OK);
    char *text = slurp(p);
    ck_assert(valid_utf8((const unsigned char *)text));
    cJSON *j = NULL;
    ck_assert_int_eq(json_parse(text, strlen(text), 64 * 1024 * 1024, 16, &j), MC_OK);
    ck_assert_str_eq(json_str(j, "suite"), "acme-" HOSTILE);
    ck_assert_str_eq(json_str(j, "target"), "https://x/" HOSTILE);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(j, "seed")->valueint, 42);
    ck_assert_str_eq(json_str(j, "started"), "2023-11-14T22:13:20.000Z");
    ck_assert_str_eq(json_str(j, "finished"), "2023-11-14T22:13:22.000Z");
    const cJSON *t = NULL, *reqs = NULL, *xs = NULL;
    ck_assert_int_eq(json_get_object(j, "totals", &t), MC_OK);
    int64_t v;
    ck_assert_int_eq(json_get_int(t, "pass", 0, 100, &v), MC_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(json_get_int(t, "must_fail", 0, 100, &v), MC_OK);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(json_get_array(j, "requirements", &reqs), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(reqs), NCAT);
    for (size_t i = 0; i < NCAT; i++) {
        const cJSON *q = cJSON_GetArrayItem(reqs, (int)i);
        ck_assert_str_eq(json_str(q, "id"), cat[i].id);
        ck_assert_str_eq(json_str(q, "rfc"), cat[i].rfc);
        ck_assert_str_eq(json_str(q, "text"), cat[i].text);
        ck_assert_str_eq(json_str(q, "level"), cat[i].level == REPORT_MUST ? "MUST" : "SHOULD");
    }
    const cJSON *q1 = cJSON_GetArrayItem(reqs, 1);
    ck_assert_str_eq(json_str(q1, "outcome"), "fail");
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(q1, "findings");
    ck_assert_int_eq(cJSON_GetArraySize(fs), 2);
    ck_assert_str_eq(json_str(cJSON_GetArrayItem(fs, 0), "detail"), "detail " HOSTILE);
    ck_assert_str_eq(json_str(cJSON_GetArrayItem(fs, 0), "actor"), "acct-" HOSTILE);
    ck_assert_int_eq(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fs, 0), "exchange")->valueint, 0);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(fs, 1), "actor")));
    ck_assert_str_eq(json_str(cJSON_GetArrayItem(fs, 1), "detail"), "second\x01");
    ck_assert_str_eq(json_str(cJSON_GetArrayItem(reqs, 0), "outcome"), "pass");
    ck_assert_str_eq(json_str(cJSON_GetArrayItem(reqs, 3), "outcome"), "skip");

    ck_assert_int_eq(json_get_array(j, "exchanges", &xs), MC_OK);
    ck_assert_int_eq(cJSON_GetArraySize(xs), 2);
    const cJSON *x0 = cJSON_GetArrayItem(xs, 0);
    ck_assert_str_eq(json_str(x0, "method"), "POST");
    ck_assert_str_eq(json_str(x0, "user_agent"), "ua\x01\x1f\x7f");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(x0, "status")->valueint, 400);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(x0, "request");
    ck_assert_str_eq(json_str(req, "body"), "{\"a\":\"\x02\x03 bell\x07 tab\t nl\n\"}");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(x0, "response");
    /* Each invalid byte became U+FFFD; valid sequences (the C1 control, the e-acute) stay. */
    ck_assert_str_eq(json_str(resp, "body"),
                     "bad \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd "
                     "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd c1 \xc2\x85 ok \xc3\xa9");
    const cJSON *viol = cJSON_GetObjectItemCaseSensitive(x0, "violations");
    ck_assert_int_eq(cJSON_GetArraySize(viol), 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(viol, 0)), "T-MUST-002");
    const cJSON *x1 = cJSON_GetArrayItem(xs, 1);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(x1, "url")));
    ck_assert_str_eq(cJSON_GetStringValue(
                         cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(x1, "violations"), 0)),
                     "T-SHOULD-001");
    cJSON_Delete(j);
    free(text);
    free(p);
    report_free(r);
}
END_TEST

/* ---- a small strict XML reader ------------------------------------------------------------ */

struct xel {
    char name[32];
    char attrs[8][2][1024]; /* name, unescaped value */
    size_t nattrs;
    int depth;
    char parent[32];
};

struct xdoc {
    struct xel els[64];
    size_t n;
    char text[8192]; /* all text content, unescaped, concatenated */
    size_t tlen;
};

/* Decodes one entity at s (just after '&') into out; returns its length up to and
 * including ';' or 0 when it is not one of the XML predefined or numeric entities. */
static size_t xml_entity(const char *s, char *out, size_t *outn)
{
    static const char *const names[][2] = {
        {"amp;", "&"}, {"lt;", "<"}, {"gt;", ">"}, {"quot;", "\""}, {"apos;", "'"}};
    for (size_t i = 0; i < 5; i++) {
        size_t l = strlen(names[i][0]);
        if (strncmp(s, names[i][0], l) == 0) {
            out[0] = names[i][1][0];
            *outn = 1;
            return l;
        }
    }
    if (s[0] == '#') {
        char *end = NULL;
        long v = strtol(s + 1, &end, 10);
        /* Only the characters XML 1.0 allows: tab, LF, CR, and from U+0020 (ASCII here). */
        if (end == s + 1 || *end != ';' || !(v == 9 || v == 10 || v == 13 || (v >= 32 && v < 127)))
            return 0;
        out[0] = (char)v;
        *outn = 1;
        return (size_t)(end - s) + 1;
    }
    return 0;
}

/* Character data: no '<', entities valid, no control characters besides tab/LF/CR. */
static bool xml_chars(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char dec[4];
        size_t dn = 1, used = 1;
        if (c == '<')
            return false;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return false;
        if (c == '&') {
            used = xml_entity(s + i + 1, dec, &dn);
            if (used == 0)
                return false;
            used++;
        } else {
            dec[0] = (char)c;
        }
        if (o + dn < cap) {
            memcpy(out + o, dec, dn);
            o += dn;
        }
        i += used;
    }
    out[o < cap ? o : cap - 1] = '\0';
    *outlen = o;
    return true;
}

/* Parses doc strictly enough for the writer: a prolog, then nested elements with quoted
 * attributes, text, no comments or CDATA. Records the first 64 elements. */
static bool xml_read(const char *doc, struct xdoc *d)
{
    char stack[32][32];
    int depth = 0;
    const char *p = doc;
    bool root_seen = false;
    memset(d, 0, sizeof(*d));
    if (strncmp(p, "<?xml ", 6) != 0)
        return false;
    p = strstr(p, "?>");
    if (p == NULL)
        return false;
    p += 2;
    while (*p != '\0') {
        if (*p != '<') {
            const char *e = strchr(p, '<');
            size_t n = e != NULL ? (size_t)(e - p) : strlen(p), tl = 0;
            char tmp[8192];
            if (!xml_chars(p, n, tmp, sizeof(tmp), &tl))
                return false;
            if (depth == 0 && strspn(tmp, " \t\r\n") != strlen(tmp))
                return false; /* text outside the root */
            if (d->tlen + tl < sizeof(d->text)) {
                memcpy(d->text + d->tlen, tmp, tl);
                d->tlen += tl;
                d->text[d->tlen] = '\0';
            }
            p += n;
            continue;
        }
        if (p[1] == '/') {
            size_t n = strcspn(p + 2, ">");
            if (depth == 0 || p[2 + n] != '>' || n != strlen(stack[depth - 1]) ||
                strncmp(p + 2, stack[depth - 1], n) != 0)
                return false;
            depth--;
            p += 3 + n;
            continue;
        }
        /* A start tag. */
        struct xel el;
        memset(&el, 0, sizeof(el));
        p++;
        size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
        if (n == 0 || n >= sizeof(el.name))
            return false;
        memcpy(el.name, p, n);
        p += n;
        for (;;) {
            p += strspn(p, " \t\r\n");
            if (*p == '>' || (p[0] == '/' && p[1] == '>'))
                break;
            n = strspn(p, "abcdefghijklmnopqrstuvwxyz_-");
            if (n == 0 || n >= 1024 || p[n] != '=' || p[n + 1] != '"' || el.nattrs >= 8)
                return false;
            memcpy(el.attrs[el.nattrs][0], p, n);
            p += n + 2;
            const char *e = strchr(p, '"');
            size_t vl = 0;
            if (e == NULL || !xml_chars(p, (size_t)(e - p), el.attrs[el.nattrs][1], 1024, &vl))
                return false;
            /* A literal tab or newline in an attribute would be normalized away. */
            if (memchr(p, '\n', (size_t)(e - p)) != NULL || memchr(p, '\t', (size_t)(e - p)))
                return false;
            el.nattrs++;
            p = e + 1;
        }
        if (depth == 0) {
            if (root_seen)
                return false; /* a second root */
            root_seen = true;
        }
        el.depth = depth;
        if (depth > 0)
            snprintf(el.parent, sizeof(el.parent), "%s", stack[depth - 1]);
        if (d->n < 64)
            d->els[d->n++] = el;
        if (*p == '>') {
            if (depth >= 32)
                return false;
            snprintf(stack[depth++], sizeof(stack[0]), "%s", el.name);
            p++;
        } else {
            p += 2;
        }
    }
    return depth == 0 && root_seen;
}

static const char *xattr(const struct xel *e, const char *name)
{
    for (size_t i = 0; i < e->nattrs; i++)
        if (strcmp(e->attrs[i][0], name) == 0)
            return e->attrs[i][1];
    return NULL;
}

START_TEST(test_junit)
{
    struct report *r = sample();
    char *p = path_of("r.xml");
    ck_assert_int_eq(report_write_junit(r, p), MC_OK);
    char *text = slurp(p);
    struct xdoc *d = calloc(1, sizeof(*d));
    ck_assert_ptr_nonnull(d);
    ck_assert_msg(xml_read(text, d), "not well-formed:\n%s", text);
    ck_assert_str_eq(d->els[0].name, "testsuites");
    ck_assert_str_eq(d->els[1].name, "testsuite");
    ck_assert_str_eq(xattr(&d->els[1], "name"), "acme-" HOSTILE);
    ck_assert_str_eq(xattr(&d->els[1], "tests"), "4");
    ck_assert_str_eq(xattr(&d->els[1], "failures"), "2");
    ck_assert_str_eq(xattr(&d->els[1], "skipped"), "1");
    size_t cases = 0, failures = 0, skipped = 0;
    bool target_ok = false;
    for (size_t i = 0; i < d->n; i++) {
        const struct xel *e = &d->els[i];
        if (strcmp(e->name, "property") == 0 && strcmp(xattr(e, "name"), "target") == 0)
            target_ok = strcmp(xattr(e, "value"), "https://x/" HOSTILE) == 0;
        if (strcmp(e->name, "testcase") == 0) {
            const char *want_name[] = {"T-MUST-001: Content-Type is application/jose+json",
                                       ("T-MUST-002: nonce " HOSTILE), "T-SHOULD-001: a should",
                                       "T-MUST-003: never exercised"};
            ck_assert_uint_lt(cases, NCAT);
            ck_assert_str_eq(e->parent, "testsuite");
            ck_assert_str_eq(xattr(e, "name"), want_name[cases]);
            ck_assert_str_eq(xattr(e, "classname"),
                             cat[cases].level == REPORT_MUST ? "MUST" : "SHOULD");
            cases++;
        }
        if (strcmp(e->name, "failure") == 0) {
            ck_assert_str_eq(e->parent, "testcase");
            if (failures == 0)
                ck_assert_str_eq(xattr(e, "message"), "detail " HOSTILE);
            failures++;
        }
        if (strcmp(e->name, "skipped") == 0)
            skipped++;
    }
    ck_assert(target_ok);
    ck_assert_uint_eq(cases, NCAT);
    ck_assert_uint_eq(failures, 2);
    ck_assert_uint_eq(skipped, 1);
    /* The failure text lists both findings of T-MUST-002; the control byte is shown. */
    ck_assert_ptr_nonnull(strstr(d->text, "exchange #0 (acct-" HOSTILE "): detail " HOSTILE));
    ck_assert_ptr_nonnull(strstr(d->text, "no exchange: second\\x01"));
    free(d);
    free(text);
    free(p);
    report_free(r);
}
END_TEST

START_TEST(test_html)
{
    struct report *r = sample();
    char *p = path_of("r.html");
    ck_assert_int_eq(report_write_html(r, p), MC_OK);
    char *h = slurp(p);
    ck_assert(valid_utf8((const unsigned char *)h));
    /* The hostile strings never appear raw: only escaped. */
    ck_assert_ptr_null(strstr(h, HOSTILE));
    ck_assert_ptr_null(strstr(h, "<b>"));
    ck_assert_ptr_nonnull(strstr(h, "&lt;/script&gt;&lt;b&gt;&amp;&quot;&#39;"));
    /* Exactly one </script> would be the end of a script; there is no script at all. */
    ck_assert_ptr_null(strstr(h, "<script"));
    ck_assert_ptr_null(strstr(h, "</script>"));
    /* Self-contained: nothing fetched. */
    ck_assert_ptr_null(strstr(h, "<link"));
    ck_assert_ptr_null(strstr(h, "src="));
    ck_assert_ptr_null(strstr(h, "url("));
    /* Control characters are shown, never sent raw (tab and newline in text are fine). */
    for (const char *c = h; *c != '\0'; c++)
        ck_assert_msg((unsigned char)*c >= 0x20 || *c == '\n' || *c == '\t',
                      "raw control byte 0x%02x", (unsigned char)*c);
    ck_assert_ptr_nonnull(strstr(h, "bell\\x07"));
    ck_assert_ptr_nonnull(strstr(h, "ua\\x01\\x1f\\x7f"));
    ck_assert_ptr_nonnull(strstr(h, "c1 \\u0085 ok"));
    /* Structure: requirement rows with ids, exchanges with anchors, violations linked. */
    ck_assert_ptr_nonnull(strstr(h, "<table id=\"requirements\">"));
    ck_assert_ptr_nonnull(strstr(h, "<tr id=\"req-T-MUST-001\" class=\"req outcome-pass\""));
    ck_assert_ptr_nonnull(strstr(h, "<tr id=\"req-T-MUST-002\" class=\"req outcome-fail\""));
    ck_assert_ptr_nonnull(strstr(h, "<tr id=\"req-T-MUST-003\" class=\"req outcome-skip\""));
    ck_assert_ptr_nonnull(strstr(h, "<div class=\"exchange has-violation\" id=\"x-0\">"));
    ck_assert_ptr_nonnull(strstr(h, "<div class=\"exchange has-violation\" id=\"x-1\">"));
    ck_assert_ptr_nonnull(strstr(h, "<a class=\"violation\" href=\"#req-T-MUST-002\""));
    ck_assert_ptr_nonnull(strstr(h, "<a class=\"violation\" href=\"#req-T-SHOULD-001\""));
    ck_assert_ptr_nonnull(strstr(h, "<a href=\"#x-0\">#0</a> detail"));
    ck_assert_ptr_nonnull(strstr(h, "<li class=\"pass\">1 passed</li>"));
    ck_assert_ptr_nonnull(strstr(h, "<li class=\"fail\">2 failed (1 MUST, 1 SHOULD)</li>"));
    free(h);
    free(p);
    report_free(r);
}
END_TEST

START_TEST(test_write_errors)
{
    struct report *r = sample();
    ck_assert_int_eq(report_write_json(r, "/nonexistent-dir/x/r.json"), MC_ERR_IO);
    ck_assert_int_eq(report_write_junit(r, "/nonexistent-dir/x/r.xml"), MC_ERR_IO);
    ck_assert_int_eq(report_write_html(r, "/nonexistent-dir/x/r.html"), MC_ERR_IO);
    ck_assert_int_eq(report_write_html(NULL, "/tmp/x"), MC_ERR_INVALID);
    cJSON *j = (cJSON *)1;
    ck_assert_int_eq(report_to_json(NULL, &j), MC_ERR_INVALID);
    ck_assert_ptr_null(j);
    report_free(r);
}
END_TEST

static void *adder(void *arg)
{
    struct report *r = arg;
    struct report_exchange x = {.method = "POST", .url = "https://a/", .status = 200};
    for (int i = 0; i < 500; i++) {
        long idx = report_add_exchange(r, &x);
        ck_assert_int_ge(idx, 0);
        ck_assert_int_eq(report_violation(r, "T-SHOULD-001", "a", idx, "d"), MC_OK);
        ck_assert_int_eq(report_exercised(r, "T-MUST-001"), MC_OK);
    }
    return NULL;
}

START_TEST(test_threads)
{
    struct report *r = report_new("s", "t", 0, cat, NCAT);
    pthread_t t[4];
    struct report_totals tot;
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, adder, r), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    report_totals(r, &tot);
    ck_assert_uint_eq(tot.exchanges, 2000);
    ck_assert_uint_eq(tot.findings, 2000);
    ck_assert_uint_eq(tot.should_fail, 1);
    ck_assert_uint_eq(tot.pass, 1);
    report_free(r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("report");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_outcomes_and_totals);
    tcase_add_test(tc, test_caps);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_junit);
    tcase_add_test(tc, test_html);
    tcase_add_test(tc, test_write_errors);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
