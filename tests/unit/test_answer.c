/* Unit tests for dnsmock/answer.c: query bytes in, exact response bytes out.
 *
 * Each row sets up the store, sends one query and compares the whole response with bytes
 * written out by hand from RFC 1035 section 4.1 (name compression pointers included:
 * c00c is the question name at offset 12). A hex spec is space-separated tokens: "c00c"
 * is two bytes, "78*255" is byte 0x78 repeated 255 times, and "'text" the ASCII of text. */
#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
/* Included for answer_fast_enabled: each row runs through the fast path and the ldns path,
 * and both must give the same bytes. */
#include "../../dnsmock/answer.c"
#include "dnsmock/answer.h"
#include "dnsmock/dnsfault.h"
#include "dnsmock/history.h"
#include "dnsmock/internal.h"
#include "dnsmock/zone.h"

/* Expands a hex spec into buf; returns the length. */
static size_t spec_bytes(const char *spec, uint8_t *buf, size_t n)
{
    size_t o = 0;
    const char *p = spec;
    while (*p != '\0') {
        if (*p == ' ' || *p == '\n') {
            p++;
        } else if (*p == '\'') {
            for (p++; *p != '\0' && *p != ' '; p++) {
                ck_assert(o < n);
                buf[o++] = (uint8_t)*p;
            }
        } else if (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1])) {
            char hx[3] = {p[0], p[1], 0};
            ck_assert(o < n);
            buf[o++] = (uint8_t)strtoul(hx, NULL, 16);
            p += 2;
        } else if (*p == '*') {
            char *end = NULL;
            long rep = strtol(p + 1, &end, 10);
            ck_assert(rep > 0 && o > 0 && o + (size_t)rep <= n + 1);
            for (long i = 1; i < rep; i++) {
                buf[o] = buf[o - 1];
                o++;
            }
            p = end;
        } else {
            ck_abort_msg("bad spec near \"%.10s\"", p);
        }
    }
    return o;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t outn)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 3 < outn; i++)
        o += (size_t)snprintf(out + o, outn - o, "%02x", b[i]);
    out[o] = '\0';
}

/* ---- fixture ----------------------------------------------------------------------- */

static struct dnsmock D;

static void setup(void)
{
    memset(&D, 0, sizeof(D));
    D.zones = zone_store_new();
    D.faults = fault_engine_new(1, NULL);
    D.history = history_new(100);
    ck_assert(D.zones != NULL && D.faults != NULL && D.history != NULL);
    ck_assert_int_eq(zone_set_default_ipv4(D.zones, "127.0.0.1"), MC_OK);
    ck_assert_int_eq(zone_set_default_ipv6(D.zones, "::1"), MC_OK);
}

static void teardown(void)
{
    zone_store_free(D.zones);
    fault_engine_free(D.faults);
    history_free(D.history);
    memset(&D, 0, sizeof(D));
}

static void add_fault(const char *match_json, const char *action_json)
{
    cJSON *m = cJSON_Parse(match_json), *a = cJSON_Parse(action_json);
    ck_assert(m != NULL && a != NULL);
    struct fault_match fm;
    struct fault_action fa;
    char err[128] = "";
    uint64_t id = 0;
    ck_assert_int_eq(fault_match_parse(m, &fm, err, sizeof(err)), MC_OK);
    ck_assert_msg(dnsfault_action_parse(a, &fa, err, sizeof(err)) == MC_OK, "%s", err);
    ck_assert_int_eq(fault_engine_add(D.faults, &fm, &fa, a, &id), MC_OK);
    cJSON_Delete(m);
    cJSON_Delete(a);
}

enum setup_kind {
    S_NONE = 0,
    S_TXT2,
    S_TXT300,
    S_TXT600,
    S_CHAIN,
    S_CAA,
    S_STRICT,
    S_SERVFAIL,
    S_F_DROP,
    S_F_DELAY,
    S_F_TRUNC,
    S_F_SERVFAIL,
    S_F_REFUSED,
    S_F_NXDOMAIN,
    S_LOOP,
};

