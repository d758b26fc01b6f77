/* dnsmock/update.c: RFC 2136 dynamic UPDATE with TSIG (RFC 8945).
 *
 * Order of checks, as RFC 2136 section 3 and RFC 8945 section 5.2 lay them out:
 *   TSIG (key, MAC, time) -> zone section (3.1) -> prerequisites (3.2) -> update prescan
 *   (3.4.1) -> apply (3.4.2).
 * Everything from the zone check on runs under one zone_wrlock, so the prerequisites hold
 * when the updates land and no reader sees half an update. Should the store still refuse
 * a change part-way (a bound reached), the RRsets touched so far are restored from a
 * snapshot taken before the first change: all or nothing.
 *
 * TSIG: ldns_pkt_tsig_verify / ldns_pkt_tsig_sign do the MAC for hmac-sha1, -sha256 and
 * -sha512. ldns 1.8.3 cannot do hmac-sha384 (its digest table spells the name
 * "hmac-shac384."), and a BADTIME answer must carry the server time in Other Data, which
 * ldns_pkt_tsig_sign cannot write; for those two cases the MAC is computed here with
 * EVP_Q_mac over the same digest input (RFC 8945 section 4.3.3). */
#include "dnsmock/update.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/clock.h"
#include "common/log.h"
#include "dnsmock/internal.h"
#include "dnsmock/zone.h"

/* RFC 8945 section 3: TSIG error codes carried in the TSIG RR's Error field. */
#define TSIG_ERR_BADSIG 16
#define TSIG_ERR_BADKEY 17
#define TSIG_ERR_BADTIME 18

#define TSIG_MAX_KEYS 256
#define TSIG_SECRET_MAX 1024 /* base64 characters */
#define TSIG_FUDGE 300       /* seconds, what BIND and ldns use */
#define UPDATE_MAX_RRS 1024  /* prerequisites or updates in one message */

struct tsig_alg {
    const char *name;   /* canonical wire-name text, "hmac-sha256." */
    const char *digest; /* OpenSSL digest name */
    bool ldns_ok;       /* ldns 1.8.3 computes this one */
};

static const struct tsig_alg tsig_algs[] = {
    {"hmac-sha1.", "SHA1", true},
    {"hmac-sha256.", "SHA256", true},
    {"hmac-sha384.", "SHA384", false},
    {"hmac-sha512.", "SHA512", true},
};

struct tsig_key_ent {
    char name[ZONE_NAME_MAX];
    const struct tsig_alg *alg;
    char *secret_b64; /* as configured, for ldns */
    uint8_t *secret;  /* decoded, for EVP */
    size_t secret_len;
};

struct tsig_keyring {
    struct tsig_key_ent *v;
    size_t n;
};

/* ---- keyring ------------------------------------------------------------------------ */

static const struct tsig_alg *tsig_alg_find(const char *name)
{
    char buf[32];
    size_t n;

    if (name == NULL)
        return NULL;
    n = strlen(name);
    if (n == 0 || n >= sizeof(buf) - 1)
        return NULL;
    memcpy(buf, name, n + 1);
    if (buf[n - 1] != '.') {
        buf[n] = '.';
        buf[n + 1] = '\0';
    }
    for (size_t i = 0; i < sizeof(tsig_algs) / sizeof(tsig_algs[0]); i++)
        if (strcasecmp(buf, tsig_algs[i].name) == 0)
            return &tsig_algs[i];
    return NULL;
}

/* Standard base64 with padding (RFC 4648 section 4), as BIND key files hold it. Strict:
 * anything else is MC_ERR_INVALID, so a mistyped secret is caught at start-up rather
 * than surfacing later as BADSIG. */
static enum mc_err tsig_b64_decode(const char *in, uint8_t **out, size_t *outlen)
{
    size_t n = strlen(in), pad = 0;
    uint8_t *buf = NULL;
    int got;

    *out = NULL;
    *outlen = 0;
    if (n == 0 || n > TSIG_SECRET_MAX || n % 4 != 0)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=') {
            if (i < n - 2)
                return MC_ERR_INVALID;
            pad++;
            continue;
        }
        if (pad > 0)
            return MC_ERR_INVALID; /* data after padding */
        if (!isalnum(c) && c != '+' && c != '/')
            return MC_ERR_INVALID;
    }
    buf = malloc(n / 4 * 3 + 1);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    if (got < 0 || (size_t)got < pad || (size_t)got - pad == 0) {
        free(buf);
        return MC_ERR_INVALID;
    }
    *out = buf;
    *outlen = (size_t)got - pad;
    return MC_OK;
}

enum mc_err tsig_keyring_new(const struct dnsmock_tsig_key *keys, size_t n,
                             struct tsig_keyring **out)
{
    struct tsig_keyring *k = NULL;
    enum mc_err err = MC_OK;

