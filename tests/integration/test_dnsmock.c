/* test_dnsmock.c: dnsmock in-process, driven the way a user drives it: every management
 * endpoint over HTTP (libcurl), then the DNS answers checked over UDP and TCP (ldns). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "dnsmock/dnsmock.h"
#include "testutil.h"

static struct dnsmock *d;

static void setup(void)
{
    d = tu_dnsmock_start();
}

static void teardown(void)
{
    dnsmock_stop(d);
    d = NULL;
}

static long post(const char *path, const char *json)
{
    return tu_post_json(dnsmock_mgmt_url(d), path, json, NULL);
}

static long post_body(const char *path, const char *json, char **body)
{
    return tu_post_json(dnsmock_mgmt_url(d), path, json, body);
}

static ldns_pkt *q(const char *name, ldns_rr_type type, bool tcp)
{
    ldns_pkt *p = tu_dns_query(dnsmock_dns_port(d), name, type, tcp);
    ck_assert_msg(p != NULL, "no answer for %s over %s", name, tcp ? "TCP" : "UDP");
    return p;
}

/* The rdata of every answer RR of type, as text, sorted and joined with "|". */
static char *answers(const char *name, ldns_rr_type type, bool tcp)
{
    ldns_pkt *p = q(name, type, tcp);
    ldns_rr_list *l = ldns_pkt_rr_list_by_type(p, type, LDNS_SECTION_ANSWER);
    char *items[64];
    size_t n = 0;
    size_t total = 1;
    for (size_t i = 0; l != NULL && i < ldns_rr_list_rr_count(l) && n < 64; i++) {
        ldns_rr *rr = ldns_rr_list_rr(l, i);
        char *joined = calloc(1, 1);
        size_t jl = 0;
        for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
            char *s = ldns_rdf2str(ldns_rr_rdf(rr, k));
            size_t sl = strlen(s);
            joined = realloc(joined, jl + sl + 2);
            if (k > 0)
                joined[jl++] = ' ';
            memcpy(joined + jl, s, sl + 1);
            jl += sl;
            free(s);
        }
        items[n++] = joined;
        total += jl + 1;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = i + 1; k < n; k++)
            if (strcmp(items[k], items[i]) < 0) {
                char *t = items[i];
                items[i] = items[k];
                items[k] = t;
            }
    char *out = calloc(1, total);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t il = strlen(items[i]);
        if (i > 0)
            out[off++] = '|';
        memcpy(out + off, items[i], il + 1);
        off += il;
        free(items[i]);
    }
    ldns_rr_list_deep_free(l);
    ldns_pkt_free(p);
    return out;
}

/* Checks the answer over both transports. */
static void expect(const char *name, ldns_rr_type type, const char *want)
{
    for (int tcp = 0; tcp <= 1; tcp++) {
        char *got = answers(name, type, tcp);
        ck_assert_msg(strcmp(got, want) == 0, "%s type %d over %s: got \"%s\", want \"%s\"",
                      name, (int)type, tcp ? "TCP" : "UDP", got, want);
        free(got);
    }
}

static ldns_pkt_rcode rcode(const char *name, ldns_rr_type type, bool tcp)
{
    ldns_pkt *p = q(name, type, tcp);
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(p);
    ldns_pkt_free(p);
    return rc;
}

START_TEST(test_txt_accumulates_and_clears)
{
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"_acme-challenge.example.com.\",\"value\":\"foo\"}"), 200);
    /* Without the trailing dot and in another case: the same name. */
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"_ACME-challenge.example.com\",\"value\":\"bar\"}"), 200);
    expect("_acme-challenge.example.com.", LDNS_RR_TYPE_TXT, "\"bar\"|\"foo\"");
    /* Go's encoding/json matches member names in any case. */
    ck_assert_int_eq(post("/set-txt", "{\"Host\":\"t2.example.com\",\"VALUE\":\"v\",\"x\":1}"), 200);
    expect("t2.example.com.", LDNS_RR_TYPE_TXT, "\"v\"");
    ck_assert_int_eq(post("/clear-txt", "{\"host\":\"_acme-challenge.example.com\"}"), 200);
    expect("_acme-challenge.example.com.", LDNS_RR_TYPE_TXT, "");
    /* A value over 255 bytes comes back whole (split into strings on the wire). */
    char big[700];
    char json[800];
    memset(big, 'x', 600);
    big[600] = '\0';
    snprintf(json, sizeof(json), "{\"host\":\"big.example.com\",\"value\":\"%s\"}", big);
    ck_assert_int_eq(post("/set-txt", json), 200);
    char *got = answers("big.example.com.", LDNS_RR_TYPE_TXT, true);
    size_t xs = 0;
    for (const char *p = got; *p != '\0'; p++)
        xs += *p == 'x';
    ck_assert_uint_eq(xs, 600);
    free(got);
    /* Empty value or host: 400, as challtestsrv. */
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"e.example.com\",\"value\":\"\"}"), 400);
    ck_assert_int_eq(post("/set-txt", "{\"value\":\"v\"}"), 400);
    ck_assert_int_eq(post("/clear-txt", "{}"), 400);
}
END_TEST

