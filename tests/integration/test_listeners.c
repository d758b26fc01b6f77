/* test_listeners.c: dnsmock's listener set as challtestsrv users configure it: the
 * https01 responder (TLS with the generated certificate, HTTPS history), comma-separated
 * address lists (every address answers, at most DNSMOCK_MAX_ADDRS), and empty addresses
 * that disable a listener. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <ldns/ldns.h>

#include "common/log.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/dnsserver.h"
#include "dnsmock/internal.h"
#include "dnsmock/zone.h"
#include "testutil.h"

#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"

static void quiet(void)
{
    log_set_stream(NULL);
}

/* Writes the dnsmock's generated certificate to a file for libcurl to verify against. */
static char *write_cert(struct dnsmock *d, char **dir_out)
{
    char *dir = tu_tmpdir();
    char path[600];
    FILE *f;

    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof(path), "%s/ca.pem", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(dnsmock_tls_cert_pem(d), f), 0);
    ck_assert_int_eq(fclose(f), 0);
    *dir_out = dir;
    return strdup(path);
}

static void rm_dir(char *dir)
{
    char cmd[600];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}

static void adjust_https01(struct dnsmock_config *cfg, void *arg)
{
    (void)arg;
    cfg->https01_addr = "127.0.0.1:0";
}

START_TEST(https01_serves_tokens_over_tls_and_records_https)
{
    struct dnsmock *d;
    struct tu_http h;
    char url[256], *dir = NULL, *ca, *body = NULL;
    cJSON *hist, *e;

    quiet();
    d = tu_dnsmock_start_with(adjust_https01, NULL);
    ck_assert_uint_gt(dnsmock_https01_port(d), 0);
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-http01",
                                  "{\"token\":\"" TOKEN "\",\"content\":\"" KEYAUTH "\"}", NULL),
                     200);
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-redirect",
                                  "{\"path\":\"/.well-known/acme-challenge/moved\","
                                  "\"targetURL\":\"https://elsewhere.example/x\"}",
                                  NULL),
                     200);
    ca = write_cert(d, &dir);

    /* Verified against the generated certificate: its SANs name 127.0.0.1. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/.well-known/acme-challenge/" TOKEN,
             (unsigned)dnsmock_https01_port(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, ca, &h), 0);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, KEYAUTH);
    tu_http_free(&h);

    /* challtestsrv serves redirects over plain HTTP only, so http->https cannot loop. */
    snprintf(url, sizeof(url), "https://127.0.0.1:%u/.well-known/acme-challenge/moved",
             (unsigned)dnsmock_https01_port(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, ca, &h), 0);
    ck_assert_int_eq(h.status, 404);
    tu_http_free(&h);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/.well-known/acme-challenge/moved",
             (unsigned)dnsmock_http01_port(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 302);
    tu_http_free(&h);

    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/http-request-history",
                                  "{\"host\":\"127.0.0.1\"}", &body),
                     200);
    hist = cJSON_Parse(body);
    ck_assert(cJSON_IsArray(hist));
    ck_assert_int_eq(cJSON_GetArraySize(hist), 3);
    e = cJSON_GetArrayItem(hist, 0);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "HTTPS")));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e, "URL")->valuestring,
                     "/.well-known/acme-challenge/" TOKEN);
    e = cJSON_GetArrayItem(hist, 2);
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e, "HTTPS")));
    cJSON_Delete(hist);
    free(body);

    dnsmock_stop(d);
    free(ca);
    rm_dir(dir);
}
END_TEST

/* Sends a TXT query for name over UDP to ip:port; returns the first TXT string or NULL. */
static char *udp_txt(const char *ip, uint16_t port, const char *name)
{
    ldns_pkt *q = NULL, *a = NULL;
    uint8_t *wire = NULL, buf[1500];
    size_t len = 0;
    struct sockaddr_in sa = {0};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ssize_t n;
    char *out = NULL;

    ck_assert_int_ge(fd, 0);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, LDNS_RR_TYPE_TXT, LDNS_RR_CLASS_IN, 0),
                     LDNS_STATUS_OK);
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, &len), LDNS_STATUS_OK);
    ck_assert_int_eq(sendto(fd, wire, len, 0, (struct sockaddr *)&sa, sizeof(sa)), (ssize_t)len);
    if (poll(&p, 1, 2000) == 1) {
        n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0 && ldns_wire2pkt(&a, buf, (size_t)n) == LDNS_STATUS_OK && ldns_pkt_ancount(a) > 0)
            out = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(ldns_pkt_answer(a), 0), 0));
    }
    ldns_pkt_free(a);
    ldns_pkt_free(q);
    free(wire);
    close(fd);
    return out;
}

static void adjust_two_dns(struct dnsmock_config *cfg, void *arg)
{
    (void)arg;
    cfg->https01_addr = "";
    cfg->dns_addr = "127.0.0.1:0, 127.0.0.2:0";
    cfg->http01_addr = "127.0.0.1:0,,127.0.0.1:0";
}