    *out = NULL;
    if (n > TSIG_MAX_KEYS)
        return MC_ERR_TOO_BIG;
    if (n > 0 && keys == NULL)
        return MC_ERR_INVALID;
    k = calloc(1, sizeof(*k));
    if (k == NULL)
        return MC_ERR_NOMEM;
    if (n > 0) {
        k->v = calloc(n, sizeof(*k->v));
        if (k->v == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct tsig_key_ent *e = &k->v[i];

        if (keys[i].name == NULL || keys[i].name[0] == '\0' || strcmp(keys[i].name, ".") == 0 ||
            keys[i].secret == NULL) {
            err = MC_ERR_INVALID;
            goto out;
        }
        err = zone_name_normalize(keys[i].name, e->name, sizeof(e->name));
        if (err != MC_OK)
            goto out;
        e->alg = tsig_alg_find(keys[i].algorithm);
        if (e->alg == NULL) {
            err = MC_ERR_INVALID;
            goto out;
        }
        err = tsig_b64_decode(keys[i].secret, &e->secret, &e->secret_len);
        if (err != MC_OK)
            goto out;
        e->secret_b64 = strdup(keys[i].secret);
        if (e->secret_b64 == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        k->n = i + 1;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(k->v[j].name, e->name) == 0) {
                err = MC_ERR_INVALID; /* two secrets for one name: which would verify? */
                goto out;
            }
        }
    }
    k->n = n;
    *out = k;
    k = NULL;
out:
    if (k != NULL && k->v != NULL) {
        /* free entries filled so far, including a partly filled one */
        for (size_t i = 0; i < n; i++) {
            if (k->v[i].secret != NULL) {
                OPENSSL_cleanse(k->v[i].secret, k->v[i].secret_len);
                free(k->v[i].secret);
            }
            free(k->v[i].secret_b64);
        }
        free(k->v);
    }
    free(k);
    return err;
}

void tsig_keyring_free(struct tsig_keyring *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->n; i++) {
        if (k->v[i].secret != NULL) {
            OPENSSL_cleanse(k->v[i].secret, k->v[i].secret_len);
            free(k->v[i].secret);
        }
        if (k->v[i].secret_b64 != NULL) {
            OPENSSL_cleanse(k->v[i].secret_b64, strlen(k->v[i].secret_b64));
            free(k->v[i].secret_b64);
        }
    }
    free(k->v);
    free(k);
}

size_t tsig_keyring_count(const struct tsig_keyring *k)
{
    return k == NULL ? 0 : k->n;
}

static const struct tsig_key_ent *tsig_key_find(const struct tsig_keyring *k, const char *name)
{
    if (k == NULL)
        return NULL;
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->v[i].name, name) == 0)
            return &k->v[i];
    return NULL;
}

/* ---- names -------------------------------------------------------------------------- */

/* The canonical text of a dname rdf. false for names the store cannot hold (escaped
 * bytes, over-long): the caller answers those without touching the store. */
static bool upd_rdf_name(const ldns_rdf *rdf, char out[ZONE_NAME_MAX])
{
    char *s = NULL;
    bool ok = false;

    if (rdf == NULL || ldns_rdf_get_type(rdf) != LDNS_RDF_TYPE_DNAME)
        return false;
    s = ldns_rdf2str(rdf);
    if (s == NULL)
        return false;
    if (strchr(s, '\\') == NULL && zone_name_normalize(s, out, ZONE_NAME_MAX) == MC_OK)
        ok = true;
    free(s);
    return ok;
}

/* True if name is zone or below it (both canonical). */
static bool upd_in_zone(const char *name, const char *zone)
{
    size_t n = strlen(name), z = strlen(zone);

    if (strcmp(zone, ".") == 0)
        return true;
    if (n == z)
        return strcmp(name, zone) == 0;
    return n > z && name[n - z - 1] == '.' && strcmp(name + n - z, zone) == 0;
}

/* ---- TSIG --------------------------------------------------------------------------- */