static void apply_setup(enum setup_kind k)
{
    char big[600];
    memset(big, 'x', sizeof(big));
    switch (k) {
    case S_NONE:
        break;
    case S_TXT2:
        ck_assert_int_eq(zone_add_txt(D.zones, "t.test", "one", 3), MC_OK);
        ck_assert_int_eq(zone_add_txt(D.zones, "t.test", "two", 3), MC_OK);
        break;
    case S_TXT300:
        ck_assert_int_eq(zone_add_txt(D.zones, "t.test", big, 300), MC_OK);
        break;
    case S_TXT600:
        ck_assert_int_eq(zone_add_txt(D.zones, "t.test", big, 600), MC_OK);
        break;
    case S_CHAIN:
        ck_assert_int_eq(zone_set_cname(D.zones, "c.test", "d.test"), MC_OK);
        ck_assert_int_eq(zone_set_cname(D.zones, "d.test", "e.test"), MC_OK);
        ck_assert_int_eq(zone_add_a(D.zones, "e.test", "192.0.2.7"), MC_OK);
        break;
    case S_LOOP:
        ck_assert_int_eq(zone_set_cname(D.zones, "c.test", "d.test"), MC_OK);
        ck_assert_int_eq(zone_set_cname(D.zones, "d.test", "c.test"), MC_OK);
        break;
    case S_CAA:
        ck_assert_int_eq(zone_add_caa(D.zones, "ca.test", 0, "issue", "letsencrypt.org"), MC_OK);
        break;
    case S_STRICT:
        zone_set_mode(D.zones, ZONE_MODE_STRICT);
        ck_assert_int_eq(zone_add_zone(D.zones, "z.test", NULL, NULL), MC_OK);
        ck_assert_int_eq(zone_add_a(D.zones, "h.z.test", "192.0.2.8"), MC_OK);
        ck_assert_int_eq(zone_add_a(D.zones, "a.b.z.test", "192.0.2.9"), MC_OK);
        break;
    case S_SERVFAIL:
        ck_assert_int_eq(zone_set_servfail(D.zones, "a.test"), MC_OK);
        break;
    case S_F_DROP:
        add_fault("{\"target\":\"a.test.\"}", "{\"action\":\"drop\"}");
        break;
    case S_F_DELAY:
        add_fault("{\"kind\":\"A\"}", "{\"action\":\"delay\",\"delay_ms\":1500}");
        break;
    case S_F_TRUNC:
        add_fault("{\"target\":\"*.test.\"}", "{\"action\":\"truncate\"}");
        break;
    case S_F_SERVFAIL:
        add_fault("{}", "{\"action\":\"servfail\"}");
        break;
    case S_F_REFUSED:
        add_fault("{}", "{\"action\":\"refused\"}");
        break;
    case S_F_NXDOMAIN:
        add_fault("{}", "{\"action\":\"nxdomain\"}");
        break;
    }
}

/* Queries. */
#define QH_RD "1234 0100 0001 0000 0000 0000"   /* id 0x1234, RD, one question */
#define QH_EDNS "1234 0100 0001 0000 0000 0001" /* plus one additional (OPT) */
#define N_A_TEST "01'a 04'test 00"              /* a.test. */
#define N_T_TEST "01't 04'test 00"
#define OPT_4096 "00 0029 1000 00 00 0000 0000" /* root, OPT, 4096, rcode, v0, flags, rdlen */

#define Q_A_A QH_RD " " N_A_TEST " 0001 0001"
#define Q_TXT_T QH_RD " " N_T_TEST " 0010 0001"

/* Response heads: QR AA RD (0x85), rcode in the low nibble of the 4th byte. */
#define RESP_OK(an, ns, ar) "1234 8500 0001 " an " " ns " " ar
#define ANS_DEFAULT_A "c00c 0001 0001 00000000 0004 7f000001"

