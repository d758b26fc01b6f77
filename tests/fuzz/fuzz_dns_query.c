/* libFuzzer target: any bytes as a DNS message through dns_handle_message, over UDP and
 * TCP, against a small store in strict mode (with two zones, an empty non-terminal, a
 * CNAME loop and a long TXT) and in compat mode, each through the fast path and the ldns
 * path, whose responses must be byte for byte the same. Seeds: tests/fuzz/corpus/dns_query/. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
/* Included for answer_fast_enabled: the fast path and the ldns path must agree. */
#include "../../dnsmock/answer.c"
#include "dnsmock/answer.h"
#include "dnsmock/internal.h"
#include "dnsmock/zone.h"

static struct dnsmock fz_strict, fz_compat;

static struct zone_store *fz_store(enum zone_mode mode)
{
    static char big[1000];
    struct zone_store *zs = zone_store_new();
    if (zs == NULL)
        abort();
    memset(big, 'x', sizeof(big));
    zone_set_mode(zs, mode);
    bool ok = zone_set_default_ipv4(zs, "127.0.0.1") == MC_OK &&
              zone_set_default_ipv6(zs, "::1") == MC_OK &&
              zone_add_zone(zs, "example.com", NULL, "ns1.example.com") == MC_OK &&
              zone_add_zone(zs, "sub.example.com", NULL, NULL) == MC_OK &&
              zone_add_a(zs, "www.example.com", "192.0.2.1") == MC_OK &&
              zone_add_aaaa(zs, "www.example.com", "2001:db8::1") == MC_OK &&
              zone_add_txt(zs, "_acme-challenge.a.b.example.com", "tok", 3) == MC_OK &&
              zone_add_txt(zs, "big.example.com", big, sizeof(big)) == MC_OK &&
              zone_set_cname(zs, "c1.example.com", "c2.example.com") == MC_OK &&
              zone_set_cname(zs, "c2.example.com", "c1.example.com") == MC_OK &&
              zone_set_cname(zs, "alias.example.com", "www.example.com") == MC_OK &&
              zone_add_caa(zs, "example.com", 0, "issue", "ca.test") == MC_OK &&
              zone_set_servfail(zs, "fail.example.com") == MC_OK;
    if (!ok)
        abort();
    return zs;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fz_strict.zones == NULL) {
        log_set_stream(NULL);
        fz_strict.zones = fz_store(ZONE_MODE_STRICT);
        fz_compat.zones = fz_store(ZONE_MODE_COMPAT);
    }
    for (int i = 0; i < 4; i++) {
        struct dnsmock *d = i < 2 ? &fz_strict : &fz_compat;
        uint8_t *out = NULL;
        size_t outlen = 0;
        int64_t delay = 0;
        if (dns_handle_message(d, data, size, (i & 1) != 0, "127.0.0.1", &out, &outlen, &delay) !=
            MC_OK)
            abort();
        /* Whatever we send must be a DNS message of bounded size. */
        if (out != NULL && (outlen < 12 || outlen > 65535 || (out[2] & 0x80) == 0))
            abort();
        if (out != NULL && (i & 1) == 0 && outlen > 512 && size >= 12) {
            /* Over UDP, more than 512 needs the client's EDNS0 (checked by ldns). */
            ldns_pkt *q = NULL;
            bool edns = ldns_wire2pkt(&q, data, size) == LDNS_STATUS_OK && ldns_pkt_edns(q);
            ldns_pkt_free(q);
            if (!edns)
                abort();
        }
        /* The same message through the ldns path only. */
        uint8_t *slow = NULL;
        size_t slowlen = 0;
        int64_t sdelay = 0;
        answer_fast_enabled = false;
        enum mc_err e =
            dns_handle_message(d, data, size, (i & 1) != 0, "127.0.0.1", &slow, &slowlen, &sdelay);
        answer_fast_enabled = true;
        if (e != MC_OK || (out == NULL) != (slow == NULL) || slowlen != outlen ||
            (out != NULL && memcmp(out, slow, outlen) != 0))
            abort();
        free(slow);
        free(out);
    }
    return 0;
}