static uint64_t upd_rdf_u48(const ldns_rdf *rdf)
{
    const uint8_t *p = ldns_rdf_data(rdf);
    uint64_t v = 0;

    if (ldns_rdf_size(rdf) != 6)
        return 0;
    for (int i = 0; i < 6; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint16_t upd_rdf_u16(const ldns_rdf *rdf)
{
    if (rdf == NULL || ldns_rdf_size(rdf) != 2)
        return 0;
    return ldns_rdf2native_int16(rdf);
}

/* Length of the message before its final record, the TSIG (RFC 8945 section 4.3.3:
 * the MAC covers the message as it was sent, without the TSIG). false if the last
 * record is not a TSIG or the wire does not parse. */
static bool tsig_strip_len(const uint8_t *wire, size_t len, size_t *pre)
{
    size_t pos = LDNS_HEADER_SIZE, last = 0;
    unsigned counts[4];
    ldns_rr *rr = NULL;
    bool is_tsig = false;

    if (len < LDNS_HEADER_SIZE)
        return false;
    counts[0] = LDNS_QDCOUNT(wire);
    counts[1] = LDNS_ANCOUNT(wire);
    counts[2] = LDNS_NSCOUNT(wire);
    counts[3] = LDNS_ARCOUNT(wire);
    if (counts[3] == 0)
        return false;
    for (int s = 0; s < 4; s++) {
        for (unsigned i = 0; i < counts[s]; i++) {
            last = pos;
            if (ldns_wire2rr(&rr, wire, len, &pos, (ldns_pkt_section)s) != LDNS_STATUS_OK)
                return false;
            is_tsig = ldns_rr_get_type(rr) == LDNS_RR_TYPE_TSIG;
            ldns_rr_free(rr);
            rr = NULL;
        }
    }
    if (!is_tsig || pos != len)
        return false;
    *pre = last;
    return true;
}

/* The canonical wire form of a name (lowercase, uncompressed) appended to b. */
static bool tsig_put_name(ldns_buffer *b, const char *name)
{
    ldns_rdf *r = ldns_dname_new_frm_str(name);
    bool ok;

    if (r == NULL)
        return false;
    ldns_dname2canonical(r);
    ok = ldns_buffer_reserve(b, ldns_rdf_size(r));
    if (ok)
        ldns_buffer_write(b, ldns_rdf_data(r), ldns_rdf_size(r));
    ldns_rdf_deep_free(r);
    return ok;
}

/* The MAC of RFC 8945 section 4.3.3 over: the request MAC (2-byte length and bytes, for a
 * response), msg (the message without TSIG, ARCOUNT already excluding it, original ID),
 * and the TSIG variables. mac must hold EVP_MAX_MD_SIZE bytes. */
static bool tsig_mac(const struct tsig_key_ent *key, const uint8_t *req_mac, size_t req_mac_len,
                     const uint8_t *msg, size_t msg_len, uint64_t time_signed, uint16_t fudge,
                     uint16_t error, const uint8_t *other, uint16_t other_len, uint8_t *mac,
                     size_t *mac_len)
{
    ldns_buffer *b = ldns_buffer_new(msg_len + 1024 + req_mac_len + other_len);
    bool ok = false;

    if (b == NULL)
        return false;
    if (req_mac != NULL) {
        ldns_buffer_write_u16(b, (uint16_t)req_mac_len);
        ldns_buffer_write(b, req_mac, req_mac_len);
    }
    ldns_buffer_write(b, msg, msg_len);
    if (!tsig_put_name(b, key->name))
        goto out;
    ldns_buffer_write_u16(b, LDNS_RR_CLASS_ANY);
    ldns_buffer_write_u32(b, 0);
    if (!tsig_put_name(b, key->alg->name))
        goto out;
    ldns_buffer_write_u16(b, (uint16_t)(time_signed >> 32));
    ldns_buffer_write_u32(b, (uint32_t)time_signed);
    ldns_buffer_write_u16(b, fudge);
    ldns_buffer_write_u16(b, error);
    ldns_buffer_write_u16(b, other_len);
    if (other_len > 0)
        ldns_buffer_write(b, other, other_len);
    if (ldns_buffer_status(b) != LDNS_STATUS_OK)
        goto out;
    ok = EVP_Q_mac(NULL, "HMAC", NULL, key->alg->digest, NULL, key->secret, key->secret_len,
                   ldns_buffer_begin(b), ldns_buffer_position(b), mac, EVP_MAX_MD_SIZE,
                   mac_len) != NULL;
out:
    ldns_buffer_free(b);
    return ok;
}

/* Verifies a request MAC with our own HMAC (see the file comment for when). */
static bool tsig_verify_own(const struct tsig_key_ent *key, const ldns_rr *tsig,
                            const uint8_t *wire, size_t len)
{
    size_t pre = 0, mac_len = 0;
    uint8_t *msg = NULL;
    uint8_t mac[EVP_MAX_MD_SIZE];
    const ldns_rdf *pkt_mac = ldns_rr_rdf(tsig, 3), *other = ldns_rr_rdf(tsig, 6);
    bool ok = false;

    if (!tsig_strip_len(wire, len, &pre) || ldns_rdf_size(pkt_mac) < 2 || ldns_rdf_size(other) < 2)
        return false;
    msg = malloc(pre);
    if (msg == NULL)
        return false;
    memcpy(msg, wire, pre);
    ldns_write_uint16(msg, upd_rdf_u16(ldns_rr_rdf(tsig, 4))); /* original ID */
    ldns_write_uint16(msg + 10, (uint16_t)(LDNS_ARCOUNT(wire) - 1));
    if (tsig_mac(key, NULL, 0, msg, pre, upd_rdf_u48(ldns_rr_rdf(tsig, 1)),
                 upd_rdf_u16(ldns_rr_rdf(tsig, 2)), upd_rdf_u16(ldns_rr_rdf(tsig, 5)),
                 ldns_rdf_data(other) + 2, (uint16_t)(ldns_rdf_size(other) - 2), mac, &mac_len) &&
        ldns_rdf_size(pkt_mac) - 2 == mac_len &&
        CRYPTO_memcmp(ldns_rdf_data(pkt_mac) + 2, mac, mac_len) == 0)
        ok = true;
    free(msg);
    return ok;
}

/* A TSIG RR for a response: key name and algorithm from the request's TSIG. */
static ldns_rr *tsig_rr_new(const ldns_rr *req, uint64_t time_signed, uint16_t fudge,
                            const uint8_t *mac, size_t mac_len, uint16_t orig_id, uint16_t error,
                            const uint8_t *other, uint16_t other_len)
{
    ldns_rr *rr = ldns_rr_new();
    uint8_t t[6], buf[2 + EVP_MAX_MD_SIZE], obuf[2 + 6];
    ldns_rdf *r[7] = {NULL};

    if (rr == NULL || mac_len > EVP_MAX_MD_SIZE || other_len > 6)
        goto fail;
    for (int i = 0; i < 6; i++)
        t[i] = (uint8_t)(time_signed >> (8 * (5 - i)));
    ldns_write_uint16(buf, (uint16_t)mac_len);
    if (mac_len > 0)
        memcpy(buf + 2, mac, mac_len);
    ldns_write_uint16(obuf, other_len);
    if (other_len > 0)
        memcpy(obuf + 2, other, other_len);
    r[0] = ldns_rdf_clone(ldns_rr_rdf(req, 0));
    r[1] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6, t);
    r[2] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, fudge);
    r[3] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2 + mac_len, buf);
    r[4] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, orig_id);
    r[5] = ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, error);
    r[6] = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 2 + (size_t)other_len, obuf);
    for (int i = 0; i < 7; i++)
        if (r[i] == NULL)
            goto fail;
    ldns_rr_set_owner(rr, ldns_rdf_clone(ldns_rr_owner(req)));
    if (ldns_rr_owner(rr) == NULL)
        goto fail;
    ldns_rr_set_type(rr, LDNS_RR_TYPE_TSIG);
    ldns_rr_set_class(rr, LDNS_RR_CLASS_ANY);
    ldns_rr_set_ttl(rr, 0);
    for (int i = 0; i < 7; i++) {
        if (!ldns_rr_push_rdf(rr, r[i]))
            goto fail;
        r[i] = NULL;
    }
    return rr;