static const struct row {
    const char *what;
    enum setup_kind setup;
    bool tcp;
    const char *query;
    const char *want; /* NULL: no response */
    int64_t delay;
} rows[] = {
    {"compat A: the default address", S_NONE, false, Q_A_A,
     RESP_OK("0001", "0000", "0000") " " N_A_TEST " 0001 0001 " ANS_DEFAULT_A, 0},
    {"compat AAAA: the default ::1", S_NONE, false, QH_RD " " N_A_TEST " 001c 0001",
     RESP_OK("0001", "0000", "0000") " " N_A_TEST " 001c 0001 c00c 001c 0001 00000000 0010 "
                                     "00000000000000000000000000000001",
     0},
    {"compat name with nothing: NOERROR, no answer", S_NONE, false, Q_TXT_T,
     RESP_OK("0000", "0000", "0000") " " N_T_TEST " 0010 0001", 0},
    {"TXT with two values", S_TXT2, false, Q_TXT_T,
     RESP_OK("0002", "0000", "0000") " " N_T_TEST " 0010 0001"
                                     " c00c 0010 0001 00000000 0004 03'one"
                                     " c00c 0010 0001 00000000 0004 03'two",
     0},
    {"TXT over 255 bytes: two character-strings", S_TXT300, false, Q_TXT_T,
     RESP_OK("0001", "0000", "0000") " " N_T_TEST " 0010 0001"
                                     " c00c 0010 0001 00000000 012e ff 78*255 2d 78*45",
     0},
    {"CNAME chain followed to the A", S_CHAIN, false, QH_RD " 01'c 04'test 00 0001 0001",
     RESP_OK("0003", "0000", "0000") " 01'c 04'test 00 0001 0001"
                                     " c00c 0005 0001 00000000 0004 01'd c00e" /* at 36 */
                                     " c024 0005 0001 00000000 0004 01'e c00e" /* at 52 */
                                     " c034 0001 0001 00000000 0004 c0000207",
     0},
    {"CNAME loop stops", S_LOOP, false, QH_RD " 01'c 04'test 00 0001 0001",
     RESP_OK("0002", "0000", "0000") " 01'c 04'test 00 0001 0001"
                                     " c00c 0005 0001 00000000 0004 01'd c00e"
                                     " c024 0005 0001 00000000 0002 c00c",
     0},
    {"CNAME query gets the CNAME only", S_CHAIN, false, QH_RD " 01'c 04'test 00 0005 0001",
     RESP_OK("0001", "0000", "0000") " 01'c 04'test 00 0005 0001"
                                     " c00c 0005 0001 00000000 0004 01'd c00e",
     0},
    {"CAA", S_CAA, false, QH_RD " 02'ca 04'test 00 0101 0001",
     RESP_OK("0001", "0000", "0000") " 02'ca 04'test 00 0101 0001"
                                     " c00c 0101 0001 00000000 0016 00 05'issue 'letsencrypt.org",
     0},
    {"CAA is not climbed: a child has none", S_CAA, false, QH_RD " 01'x 02'ca 04'test 00 0101 0001",
     RESP_OK("0000", "0000", "0000") " 01'x 02'ca 04'test 00 0101 0001", 0},
    {"strict NXDOMAIN with the apex SOA", S_STRICT, false,
     "1234 0000 0001 0000 0000 0000 02'nx 01'z 04'test 00 0001 0001",
     "1234 8403 0001 0000 0001 0000 02'nx 01'z 04'test 00 0001 0001"
     " c00f 0006 0001 00000000 0027 03'ns1 c00f 0a'hostmaster c00f"
     " 00000001 00000e10 00000384 00093a80 00000000",
     0},
    {"strict NODATA with the apex SOA", S_STRICT, false,
     "1234 0000 0001 0000 0000 0000 01'h 01'z 04'test 00 0010 0001",
     "1234 8400 0001 0000 0001 0000 01'h 01'z 04'test 00 0010 0001"
     " c00e 0006 0001 00000000 0027 03'ns1 c00e 0a'hostmaster c00e"
     " 00000001 00000e10 00000384 00093a80 00000000",
     0},
    {"strict empty non-terminal: NODATA", S_STRICT, false,
     "1234 0000 0001 0000 0000 0000 01'b 01'z 04'test 00 0001 0001",
     "1234 8400 0001 0000 0001 0000 01'b 01'z 04'test 00 0001 0001"
     " c00e 0006 0001 00000000 0027 03'ns1 c00e 0a'hostmaster c00e"
     " 00000001 00000e10 00000384 00093a80 00000000",
     0},
    {"strict A found, AA", S_STRICT, false,
     "1234 0000 0001 0000 0000 0000 01'h 01'z 04'test 00 0001 0001",
     "1234 8400 0001 0001 0000 0000 01'h 01'z 04'test 00 0001 0001"
     " c00c 0001 0001 00000000 0004 c0000208",
     0},
    {"strict REFUSED outside every zone", S_STRICT, false, Q_A_A,
     "1234 8105 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"SERVFAIL name", S_SERVFAIL, false, Q_A_A,
     "1234 8102 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"class CH: REFUSED", S_NONE, false, QH_RD " " N_A_TEST " 0010 0003",
     "1234 8105 0001 0000 0000 0000 " N_A_TEST " 0010 0003", 0},
    {"FORMERR on garbage after a valid header", S_NONE, false,
     "abcd 0100 0001 0000 0000 0000 ffffff", "abcd 8101 0000 0000 0000 0000", 0},
    {"FORMERR on two questions, question echoed", S_NONE, false,
     "abcd 0000 0002 0000 0000 0000 " N_A_TEST " 0001 0001 " N_T_TEST " 0001 0001",
     "abcd 8001 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"NOTIMP for opcode STATUS", S_NONE, false,
     "abcd 1000 0001 0000 0000 0000 " N_A_TEST " 0001 0001",
     "abcd 9004 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"no answer to QR=1", S_NONE, false, "1234 8100 0001 0000 0000 0000 " N_A_TEST " 0001 0001",
     NULL, 0},
    {"no answer to a 5-byte message", S_NONE, false, "1234 0100 00", NULL, 0},
    {"EDNS0: OPT echoed with 1232", S_NONE, false, QH_EDNS " " N_A_TEST " 0001 0001 " OPT_4096,
     RESP_OK("0001", "0000", "0001") " " N_A_TEST " 0001 0001 " ANS_DEFAULT_A
                                     " 00 0029 04d0 00 00 0000 0000",
     0},
    {"EDNS version 1: BADVERS", S_NONE, false,
     QH_EDNS " " N_A_TEST " 0001 0001 00 0029 1000 00 01 0000 0000",
     "1234 8100 0001 0000 0000 0001 " N_A_TEST " 0001 0001 00 0029 04d0 01 00 0000 0000", 0},
    {"over 512 without EDNS: TC=1, question only", S_TXT600, false, Q_TXT_T,
     "1234 8700 0001 0000 0000 0000 " N_T_TEST " 0010 0001", 0},
    {"over 512 over TCP: whole answer", S_TXT600, true, Q_TXT_T,
     RESP_OK("0001", "0000", "0000") " " N_T_TEST " 0010 0001"
                                     " c00c 0010 0001 00000000 025b ff 78*255 ff 78*255 5a 78*90",
     0},
    {"fault drop: nothing", S_F_DROP, false, Q_A_A, NULL, 0},
    {"fault delay: normal answer, late", S_F_DELAY, false, Q_A_A,
     RESP_OK("0001", "0000", "0000") " " N_A_TEST " 0001 0001 " ANS_DEFAULT_A, 1500},
    {"fault truncate over UDP: TC=1", S_F_TRUNC, false, Q_A_A,
     "1234 8700 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"fault truncate over TCP: normal answer", S_F_TRUNC, true, Q_A_A,
     RESP_OK("0001", "0000", "0000") " " N_A_TEST " 0001 0001 " ANS_DEFAULT_A, 0},
    {"fault servfail", S_F_SERVFAIL, false, Q_A_A,
     "1234 8102 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"fault refused", S_F_REFUSED, false, Q_A_A,
     "1234 8105 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
    {"fault nxdomain", S_F_NXDOMAIN, false, Q_A_A,
     "1234 8503 0001 0000 0000 0000 " N_A_TEST " 0001 0001", 0},
};

#define NROWS ((int)(sizeof(rows) / sizeof(rows[0])))

START_TEST(test_rows)
{
    const struct row *r = &rows[_i % NROWS];
    answer_fast_enabled = _i < NROWS;
    static uint8_t q[2048], want[2048];
    apply_setup(r->setup);
    size_t qlen = spec_bytes(r->query, q, sizeof(q));
    uint8_t *out = NULL;
    size_t outlen = 0;
    int64_t delay = -1;
    ck_assert_int_eq(dns_handle_message(&D, q, qlen, r->tcp, "127.0.0.1", &out, &outlen, &delay),
                     MC_OK);
    ck_assert_msg(delay == r->delay, "%s: delay %lld", r->what, (long long)delay);
    answer_fast_enabled = true;
    if (r->want == NULL) {
        ck_assert_msg(out == NULL, "%s: expected no response", r->what);
        return;
    }
    size_t wlen = spec_bytes(r->want, want, sizeof(want));
    static char gh[8192], wh[8192];
    ck_assert_msg(out != NULL, "%s: no response", r->what);
    hex(out, outlen, gh, sizeof(gh));
    hex(want, wlen, wh, sizeof(wh));
    ck_assert_msg(outlen == wlen && memcmp(out, want, wlen) == 0, "%s (%s path):\n got %s\nwant %s",
                  r->what, _i < NROWS ? "fast" : "ldns", gh, wh);
    free(out);
}
END_TEST

/* The common queries do take the fast path; a CNAME or strict mode goes to ldns. */
START_TEST(test_fast_taken)
{
    static const struct {
        const char *q;
        bool handled;
    } fr[] = {
        {Q_A_A, true},
        {Q_TXT_T, true},
        {QH_EDNS " " N_A_TEST " 0001 0001 " OPT_4096, true},
        {QH_RD " 01'c 04'test 00 0001 0001", false}, /* CNAME */
        {QH_RD " " N_A_TEST " 0101 0001", false},    /* CAA */
    };
    apply_setup(S_CHAIN);
    for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
        uint8_t q[256];
        size_t qlen = spec_bytes(fr[i].q, q, sizeof(q));
        struct answer_fq f;
        ck_assert(answer_fast_parse(q, qlen, &f));
        uint8_t *out = NULL;
        size_t outlen = 0;
        int64_t delay = 0;
        bool handled = false;
        ck_assert_int_eq(answer_fast(&D, q, &f, false, &out, &outlen, &delay, &handled), MC_OK);
        ck_assert_msg(handled == fr[i].handled, "row %zu", i);
        free(out);
    }
    /* Not plain queries: compression in the question, trailing bytes, an OPT option. */
    uint8_t q[256];
    struct answer_fq f;
    size_t qlen = spec_bytes(QH_RD " c00c 0001 0001", q, sizeof(q));
    ck_assert(!answer_fast_parse(q, qlen, &f));
    qlen = spec_bytes(Q_A_A " 00", q, sizeof(q));
    ck_assert(!answer_fast_parse(q, qlen, &f));
    qlen = spec_bytes(QH_EDNS " " N_A_TEST " 0001 0001 00 0029 1000 00 00 0000 0004 000a0000", q,
                      sizeof(q));
    ck_assert(!answer_fast_parse(q, qlen, &f));
}
END_TEST

