/* test_doh.c: DNS over HTTPS (RFC 8484) through dnsmock_start on port 0, driven with
 * libcurl as a DoH client would: POST and GET, checked against the generated certificate,
 * answers parsed with ldns and compared byte for byte with the UDP answer to the same
 * query; then the error statuses, faults, the TCP (untruncated) semantics, and a DoH
 * certificate loaded from files. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "common/b64url.h"
#include "common/log.h"
#include "dnsmock/dnsmock.h"
#include "dnsmock/zone.h"
#include "testutil.h"

#define TXT_NAME "_acme-challenge.doh.example."
#define TXT_VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

static struct dnsmock *d;

struct doh_resp {
    long status;
    CURLcode rc;
    uint8_t *body;
    size_t len;
    char ctype[128];
    char cache[64];
};

static void adjust_doh(struct dnsmock_config *cfg, void *arg)
{
    (void)arg;
    cfg->doh_addr = "127.0.0.1:0";
    cfg->https01_addr = ""; /* not needed here; its default port must not be taken */
}

static void setup(void)
{
    log_set_stream(NULL);
    d = tu_dnsmock_start_with(adjust_doh, NULL);
    ck_assert_uint_gt(dnsmock_doh_port(d), 0);
}

static void teardown(void)
{
    dnsmock_stop(d);
    d = NULL;
}

struct buf {
    uint8_t *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
    struct buf *b = arg;
    size_t n = size * nmemb;
    uint8_t *np = realloc(b->p, b->n + n + 1);
    if (np == NULL)
        return 0;
    memcpy(np + b->n, data, n);
    b->p = np;
    b->n += n;
    return n;
}

/* Copies the value of header name (case-insensitive) from a raw header block into out. */
static void header_value(const struct buf *h, const char *name, char *out, size_t outn)
{
    size_t nl = strlen(name);
    const char *p = (const char *)h->p, *end = p + h->n;

    out[0] = '\0';
    while (p != NULL && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t ll = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
        if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            size_t vl = ll - nl - 1;
            while (vl > 0 && *v == ' ') {
                v++;
                vl--;
            }
            while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
                vl--;
            if (vl >= outn)
                vl = outn - 1;
            memcpy(out, v, vl);
            out[vl] = '\0';
        }
        p = eol != NULL ? eol + 1 : NULL;
    }
}

/* One DoH exchange: POST body[0..len) with content type ctype (NULL: no header) when
 * get_param is NULL, else GET ?dns=get_param. The peer is verified against dnsmock's
 * generated certificate. */
static void doh_call(const char *get_param, const uint8_t *body, size_t len, const char *ctype,
                     struct doh_resp *r)
{
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    struct buf bb = {0}, hb = {0};
    struct curl_blob ca;
    char url[4096], hline[160];

    ck_assert_ptr_nonnull(c);
    memset(r, 0, sizeof(*r));
    if (get_param != NULL)
        snprintf(url, sizeof(url), "%s?dns=%s", dnsmock_doh_url(d), get_param);
    else
        snprintf(url, sizeof(url), "%s", dnsmock_doh_url(d));
    ca.data = (void *)dnsmock_tls_cert_pem(d);
    ca.len = strlen(dnsmock_tls_cert_pem(d));
    ca.flags = CURL_BLOB_COPY;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    if (get_param == NULL) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body != NULL ? (const char *)body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        /* curl adds a form Content-Type to every POST; "Content-Type:" removes it. */
        snprintf(hline, sizeof(hline), "Content-Type:%s%s", ctype != NULL ? " " : "",
                 ctype != NULL ? ctype : "");
        hdrs = curl_slist_append(hdrs, hline);
        /* No "Expect: 100-continue": the client sends the whole body at once, as libcurl
         * does with in-memory POST data. Over TLS, a server that answered 413 and closed
         * before reading the body would reset it mid-send ("Failed sending data to the
         * peer", no status); the http layer must read and drop the body, then answer. */
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    }
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    header_value(&hb, "Content-Type", r->ctype, sizeof(r->ctype));
    header_value(&hb, "Cache-Control", r->cache, sizeof(r->cache));
    r->body = bb.p;
    r->len = bb.n;
    free(hb.p);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
}