fail:
    for (int i = 0; i < 7; i++)
        ldns_rdf_deep_free(r[i]);
    ldns_rr_free(rr);
    return NULL;
}

/* Signs resp with our HMAC: the request MAC, then resp's wire, then the variables. */
static bool tsig_sign_own(ldns_pkt *resp, const struct tsig_key_ent *key, const ldns_rr *req,
                          uint64_t now, uint16_t error, const uint8_t *other, uint16_t other_len)
{
    uint8_t *w = NULL;
    size_t wlen = 0, mac_len = 0;
    uint8_t mac[EVP_MAX_MD_SIZE];
    const ldns_rdf *req_mac = ldns_rr_rdf(req, 3);
    ldns_rr *rr = NULL;
    bool ok = false;

    if (ldns_pkt2wire(&w, resp, &wlen) != LDNS_STATUS_OK)
        return false;
    if (!tsig_mac(key, ldns_rdf_data(req_mac) + 2, ldns_rdf_size(req_mac) - 2, w, wlen, now,
                  TSIG_FUDGE, error, other, other_len, mac, &mac_len))
        goto out;
    rr =
        tsig_rr_new(req, now, TSIG_FUDGE, mac, mac_len, ldns_pkt_id(resp), error, other, other_len);
    if (rr == NULL)
        goto out;
    ldns_pkt_set_tsig(resp, rr);
    ok = true;
out:
    free(w);
    return ok;
}

/* ---- the response ------------------------------------------------------------------- */

struct upd_resp {
    uint8_t rcode;
    const struct tsig_key_ent *key; /* request verified with it: sign the response */
    uint16_t tsig_error;            /* BADKEY/BADSIG/BADTIME, with rcode NOTAUTH */
    bool echo_zone;
};

static enum mc_err upd_respond(struct dnsmock *d, const ldns_pkt *q, const struct upd_resp *r,
                               uint8_t **out, size_t *outlen)
{
    ldns_pkt *resp = ldns_pkt_new();
    ldns_rr *tsig = ldns_pkt_tsig(q);
    ldns_rr *rr = NULL;
    enum mc_err err = MC_ERR_NOMEM;
    uint64_t now = (uint64_t)clock_now(d->clock);

    if (resp == NULL)
        return MC_ERR_NOMEM;
    ldns_pkt_set_id(resp, ldns_pkt_id(q));
    ldns_pkt_set_qr(resp, true);
    ldns_pkt_set_opcode(resp, LDNS_PACKET_UPDATE);
    ldns_pkt_set_rcode(resp, r->rcode);
    if (r->echo_zone && ldns_pkt_qdcount(q) == 1) {
        rr = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(q), 0));
        if (rr == NULL)
            goto out;
        ldns_rr_set_question(rr, true);
        if (!ldns_pkt_push_rr(resp, LDNS_SECTION_QUESTION, rr)) {
            ldns_rr_free(rr);
            goto out;
        }
    }
    if (tsig != NULL && r->tsig_error == TSIG_ERR_BADTIME && r->key != NULL) {
        /* RFC 8945 section 5.2.3: signed, with our time in Other Data so a client can
         * measure its skew. */
        uint8_t other[6];
        for (int i = 0; i < 6; i++)
            other[i] = (uint8_t)(now >> (8 * (5 - i)));
        if (!tsig_sign_own(resp, r->key, tsig, now, TSIG_ERR_BADTIME, other, 6))
            goto out;
    } else if (tsig != NULL && r->tsig_error != 0) {
        /* RFC 8945 section 5.3.2: an error about the key or the MAC is answered unsigned
         * (MAC size 0); signing it would need the key we could not use. */
        rr = tsig_rr_new(tsig, now, TSIG_FUDGE, NULL, 0, ldns_pkt_id(q), r->tsig_error, NULL, 0);
        if (rr == NULL)
            goto out;
        ldns_pkt_set_tsig(resp, rr);
    } else if (tsig != NULL && r->key != NULL) {
        if (r->key->alg->ldns_ok) {
            if (ldns_pkt_tsig_sign(resp, r->key->name, r->key->secret_b64, TSIG_FUDGE,
                                   r->key->alg->name, ldns_rr_rdf(tsig, 3)) != LDNS_STATUS_OK)
                goto out;
        } else if (!tsig_sign_own(resp, r->key, tsig, now, 0, NULL, 0)) {
            goto out;
        }
    }
    if (ldns_pkt2wire(out, resp, outlen) != LDNS_STATUS_OK) {
        *out = NULL;
        goto out;
    }
    err = MC_OK;
out:
    ldns_pkt_free(resp);
    return err;
}

/* RFC 8945 section 5.2: key, then MAC, then time. Fills r; returns false when the
 * request must be answered with r as it stands. */
static bool upd_check_tsig(struct dnsmock *d, const ldns_pkt *q, const uint8_t *wire, size_t len,
                           struct upd_resp *r)
{
    ldns_rr *tsig = ldns_pkt_tsig(q);
    char name[ZONE_NAME_MAX], alg[ZONE_NAME_MAX];
    const struct tsig_key_ent *key;
    ldns_pkt *copy = NULL;
    bool mac_ok;
    int64_t now, signed_at, fudge;

