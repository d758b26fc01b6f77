/* Unit tests for dnsmock/dnsserver.c: UDP and TCP listeners on a hand-built dnsmock. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/fault.h"
#include "dnsmock/dnsfault.h"
#include "dnsmock/dnsserver.h"
#include "dnsmock/internal.h"
#include "dnsmock/zone.h"
#include "testutil.h"

static struct dnsmock D;
static struct dns_server *S;
static uint16_t PORT;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void setup(void)
{
    memset(&D, 0, sizeof(D));
    D.zones = zone_store_new();
    D.faults = fault_engine_new(1, NULL);
    ck_assert(D.zones != NULL && D.faults != NULL);
    ck_assert_int_eq(zone_set_default_ipv4(D.zones, "127.0.0.1"), MC_OK);
    ck_assert_int_eq(zone_add_txt(D.zones, "_acme-challenge.a.test", "token-value", 11), MC_OK);
    ck_assert_int_eq(dns_server_start(&D, "127.0.0.1:0", 2, &S), MC_OK);
    PORT = dns_server_port(S);
    ck_assert_uint_ne(PORT, 0);
}

static void teardown(void)
{
    dns_server_stop(S);
    S = NULL;
    zone_store_free(D.zones);
    fault_engine_free(D.faults);
    memset(&D, 0, sizeof(D));
}

static void add_fault(const char *match_json, const char *action_json)
{
    cJSON *m = cJSON_Parse(match_json), *a = cJSON_Parse(action_json);
    struct fault_match fm;
    struct fault_action fa;
    uint64_t id = 0;
    ck_assert(m != NULL && a != NULL);
    ck_assert_int_eq(fault_match_parse(m, &fm, NULL, 0), MC_OK);
    ck_assert_int_eq(dnsfault_action_parse(a, &fa, NULL, 0), MC_OK);
    ck_assert_int_eq(fault_engine_add(D.faults, &fm, &fa, a, &id), MC_OK);
    cJSON_Delete(m);
    cJSON_Delete(a);
}

/* The first TXT string of p's first answer, or "" */
static void first_txt(const ldns_pkt *p, char *out, size_t n)
{
    out[0] = '\0';
    ldns_rr_list *an = ldns_pkt_answer(p);
    if (ldns_rr_list_rr_count(an) == 0)
        return;
    ldns_rr *rr = ldns_rr_list_rr(an, 0);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
        return;
    const ldns_rdf *f = ldns_rr_rdf(rr, 0);
    size_t len = ldns_rdf_data(f)[0];
    if (len >= n)
        len = n - 1;
    memcpy(out, ldns_rdf_data(f) + 1, len);
    out[len] = '\0';
}

static void expect_txt(bool tcp)
{
    char txt[64];
    ldns_pkt *p = tu_dns_query(PORT, "_acme-challenge.a.test.", LDNS_RR_TYPE_TXT, tcp);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    ck_assert(ldns_pkt_aa(p));
    first_txt(p, txt, sizeof(txt));
    ck_assert_str_eq(txt, "token-value");
    ldns_pkt_free(p);
}

START_TEST(test_udp_and_tcp)
{
    for (int i = 0; i < 10; i++)
        expect_txt(false); /* two workers share the port: each must answer */
    expect_txt(true);
    ldns_pkt *p = tu_dns_query(PORT, "anything.test.", LDNS_RR_TYPE_A, false);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
    char *a = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(p), 0), 0));
    ck_assert_str_eq(a, "127.0.0.1");
    free(a);
    ldns_pkt_free(p);
}
END_TEST

static int tcp_connect(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads n bytes within ms; returns bytes read (less on EOF/timeout). */
static size_t read_full(int fd, uint8_t *buf, size_t n, int ms)
{
    size_t got = 0;
    int64_t end = now_ms() + ms;
    while (got < n && now_ms() < end) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
            break;
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

/* A query for name/TXT with id, as wire bytes. */
static size_t make_query(uint16_t id, const char *name, ldns_rr_type type, uint8_t *buf, size_t n)
{
    ldns_pkt *q = NULL;
    uint8_t *wire = NULL;
    size_t len = 0;
    ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, 0),
                     LDNS_STATUS_OK);
    ldns_pkt_set_id(q, id);
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ck_assert_uint_le(len, n);
    memcpy(buf, wire, len);
    free(wire);
    ldns_pkt_free(q);
    return len;
}

START_TEST(test_tcp_pipelined)
{
    uint8_t all[1024];
    size_t off = 0;
    const char *names[3] = {"_acme-challenge.a.test.", "b.test.", "_acme-challenge.a.test."};
    for (int i = 0; i < 3; i++) {
        size_t len =
            make_query((uint16_t)(100 + i), names[i], i == 1 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_TXT,
                       all + off + 2, sizeof(all) - off - 2);
        all[off] = (uint8_t)(len >> 8);
        all[off + 1] = (uint8_t)len;
        off += len + 2;
    }
    int fd = tcp_connect();
    /* All three in one write: the server must split them by their length prefixes. */
    ck_assert_int_eq(send(fd, all, off, 0), (ssize_t)off);
    for (int i = 0; i < 3; i++) {
        uint8_t pre[2], msg[1024];
        ck_assert_uint_eq(read_full(fd, pre, 2, 2000), 2);
        size_t len = (size_t)(pre[0] << 8 | pre[1]);
        ck_assert_uint_le(len, sizeof(msg));
        ck_assert_uint_eq(read_full(fd, msg, len, 2000), len);
        ldns_pkt *p = NULL;
        ck_assert_int_eq(ldns_wire2pkt(&p, msg, len), LDNS_STATUS_OK);
        ck_assert_uint_eq(ldns_pkt_id(p), 100 + i); /* in order */
        ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 1);
        ldns_pkt_free(p);
    }
    close(fd);
}
END_TEST