/* The query lands in the history with its name, type and class. */
START_TEST(test_history)
{
    uint8_t q[64];
    size_t qlen = spec_bytes(Q_TXT_T, q, sizeof(q));
    uint8_t *out = NULL;
    size_t outlen = 0;
    int64_t delay = 0;
    ck_assert_int_eq(dns_handle_message(&D, q, qlen, false, "127.0.0.1", &out, &outlen, &delay),
                     MC_OK);
    free(out);
    cJSON *h = history_get(D.history, HISTORY_DNS, "t.test");
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(cJSON_GetArraySize(h), 1);
    cJSON_Delete(h);
}
END_TEST

/* The EDNS size the client advertises is honoured: 600 bytes of TXT fit in 1232. */
START_TEST(test_edns_size)
{
    apply_setup(S_TXT600);
    uint8_t q[128];
    size_t qlen =
        spec_bytes(QH_EDNS " " N_T_TEST " 0010 0001 00 0029 04d0 00 00 0000 0000", q, sizeof(q));
    uint8_t *out = NULL;
    size_t outlen = 0;
    int64_t delay = 0;
    ck_assert_int_eq(dns_handle_message(&D, q, qlen, false, "c", &out, &outlen, &delay), MC_OK);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out[2] & 0x02, 0); /* TC clear */
    ck_assert_uint_eq(outlen, 12 + 12 + 12 + 603 + 11);
    free(out);
    /* An advertised 512 (or less) truncates it. */
    qlen = spec_bytes(QH_EDNS " " N_T_TEST " 0010 0001 00 0029 0100 00 00 0000 0000", q, sizeof(q));
    ck_assert_int_eq(dns_handle_message(&D, q, qlen, false, "c", &out, &outlen, &delay), MC_OK);
    ck_assert_ptr_nonnull(out);
    ck_assert_uint_eq(out[2] & 0x02, 0x02);
    ck_assert_uint_eq(outlen, 12 + 12 + 11);
    free(out);
}
END_TEST