    if (ldns_rr_rd_count(tsig) != 7 || ldns_rdf_size(ldns_rr_rdf(tsig, 1)) != 6 ||
        ldns_rdf_size(ldns_rr_rdf(tsig, 3)) < 2) {
        r->rcode = LDNS_RCODE_FORMERR;
        return false;
    }
    if (!upd_rdf_name(ldns_rr_owner(tsig), name) || !upd_rdf_name(ldns_rr_rdf(tsig, 0), alg)) {
        r->rcode = LDNS_RCODE_NOTAUTH;
        r->tsig_error = TSIG_ERR_BADKEY;
        return false;
    }
    key = tsig_key_find(d->tsig, name);
    /* RFC 8945 section 5.2.1: a key we hold under another algorithm is an unknown key. */
    if (key == NULL || strcmp(key->alg->name, alg) != 0) {
        log_msg(LOGL_INFO, "dns.update.tsig", "result=badkey key=%s", name);
        r->rcode = LDNS_RCODE_NOTAUTH;
        r->tsig_error = TSIG_ERR_BADKEY;
        return false;
    }
    if (key->alg->ldns_ok) {
        /* ldns wants a mutable packet (it swaps the TSIG out and back); q is const. */
        copy = ldns_pkt_clone(q);
        if (copy == NULL) {
            r->rcode = LDNS_RCODE_SERVFAIL;
            return false;
        }
        mac_ok = ldns_pkt_tsig_verify(copy, wire, len, key->name, key->secret_b64, NULL);
        ldns_pkt_free(copy);
    } else {
        mac_ok = tsig_verify_own(key, tsig, wire, len);
    }
    if (!mac_ok) {
        log_msg(LOGL_INFO, "dns.update.tsig", "result=badsig key=%s", name);
        r->rcode = LDNS_RCODE_NOTAUTH;
        r->tsig_error = TSIG_ERR_BADSIG;
        return false;
    }
    /* ldns checks no time; ours comes from the (possibly virtual) clock. */
    now = clock_now(d->clock);
    signed_at = (int64_t)upd_rdf_u48(ldns_rr_rdf(tsig, 1));
    fudge = upd_rdf_u16(ldns_rr_rdf(tsig, 2));
    r->key = key;
    if (now > signed_at + fudge || now < signed_at - fudge) {
        log_msg(LOGL_INFO, "dns.update.tsig", "result=badtime key=%s signed=%lld now=%lld", name,
                (long long)signed_at, (long long)now);
        r->rcode = LDNS_RCODE_NOTAUTH;
        r->tsig_error = TSIG_ERR_BADTIME;
        return false;
    }
    return true;
}

/* ---- RFC 2136 ----------------------------------------------------------------------- */

static bool upd_type_meta(ldns_rr_type t)
{
    return t == LDNS_RR_TYPE_ANY || t == LDNS_RR_TYPE_AXFR || t == LDNS_RR_TYPE_IXFR ||
           t == LDNS_RR_TYPE_MAILA || t == LDNS_RR_TYPE_MAILB || t == LDNS_RR_TYPE_OPT ||
           t == LDNS_RR_TYPE_TSIG || t == LDNS_RR_TYPE_TKEY;
}

/* The types zone_add_rr_locked stores. */
static bool upd_type_supported(ldns_rr_type t)
{
    return t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA || t == LDNS_RR_TYPE_TXT ||
           t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_CAA || t == LDNS_RR_TYPE_NS ||
           t == LDNS_RR_TYPE_SOA;
}

/* Equal rdata, comparing names case-insensitively (RFC 2136 section 1.1.1 compares RRs
 * without TTL; names compare as DNS names). */
static bool upd_rdata_equal(const ldns_rr *a, const ldns_rr *b)
{
    ldns_rr *ca = ldns_rr_clone(a), *cb = ldns_rr_clone(b);
    bool eq = false;

    if (ca == NULL || cb == NULL || ldns_rr_get_type(a) != ldns_rr_get_type(b))
        goto out;
    ldns_rr2canonical(ca);
    ldns_rr2canonical(cb);
    if (ldns_rr_rd_count(ca) != ldns_rr_rd_count(cb))
        goto out;
    for (size_t i = 0; i < ldns_rr_rd_count(ca); i++)
        if (ldns_rdf_compare(ldns_rr_rdf(ca, i), ldns_rr_rdf(cb, i)) != 0)
            goto out;
    eq = true;
out:
    ldns_rr_free(ca);
    ldns_rr_free(cb);
    return eq;
}

static bool upd_list_has(const ldns_rr_list *l, const ldns_rr *rr)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (upd_rdata_equal(ldns_rr_list_rr(l, i), rr))
            return true;
    return false;
}

/* Collects name/type from the store into a new list; NULL when out of memory. */
static ldns_rr_list *upd_collect(struct zone_store *zs, const char *name, ldns_rr_type t)
{
    ldns_rr_list *l = ldns_rr_list_new();

    if (l == NULL)
        return NULL;
    if (t != LDNS_RR_TYPE_ANY && !upd_type_supported(t))
        return l; /* the store holds none of these */
    if (zone_collect_locked(zs, name, t, l) != MC_OK) {
        ldns_rr_list_deep_free(l);
        return NULL;
    }
    return l;
}