START_TEST(every_address_of_a_list_answers)
{
    struct dnsmock *d;
    char *txt, url[256];
    struct tu_http h;

    quiet();
    d = tu_dnsmock_start_with(adjust_two_dns, NULL);
    ck_assert_ptr_nonnull(d->dns_more[0]);
    ck_assert_ptr_null(d->dns_more[1]);
    ck_assert_int_eq(zone_add_txt(dnsmock_zones(d), "_acme-challenge.list.example.", "both", 4),
                     MC_OK);

    /* The accessors report the first address. */
    ck_assert_int_eq(strncmp(dnsmock_addr(d), "127.0.0.1:", 10), 0);
    txt = udp_txt("127.0.0.1", dnsmock_dns_port(d), "_acme-challenge.list.example.");
    ck_assert_ptr_nonnull(txt);
    ck_assert_str_eq(txt, "\"both\"");
    free(txt);
    txt = udp_txt("127.0.0.2", dns_server_port(d->dns_more[0]), "_acme-challenge.list.example.");
    ck_assert_ptr_nonnull(txt);
    ck_assert_str_eq(txt, "\"both\"");
    free(txt);

    /* Two http-01 listeners (the empty entry between them is skipped), one store. */
    ck_assert_ptr_nonnull(d->http01_more[0]);
    ck_assert_ptr_null(d->http01_more[1]);
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-http01",
                                  "{\"token\":\"" TOKEN "\",\"content\":\"" KEYAUTH "\"}", NULL),
                     200);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/.well-known/acme-challenge/" TOKEN,
             (unsigned)http_server_port(d->http01_more[0]));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 200);
    ck_assert_str_eq(h.body, KEYAUTH);
    tu_http_free(&h);
    dnsmock_stop(d);
}
END_TEST

START_TEST(lists_are_capped_and_empty_disables)
{
    struct dnsmock_config cfg;
    struct dnsmock *d = NULL;

    quiet();
    dnsmock_config_init(&cfg);
    cfg.dns_addr = "127.0.0.1:0,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0";
    cfg.mgmt_addr = cfg.http01_addr = cfg.tlsalpn01_addr = cfg.https01_addr = "";
    ck_assert_int_eq(dnsmock_start(&cfg, &d), MC_ERR_INVALID);
    ck_assert_ptr_null(d);
    cfg.dns_addr = "";
    cfg.doh_addr = "127.0.0.1:0,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0";
    ck_assert_int_eq(dnsmock_start(&cfg, &d), MC_ERR_INVALID);
    ck_assert_ptr_null(d);

    /* Empty strings, and lists of nothing but separators, disable every listener. */
    cfg.dns_addr = "";
    cfg.mgmt_addr = " , ";
    cfg.http01_addr = "";
    cfg.tlsalpn01_addr = NULL;
    cfg.https01_addr = "";
    cfg.doh_addr = ",";
    ck_assert_int_eq(dnsmock_start(&cfg, &d), MC_OK);
    ck_assert_uint_eq(dnsmock_dns_port(d), 0);
    ck_assert_str_eq(dnsmock_addr(d), "");
    ck_assert_str_eq(dnsmock_mgmt_url(d), "");
    ck_assert_uint_eq(dnsmock_http01_port(d), 0);
    ck_assert_uint_eq(dnsmock_tlsalpn01_port(d), 0);
    ck_assert_uint_eq(dnsmock_https01_port(d), 0);
    ck_assert_uint_eq(dnsmock_doh_port(d), 0);
    ck_assert_str_eq(dnsmock_doh_url(d), "");
    ck_assert_str_eq(dnsmock_tls_cert_pem(d), ""); /* no TLS listener, no certificate */
    dnsmock_stop(d);

    /* Four is allowed. */
    cfg.dns_addr = "127.0.0.1:0,127.0.0.1:0,127.0.0.1:0,127.0.0.1:0";
    cfg.udp_threads = 1;
    d = NULL;
    ck_assert_int_eq(dnsmock_start(&cfg, &d), MC_OK);
    ck_assert_ptr_nonnull(d->dns_more[2]);
    dnsmock_stop(d);
}
END_TEST

/* The default https01 address is challtestsrv's port 5003 on loopback. */
START_TEST(https01_default_is_5003)
{
    struct dnsmock_config cfg;

    dnsmock_config_init(&cfg);
    ck_assert_str_eq(cfg.https01_addr, "127.0.0.1:5003");
    ck_assert_str_eq(cfg.doh_addr, "");
}
END_TEST

static Suite *listeners_suite(void)
{
    Suite *s = suite_create("listeners");
    TCase *tc = tcase_create("listeners");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, https01_serves_tokens_over_tls_and_records_https);
    tcase_add_test(tc, every_address_of_a_list_answers);
    tcase_add_test(tc, lists_are_capped_and_empty_disables);
    tcase_add_test(tc, https01_default_is_5003);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(listeners_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