/* dnsfault_action_parse: what the management API hands it. */
static const struct {
    const char *json;
    enum mc_err err;
    int kind;
    int64_t delay;
} action_rows[] = {
    {"{\"action\":\"drop\"}", MC_OK, DNS_FAULT_DROP, 0},
    {"{\"action\":\"delay\",\"delay_ms\":1500}", MC_OK, DNS_FAULT_DELAY, 1500},
    {"{\"action\":\"delay\",\"delay_ms\":30000}", MC_OK, DNS_FAULT_DELAY, 30000},
    {"{\"action\":\"delay\",\"delay_ms\":30001}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"delay\",\"delay_ms\":-1}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"delay\",\"delay_ms\":1.5}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"delay\"}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"delay\",\"delay_ms\":\"10\"}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"truncate\"}", MC_OK, DNS_FAULT_TRUNCATE, 0},
    {"{\"action\":\"servfail\"}", MC_OK, DNS_FAULT_SERVFAIL, 0},
    {"{\"action\":\"refused\"}", MC_OK, DNS_FAULT_REFUSED, 0},
    {"{\"action\":\"nxdomain\"}", MC_OK, DNS_FAULT_NXDOMAIN, 0},
    {"{\"action\":\"explode\"}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"drop\",\"extra\":1}", MC_ERR_INVALID, 0, 0},
    {"{\"action\":\"drop\",\"delay_ms\":5}", MC_ERR_INVALID, 0, 0},
    {"{}", MC_ERR_INVALID, 0, 0},
    {"[]", MC_ERR_INVALID, 0, 0},
};

