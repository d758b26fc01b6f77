/* doh.c: DNS over HTTPS (RFC 8484), as newer pebble-challtestsrv serves it with -doh. The
 * wire message goes through the same query path as UDP and TCP (dns_handle_message), with
 * TCP's rules: an HTTP response has no 512-byte limit, so nothing is truncated. */
#include "dnsmock/doh.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>

#include "common/b64url.h"
#include "common/log.h"
#include "dnsmock/answer.h"
#include "dnsmock/internal.h"

#define DOH_MEDIA_TYPE "application/dns-message"
#define DNS_HEADER_LEN 12

static void doh_error(struct http_response *resp, int status, const char *message)
{
    if (http_response_error(resp, status, message) != MC_OK) {
        http_response_reset(resp);
        resp->status = status;
    }
}

/* True if ct names application/dns-message, parameters and case aside (RFC 9110
 * section 8.3.1: the media type is case-insensitive). */
static bool doh_is_dns_message(const char *ct)
{
    size_t n = strlen(DOH_MEDIA_TYPE);

    if (ct == NULL)
        return false;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, DOH_MEDIA_TYPE, n) != 0)
        return false;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static uint32_t doh_min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The freshness lifetime of a response (RFC 8484 section 5.1): no more than the smallest
 * TTL it holds. A negative answer's SOA counts with min(TTL, MINIMUM) (RFC 2308 section
 * 5). The OPT pseudo-record is skipped: its TTL field carries flags. */
static uint32_t doh_max_age(const uint8_t *wire, size_t len)
{
    ldns_pkt *pkt = NULL;
    uint32_t best = UINT32_MAX;
    ldns_rr_list *lists[2];

    if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
        return 0;
    lists[0] = ldns_pkt_answer(pkt);
    lists[1] = ldns_pkt_authority(pkt);
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] != NULL && i < ldns_rr_list_rr_count(lists[l]); i++) {
            ldns_rr *rr = ldns_rr_list_rr(lists[l], i);
            uint32_t ttl = ldns_rr_ttl(rr);
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_OPT)
                continue;
            if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA && ldns_rr_rd_count(rr) == 7)
                ttl = doh_min_u32(ttl, ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)));
            best = doh_min_u32(best, ttl);
        }
    }
    ldns_pkt_free(pkt);
    return best == UINT32_MAX ? 0 : best;
}

/* Answers one DNS message msg[0..len) taken from a DoH request. */
static void doh_answer(struct dnsmock *d, const struct http_request *req, const uint8_t *msg,
                       size_t len, struct http_response *resp)
{
    uint8_t *out = NULL;
    size_t outlen = 0;
    int64_t delay_ms = 0;
    char cc[32];
    enum mc_err err;

    if (len == 0) {
        doh_error(resp, 400, "empty DNS message");
        return;
    }
    if (len > DOH_MAX_MESSAGE) {
        doh_error(resp, 413, "DNS message over 65535 bytes");
        return;
    }
    /* dns_handle_message sends nothing back for these; over HTTP the client deserves to
     * hear why, and only a fault may close the connection silently. */
    if (len < DNS_HEADER_LEN) {
        doh_error(resp, 400, "DNS message shorter than its header");
        return;
    }
    if ((msg[2] & 0x80) != 0) {
        doh_error(resp, 400, "DNS message is a response (QR=1)");
        return;
    }
    err = dns_handle_message(d, msg, len, true, req->remote_addr, &out, &outlen, &delay_ms);
    if (err != MC_OK) {
        doh_error(resp, 500, mc_strerror(err));
        return;
    }
    resp->delay_ms = delay_ms;
    if (out == NULL) {
        resp->drop = true; /* a "drop" fault: the client sees the connection close */
        return;
    }
    snprintf(cc, sizeof(cc), "max-age=%u", (unsigned)doh_max_age(out, outlen));
    if (http_response_body(resp, 200, DOH_MEDIA_TYPE, out, outlen) != MC_OK ||
        http_response_header(resp, "Cache-Control", cc) != MC_OK) {
        http_response_reset(resp);
        resp->status = 500;
        resp->delay_ms = delay_ms;
    }
    free(out);
}

/* POST: the body is the message (RFC 8484 section 4.1). */
static void doh_post(void *ctx, const struct http_request *req, struct http_response *resp)
{
    if (!doh_is_dns_message(http_request_header(req, "Content-Type"))) {
        doh_error(resp, 415, "Content-Type must be " DOH_MEDIA_TYPE);
        return;
    }
    doh_answer(ctx, req, req->body, req->body_len, resp);
}

/* GET: the message is the "dns" parameter in base64url without padding (RFC 8484
 * section 4.1). Trailing '=' is forgiven: some clients pad, and the value is unambiguous
 * either way; anything else that is not strict base64url is a 400. */
static void doh_get(void *ctx, const struct http_request *req, struct http_response *resp)
{
    const char *q = http_request_query(req, "dns");
    uint8_t *msg = NULL;
    size_t n, len = 0;

    if (q == NULL || q[0] == '\0') {
        doh_error(resp, 400, "missing dns parameter");
        return;
    }
    n = strlen(q);
    if (n > 0 && q[n - 1] == '=')
        n--;
    if (n > 0 && q[n - 1] == '=')
        n--;
    if (n > b64url_encoded_len(DOH_MAX_MESSAGE)) {
        doh_error(resp, 413, "DNS message over 65535 bytes");
        return;
    }
    if (b64url_decode(q, n, &msg, &len) != MC_OK) {
        doh_error(resp, 400, "dns parameter is not base64url");
        return;
    }
    doh_answer(ctx, req, msg, len, resp);
    free(msg);
}

static const struct http_route doh_routes[] = {
    {"GET", DOH_PATH, doh_get},
    {"POST", DOH_PATH, doh_post},
};

enum mc_err doh_start(struct dnsmock *d, const char *addr, const char *cert_pem,
                      const char *key_pem, struct http_server **out)
{
    struct http_server_config cfg = {0};
    char host[64];
    uint16_t port = 0;
    enum mc_err err;

    *out = NULL;
    if (cert_pem == NULL || key_pem == NULL)
        return MC_ERR_INVALID;
    err = http_split_hostport(addr, host, sizeof(host), &port);
    if (err != MC_OK)
        return err;
    cfg.bind_addr = host[0] == '\0' ? "0.0.0.0" : host; /* ":8443": every interface */
    cfg.port = port;
    cfg.tls_cert_pem = cert_pem;
    cfg.tls_key_pem = key_pem;
    cfg.routes = doh_routes;
    cfg.nroutes = sizeof(doh_routes) / sizeof(doh_routes[0]);
    cfg.ctx = d;
    cfg.max_body = DOH_MAX_MESSAGE; /* the layer answers 413 above it */
    err = http_server_start(&cfg, out);
    if (err == MC_OK)
        log_msg(LOGL_INFO, "doh.listen", "addr=%s port=%u", cfg.bind_addr,
                (unsigned)http_server_port(*out));
    return err;
}
