/* dnsmock/tsig.c: TSIG (RFC 8945) for every request: keyring, request check, response
 * signature.
 *
 * ldns_pkt_tsig_verify / ldns_pkt_tsig_sign do the MAC for hmac-sha1, -sha256 and -sha512.
 * ldns 1.8.3 cannot do hmac-sha384 (its digest table spells the name "hmac-shac384."), and
 * a BADTIME answer must carry the server time in Other Data, which ldns_pkt_tsig_sign cannot
 * write; for those two cases the MAC is computed here with EVP_Q_mac over the same digest
 * input (RFC 8945 section 4.3.3). */
#include "dnsmock/tsig.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/log.h"
#include "dnsmock/zone.h"

#define TSIG_MAX_KEYS 256
#define TSIG_SECRET_MAX 1024 /* base64 characters */
#define TSIG_FUDGE 300       /* seconds, what BIND and ldns use */

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

/* ---- TSIG --------------------------------------------------------------------------- */

static uint64_t tsig_rdf_u48(const ldns_rdf *rdf)
{
    const uint8_t *p = ldns_rdf_data(rdf);
    uint64_t v = 0;

    if (ldns_rdf_size(rdf) != 6)
        return 0;
    for (int i = 0; i < 6; i++)
        v = (v << 8) | p[i];
    return v;
}

static uint16_t tsig_rdf_u16(const ldns_rdf *rdf)
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
    ldns_write_uint16(msg, tsig_rdf_u16(ldns_rr_rdf(tsig, 4))); /* original ID */
    ldns_write_uint16(msg + 10, (uint16_t)(LDNS_ARCOUNT(wire) - 1));
    if (tsig_mac(key, NULL, 0, msg, pre, tsig_rdf_u48(ldns_rr_rdf(tsig, 1)),
                 tsig_rdf_u16(ldns_rr_rdf(tsig, 2)), tsig_rdf_u16(ldns_rr_rdf(tsig, 5)),
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

/* ---- requests and responses --------------------------------------------------------- */

/* RFC 8945 section 5.2: key, then MAC, then time. */
void tsig_check_request(const struct tsig_keyring *keys, const struct mc_clock *clock,
                        const ldns_pkt *q, const uint8_t *wire, size_t len, struct tsig_check *c)
{
    ldns_rr *tsig = ldns_pkt_tsig(q);
    char name[ZONE_NAME_MAX], alg[ZONE_NAME_MAX];
    const struct tsig_key_ent *key;
    ldns_pkt *copy = NULL;
    bool mac_ok;
    int64_t now, signed_at, fudge;

    c->key = NULL;
    c->rcode = LDNS_RCODE_NOERROR;
    c->error = 0;

    if (ldns_rr_rd_count(tsig) != 7 || ldns_rdf_size(ldns_rr_rdf(tsig, 1)) != 6 ||
        ldns_rdf_size(ldns_rr_rdf(tsig, 3)) < 2) {
        c->rcode = LDNS_RCODE_FORMERR;
        return;
    }
    if (!zone_name_from_rdf(ldns_rr_owner(tsig), name) || !zone_name_from_rdf(ldns_rr_rdf(tsig, 0), alg)) {
        c->rcode = LDNS_RCODE_NOTAUTH;
        c->error = TSIG_ERR_BADKEY;
        return;
    }
    key = tsig_key_find(keys, name);
    /* RFC 8945 section 5.2.1: a key we hold under another algorithm is an unknown key. */
    if (key == NULL || strcmp(key->alg->name, alg) != 0) {
        log_msg(LOGL_INFO, "dns.tsig", "result=badkey key=%s", name);
        c->rcode = LDNS_RCODE_NOTAUTH;
        c->error = TSIG_ERR_BADKEY;
        return;
    }
    if (key->alg->ldns_ok) {
        /* ldns wants a mutable packet (it swaps the TSIG out and back); q is const. */
        copy = ldns_pkt_clone(q);
        if (copy == NULL) {
            c->rcode = LDNS_RCODE_SERVFAIL;
            return;
        }
        mac_ok = ldns_pkt_tsig_verify(copy, wire, len, key->name, key->secret_b64, NULL);
        ldns_pkt_free(copy);
    } else {
        mac_ok = tsig_verify_own(key, tsig, wire, len);
    }
    if (!mac_ok) {
        log_msg(LOGL_INFO, "dns.tsig", "result=badsig key=%s", name);
        c->rcode = LDNS_RCODE_NOTAUTH;
        c->error = TSIG_ERR_BADSIG;
        return;
    }
    /* ldns checks no time; ours comes from the (possibly virtual) clock. */
    now = clock_now(clock);
    signed_at = (int64_t)tsig_rdf_u48(ldns_rr_rdf(tsig, 1));
    fudge = tsig_rdf_u16(ldns_rr_rdf(tsig, 2));
    c->key = key;
    if (now > signed_at + fudge || now < signed_at - fudge) {
        log_msg(LOGL_INFO, "dns.tsig", "result=badtime key=%s signed=%lld now=%lld", name,
                (long long)signed_at, (long long)now);
        c->rcode = LDNS_RCODE_NOTAUTH;
        c->error = TSIG_ERR_BADTIME;
        return;
    }
}

bool tsig_sign_response(const struct mc_clock *clock, const ldns_pkt *q,
                        const struct tsig_check *c, ldns_pkt *resp)
{
    ldns_rr *tsig = ldns_pkt_tsig(q);
    ldns_rr *rr = NULL;
    uint64_t now = (uint64_t)clock_now(clock);

    /* No TSIG to answer: none came, or the one that came did not even parse (FORMERR);
     * its fields cannot be echoed. */
    if (tsig == NULL || c->rcode == LDNS_RCODE_FORMERR)
        return true;
    if (c->error == TSIG_ERR_BADTIME && c->key != NULL) {
        /* RFC 8945 section 5.2.3: signed, with our time in Other Data so a client can
         * measure its skew. */
        uint8_t other[6];
        for (int i = 0; i < 6; i++)
            other[i] = (uint8_t)(now >> (8 * (5 - i)));
        return tsig_sign_own(resp, c->key, tsig, now, TSIG_ERR_BADTIME, other, 6);
    }
    if (c->error != 0) {
        /* RFC 8945 section 5.3.2: an error about the key or the MAC is answered unsigned
         * (MAC size 0); signing it would need the key we could not use. */
        rr = tsig_rr_new(tsig, now, TSIG_FUDGE, NULL, 0, ldns_pkt_id(q), c->error, NULL, 0);
        if (rr == NULL)
            return false;
        ldns_pkt_set_tsig(resp, rr);
        return true;
    }
    if (c->key == NULL)
        return true; /* the request's TSIG was never checked: nothing to sign with */
    if (c->key->alg->ldns_ok)
        return ldns_pkt_tsig_sign(resp, c->key->name, c->key->secret_b64, TSIG_FUDGE,
                                  c->key->alg->name, ldns_rr_rdf(tsig, 3)) == LDNS_STATUS_OK;
    return tsig_sign_own(resp, c->key, tsig, now, 0, NULL, 0);
}