/* The wire form of a query for name/type with id and RD set. */
static uint8_t *make_query(const char *name, ldns_rr_type type, uint16_t id, size_t *len)
{
    ldns_pkt *q = NULL;
    uint8_t *wire = NULL;

    ck_assert_int_eq(ldns_pkt_query_new_frm_str(&q, name, type, LDNS_RR_CLASS_IN, LDNS_RD),
                     LDNS_STATUS_OK);
    ldns_pkt_set_id(q, id);
    ck_assert_int_eq(ldns_pkt2wire(&wire, q, len), LDNS_STATUS_OK);
    ldns_pkt_free(q);
    return wire;
}

static void add_txt(const char *host, const char *value)
{
    ck_assert_int_eq(zone_add_txt(dnsmock_zones(d), host, value, strlen(value)), MC_OK);
}

START_TEST(post_answers_as_udp_does)
{
    struct doh_resp r;
    size_t qlen = 0, ulen = 0;
    uint8_t *q, *udp;
    ldns_pkt *p = NULL;
    ldns_rr_list *txt;
    char *rd;

    add_txt(TXT_NAME, TXT_VALUE);
    q = make_query(TXT_NAME, LDNS_RR_TYPE_TXT, 0x1234, &qlen);
    doh_call(NULL, q, qlen, "application/dns-message", &r);
    ck_assert_int_eq(r.rc, CURLE_OK);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.ctype, "application/dns-message");
    ck_assert_str_eq(r.cache, "max-age=0"); /* challtestsrv's records have TTL 0 */

    ck_assert_int_eq(ldns_wire2pkt(&p, r.body, r.len), LDNS_STATUS_OK);
    ck_assert_uint_eq(ldns_pkt_id(p), 0x1234);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NOERROR);
    txt = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_TXT, LDNS_SECTION_ANSWER);
    ck_assert_ptr_nonnull(txt);
    ck_assert_uint_eq(ldns_rr_list_rr_count(txt), 1);
    rd = ldns_rdf2str(ldns_rr_rdf(ldns_rr_list_rr(txt, 0), 0));
    ck_assert_str_eq(rd, "\"" TXT_VALUE "\"");
    free(rd);
    ldns_rr_list_deep_free(txt);
    ldns_pkt_free(p);

    udp = tu_dns_raw_udp(dnsmock_dns_port(d), q, qlen, &ulen);
    ck_assert_ptr_nonnull(udp);
    ck_assert_uint_eq(ulen, r.len);
    ck_assert_mem_eq(udp, r.body, ulen);
    free(udp);
    free(q);
    free(r.body);
}
END_TEST

START_TEST(get_answers_as_post_does)
{
    struct doh_resp rp, rg, rpad;
    size_t qlen = 0;
    uint8_t *q;
    char *b64 = NULL, padded[512];

    add_txt(TXT_NAME, TXT_VALUE);
    q = make_query(TXT_NAME, LDNS_RR_TYPE_TXT, 0x4242, &qlen);
    ck_assert_int_eq(b64url_encode(q, qlen, &b64), MC_OK);
    doh_call(NULL, q, qlen, "application/dns-message", &rp);
    doh_call(b64, NULL, 0, NULL, &rg);
    ck_assert_int_eq(rg.status, 200);
    ck_assert_str_eq(rg.ctype, "application/dns-message");
    ck_assert_str_eq(rg.cache, "max-age=0");
    ck_assert_uint_eq(rg.len, rp.len);
    ck_assert_mem_eq(rg.body, rp.body, rg.len);
    /* Padding is against RFC 8484 section 6, but some clients send it: forgiven. */
    free(b64);
    free(q);
    q = make_query("pa.doh.example.", LDNS_RR_TYPE_A, 0x4243, &qlen);
    ck_assert_uint_eq(qlen % 3, 2); /* so its base64url needs one '=' of padding */
    ck_assert_int_eq(b64url_encode(q, qlen, &b64), MC_OK);
    snprintf(padded, sizeof(padded), "%s=", b64);
    doh_call(padded, NULL, 0, NULL, &rpad);
    ck_assert_int_eq(rpad.status, 200);
    ck_assert_uint_gt(rpad.len, qlen);
    free(rpad.body);
    free(b64);
    free(q);
    free(rp.body);
    free(rg.body);
}
END_TEST