/* RFC 2136 section 3.2. Returns the rcode (NOERROR when every prerequisite holds). */
static uint8_t upd_prereqs(struct zone_store *zs, const char *zone, const ldns_rr_list *pr)
{
    size_t n = ldns_rr_list_rr_count(pr);
    char name[ZONE_NAME_MAX], other[ZONE_NAME_MAX];
    uint8_t rc = LDNS_RCODE_NOERROR;

    for (size_t i = 0; i < n; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(pr, i);
        ldns_rr_class cls = ldns_rr_get_class(rr);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *have = NULL;
        bool exists;

        if (ldns_rr_ttl(rr) != 0)
            return LDNS_RCODE_FORMERR;
        if (!upd_rdf_name(ldns_rr_owner(rr), name))
            return LDNS_RCODE_FORMERR;
        if (!upd_in_zone(name, zone))
            return LDNS_RCODE_NOTZONE;
        if (cls == LDNS_RR_CLASS_ANY || cls == LDNS_RR_CLASS_NONE) {
            if (ldns_rr_rd_count(rr) != 0)
                return LDNS_RCODE_FORMERR;
            if (t != LDNS_RR_TYPE_ANY && upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
            /* "Name is in use" means an RR is owned by it (RFC 2136 2.4.4); an empty
             * non-terminal is not in use, so ask for records rather than existence. */
            have = upd_collect(zs, name, t);
            if (have == NULL)
                return LDNS_RCODE_SERVFAIL;
            exists = ldns_rr_list_rr_count(have) > 0;
            ldns_rr_list_deep_free(have);
            if (cls == LDNS_RR_CLASS_ANY && !exists)
                return t == LDNS_RR_TYPE_ANY ? LDNS_RCODE_NXDOMAIN : LDNS_RCODE_NXRRSET;
            if (cls == LDNS_RR_CLASS_NONE && exists)
                return t == LDNS_RR_TYPE_ANY ? LDNS_RCODE_YXDOMAIN : LDNS_RCODE_YXRRSET;
        } else if (cls == LDNS_RR_CLASS_IN) {
            if (upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
        } else {
            return LDNS_RCODE_FORMERR;
        }
    }
    /* Value-dependent (class IN): each (name, type) group must equal the stored RRset
     * exactly (RFC 2136 section 3.2.3). Checked after the syntax of every prerequisite. */
    for (size_t i = 0; i < n && rc == LDNS_RCODE_NOERROR; i++) {
        const ldns_rr *rr = ldns_rr_list_rr(pr, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *have = NULL;
        bool first = true;

        if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN || !upd_rdf_name(ldns_rr_owner(rr), name))
            continue;
        for (size_t j = 0; j < i && first; j++) {
            const ldns_rr *p = ldns_rr_list_rr(pr, j);
            if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                upd_rdf_name(ldns_rr_owner(p), other) && strcmp(other, name) == 0)
                first = false;
        }
        if (!first)
            continue;
        have = upd_collect(zs, name, t);
        if (have == NULL)
            return LDNS_RCODE_SERVFAIL;
        /* every stored RR is named in the group, and every group RR is stored */
        for (size_t k = 0; k < ldns_rr_list_rr_count(have) && rc == LDNS_RCODE_NOERROR; k++) {
            bool named = false;
            for (size_t j = i; j < n && !named; j++) {
                const ldns_rr *p = ldns_rr_list_rr(pr, j);
                if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                    upd_rdf_name(ldns_rr_owner(p), other) && strcmp(other, name) == 0 &&
                    upd_rdata_equal(p, ldns_rr_list_rr(have, k)))
                    named = true;
            }
            if (!named)
                rc = LDNS_RCODE_NXRRSET;
        }
        for (size_t j = i; j < n && rc == LDNS_RCODE_NOERROR; j++) {
            const ldns_rr *p = ldns_rr_list_rr(pr, j);
            if (ldns_rr_get_class(p) == LDNS_RR_CLASS_IN && ldns_rr_get_type(p) == t &&
                upd_rdf_name(ldns_rr_owner(p), other) && strcmp(other, name) == 0 &&
                !upd_list_has(have, p))
                rc = LDNS_RCODE_NXRRSET;
        }
        ldns_rr_list_deep_free(have);
    }
    return rc;
}

/* RFC 2136 section 3.4.1: every update RR is checked before any is applied. */
static uint8_t upd_prescan(const char *zone, const ldns_rr_list *up)
{
    char name[ZONE_NAME_MAX];

    for (size_t i = 0; i < ldns_rr_list_rr_count(up); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(up, i);
        ldns_rr_class cls = ldns_rr_get_class(rr);
        ldns_rr_type t = ldns_rr_get_type(rr);

        if (!upd_rdf_name(ldns_rr_owner(rr), name))
            return LDNS_RCODE_FORMERR;
        if (!upd_in_zone(name, zone))
            return LDNS_RCODE_NOTZONE;
        if (cls == LDNS_RR_CLASS_IN) {
            if (upd_type_meta(t) || ldns_rr_rd_count(rr) == 0)
                return LDNS_RCODE_FORMERR;
        } else if (cls == LDNS_RR_CLASS_ANY) {
            if (ldns_rr_ttl(rr) != 0 || ldns_rr_rd_count(rr) != 0 ||
                (t != LDNS_RR_TYPE_ANY && upd_type_meta(t)))
                return LDNS_RCODE_FORMERR;
            if (t == LDNS_RR_TYPE_ANY)
                continue;
        } else if (cls == LDNS_RR_CLASS_NONE) {
            if (ldns_rr_ttl(rr) != 0 || upd_type_meta(t))
                return LDNS_RCODE_FORMERR;
        } else {
            return LDNS_RCODE_FORMERR;
        }
        /* A type we cannot store is refused outright, rather than half the message
         * succeeding: the client learns at once that this server will not hold it. */
        if (!upd_type_supported(t))
            return LDNS_RCODE_REFUSED;
    }
    return LDNS_RCODE_NOERROR;
}

/* An RRset as it was before the update, to restore should a later change fail. */
struct upd_touch {
    char name[ZONE_NAME_MAX];
    ldns_rr_type type;
    ldns_rr_list *before;
};

struct upd_undo {
    struct upd_touch *v;
    size_t n, cap;
};