START_TEST(test_truncate_then_tcp)
{
    add_fault("{\"target\":\"_acme-challenge.a.test.\"}", "{\"action\":\"truncate\"}");
    ldns_pkt *p = tu_dns_query(PORT, "_acme-challenge.a.test.", LDNS_RR_TYPE_TXT, false);
    ck_assert_ptr_nonnull(p);
    ck_assert(ldns_pkt_tc(p));
    ck_assert_uint_eq(ldns_rr_list_rr_count(ldns_pkt_answer(p)), 0);
    ldns_pkt_free(p);
    expect_txt(true); /* the retry over TCP gets the record */
}
END_TEST

START_TEST(test_delay_does_not_stall)
{
    add_fault("{\"target\":\"slow.test.\"}", "{\"action\":\"delay\",\"delay_ms\":1500}");
    uint8_t q[512], ans[512];
    size_t qlen = make_query(7, "slow.test.", LDNS_RR_TYPE_A, q, sizeof(q));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ck_assert_int_ge(fd, 0);
    int64_t t0 = now_ms();
    /* Several slow ones, so both workers hold some. */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sendto(fd, q, qlen, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)qlen);
    for (int i = 0; i < 5; i++)
        expect_txt(false);
    ck_assert_int_lt(now_ms() - t0, 1000);
    int got = 0;
    while (got < 4 && now_ms() - t0 < 4000) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 500) == 1 && recv(fd, ans, sizeof(ans), 0) > 12)
            got++;
    }
    ck_assert_int_eq(got, 4);
    ck_assert_int_ge(now_ms() - t0, 1400);
    close(fd);
}
END_TEST

START_TEST(test_tcp_conn_limit)
{
    static int fds[DNS_TCP_MAX_CONNS + 1];
    for (int i = 0; i < DNS_TCP_MAX_CONNS; i++)
        fds[i] = tcp_connect();
    /* Let the acceptor take them all before the one over the limit. */
    struct timespec ts = {.tv_sec = 0, .tv_nsec = 300 * 1000000L};
    nanosleep(&ts, NULL);
    int extra = tcp_connect();
    uint8_t b[2];
    /* That one is closed by the server without an answer (EOF, or a reset). */
    ck_assert_uint_eq(read_full(extra, b, 2, 3000), 0);
    close(extra);
    /* Every held connection is still served. */
    uint8_t q[512], ans[512];
    size_t qlen = make_query(3, "_acme-challenge.a.test.", LDNS_RR_TYPE_TXT, q + 2, sizeof(q) - 2);
    q[0] = (uint8_t)(qlen >> 8);
    q[1] = (uint8_t)qlen;
    ck_assert_int_eq(send(fds[0], q, qlen + 2, 0), (ssize_t)(qlen + 2));
    ck_assert_uint_ge(read_full(fds[0], ans, 14, 2000), 14);
    for (int i = 0; i < DNS_TCP_MAX_CONNS; i++)
        close(fds[i]);
    /* Slots come back: a new connection is served again. */
    nanosleep(&ts, NULL);
    expect_txt(true);
}
END_TEST

START_TEST(test_stop_is_prompt)
{
    add_fault("{\"target\":\"slow.test.\"}", "{\"action\":\"delay\",\"delay_ms\":20000}");
    uint8_t q[512];
    size_t qlen = make_query(9, "slow.test.", LDNS_RR_TYPE_A, q, sizeof(q));
    /* An idle TCP connection, a TCP connection waiting on a delay, and a parked UDP
     * answer: none of them may hold the stop. */
    int idle = tcp_connect();
    int busy = tcp_connect();
    uint8_t framed[514] = {(uint8_t)(qlen >> 8), (uint8_t)qlen};
    memcpy(framed + 2, q, qlen);
    ck_assert_int_eq(send(busy, framed, qlen + 2, 0), (ssize_t)(qlen + 2));
    uint8_t *none = tu_dns_raw_udp(PORT, q, qlen, &qlen);
    ck_assert_ptr_null(none);
    int64_t t0 = now_ms();
    dns_server_stop(S);
    S = NULL;
    ck_assert_int_lt(now_ms() - t0, 1000);
    close(idle);
    close(busy);
}
END_TEST

START_TEST(test_bad_addresses)
{
    struct dns_server *s = NULL;
    ck_assert_int_eq(dns_server_start(&D, "127.0.0.1", 1, &s), MC_ERR_INVALID);
    ck_assert_int_eq(dns_server_start(&D, "127.0.0.1:99999", 1, &s), MC_ERR_INVALID);
    ck_assert_int_eq(dns_server_start(&D, "[::1:0", 1, &s), MC_ERR_INVALID);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%u", (unsigned)PORT);
    /* Taken by the fixture's server: TCP cannot bind (UDP shares by SO_REUSEPORT). */
    ck_assert_int_eq(dns_server_start(&D, addr, 1, &s), MC_ERR_IO);
    ck_assert_ptr_null(s);
}
END_TEST

static Suite *dnsserver_suite(void)
{
    Suite *s = suite_create("dnsserver");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_udp_and_tcp);
    tcase_add_test(tc, test_tcp_pipelined);
    tcase_add_test(tc, test_truncate_then_tcp);
    tcase_add_test(tc, test_delay_does_not_stall);
    tcase_add_test(tc, test_tcp_conn_limit);
    tcase_add_test(tc, test_stop_is_prompt);
    tcase_add_test(tc, test_bad_addresses);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dnsserver_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