START_TEST(answers_over_512_bytes_are_not_truncated)
{
    char value[200];
    struct doh_resp r;
    size_t qlen = 0, ulen = 0;
    uint8_t *q, *udp;
    ldns_pkt *p = NULL, *u = NULL;

    for (int i = 0; i < 12; i++) {
        memset(value, 'a' + i, 150);
        value[150] = '\0';
        add_txt("big.doh.example.", value);
    }
    q = make_query("big.doh.example.", LDNS_RR_TYPE_TXT, 7, &qlen);
    udp = tu_dns_raw_udp(dnsmock_dns_port(d), q, qlen, &ulen);
    ck_assert_ptr_nonnull(udp);
    ck_assert_int_eq(ldns_wire2pkt(&u, udp, ulen), LDNS_STATUS_OK);
    ck_assert(ldns_pkt_tc(u)); /* over UDP without EDNS0: cut, TC=1 */

    doh_call(NULL, q, qlen, "application/dns-message", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_gt(r.len, 512);
    ck_assert_int_eq(ldns_wire2pkt(&p, r.body, r.len), LDNS_STATUS_OK);
    ck_assert(!ldns_pkt_tc(p));
    ck_assert_uint_eq(ldns_pkt_ancount(p), 12);
    ldns_pkt_free(p);
    ldns_pkt_free(u);
    free(udp);
    free(q);
    free(r.body);
}
END_TEST

START_TEST(bad_requests_get_the_rfc8484_statuses)
{
    struct doh_resp r;
    size_t qlen = 0;
    uint8_t *q = make_query(TXT_NAME, LDNS_RR_TYPE_TXT, 1, &qlen);
    uint8_t *big;

    doh_call(NULL, q, qlen, "application/json", &r);
    ck_assert_int_eq(r.status, 415);
    free(r.body);
    doh_call(NULL, q, qlen, NULL, &r); /* no Content-Type at all */
    ck_assert_int_eq(r.status, 415);
    free(r.body);
    doh_call(NULL, q, qlen, "Application/DNS-Message; charset=binary", &r);
    ck_assert_int_eq(r.status, 200); /* media types are case-insensitive; parameters ok */
    free(r.body);
    doh_call(NULL, NULL, 0, "application/dns-message", &r);
    ck_assert_int_eq(r.status, 400); /* empty body */
    free(r.body);
    doh_call(NULL, q, 5, "application/dns-message", &r);
    ck_assert_int_eq(r.status, 400); /* shorter than a header */
    free(r.body);

    doh_call("", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 400); /* dns= empty */
    free(r.body);
    doh_call("not+base64/url", NULL, 0, NULL, &r);
    ck_assert_int_eq(r.status, 400);
    free(r.body);
    doh_call("A", NULL, 0, NULL, &r); /* a length of 1 mod 4 decodes to nothing */
    ck_assert_int_eq(r.status, 400);
    free(r.body);
    doh_call("AAAA", NULL, 0, NULL, &r); /* good base64url, 3 bytes: no DNS header */
    ck_assert_int_eq(r.status, 400);
    free(r.body);

    big = calloc(1, 70000);
    ck_assert_ptr_nonnull(big);
    memcpy(big, q, qlen);
    doh_call(NULL, big, 70000, "application/dns-message", &r);
    ck_assert_msg(r.status == 413, "status %ld curl %s", r.status, curl_easy_strerror(r.rc));
    free(r.body);
    free(big);
    free(q);
}
END_TEST

/* The dns parameter left out entirely, and a method DoH does not use. */
START_TEST(missing_parameter_and_wrong_method)
{
    struct tu_http h;
    char url[256];

    snprintf(url, sizeof(url), "%s?other=1", dnsmock_doh_url(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 400);
    tu_http_free(&h);
    ck_assert_int_eq(tu_http("GET", dnsmock_doh_url(d), NULL, NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 400);
    tu_http_free(&h);
    ck_assert_int_eq(tu_http("PUT", dnsmock_doh_url(d), "x", NULL, NULL, &h), 0);
    ck_assert_int_eq(h.status, 405);
    tu_http_free(&h);
}
END_TEST

static void add_fault(const char *json)
{
    ck_assert_int_eq(tu_post_json(dnsmock_mgmt_url(d), "/add-dns-fault", json, NULL), 200);
}

START_TEST(faults_apply_to_doh)
{
    struct doh_resp r;
    size_t qlen = 0;
    uint8_t *q;
    ldns_pkt *p = NULL;

    add_fault(
        "{\"match\":{\"target\":\"fail.doh.example.\"},\"action\":{\"action\":\"servfail\"}}");
    add_fault("{\"match\":{\"target\":\"gone.doh.example.\"},\"action\":{\"action\":\"drop\"}}");

    q = make_query("fail.doh.example.", LDNS_RR_TYPE_A, 9, &qlen);
    doh_call(NULL, q, qlen, "application/dns-message", &r);
    ck_assert_int_eq(r.status, 200); /* the DNS error travels inside the message */
    ck_assert_int_eq(ldns_wire2pkt(&p, r.body, r.len), LDNS_STATUS_OK);
    ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_SERVFAIL);
    ldns_pkt_free(p);
    free(r.body);
    free(q);

    q = make_query("gone.doh.example.", LDNS_RR_TYPE_A, 10, &qlen);
    doh_call(NULL, q, qlen, "application/dns-message", &r);
    ck_assert_int_ne(r.rc, CURLE_OK); /* the connection closed without an answer */
    ck_assert_int_eq(r.status, 0);
    free(r.body);
    free(q);

    q = make_query("fine.doh.example.", LDNS_RR_TYPE_A, 11, &qlen);
    doh_call(NULL, q, qlen, "application/dns-message", &r);
    ck_assert_int_eq(r.status, 200); /* the listener is still serving */
    free(r.body);
    free(q);
}
END_TEST

/* The DoH certificate and key given as files (made by openssl, as a user would), instead
 * of the generated pair; and the ways such a config is refused. */
static char *cert_path, *key_path;

static void adjust_files(struct dnsmock_config *cfg, void *arg)
{
    (void)arg;
    cfg->doh_addr = "127.0.0.1:0";
    cfg->https01_addr = "";
    cfg->doh_cert_pem = cert_path;
    cfg->doh_key_pem = key_path;
}

static void make_pair(const char *dir, const char *name)
{
    char cmd[1024];

    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
             "-subj /CN=doh-test -addext subjectAltName=IP:127.0.0.1 -keyout %s/%s.key "
             "-out %s/%s.crt 2>/dev/null",
             dir, name, dir, name);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(doh_certificate_from_files)
{
    char *dir = tu_tmpdir();
    char crt[600], key[600], other_key[600], cmd[700];
    struct dnsmock_config cfg;
    struct dnsmock *nd = NULL, *d2;
    struct tu_http h;

    ck_assert_ptr_nonnull(dir);
    make_pair(dir, "doh");
    make_pair(dir, "other");
    snprintf(crt, sizeof(crt), "%s/doh.crt", dir);
    snprintf(key, sizeof(key), "%s/doh.key", dir);
    snprintf(other_key, sizeof(other_key), "%s/other.key", dir);

    dnsmock_config_init(&cfg);
    cfg.dns_addr = cfg.mgmt_addr = cfg.http01_addr = cfg.tlsalpn01_addr = "";
    cfg.https01_addr = "";
    cfg.doh_addr = "127.0.0.1:0";
    cfg.doh_cert_pem = crt;
    ck_assert_int_eq(dnsmock_start(&cfg, &nd), MC_ERR_INVALID); /* half a pair */
    ck_assert_ptr_null(nd);
    cfg.doh_key_pem = "/nonexistent/doh.key";
    ck_assert_int_eq(dnsmock_start(&cfg, &nd), MC_ERR_IO);
    ck_assert_ptr_null(nd);
    cfg.doh_key_pem = other_key;
    ck_assert_int_eq(dnsmock_start(&cfg, &nd), MC_ERR_CRYPTO); /* key of another cert */
    ck_assert_ptr_null(nd);

    cert_path = crt;
    key_path = key;
    d2 = tu_dnsmock_start_with(adjust_files, NULL);
    ck_assert_str_eq(dnsmock_tls_cert_pem(d2), ""); /* nothing needed generating */
    ck_assert_int_eq(tu_http("GET", dnsmock_doh_url(d2), NULL, NULL, crt, &h), 0);
    ck_assert_int_eq(h.status, 400); /* TLS verified against the user's certificate */
    tu_http_free(&h);
    dnsmock_stop(d2);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(dir);
}
END_TEST

static Suite *doh_suite(void)
{
    Suite *s = suite_create("doh");
    TCase *tc = tcase_create("doh");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, post_answers_as_udp_does);
    tcase_add_test(tc, get_answers_as_post_does);
    tcase_add_test(tc, answers_over_512_bytes_are_not_truncated);
    tcase_add_test(tc, bad_requests_get_the_rfc8484_statuses);
    tcase_add_test(tc, missing_parameter_and_wrong_method);
    tcase_add_test(tc, faults_apply_to_doh);
    tcase_add_test(tc, doh_certificate_from_files);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(doh_suite());
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