/* Snapshots (name, type) once, before its first change. false when out of memory. */
static bool upd_touch(struct zone_store *zs, struct upd_undo *u, const char *name, ldns_rr_type t)
{
    struct upd_touch *e;

    for (size_t i = 0; i < u->n; i++)
        if (u->v[i].type == t && strcmp(u->v[i].name, name) == 0)
            return true;
    if (u->n == u->cap) {
        size_t cap = u->cap == 0 ? 8 : u->cap * 2;
        struct upd_touch *v = realloc(u->v, cap * sizeof(*v));
        if (v == NULL)
            return false;
        u->v = v;
        u->cap = cap;
    }
    e = &u->v[u->n];
    memcpy(e->name, name, strlen(name) + 1);
    e->type = t;
    e->before = upd_collect(zs, name, t);
    if (e->before == NULL)
        return false;
    u->n++;
    return true;
}

static void upd_undo_free(struct upd_undo *u)
{
    for (size_t i = 0; i < u->n; i++)
        ldns_rr_list_deep_free(u->v[i].before);
    free(u->v);
    memset(u, 0, sizeof(*u));
}

/* Puts every touched RRset back as it was: records added since are deleted one by one
 * and the old ones re-added (which also restores their TTLs). RR by RR rather than
 * zone_del_rrset_locked, because the store keeps an apex's NS set out of reach of that. */
static void upd_rollback(struct zone_store *zs, struct upd_undo *u)
{
    for (size_t i = u->n; i-- > 0;) {
        struct upd_touch *e = &u->v[i];
        ldns_rr_list *now = upd_collect(zs, e->name, e->type);
        enum mc_err err = now == NULL ? MC_ERR_NOMEM : MC_OK;

        for (size_t j = 0; err == MC_OK && j < ldns_rr_list_rr_count(now); j++)
            if (!upd_list_has(e->before, ldns_rr_list_rr(now, j)))
                err = zone_del_rr_locked(zs, ldns_rr_list_rr(now, j));
        for (size_t j = 0; err == MC_OK && j < ldns_rr_list_rr_count(e->before); j++)
            err = zone_add_rr_locked(zs, ldns_rr_list_rr(e->before, j));
        ldns_rr_list_deep_free(now);
        if (err != MC_OK)
            log_msg(LOGL_ERROR, "dns.update.rollback", "name=%s type=%u err=\"%s\"", e->name,
                    (unsigned)e->type, mc_strerror(err));
    }
}

/* Serial arithmetic of RFC 1982: a is newer than b. */
static bool upd_serial_newer(uint32_t a, uint32_t b)
{
    return a != b && (uint32_t)(a - b) < 0x80000000u;
}