START_TEST(test_action_parse)
{
    cJSON *j = cJSON_Parse(action_rows[_i].json);
    ck_assert_ptr_nonnull(j);
    struct fault_action a;
    char err[128] = "";
    memset(&a, 0, sizeof(a));
    enum mc_err e = dnsfault_action_parse(j, &a, err, sizeof(err));
    ck_assert_msg(e == action_rows[_i].err, "%s: got %d", action_rows[_i].json, e);
    if (e == MC_OK) {
        ck_assert_int_eq(a.kind, action_rows[_i].kind);
        ck_assert_int_eq(a.delay_ms, action_rows[_i].delay);
    } else {
        ck_assert(err[0] != '\0');
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_kind_names)
{
    ck_assert_str_eq(dnsfault_kind_name(DNS_FAULT_DROP), "drop");
    ck_assert_str_eq(dnsfault_kind_name(DNS_FAULT_DELAY), "delay");
    ck_assert_str_eq(dnsfault_kind_name(DNS_FAULT_TRUNCATE), "truncate");
    ck_assert_str_eq(dnsfault_kind_name(DNS_FAULT_NXDOMAIN), "nxdomain");
    ck_assert_str_eq(dnsfault_kind_name(999), "unknown");
}
END_TEST

static Suite *answer_suite(void)
{
    Suite *s = suite_create("answer");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_rows, 0, 2 * NROWS); /* fast path, then ldns path */
    tcase_add_test(tc, test_history);
    tcase_add_test(tc, test_fast_taken);
    tcase_add_test(tc, test_edns_size);
    tcase_add_loop_test(tc, test_action_parse, 0,
                        (int)(sizeof(action_rows) / sizeof(action_rows[0])));
    tcase_add_test(tc, test_kind_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(answer_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