START_TEST(test_a_aaaa_and_defaults)
{
    expect("any.example.com.", LDNS_RR_TYPE_A, "127.0.0.1");
    expect("any.example.com.", LDNS_RR_TYPE_AAAA, "::1");
    ck_assert_int_eq(post("/add-a", "{\"host\":\"a.example.com\",\"addresses\":[\"1.2.3.4\",\"1.2.3.5\"]}"), 200);
    ck_assert_int_eq(post("/add-a", "{\"host\":\"a.example.com.\",\"addresses\":[\"1.2.3.6\"]}"), 200);
    expect("a.example.com.", LDNS_RR_TYPE_A, "1.2.3.4|1.2.3.5|1.2.3.6");
    ck_assert_int_eq(post("/clear-a", "{\"host\":\"a.example.com\"}"), 200);
    expect("a.example.com.", LDNS_RR_TYPE_A, "127.0.0.1");
    ck_assert_int_eq(post("/add-aaaa", "{\"host\":\"a.example.com\",\"addresses\":[\"2001:db8::1\"]}"), 200);
    expect("a.example.com.", LDNS_RR_TYPE_AAAA, "2001:db8::1");
    ck_assert_int_eq(post("/clear-aaaa", "{\"host\":\"a.example.com\"}"), 200);
    expect("a.example.com.", LDNS_RR_TYPE_AAAA, "::1");

    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":\"10.0.0.1\"}"), 200);
    ck_assert_int_eq(post("/set-default-ipv6", "{\"ip\":\"2001:db8::99\"}"), 200);
    expect("other.example.com.", LDNS_RR_TYPE_A, "10.0.0.1");
    expect("other.example.com.", LDNS_RR_TYPE_AAAA, "2001:db8::99");
    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":\"\"}"), 200);
    ck_assert_int_eq(post("/set-default-ipv6", "{}"), 200);
    expect("other.example.com.", LDNS_RR_TYPE_A, "");
    expect("other.example.com.", LDNS_RR_TYPE_AAAA, "");

    ck_assert_int_eq(post("/add-a", "{\"host\":\"a.example.com\",\"addresses\":[]}"), 400);
    ck_assert_int_eq(post("/add-a", "{\"host\":\"\",\"addresses\":[\"1.1.1.1\"]}"), 400);
    ck_assert_int_eq(post("/add-aaaa", "{\"host\":\"a.example.com\",\"addresses\":[\"1.2.3.4\"]}"), 400);
    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":\"::1\"}"), 400);
}
END_TEST