/* Applies one update RR (RFC 2136 section 3.4.2). */
static enum mc_err upd_apply_one(struct zone_store *zs, const char *zone, struct upd_undo *u,
                                 const ldns_rr *rr)
{
    char name[ZONE_NAME_MAX];
    ldns_rr_class cls = ldns_rr_get_class(rr);
    ldns_rr_type t = ldns_rr_get_type(rr);
    bool apex;
    ldns_rr_list *have = NULL;
    ldns_rr *copy = NULL;
    enum mc_err err = MC_OK;

    if (!upd_rdf_name(ldns_rr_owner(rr), name))
        return MC_ERR_INVALID; /* prescan already refused these */
    apex = strcmp(name, zone) == 0;

    if (cls == LDNS_RR_CLASS_IN) {
        have = upd_collect(zs, name, LDNS_RR_TYPE_ANY);
        if (have == NULL)
            return MC_ERR_NOMEM;
        if (t == LDNS_RR_TYPE_SOA) {
            /* only at the zone's apex, and only a newer serial (3.4.2.2) */
            const ldns_rr *cur = NULL;
            for (size_t i = 0; i < ldns_rr_list_rr_count(have); i++)
                if (ldns_rr_get_type(ldns_rr_list_rr(have, i)) == LDNS_RR_TYPE_SOA)
                    cur = ldns_rr_list_rr(have, i);
            if (!apex || (cur != NULL && ldns_rr_rd_count(cur) == 7 && ldns_rr_rd_count(rr) == 7 &&
                          !upd_serial_newer(ldns_rdf2native_int32(ldns_rr_rdf(rr, 2)),
                                            ldns_rdf2native_int32(ldns_rr_rdf(cur, 2)))))
                goto out;
        }
        /* CNAME and other data do not mix (3.4.2.2): the update is ignored, not an
         * error, as BIND does. */
        for (size_t i = 0; i < ldns_rr_list_rr_count(have); i++) {
            ldns_rr_type ht = ldns_rr_get_type(ldns_rr_list_rr(have, i));
            if ((t == LDNS_RR_TYPE_CNAME) != (ht == LDNS_RR_TYPE_CNAME))
                goto out;
        }
        if (!upd_touch(zs, u, name, t)) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        copy = ldns_rr_clone(rr);
        if (copy == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        if (t == LDNS_RR_TYPE_CNAME || t == LDNS_RR_TYPE_SOA) {
            /* one per name: the new one replaces */
            err = zone_del_rrset_locked(zs, name, t);
            if (err != MC_OK)
                goto out;
        }
        err = zone_add_rr_locked(zs, copy);
    } else if (cls == LDNS_RR_CLASS_ANY) {
        if (t != LDNS_RR_TYPE_ANY) {
            if (apex && (t == LDNS_RR_TYPE_SOA || t == LDNS_RR_TYPE_NS))
                goto out;
            if (!upd_touch(zs, u, name, t)) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            err = zone_del_rrset_locked(zs, name, t);
            goto out;
        }
        /* delete every RRset at name, except SOA and NS at the zone apex (3.4.2.3) */
        have = upd_collect(zs, name, LDNS_RR_TYPE_ANY);
        if (have == NULL)
            return MC_ERR_NOMEM;
        for (size_t i = 0; i < ldns_rr_list_rr_count(have) && err == MC_OK; i++) {
            ldns_rr_type ht = ldns_rr_get_type(ldns_rr_list_rr(have, i));
            if (apex && (ht == LDNS_RR_TYPE_SOA || ht == LDNS_RR_TYPE_NS))
                continue;
            if (!upd_touch(zs, u, name, ht)) {
                err = MC_ERR_NOMEM;
                goto out;
            }
            err = zone_del_rrset_locked(zs, name, ht);
        }
    } else { /* NONE: delete one RR */
        if (t == LDNS_RR_TYPE_SOA)
            goto out;
        if (apex && t == LDNS_RR_TYPE_NS) {
            /* never the zone's last NS (3.4.2.4) */
            have = upd_collect(zs, name, LDNS_RR_TYPE_NS);
            if (have == NULL)
                return MC_ERR_NOMEM;
            if (ldns_rr_list_rr_count(have) <= 1)
                goto out;
        }
        if (!upd_touch(zs, u, name, t)) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        copy = ldns_rr_clone(rr);
        if (copy == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
        ldns_rr_set_class(copy, LDNS_RR_CLASS_IN);
        err = zone_del_rr_locked(zs, copy);
    }
out:
    ldns_rr_list_deep_free(have);
    ldns_rr_free(copy);
    return err;
}

/* Zone check, prerequisites, prescan and apply, under one write lock. */
static uint8_t upd_process(struct dnsmock *d, const ldns_pkt *q, bool *echo_zone)
{
    const ldns_rr *zrr;
    char zone[ZONE_NAME_MAX], apex[ZONE_NAME_MAX];
    const ldns_rr_list *pr = ldns_pkt_answer(q), *up = ldns_pkt_authority(q);
    struct upd_undo undo = {0};
    uint8_t rc;
    enum mc_err err = MC_OK;

    /* 3.1.1: exactly one zone, type SOA */
    if (ldns_pkt_qdcount(q) != 1 || ldns_rr_list_rr_count(ldns_pkt_question(q)) != 1)
        return LDNS_RCODE_FORMERR;
    zrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    if (ldns_rr_get_type(zrr) != LDNS_RR_TYPE_SOA)
        return LDNS_RCODE_FORMERR;
    *echo_zone = true;
    if (ldns_rr_get_class(zrr) != LDNS_RR_CLASS_IN)
        return LDNS_RCODE_NOTAUTH; /* we hold no zone of another class */
    if (!upd_rdf_name(ldns_rr_owner(zrr), zone))
        return LDNS_RCODE_NOTAUTH;
    if (ldns_rr_list_rr_count(pr) > UPDATE_MAX_RRS || ldns_rr_list_rr_count(up) > UPDATE_MAX_RRS)
        return LDNS_RCODE_REFUSED;

    zone_wrlock(d->zones);
    /* 3.1.2: strict mode holds only configured zones; compat mode, like challtestsrv,
     * takes any name as a zone so a client needs no set-up. */
    if (d->strict || zone_get_mode_locked(d->zones) == ZONE_MODE_STRICT) {
        if (!zone_find_apex_locked(d->zones, zone, apex, sizeof(apex)) || strcmp(apex, zone) != 0) {
            rc = LDNS_RCODE_NOTAUTH;
            goto out;
        }
    }
    rc = upd_prereqs(d->zones, zone, pr);
    if (rc != LDNS_RCODE_NOERROR)
        goto out;
    rc = upd_prescan(zone, up);
    if (rc != LDNS_RCODE_NOERROR)
        goto out;
    for (size_t i = 0; i < ldns_rr_list_rr_count(up) && err == MC_OK; i++)
        err = upd_apply_one(d->zones, zone, &undo, ldns_rr_list_rr(up, i));
    if (err != MC_OK) {
        upd_rollback(d->zones, &undo);
        log_msg(LOGL_WARN, "dns.update.failed", "zone=%s err=\"%s\"", zone, mc_strerror(err));
        rc = err == MC_ERR_NOMEM ? LDNS_RCODE_SERVFAIL : LDNS_RCODE_REFUSED;
    }
out:
    zone_unlock(d->zones);
    upd_undo_free(&undo);
    if (rc == LDNS_RCODE_NOERROR)
        log_msg(LOGL_INFO, "dns.update", "zone=%s prereqs=%zu updates=%zu", zone,
                ldns_rr_list_rr_count(pr), ldns_rr_list_rr_count(up));
    return rc;
}

enum mc_err dns_update_handle(struct dnsmock *d, const ldns_pkt *q, const uint8_t *wire, size_t len,
                              uint8_t **out, size_t *outlen)
{
    struct upd_resp r = {.rcode = LDNS_RCODE_NOERROR};

    *out = NULL;
    *outlen = 0;
    if (ldns_pkt_get_opcode(q) != LDNS_PACKET_UPDATE) {
        r.rcode = LDNS_RCODE_NOTIMPL;
        return upd_respond(d, q, &r, out, outlen);
    }
    if (ldns_pkt_tsig(q) != NULL) {
        if (!upd_check_tsig(d, q, wire, len, &r))
            return upd_respond(d, q, &r, out, outlen);
    } else if (!d->allow_unsigned_updates) {
        /* Keys configured or not, an unsigned update is a policy refusal (RFC 2136
         * section 3.3 leaves the policy to the server). */
        log_msg(LOGL_INFO, "dns.update.refused", "reason=unsigned keys=%zu",
                tsig_keyring_count(d->tsig));
        r.rcode = LDNS_RCODE_REFUSED;
        return upd_respond(d, q, &r, out, outlen);
    }
    r.rcode = upd_process(d, q, &r.echo_zone);
    return upd_respond(d, q, &r, out, outlen);
}