START_TEST(test_caa_cname_servfail)
{
    ck_assert_int_eq(post("/add-caa", "{\"host\":\"c.example.com\",\"policies\":[{\"tag\":\"issue\",\"value\":\"letsencrypt.org\"},{\"tag\":\"iodef\",\"value\":\"mailto:x@example.com\"}]}"), 200);
    expect("c.example.com.", LDNS_RR_TYPE_CAA,
           "0 iodef \"mailto:x@example.com\"|0 issue \"letsencrypt.org\"");
    ck_assert_int_eq(post("/clear-caa", "{\"host\":\"c.example.com\"}"), 200);
    expect("c.example.com.", LDNS_RR_TYPE_CAA, "");
    ck_assert_int_eq(post("/add-caa", "{\"host\":\"c.example.com\",\"policies\":[]}"), 400);
    ck_assert_int_eq(post("/add-caa", "{\"host\":\"c.example.com\",\"policies\":[{\"tag\":\"\",\"value\":\"x\"}]}"), 400);

    ck_assert_int_eq(post("/add-a", "{\"host\":\"target.example.com\",\"addresses\":[\"5.6.7.8\"]}"), 200);
    ck_assert_int_eq(post("/set-cname", "{\"host\":\"alias.example.com\",\"target\":\"target.example.com\"}"), 200);
    expect("alias.example.com.", LDNS_RR_TYPE_CNAME, "target.example.com.");
    expect("alias.example.com.", LDNS_RR_TYPE_A, "5.6.7.8");
    ck_assert_int_eq(post("/clear-cname", "{\"host\":\"alias.example.com\"}"), 200);
    expect("alias.example.com.", LDNS_RR_TYPE_CNAME, "");
    expect("alias.example.com.", LDNS_RR_TYPE_A, "127.0.0.1");
    ck_assert_int_eq(post("/set-cname", "{\"host\":\"alias.example.com\"}"), 400);

    ck_assert_int_eq(post("/set-servfail", "{\"host\":\"sf.example.com\"}"), 200);
    ck_assert_int_eq(rcode("sf.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_SERVFAIL);
    ck_assert_int_eq(rcode("sf.example.com.", LDNS_RR_TYPE_TXT, true), LDNS_RCODE_SERVFAIL);
    /* Exact name only, as challtestsrv. */
    ck_assert_int_eq(rcode("sub.sf.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(post("/clear-servfail", "{\"host\":\"sf.example.com\"}"), 200);
    ck_assert_int_eq(rcode("sf.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
}
END_TEST

static long http_get(uint16_t port, const char *path, const char *host, struct tu_http *r)
{
    char url[256], hosthdr[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    snprintf(hosthdr, sizeof(hosthdr), "Host: %s", host);
    const char *hdrs[] = {hosthdr, NULL};
    ck_assert_int_eq(tu_http("GET", url, NULL, hdrs, NULL, r), 0);
    return r->status;
}

START_TEST(test_http01_redirect_tlsalpn_and_http_history)
{
    struct tu_http r;
    uint16_t port = dnsmock_http01_port(d);
    ck_assert_uint_ne(port, 0);
    ck_assert_int_eq(post("/add-http01", "{\"token\":\"tok_en-1\",\"content\":\"tok_en-1.thumb\"}"), 200);
    ck_assert_int_eq(http_get(port, "/.well-known/acme-challenge/tok_en-1", "h.example.com", &r), 200);
    ck_assert_str_eq(r.body, "tok_en-1.thumb");
    tu_http_free(&r);
    ck_assert_int_eq(post("/del-http01", "{\"token\":\"tok_en-1\"}"), 200);
    ck_assert_int_ne(http_get(port, "/.well-known/acme-challenge/tok_en-1", "h.example.com", &r), 200);
    tu_http_free(&r);
    ck_assert_int_eq(post("/del-http01", "{\"token\":\"never-added\"}"), 200);
    ck_assert_int_eq(post("/add-http01", "{\"token\":\"t\"}"), 400);

    ck_assert_int_eq(post("/add-redirect", "{\"path\":\"/.well-known/acme-challenge/r\",\"targetURL\":\"http://elsewhere.example.com/x\"}"), 200);
    ck_assert_int_eq(http_get(port, "/.well-known/acme-challenge/r", "h.example.com", &r), 302);
    char *loc = tu_http_header(&r, "Location");
    ck_assert_ptr_nonnull(loc);
    ck_assert_str_eq(loc, "http://elsewhere.example.com/x");
    free(loc);
    tu_http_free(&r);
    ck_assert_int_eq(post("/del-redirect", "{\"path\":\"/.well-known/acme-challenge/r\"}"), 200);
    ck_assert_int_ne(http_get(port, "/.well-known/acme-challenge/r", "h.example.com", &r), 302);
    tu_http_free(&r);

    ck_assert_int_eq(post("/add-tlsalpn01", "{\"host\":\"t.example.com\",\"content\":\"keyauth\"}"), 200);
    ck_assert_int_eq(post("/del-tlsalpn01", "{\"host\":\"t.example.com\"}"), 200);
    ck_assert_int_eq(post("/add-tlsalpn01", "{\"host\":\"t.example.com\"}"), 400);

    /* The http-01 requests above are in the history under the Host, port dropped. */
    char *body = NULL;
    ck_assert_int_eq(post_body("/http-request-history", "{\"host\":\"h.example.com\"}", &body), 200);
    cJSON *arr = cJSON_Parse(body);
    ck_assert_ptr_nonnull(arr);
    ck_assert_int_ge(cJSON_GetArraySize(arr), 4);
    cJSON *e0 = cJSON_GetArrayItem(arr, 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e0, "URL")->valuestring,
                     "/.well-known/acme-challenge/tok_en-1");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(e0, "Host")->valuestring, "h.example.com");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(e0, "HTTPS")));
    cJSON_Delete(arr);
    free(body);
    ck_assert_int_eq(post("/clear-request-history", "{\"host\":\"h.example.com\",\"type\":\"http\"}"), 200);
    ck_assert_int_eq(post_body("/http-request-history", "{\"host\":\"h.example.com\"}", &body), 200);
    ck_assert_str_eq(body, "[]");
    free(body);
    ck_assert_int_eq(post_body("/tlsalpn01-request-history", "{\"host\":\"t.example.com\"}", &body), 200);
    ck_assert_str_eq(body, "[]");
    free(body);
}
END_TEST

START_TEST(test_dns_history)
{
    char *body = NULL;
    ldns_pkt_free(q("hist.example.com.", LDNS_RR_TYPE_A, false));
    ldns_pkt_free(q("hist.example.com.", LDNS_RR_TYPE_TXT, true));
    ck_assert_int_eq(post_body("/dns-request-history", "{\"host\":\"hist.example.com\"}", &body), 200);
    /* Go's MarshalIndent layout, byte for byte. */
    ck_assert_str_eq(body, "[\n"
                           "   {\n"
                           "      \"Question\": {\n"
                           "         \"Name\": \"hist.example.com.\",\n"
                           "         \"Qtype\": 1,\n"
                           "         \"Qclass\": 1\n"
                           "      }\n"
                           "   },\n"
                           "   {\n"
                           "      \"Question\": {\n"
                           "         \"Name\": \"hist.example.com.\",\n"
                           "         \"Qtype\": 16,\n"
                           "         \"Qclass\": 1\n"
                           "      }\n"
                           "   }\n"
                           "]");
    free(body);
    /* The trailing-dot spelling finds the same entries. */
    ck_assert_int_eq(post_body("/dns-request-history", "{\"host\":\"hist.example.com.\"}", &body), 200);
    cJSON *arr = cJSON_Parse(body);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
    cJSON_Delete(arr);
    free(body);
    ck_assert_int_eq(post("/clear-request-history", "{\"host\":\"hist.example.com\",\"type\":\"bogus\"}"), 400);
    ck_assert_int_eq(post("/clear-request-history", "{\"host\":\"\",\"type\":\"dns\"}"), 400);
    ck_assert_int_eq(post("/dns-request-history", "{\"host\":\"\"}"), 400);
    ck_assert_int_eq(post("/clear-request-history", "{\"host\":\"hist.example.com\",\"type\":\"dns\"}"), 200);
    ck_assert_int_eq(post_body("/dns-request-history", "{\"host\":\"hist.example.com\"}", &body), 200);
    ck_assert_str_eq(body, "[]");
    free(body);
}
END_TEST

START_TEST(test_bad_input)
{
    char *body = NULL;
    ck_assert_int_eq(post_body("/set-txt", "{\"host\":", &body), 400);
    ck_assert_ptr_nonnull(body);
    ck_assert_int_gt(strlen(body), 0); /* says what is wrong */
    free(body);
    ck_assert_int_eq(post("/set-txt", ""), 400);
    ck_assert_int_eq(post("/set-txt", "[]"), 400);
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"a.\",\"value\":\"x\"} trailing"), 400);
    ck_assert_int_eq(post_body("/set-txt", "{\"host\":5,\"value\":\"x\"}", &body), 400);
    ck_assert_ptr_nonnull(strstr(body, "host"));
    free(body);
    ck_assert_int_eq(post("/add-a", "{\"host\":\"w.example.com\",\"addresses\":\"1.2.3.4\"}"), 400);
    ck_assert_int_eq(post("/add-a", "{\"host\":\"w.example.com\",\"addresses\":[1]}"), 400);
    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":5}"), 400);
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"bad..name\",\"value\":\"x\"}"), 400);
    ck_assert_int_eq(post("/del-dns-fault", "{\"id\":\"one\"}"), 400);

    /* Over 64 KiB: 413 before any handler. */
    size_t n = 70 * 1024;
    char *value = malloc(n + 1);
    ck_assert_ptr_nonnull(value);
    memset(value, 'a', n);
    value[n] = '\0';
    cJSON *bj = cJSON_CreateObject();
    cJSON_AddStringToObject(bj, "host", "x.example.com");
    cJSON_AddStringToObject(bj, "value", value);
    char *big = cJSON_PrintUnformatted(bj);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(post("/set-txt", big), 413);
    cJSON_free(big);
    cJSON_Delete(bj);
    free(value);

    ck_assert_int_eq(post("/no-such-endpoint", "{}"), 404);
    struct tu_http r;
    char url[256];
    snprintf(url, sizeof(url), "%s/set-txt", dnsmock_mgmt_url(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 405);
    tu_http_free(&r);

    /* A refused call changes nothing: one bad address refuses the whole list. */
    ck_assert_int_eq(post("/add-a", "{\"host\":\"w.example.com\",\"addresses\":[\"1.2.3.4\",\"bogus\"]}"), 400);
    expect("w.example.com.", LDNS_RR_TYPE_A, "127.0.0.1");
    ck_assert_int_eq(post("/add-caa", "{\"host\":\"w.example.com\",\"policies\":[{\"tag\":\"issue\",\"value\":\"ca\"},{\"tag\":\"bad tag\",\"value\":\"x\"}]}"), 400);
    expect("w.example.com.", LDNS_RR_TYPE_CAA, "");
    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":\"not-an-ip\"}"), 400);
    expect("w.example.com.", LDNS_RR_TYPE_A, "127.0.0.1");
    ck_assert_int_eq(post("/add-dns-fault", "{\"match\":{\"target\":\"w.example.com.\"},\"action\":{\"action\":\"explode\"}}"), 400);
    ck_assert_int_eq(rcode("w.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
}
END_TEST

START_TEST(test_zones_ns_and_modes)
{
    ck_assert_int_eq(post("/add-zone", "{\"zone\":\"zone.test\",\"ns\":\"ns1.zone.test\",\"soa\":{\"mname\":\"ns1.zone.test\",\"rname\":\"admin.zone.test\",\"serial\":42,\"refresh\":7200,\"retry\":600,\"expire\":86400,\"minimum\":30}}"), 200);
    expect("zone.test.", LDNS_RR_TYPE_SOA, "ns1.zone.test. admin.zone.test. 42 7200 600 86400 30");
    expect("zone.test.", LDNS_RR_TYPE_NS, "ns1.zone.test.");
    ck_assert_int_eq(post("/add-ns", "{\"host\":\"zone.test\",\"nameserver\":\"ns2.zone.test.\"}"), 200);
    expect("zone.test.", LDNS_RR_TYPE_NS, "ns1.zone.test.|ns2.zone.test.");
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"in.zone.test\",\"value\":\"here\"}"), 200);

    /* compat: any name gets the default A. */
    expect("missing.zone.test.", LDNS_RR_TYPE_A, "127.0.0.1");
    ck_assert_int_eq(post("/set-mode", "{\"mode\":\"strict\"}"), 200);
    for (int tcp = 0; tcp <= 1; tcp++) {
        ldns_pkt *p = q("missing.zone.test.", LDNS_RR_TYPE_A, tcp);
        ck_assert_int_eq(ldns_pkt_get_rcode(p), LDNS_RCODE_NXDOMAIN);
        ldns_rr_list *soa = ldns_pkt_rr_list_by_type(p, LDNS_RR_TYPE_SOA, LDNS_SECTION_AUTHORITY);
        ck_assert_ptr_nonnull(soa);
        ck_assert_uint_eq(ldns_rr_list_rr_count(soa), 1);
        ldns_rr_list_deep_free(soa);
        ldns_pkt_free(p);
    }
    /* NODATA: the name exists with another type. */
    ck_assert_int_eq(rcode("in.zone.test.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
    expect("in.zone.test.", LDNS_RR_TYPE_A, "");
    expect("in.zone.test.", LDNS_RR_TYPE_TXT, "\"here\"");
    ck_assert_int_eq(post("/set-mode", "{\"mode\":\"lenient\"}"), 400);
    ck_assert_int_eq(post("/set-mode", "{\"mode\":\"compat\"}"), 200);
    expect("missing.zone.test.", LDNS_RR_TYPE_A, "127.0.0.1");

    ck_assert_int_eq(post("/clear-ns", "{\"host\":\"zone.test\"}"), 200);
    expect("zone.test.", LDNS_RR_TYPE_NS, "");
    ck_assert_int_eq(post("/del-zone", "{\"zone\":\"zone.test\"}"), 200);
    expect("zone.test.", LDNS_RR_TYPE_SOA, "");
    expect("in.zone.test.", LDNS_RR_TYPE_TXT, "");
    ck_assert_int_eq(post("/del-zone", "{\"zone\":\"zone.test\"}"), 404);
    ck_assert_int_eq(post("/add-zone", "{\"zone\":\"z2.test\"}"), 200);
    expect("z2.test.", LDNS_RR_TYPE_SOA, "ns1.z2.test. hostmaster.z2.test. 1 3600 900 604800 0");
    ck_assert_int_eq(post("/add-zone", "{\"zone\":\"z3.test\",\"soa\":{\"serial\":-1}}"), 400);
    ck_assert_int_eq(post("/add-zone", "{\"zone\":\"z3.test\",\"soa\":\"x\"}"), 400);
    expect("z3.test.", LDNS_RR_TYPE_SOA, "");
}
END_TEST

static uint64_t add_fault(const char *json)
{
    char *body = NULL;
    ck_assert_int_eq(post_body("/add-dns-fault", json, &body), 200);
    cJSON *j = cJSON_Parse(body);
    ck_assert_ptr_nonnull(j);
    cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    ck_assert(cJSON_IsNumber(id));
    uint64_t v = (uint64_t)id->valuedouble;
    cJSON_Delete(j);
    free(body);
    return v;
}

START_TEST(test_faults)
{
    uint64_t id = add_fault("{\"match\":{\"target\":\"f.example.com.\",\"kind\":\"A\"},\"action\":{\"action\":\"servfail\"}}");
    ck_assert_uint_ge(id, 1);
    ck_assert_int_eq(rcode("f.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_SERVFAIL);
    ck_assert_int_eq(rcode("f.example.com.", LDNS_RR_TYPE_AAAA, false), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(rcode("g.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);

    char *body = NULL;
    struct tu_http r;
    char url[256];
    snprintf(url, sizeof(url), "%s/dns-faults", dnsmock_mgmt_url(d));
    ck_assert_int_eq(tu_http("GET", url, NULL, NULL, NULL, &r), 0);
    ck_assert_int_eq(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "seed")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "rules")), 1);
    cJSON_Delete(j);
    tu_http_free(&r);

    char del[64];
    snprintf(del, sizeof(del), "{\"id\":%llu}", (unsigned long long)id);
    ck_assert_int_eq(post("/del-dns-fault", del), 200);
    ck_assert_int_eq(post("/del-dns-fault", del), 404);
    ck_assert_int_eq(rcode("f.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);

    /* Truncate: UDP gets TC=1 and no records, TCP gets the answer. */
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"tc.example.com\",\"value\":\"full\"}"), 200);
    add_fault("{\"match\":{\"target\":\"tc.example.com.\"},\"action\":{\"action\":\"truncate\"}}");
    ldns_pkt *p = q("tc.example.com.", LDNS_RR_TYPE_TXT, false);
    ck_assert(ldns_pkt_tc(p));
    ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
    ldns_pkt_free(p);
    char *got = answers("tc.example.com.", LDNS_RR_TYPE_TXT, true);
    ck_assert_str_eq(got, "\"full\"");
    free(got);
    add_fault("{\"match\":{\"target\":\"*.nx.example.com.\"},\"action\":{\"action\":\"nxdomain\"}}");
    ck_assert_int_eq(rcode("a.nx.example.com.", LDNS_RR_TYPE_A, true), LDNS_RCODE_NXDOMAIN);
    ck_assert_int_eq(post("/clear-dns-faults", "{}"), 200);
    ck_assert_int_eq(rcode("a.nx.example.com.", LDNS_RR_TYPE_A, true), LDNS_RCODE_NOERROR);
    p = q("tc.example.com.", LDNS_RR_TYPE_TXT, false);
    ck_assert(!ldns_pkt_tc(p));
    ldns_pkt_free(p);

    ck_assert_int_eq(post("/set-fault-seed", "{\"seed\":12345}"), 200);
    ck_assert_int_eq(post_body("/dns-faults", "{}", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"seed\":12345"));
    free(body);
    ck_assert_int_eq(post("/set-fault-seed", "{\"seed\":\"18446744073709551615\"}"), 200);
    ck_assert_int_eq(post_body("/dns-faults", "", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "18446744073709551615"));
    free(body);
    ck_assert_uint_eq(dnsmock_fault_seed(d), UINT64_MAX);
    ck_assert_int_eq(post("/set-fault-seed", "{\"seed\":-3}"), 400);
    ck_assert_int_eq(post("/set-fault-seed", "{\"seed\":1.5}"), 400);
    ck_assert_int_eq(post("/add-dns-fault", "{\"action\":{\"action\":\"drop\"},\"extra\":1}"), 400);
    ck_assert_int_eq(post("/add-dns-fault", "{\"match\":{}}"), 400);
}
END_TEST

/* Targets are written the way people write names: without the trailing dot, in any case.
 * They must fire all the same, since queries are matched in canonical form. */
START_TEST(test_fault_target_forms)
{
    add_fault("{\"match\":{\"target\":\"*.Glob.Example.COM\"},\"action\":{\"action\":\"refused\"}}");
    add_fault("{\"match\":{\"target\":\"Exact.Example.com\"},\"action\":{\"action\":\"servfail\"}}");
    add_fault("{\"match\":{\"target\":\"pre*\"},\"action\":{\"action\":\"nxdomain\"}}");
    ck_assert_int_eq(rcode("a.glob.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_REFUSED);
    ck_assert_int_eq(rcode("glob.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(rcode("exact.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_SERVFAIL);
    ck_assert_int_eq(rcode("prefix.test.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NXDOMAIN);
    ck_assert_int_eq(rcode("other.test.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);

    /* A target that is no name is refused, not stored as a rule that never fires. */
    ck_assert_int_eq(post("/add-dns-fault", "{\"match\":{\"target\":\"a..b\"},\"action\":{\"action\":\"drop\"}}"), 400);
    ck_assert_int_eq(post("/add-dns-fault", "{\"match\":{\"target\":\"*.a..b\"},\"action\":{\"action\":\"drop\"}}"), 400);
    char *body = NULL;
    ck_assert_int_eq(post_body("/dns-faults", "{}", &body), 200);
    cJSON *j = cJSON_Parse(body);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "rules")), 3);
    cJSON_Delete(j);
    free(body);
}
END_TEST

START_TEST(test_reset)
{
    ck_assert_int_eq(post("/add-a", "{\"host\":\"r.example.com\",\"addresses\":[\"9.9.9.9\"]}"), 200);
    ck_assert_int_eq(post("/set-txt", "{\"host\":\"r.example.com\",\"value\":\"v\"}"), 200);
    ck_assert_int_eq(post("/set-servfail", "{\"host\":\"sf.example.com\"}"), 200);
    ck_assert_int_eq(post("/add-zone", "{\"zone\":\"r.test\"}"), 200);
    ck_assert_int_eq(post("/set-default-ipv4", "{\"ip\":\"10.1.1.1\"}"), 200);
    ck_assert_int_eq(post("/set-mode", "{\"mode\":\"strict\"}"), 200);
    ck_assert_int_eq(post("/add-http01", "{\"token\":\"rt\",\"content\":\"rt.x\"}"), 200);
    add_fault("{\"match\":{\"target\":\"f.example.com.\"},\"action\":{\"action\":\"refused\"}}");
    ldns_pkt_free(q("r.example.com.", LDNS_RR_TYPE_A, false));

    ck_assert_int_eq(post("/reset", ""), 200);
    expect("r.example.com.", LDNS_RR_TYPE_A, "127.0.0.1"); /* compat mode, start-up default */
    expect("r.example.com.", LDNS_RR_TYPE_TXT, "");
    expect("r.test.", LDNS_RR_TYPE_SOA, "");
    ck_assert_int_eq(rcode("sf.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
    ck_assert_int_eq(rcode("f.example.com.", LDNS_RR_TYPE_A, false), LDNS_RCODE_NOERROR);
    struct tu_http r;
    ck_assert_int_ne(http_get(dnsmock_http01_port(d), "/.well-known/acme-challenge/rt", "x", &r), 200);
    tu_http_free(&r);
    char *body = NULL;
    ck_assert_int_eq(post_body("/dns-faults", "{}", &body), 200);
    ck_assert_ptr_nonnull(strstr(body, "\"rules\":[]"));
    free(body);
    /* Histories were cleared; the reset's own queries above came after it. */
    ck_assert_int_eq(post_body("/dns-request-history", "{\"host\":\"r.example.com\"}", &body), 200);
    cJSON *arr = cJSON_Parse(body);
    ck_assert_int_eq(cJSON_GetArraySize(arr), 4); /* the A and TXT checks, UDP and TCP */
    cJSON_Delete(arr);
    free(body);
}
END_TEST

#define HAMMER_THREADS 8
#define HAMMER_ROUNDS 25

struct hammer {
    int idx;
    int failures;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    char host[64], add[160], clear[96];
    snprintf(host, sizeof(host), "h%d.load.example.com", h->idx);
    snprintf(add, sizeof(add), "{\"host\":\"%s\",\"addresses\":[\"10.9.%d.1\"]}", host, h->idx);
    snprintf(clear, sizeof(clear), "{\"host\":\"%s\"}", host);
    for (int i = 0; i < HAMMER_ROUNDS; i++) {
        if (post("/add-a", add) != 200)
            h->failures++;
        if (post("/set-txt", "{\"host\":\"shared.load.example.com\",\"value\":\"x\"}") != 200)
            h->failures++;
        ldns_pkt *p = tu_dns_query(dnsmock_dns_port(d), "shared.load.example.com.",
                                   LDNS_RR_TYPE_TXT, (i & 1) != 0);
        if (p == NULL || ldns_pkt_get_rcode(p) != LDNS_RCODE_NOERROR)
            h->failures++;
        ldns_pkt_free(p);
        if (post("/clear-a", clear) != 200)
            h->failures++;
    }
    /* Last word: this thread's own address stays. */
    if (post("/add-a", add) != 200)
        h->failures++;
    return NULL;
}

START_TEST(test_concurrent_store_consistent)
{
    pthread_t t[HAMMER_THREADS];
    struct hammer h[HAMMER_THREADS];
    for (int i = 0; i < HAMMER_THREADS; i++) {
        h[i].idx = i;
        h[i].failures = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_run, &h[i]), 0);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(h[i].failures, 0);
    }
    for (int i = 0; i < HAMMER_THREADS; i++) {
        char name[64], want[32];
        snprintf(name, sizeof(name), "h%d.load.example.com.", i);
        snprintf(want, sizeof(want), "10.9.%d.1", i);
        expect(name, LDNS_RR_TYPE_A, want);
    }
    /* The same value added many times is kept once. */
    expect("shared.load.example.com.", LDNS_RR_TYPE_TXT, "\"x\"");
}
END_TEST

static Suite *dnsmock_suite(void)
{
    Suite *s = suite_create("dnsmock");
    TCase *tc = tcase_create("mgmt");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_txt_accumulates_and_clears);
    tcase_add_test(tc, test_a_aaaa_and_defaults);
    tcase_add_test(tc, test_caa_cname_servfail);
    tcase_add_test(tc, test_http01_redirect_tlsalpn_and_http_history);
    tcase_add_test(tc, test_dns_history);
    tcase_add_test(tc, test_bad_input);
    tcase_add_test(tc, test_zones_ns_and_modes);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_fault_target_forms);
    tcase_add_test(tc, test_reset);
    tcase_add_test(tc, test_concurrent_store_consistent);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dnsmock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
