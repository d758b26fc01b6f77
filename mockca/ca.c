/* mockca/ca.c: the certificate authority: CA chains (Pebble's layout), leaf issuance, the
 * revocation registry, and the OCSP (RFC 6960) and CRL (RFC 5280) views of it.
 *
 * The chains are built once in ca_new and never change, so readers of them take no lock;
 * the registry and the CRL number sit behind one mutex.
 *
 * The registry holds nothing per good certificate. A leaf's serial is a keyed permutation
 * (AES-128 under a key made in ca_new, cycle-walked onto the serials whose top bits are
 * 01) of its sequence number and its notAfter, so the status of a serial is read back
 * from the serial itself: one we issued decrypts to a sequence number already handed out,
 * and its notAfter says how long it stays answerable. Only revoked serials get an entry
 * (the CRL lists them), and a count of live certificates per notAfter second gives
 * ca_registry_count and the CA_MAX_CERTS bound. Pebble keeps an entry per certificate
 * forever; an entry per certificate here (64 bytes, plus its bucket) made mockca's memory
 * grow with every issuance for as long as the certificates lived (five years by Pebble's
 * default validity), which retention of finished objects cannot undo. */
#include "mockca/ca.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/pem.h"
#include "common/x509.h"

/* Leaf serials: 16 random bytes, top bits 01, so always positive, always 16 bytes long
 * (the registry keys on the fixed-size binary form) and far above CA/B's 64-bit minimum. */
#define CA_SERIAL_BYTES 16
#define CA_DAY_S ((int64_t)86400)
/* Pebble gives roots and intermediates 30 years; intermediates get 10 here, still far
 * beyond any leaf we issue by default, and closer to what real CAs do. */
#define CA_ROOT_LIFETIME_S (30 * 365 * CA_DAY_S + 7 * CA_DAY_S)
#define CA_INTERMEDIATE_LIFETIME_S (10 * 365 * CA_DAY_S + 2 * CA_DAY_S)
/* CA certificates start an hour in the past so a client whose clock lags a little still
 * accepts a chain made a moment ago. */
#define CA_BACKDATE_S 3600
#define CA_DEFAULT_VALIDITY_S (90 * CA_DAY_S)
#define CA_STATUS_LIFETIME_S 3600 /* OCSP and CRL nextUpdate */
#define CA_PRUNE_GRACE_S 3600
/* 9999-12-31T23:59:59Z, the last instant an X.509 GeneralizedTime can carry. */
#define CA_TIME_MAX ((int64_t)253402300799)
#define CA_CN_MAX 64 /* RFC 5280 ub-common-name */
#define CA_PREFIX_MAX 32
#define CA_URL_MAX 2048
#define CA_SERIAL_HEX_MAX 128
/* An OCSP request for a handful of certificates is a few hundred bytes. */
#define CA_OCSP_REQ_MAX (64 * 1024)
#define CA_OCSP_IDS_MAX 100
#define CA_BUCKETS_MIN 1024
/* Cycle walking leaves the set of serials with top bits 01 with probability 3/4 per step,
 * so 256 steps fail with probability (3/4)^256, about 1e-32. */
#define CA_SERIAL_WALK_MAX 256
#define CA_SEQ_MAX (((uint64_t)1 << 62) - 1)
#define CA_BUCKETS_MAX ((size_t)1 << 21) /* above CA_MAX_CERTS: chains stay short */

struct ca_issuer {
    X509 *cert;
    EVP_PKEY *key;
};

struct ca_chain {
    struct ca_issuer root;
    struct ca_issuer inter[CA_MAX_CHAIN_LENGTH]; /* [0] signs leaves */
    /* The intermediates as PEM, issuing first: made once, since every download sends
     * them and PEM-writing them per request showed in profiles. */
    char *inter_pem;
    size_t inter_pem_len;
};

struct ca_entry {
    struct ca_entry *next;          /* bucket chain */
    struct ca_entry *rprev, *rnext; /* the revoked list the CRL walks */
    int64_t not_after;
    int64_t revoked_at;
    uint8_t serial[CA_SERIAL_BYTES];
    int8_t reason;
    bool revoked;
};

/* Live certificates per notAfter second, ascending: certificates issued in the same second
 * with the same validity share one, so under load this is a handful of entries per second
 * of issuance, not one per certificate. */
struct ca_expiry {
    int64_t not_after;
    uint64_t n;
};

/* Registry entries (revoked serials only) come from slabs of CA_SLAB_ENTRIES, reused
 * through a free list, not one malloc each: an entry lives as long as its certificate
 * (Pebble's default validity is five years), and entries malloc'ed one by one end up
 * scattered over the heap pages that every issuance's short-lived objects use, each
 * pinning its page after those objects are swept. Slabs are kept until ca_free: memory
 * follows the peak number of live revoked certificates. */
#define CA_SLAB_ENTRIES 256

struct ca_slab {
    struct ca_slab *next;
    size_t used; /* entries handed out from e[] at least once */
    struct ca_entry e[CA_SLAB_ENTRIES];
};

struct ca {
    struct ca_chain chains[CA_MAX_CHAINS];
    size_t nchains;
    size_t ninter;
    char *ocsp_url;
    char *issuer_url;
    char *crl_url;
    const struct mc_clock *clock;

    pthread_mutex_t lock; /* guards everything below */
    EVP_CIPHER_CTX *ser_enc, *ser_dec; /* the serial permutation (AES-128-ECB, no padding) */
    uint64_t next_seq;                 /* the next leaf's sequence number, from 1 */
    struct ca_expiry *exp;             /* live certificates per notAfter, ascending */
    size_t nexp, capexp;
    size_t count;             /* live certificates: the sum over exp[] */
    struct ca_entry **buckets; /* revoked serials */
    size_t nbuckets;
    size_t nrev;
    struct ca_entry *revoked; /* head of the revoked list */
    uint64_t crl_number;
    struct ca_slab *slabs;      /* newest first */
    struct ca_entry *free_ents; /* released entries, through next */
};

/* ---- small helpers ---------------------------------------------------------------- */

/* The digest to sign with for a CA key: matched to the curve size, none for EdDSA. */
static const EVP_MD *sign_md(EVP_PKEY *key)
{
    int id = EVP_PKEY_get_base_id(key);

    if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
        return NULL;
    if (id == EVP_PKEY_EC) {
        int bits = EVP_PKEY_get_bits(key);

        if (bits > 384)
            return EVP_sha512();
        if (bits > 256)
            return EVP_sha384();
    }
    return EVP_sha256();
}

static enum mc_err dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL || s[0] == '\0')
        return MC_OK;
    if (strnlen(s, CA_URL_MAX + 1) > CA_URL_MAX)
        return MC_ERR_TOO_BIG;
    *out = strdup(s);
    return *out == NULL ? MC_ERR_NOMEM : MC_OK;
}

static void hex_lower(const uint8_t *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static bool serial_in_set(const uint8_t b[CA_SERIAL_BYTES])
{
    return (b[0] & 0xc0) == 0x40; /* positive, no leading zero byte */
}

/* One direction of the serial permutation, restricted to serial_in_set by cycle walking:
 * apply the cipher until the result is in the set (the inverse walks back the same path).
 * False on a cipher error or a walk longer than CA_SERIAL_WALK_MAX. Caller holds ca->lock
 * (the contexts are shared). */
static bool serial_walk(EVP_CIPHER_CTX *c, const uint8_t in[CA_SERIAL_BYTES],
                        uint8_t out[CA_SERIAL_BYTES])
{
    uint8_t cur[CA_SERIAL_BYTES];

    memcpy(cur, in, sizeof(cur));
    for (int i = 0; i < CA_SERIAL_WALK_MAX; i++) {
        int outl = 0;

        if (EVP_CipherUpdate(c, out, &outl, cur, CA_SERIAL_BYTES) != 1 ||
            outl != CA_SERIAL_BYTES)
            return false;
        if (serial_in_set(out))
            return true;
        memcpy(cur, out, sizeof(cur));
    }
    return false;
}

/* The serial of leaf number seq with notAfter na. Caller holds ca->lock. */
static bool serial_encode(struct ca *ca, uint64_t seq, int64_t na,
                          uint8_t serial[CA_SERIAL_BYTES])
{
    uint8_t p[CA_SERIAL_BYTES];

    for (int i = 0; i < 8; i++) {
        p[7 - i] = (uint8_t)(seq >> (8 * i));
        p[15 - i] = (uint8_t)((uint64_t)na >> (8 * i));
    }
    p[0] = (uint8_t)((p[0] & 0x3f) | 0x40);
    return serial_walk(ca->ser_enc, p, serial);
}

/* Whether serial is one this CA issued, and its notAfter. Caller holds ca->lock. A serial
 * not made by serial_encode decodes to a sequence number far beyond next_seq (or to a
 * notAfter no certificate can have) but with probability about issued / 2^62. */
static bool serial_decode(struct ca *ca, const uint8_t serial[CA_SERIAL_BYTES], int64_t *na)
{
    uint8_t p[CA_SERIAL_BYTES];
    uint64_t seq = 0, t = 0;

    if (!serial_in_set(serial) || !serial_walk(ca->ser_dec, serial, p))
        return false;
    for (int i = 0; i < 8; i++) {
        seq = (seq << 8) | p[i];
        t = (t << 8) | p[8 + i];
    }
    seq &= CA_SEQ_MAX;
    if (seq == 0 || seq >= ca->next_seq || t > (uint64_t)CA_TIME_MAX)
        return false;
    *na = (int64_t)t;
    return true;
}

/* Whether serial names a certificate the registry still answers for: issued here and not
 * expired for longer than CA_PRUNE_GRACE_S. Caller holds ca->lock. */
static bool serial_live(struct ca *ca, const uint8_t serial[CA_SERIAL_BYTES], int64_t *na)
{
    return serial_decode(ca, serial, na) && *na >= clock_now(ca->clock) - CA_PRUNE_GRACE_S;
}

/* A fresh AES-128 key for the serial permutation: serials stay unpredictable (CA/B asks
 * for 64 random bits; these are 126 bits no outsider can tell from random). */
static enum mc_err serial_keys(struct ca *ca)
{
    uint8_t key[16];
    enum mc_err err = MC_ERR_CRYPTO;

    ca->ser_enc = EVP_CIPHER_CTX_new();
    ca->ser_dec = EVP_CIPHER_CTX_new();
    if (ca->ser_enc == NULL || ca->ser_dec == NULL)
        return MC_ERR_NOMEM;
    if (RAND_bytes(key, sizeof(key)) != 1)
        goto out;
    if (EVP_CipherInit_ex(ca->ser_enc, EVP_aes_128_ecb(), NULL, key, NULL, 1) != 1 ||
        EVP_CipherInit_ex(ca->ser_dec, EVP_aes_128_ecb(), NULL, key, NULL, 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(ca->ser_enc, 0) != 1 ||
        EVP_CIPHER_CTX_set_padding(ca->ser_dec, 0) != 1)
        goto out;
    err = MC_OK;
out:
    OPENSSL_cleanse(key, sizeof(key));
    return err;
}

/* Counts one more live certificate with notAfter na. Caller holds ca->lock. */
static enum mc_err exp_add(struct ca *ca, int64_t na)
{
    size_t lo = 0, hi = ca->nexp;

    if (ca->nexp > 0 && ca->exp[ca->nexp - 1].not_after <= na) {
        lo = ca->nexp; /* the usual case: the newest notAfter, or a later one */
        if (ca->exp[lo - 1].not_after == na) {
            ca->exp[lo - 1].n++;
            ca->count++;
            return MC_OK;
        }
    } else {
        while (lo < hi) { /* first entry with not_after >= na */
            size_t mid = lo + (hi - lo) / 2;

            if (ca->exp[mid].not_after < na)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < ca->nexp && ca->exp[lo].not_after == na) {
            ca->exp[lo].n++;
            ca->count++;
            return MC_OK;
        }
    }
    if (ca->nexp == ca->capexp) {
        size_t cap = ca->capexp == 0 ? 64 : ca->capexp * 2;
        struct ca_expiry *ne = realloc(ca->exp, cap * sizeof(*ne));

        if (ne == NULL)
            return MC_ERR_NOMEM;
        ca->exp = ne;
        ca->capexp = cap;
    }
    memmove(&ca->exp[lo + 1], &ca->exp[lo], (ca->nexp - lo) * sizeof(*ca->exp));
    ca->exp[lo] = (struct ca_expiry){.not_after = na, .n = 1};
    ca->nexp++;
    ca->count++;
    return MC_OK;
}

/* Forgets the live certificates with notAfter before cutoff; how many. Caller holds
 * ca->lock. The array shrinks once mostly empty, so it follows what is live. */
static size_t exp_prune(struct ca *ca, int64_t cutoff)
{
    size_t k = 0, dropped = 0;

    while (k < ca->nexp && ca->exp[k].not_after < cutoff)
        dropped += (size_t)ca->exp[k++].n;
    if (k == 0)
        return 0;
    memmove(&ca->exp[0], &ca->exp[k], (ca->nexp - k) * sizeof(*ca->exp));
    ca->nexp -= k;
    ca->count -= dropped;
    if (ca->capexp > 64 && ca->nexp < ca->capexp / 4) {
        size_t cap = ca->capexp / 2;
        struct ca_expiry *ne = realloc(ca->exp, cap * sizeof(*ne));

        if (ne != NULL) { /* a failed shrink keeps the larger array */
            ca->exp = ne;
            ca->capexp = cap;
        }
    }
    return dropped;
}

static enum mc_err new_serial(uint8_t serial[CA_SERIAL_BYTES])
{
    if (RAND_bytes(serial, CA_SERIAL_BYTES) != 1)
        return MC_ERR_CRYPTO;
    serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x40);
    return MC_OK;
}

static enum mc_err set_serial(X509 *x, const uint8_t serial[CA_SERIAL_BYTES])
{
    BIGNUM *bn = NULL;
    ASN1_INTEGER *ai = NULL;
    enum mc_err err = MC_ERR_CRYPTO;

    bn = BN_bin2bn(serial, CA_SERIAL_BYTES, NULL);
    if (bn == NULL)
        goto out;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_set_serialNumber(x, ai) != 1)
        goto out;
    err = MC_OK;
out:
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    return err;
}

/* Reads a serial as the registry keys it. MC_ERR_INVALID for an empty or non-hex string,
 * MC_ERR_NOT_FOUND for one too long to be a serial of ours. Leading zeros and case are
 * ignored, so "00AB" and "ab" name the same serial. */
static enum mc_err parse_serial_hex(const char *hex, uint8_t out[CA_SERIAL_BYTES])
{
    size_t len, i;
    char padded[2 * CA_SERIAL_BYTES];

    if (hex == NULL)
        return MC_ERR_INVALID;
    len = strnlen(hex, CA_SERIAL_HEX_MAX + 1);
    if (len == 0 || len > CA_SERIAL_HEX_MAX)
        return MC_ERR_INVALID;
    for (i = 0; i < len; i++) {
        if (!isxdigit((unsigned char)hex[i]))
            return MC_ERR_INVALID;
    }
    while (len > 1 && hex[0] == '0') {
        hex++;
        len--;
    }
    if (len > 2 * CA_SERIAL_BYTES)
        return MC_ERR_NOT_FOUND;
    memset(padded, '0', sizeof(padded));
    memcpy(padded + sizeof(padded) - len, hex, len);
    for (i = 0; i < CA_SERIAL_BYTES; i++) {
        char pair[3] = {padded[2 * i], padded[2 * i + 1], '\0'};

        out[i] = (uint8_t)strtoul(pair, NULL, 16); /* two checked hex digits */
    }
    return MC_OK;
}

/* The serial of an OCSP CertID in registry form; false if it cannot be one of ours. */
static bool serial_from_asn1(const ASN1_INTEGER *ai, uint8_t out[CA_SERIAL_BYTES])
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
    bool ok = false;

    if (bn == NULL)
        return false;
    if (!BN_is_negative(bn) && BN_num_bytes(bn) <= CA_SERIAL_BYTES &&
        BN_bn2binpad(bn, out, CA_SERIAL_BYTES) == CA_SERIAL_BYTES)
        ok = true;
    BN_free(bn);
    return ok;
}

static enum mc_err set_validity(X509 *x, int64_t not_before, int64_t not_after)
{
    ASN1_TIME *nb = ASN1_TIME_set(NULL, (time_t)not_before);
    ASN1_TIME *na = ASN1_TIME_set(NULL, (time_t)not_after);
    enum mc_err err = MC_ERR_CRYPTO;

    if (nb != NULL && na != NULL && X509_set1_notBefore(x, nb) == 1 &&
        X509_set1_notAfter(x, na) == 1)
        err = MC_OK;
    ASN1_TIME_free(nb);
    ASN1_TIME_free(na);
    return err;
}

/* Adds an extension written in OpenSSL's config syntax. Only for fixed strings: values
 * that come from users (names, URLs) are built as structures, so a comma in them cannot
 * smuggle in another field. */
static enum mc_err add_conf_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    enum mc_err err = MC_ERR_CRYPTO;

    if (ext != NULL && X509_add_ext(x, ext, -1) == 1)
        err = MC_OK;
    X509_EXTENSION_free(ext);
    return err;
}

static GENERAL_NAME *uri_name(const char *url)
{
    GENERAL_NAME *gn = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

    if (gn == NULL || ia5 == NULL || ASN1_STRING_set(ia5, url, -1) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_IA5STRING_free(ia5);
        return NULL;
    }
    GENERAL_NAME_set0_value(gn, GEN_URI, ia5);
    return gn;
}

static X509_NAME *cn_name(const char *cn)
{
    X509_NAME *name = X509_NAME_new();

    if (name == NULL)
        return NULL;
    if (cn != NULL && X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                                 (const unsigned char *)cn, -1, -1, 0) != 1) {
        X509_NAME_free(name);
        return NULL;
    }
    return name;
}

/* ---- CA certificates ---------------------------------------------------------------- */

/* Makes a CA certificate for key named cn, signed by issuer (NULL: self-signed root).
 * pathlen < 0 leaves the path length open (roots, as Pebble's). */
static enum mc_err make_ca_cert(const char *cn, EVP_PKEY *key, const struct ca_issuer *issuer,
                                int pathlen, int64_t now, int64_t lifetime, X509 **out)
{
    X509 *x = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX ctx;
    uint8_t serial[CA_SERIAL_BYTES];
    char bc[64];
    EVP_PKEY *signer = issuer != NULL ? issuer->key : key;
    enum mc_err err;

    *out = NULL;
    err = new_serial(serial);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    x = X509_new();
    name = cn_name(cn);
    if (x == NULL || name == NULL)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer->cert) : name) !=
            1 ||
        X509_set_pubkey(x, key) != 1)
        goto out;
    err = set_serial(x, serial);
    if (err == MC_OK)
        err = set_validity(x, now - CA_BACKDATE_S, now + lifetime);
    if (err != MC_OK)
        goto out;
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer->cert : x, x, NULL, NULL, 0);
    if (pathlen >= 0)
        snprintf(bc, sizeof(bc), "critical,CA:TRUE,pathlen:%d", pathlen);
    else
        snprintf(bc, sizeof(bc), "critical,CA:TRUE");
    err = add_conf_ext(x, &ctx, NID_basic_constraints, bc);
    /* Intermediates also sign OCSP responses directly (RFC 6960 section 4.2.2.2: the CA
     * itself), hence digitalSignature; EKU as Let's Encrypt's and Pebble's intermediates. */
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_key_usage,
                           issuer != NULL ? "critical,digitalSignature,keyCertSign,cRLSign"
                                          : "critical,keyCertSign,cRLSign");
    if (err == MC_OK && issuer != NULL)
        err = add_conf_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (err == MC_OK && issuer != NULL)
        err = add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_sign(x, signer, sign_md(signer)) <= 0)
        goto out;
    *out = x;
    x = NULL;
    err = MC_OK;
out:
    X509_free(x);
    X509_NAME_free(name);
    return err;
}

/* Takes the user's root for chain 0: the key must be the certificate's, and the
 * certificate a CA whose path length leaves room for our intermediates. */
static enum mc_err load_root(const char *cert_pem, const char *key_pem, size_t ninter,
                             struct ca_issuer *root)
{
    long pathlen;
    enum mc_err err;

    err = pem_read_cert(cert_pem, strlen(cert_pem), &root->cert);
    if (err != MC_OK)
        return err;
    err = pem_read_private_key(key_pem, strlen(key_pem), &root->key);
    if (err != MC_OK)
        return err;
    if (X509_check_private_key(root->cert, root->key) != 1) {
        ERR_clear_error();
        log_msg(LOGL_ERROR, "ca.root", "error=\"root key does not match root certificate\"");
        return MC_ERR_MISMATCH;
    }
    if (X509_check_ca(root->cert) != 1) {
        log_msg(LOGL_ERROR, "ca.root", "error=\"root certificate is not a CA (basicConstraints)\"");
        return MC_ERR_INVALID;
    }
    pathlen = X509_get_pathlen(root->cert);
    if (pathlen >= 0 && (size_t)pathlen < ninter) {
        log_msg(LOGL_ERROR, "ca.root", "error=\"root pathlen too small\" pathlen=%ld need=%zu",
                pathlen, ninter);
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

static enum mc_err random_tag(char out[7])
{
    uint8_t b[3];

    if (RAND_bytes(b, sizeof(b)) != 1)
        return MC_ERR_CRYPTO;
    hex_lower(b, sizeof(b), out);
    return MC_OK;
}

/* Caches the PEM of ch's ninter intermediates, issuing first, in ch->inter_pem. */
static enum mc_err chain_inter_pem(struct ca_chain *ch, size_t ninter)
{
    char *parts[CA_MAX_CHAIN_LENGTH] = {NULL};
    size_t total = 0, off = 0;
    enum mc_err err = MC_OK;

    for (size_t j = 0; err == MC_OK && j < ninter; j++)
        err = pem_write_cert(ch->inter[j].cert, &parts[j]);
    if (err != MC_OK)
        goto out;
    for (size_t j = 0; j < ninter; j++)
        total += strlen(parts[j]);
    err = MC_ERR_NOMEM;
    ch->inter_pem = malloc(total + 1);
    if (ch->inter_pem == NULL)
        goto out;
    for (size_t j = 0; j < ninter; j++) {
        size_t len = strlen(parts[j]);

        memcpy(ch->inter_pem + off, parts[j], len);
        off += len;
    }
    ch->inter_pem[off] = '\0';
    ch->inter_pem_len = off;
    err = MC_OK;
out:
    for (size_t j = 0; j < ninter; j++)
        free(parts[j]);
    return err;
}

/* Builds chain c: its root (or the user's), then intermediates from the root down, the
 * last being the shared issuing intermediate (same subject and key in every chain). */
static enum mc_err build_chain(struct ca *ca, const struct ca_config *cfg, enum key_type kt,
                               const char *prefix, size_t c, EVP_PKEY *issuing_key,
                               const char *issuing_cn, int64_t now)
{
    struct ca_chain *ch = &ca->chains[c];
    const struct ca_issuer *prev = &ch->root;
    char tag[7];
    char cn[CA_CN_MAX + 1];
    enum mc_err err;

    err = random_tag(tag);
    if (err != MC_OK)
        return err;
    if (c == 0 && cfg->root_cert_pem != NULL) {
        err = load_root(cfg->root_cert_pem, cfg->root_key_pem, ca->ninter, &ch->root);
    } else {
        err = key_generate(kt, &ch->root.key);
        if (err == MC_OK) {
            snprintf(cn, sizeof(cn), "%s Root CA %s", prefix, tag);
            err = make_ca_cert(cn, ch->root.key, NULL, -1, now, CA_ROOT_LIFETIME_S,
                               &ch->root.cert);
        }
    }
    if (err != MC_OK)
        return err;
    for (size_t j = ca->ninter - 1; j > 0; j--) {
        err = key_generate(kt, &ch->inter[j].key);
        if (err != MC_OK)
            return err;
        snprintf(cn, sizeof(cn), "%s Intermediate CA %s #%zu", prefix, tag, j);
        err = make_ca_cert(cn, ch->inter[j].key, prev, (int)j, now, CA_INTERMEDIATE_LIFETIME_S,
                           &ch->inter[j].cert);
        if (err != MC_OK)
            return err;
        prev = &ch->inter[j];
    }
    if (EVP_PKEY_up_ref(issuing_key) != 1)
        return MC_ERR_CRYPTO;
    ch->inter[0].key = issuing_key;
    err = make_ca_cert(issuing_cn, issuing_key, prev, 0, now, CA_INTERMEDIATE_LIFETIME_S,
                       &ch->inter[0].cert);
    if (err != MC_OK)
        return err;
    return chain_inter_pem(ch, ca->ninter);
}

enum mc_err ca_new(const struct ca_config *cfg, struct ca **out)
{
    struct ca *ca = NULL;
    EVP_PKEY *issuing_key = NULL;
    enum key_type kt;
    const char *prefix;
    char tag[7];
    char issuing_cn[CA_CN_MAX + 1];
    int64_t now;
    enum mc_err err = MC_ERR_INVALID;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    if (cfg == NULL)
        return MC_ERR_INVALID;
    if (cfg->chain_length > CA_MAX_CHAIN_LENGTH || cfg->alternate_roots >= CA_MAX_CHAINS)
        return MC_ERR_INVALID;
    if ((cfg->root_cert_pem == NULL) != (cfg->root_key_pem == NULL))
        return MC_ERR_INVALID;
    prefix = cfg->name_prefix != NULL ? cfg->name_prefix : "mockca";
    if (prefix[0] == '\0' || strnlen(prefix, CA_PREFIX_MAX + 1) > CA_PREFIX_MAX)
        return MC_ERR_INVALID;
    kt = cfg->key_type != 0 ? cfg->key_type : KEY_EC_P256;

    err = MC_ERR_NOMEM;
    ca = calloc(1, sizeof(*ca));
    if (ca == NULL)
        return MC_ERR_NOMEM;
    if (pthread_mutex_init(&ca->lock, NULL) != 0) {
        free(ca);
        return MC_ERR_NOMEM;
    }
    ca->nchains = 1 + (size_t)cfg->alternate_roots;
    ca->ninter = cfg->chain_length != 0 ? cfg->chain_length : 1;
    ca->clock = cfg->clock;
    ca->crl_number = 1;
    ca->next_seq = 1;
    err = serial_keys(ca);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOMEM;
    ca->nbuckets = CA_BUCKETS_MIN;
    ca->buckets = calloc(ca->nbuckets, sizeof(*ca->buckets));
    if (ca->buckets == NULL)
        goto out;
    err = dup_opt(cfg->ocsp_url, &ca->ocsp_url);
    if (err == MC_OK)
        err = dup_opt(cfg->issuer_url, &ca->issuer_url);
    if (err == MC_OK)
        err = dup_opt(cfg->crl_url, &ca->crl_url);
    if (err != MC_OK)
        goto out;

    now = clock_now(ca->clock);
    err = key_generate(kt, &issuing_key);
    if (err == MC_OK)
        err = random_tag(tag);
    if (err != MC_OK)
        goto out;
    snprintf(issuing_cn, sizeof(issuing_cn), "%s Intermediate CA %s", prefix, tag);
    for (size_t c = 0; c < ca->nchains; c++) {
        err = build_chain(ca, cfg, kt, prefix, c, issuing_key, issuing_cn, now);
        if (err != MC_OK)
            goto out;
    }
    log_msg(LOGL_INFO, "ca.ready", "chains=%zu intermediates=%zu key=%s", ca->nchains,
            ca->ninter, key_type_name(kt));
    *out = ca;
    ca = NULL;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "ca.new");
    EVP_PKEY_free(issuing_key);
    ca_free(ca);
    return err;
}

void ca_free(struct ca *ca)
{
    if (ca == NULL)
        return;
    for (size_t c = 0; c < CA_MAX_CHAINS; c++) {
        X509_free(ca->chains[c].root.cert);
        EVP_PKEY_free(ca->chains[c].root.key);
        for (size_t j = 0; j < CA_MAX_CHAIN_LENGTH; j++) {
            X509_free(ca->chains[c].inter[j].cert);
            EVP_PKEY_free(ca->chains[c].inter[j].key);
        }
        free(ca->chains[c].inter_pem);
    }
    while (ca->slabs != NULL) {
        struct ca_slab *next = ca->slabs->next;

        free(ca->slabs);
        ca->slabs = next;
    }
    free(ca->buckets);
    free(ca->exp);
    EVP_CIPHER_CTX_free(ca->ser_enc);
    EVP_CIPHER_CTX_free(ca->ser_dec);
    free(ca->ocsp_url);
    free(ca->issuer_url);
    free(ca->crl_url);
    pthread_mutex_destroy(&ca->lock);
    free(ca);
}

size_t ca_chain_count(const struct ca *ca)
{
    return ca != NULL ? ca->nchains : 0;
}

static const struct ca_issuer *get_issuer(const struct ca *ca, size_t chain, bool root, size_t i)
{
    if (ca == NULL || chain >= ca->nchains)
        return NULL;
    if (root)
        return &ca->chains[chain].root;
    if (i >= ca->ninter)
        return NULL;
    return &ca->chains[chain].inter[i];
}

/* The issuing intermediate: the same subject and key in every chain, so chain 0's. */
static const struct ca_issuer *issuing(const struct ca *ca)
{
    return &ca->chains[0].inter[0];
}

enum mc_err ca_root_pem(const struct ca *ca, size_t chain, char **pem)
{
    const struct ca_issuer *is = get_issuer(ca, chain, true, 0);

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    return is == NULL ? MC_ERR_NOT_FOUND : pem_write_cert(is->cert, pem);
}

enum mc_err ca_root_key_pem(const struct ca *ca, size_t chain, char **pem)
{
    const struct ca_issuer *is = get_issuer(ca, chain, true, 0);

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    return is == NULL ? MC_ERR_NOT_FOUND : pem_write_private_key(is->key, pem);
}

enum mc_err ca_intermediate_pem(const struct ca *ca, size_t chain, size_t i, char **pem)
{
    const struct ca_issuer *is = get_issuer(ca, chain, false, i);

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    return is == NULL ? MC_ERR_NOT_FOUND : pem_write_cert(is->cert, pem);
}

enum mc_err ca_intermediate_key_pem(const struct ca *ca, size_t chain, size_t i, char **pem)
{
    const struct ca_issuer *is = get_issuer(ca, chain, false, i);

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    return is == NULL ? MC_ERR_NOT_FOUND : pem_write_private_key(is->key, pem);
}

/* ---- the registry (caller holds ca->lock) ------------------------------------------- */

static size_t serial_bucket(const uint8_t serial[CA_SERIAL_BYTES], size_t nbuckets)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */

    for (size_t i = 0; i < CA_SERIAL_BYTES; i++) {
        h ^= serial[i];
        h *= 1099511628211ULL;
    }
    return (size_t)(h & (nbuckets - 1));
}

/* A zeroed entry from the free list or a slab; NULL when out of memory. */
static struct ca_entry *reg_alloc(struct ca *ca)
{
    struct ca_entry *e = ca->free_ents;

    if (e != NULL) {
        ca->free_ents = e->next;
        memset(e, 0, sizeof(*e));
        return e;
    }
    if (ca->slabs == NULL || ca->slabs->used == CA_SLAB_ENTRIES) {
        struct ca_slab *s = calloc(1, sizeof(*s));

        if (s == NULL)
            return NULL;
        s->next = ca->slabs;
        ca->slabs = s;
    }
    return &ca->slabs->e[ca->slabs->used++];
}

static void reg_release(struct ca *ca, struct ca_entry *e)
{
    memset(e, 0, sizeof(*e));
    e->next = ca->free_ents;
    ca->free_ents = e;
}

static struct ca_entry *reg_find(const struct ca *ca, const uint8_t serial[CA_SERIAL_BYTES])
{
    struct ca_entry *e = ca->buckets[serial_bucket(serial, ca->nbuckets)];

    while (e != NULL && memcmp(e->serial, serial, CA_SERIAL_BYTES) != 0)
        e = e->next;
    return e;
}

/* Doubles the table once it averages one entry per bucket. A failed allocation only
 * leaves the chains longer, so it is not an error. */
static void reg_maybe_grow(struct ca *ca)
{
    size_t n = ca->nbuckets * 2;
    struct ca_entry **nb;

    if (ca->nrev < ca->nbuckets || n > CA_BUCKETS_MAX)
        return;
    nb = calloc(n, sizeof(*nb));
    if (nb == NULL)
        return;
    for (size_t b = 0; b < ca->nbuckets; b++) {
        struct ca_entry *e = ca->buckets[b];

        while (e != NULL) {
            struct ca_entry *next = e->next;
            size_t k = serial_bucket(e->serial, n);

            e->next = nb[k];
            nb[k] = e;
            e = next;
        }
    }
    free(ca->buckets);
    ca->buckets = nb;
    ca->nbuckets = n;
}

static enum mc_err reg_insert(struct ca *ca, const uint8_t serial[CA_SERIAL_BYTES],
                              int64_t not_after, struct ca_entry **out)
{
    struct ca_entry *e;
    size_t k;

    if (reg_find(ca, serial) != NULL)
        return MC_ERR_EXISTS;
    if (ca->nrev >= CA_MAX_CERTS)
        return MC_ERR_LIMIT;
    e = reg_alloc(ca);
    if (e == NULL)
        return MC_ERR_NOMEM;
    memcpy(e->serial, serial, CA_SERIAL_BYTES);
    e->not_after = not_after;
    k = serial_bucket(serial, ca->nbuckets);
    e->next = ca->buckets[k];
    ca->buckets[k] = e;
    ca->nrev++;
    reg_maybe_grow(ca);
    *out = e;
    return MC_OK;
}

static void reg_unlink_revoked(struct ca *ca, struct ca_entry *e)
{
    if (e->rprev != NULL)
        e->rprev->rnext = e->rnext;
    else
        ca->revoked = e->rnext;
    if (e->rnext != NULL)
        e->rnext->rprev = e->rprev;
    e->rprev = e->rnext = NULL;
}

/* ---- issuance ------------------------------------------------------------------------ */

static enum mc_err add_sans(X509 *x, const struct ident_list *sans, bool critical)
{
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = NULL;
    enum mc_err err = MC_ERR_NOMEM;

    if (gens == NULL)
        goto out;
    for (size_t i = 0; i < sans->n; i++) {
        const struct ident *id = &sans->v[i];
        uint8_t bin[16];
        int binlen;

        err = MC_ERR_NOMEM;
        gn = GENERAL_NAME_new();
        if (gn == NULL || id->value == NULL)
            goto out;
        if (id->type == IDENT_DNS) {
            ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

            if (ia5 == NULL || ASN1_STRING_set(ia5, id->value, -1) != 1) {
                ASN1_IA5STRING_free(ia5);
                goto out;
            }
            GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
        } else if (id->type == IDENT_IP) {
            ASN1_OCTET_STRING *os;

            err = MC_ERR_INVALID;
            if (inet_pton(AF_INET, id->value, bin) == 1)
                binlen = 4;
            else if (inet_pton(AF_INET6, id->value, bin) == 1)
                binlen = 16;
            else
                goto out;
            err = MC_ERR_NOMEM;
            os = ASN1_OCTET_STRING_new();
            if (os == NULL || ASN1_OCTET_STRING_set(os, bin, binlen) != 1) {
                ASN1_OCTET_STRING_free(os);
                goto out;
            }
            GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
        } else {
            err = MC_ERR_INVALID;
            goto out;
        }
        if (sk_GENERAL_NAME_push(gens, gn) <= 0)
            goto out;
        gn = NULL;
    }
    err = MC_ERR_CRYPTO;
    if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, critical ? 1 : 0,
                          X509V3_ADD_DEFAULT) == 1)
        err = MC_OK;
out:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    return err;
}

/* Authority Information Access (RFC 5280 section 4.2.2.1): OCSP and caIssuers URLs. */
static enum mc_err add_aia(X509 *x, const char *ocsp, const char *issuer)
{
    AUTHORITY_INFO_ACCESS *aia = sk_ACCESS_DESCRIPTION_new_null();
    const char *urls[2] = {ocsp, issuer};
    const int methods[2] = {NID_ad_OCSP, NID_ad_ca_issuers};
    enum mc_err err = MC_ERR_NOMEM;

    if (aia == NULL)
        goto out;
    for (size_t i = 0; i < 2; i++) {
        ACCESS_DESCRIPTION *ad;
        GENERAL_NAME *gn;

        if (urls[i] == NULL)
            continue;
        ad = ACCESS_DESCRIPTION_new();
        gn = uri_name(urls[i]);
        if (ad == NULL || gn == NULL || sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
            ACCESS_DESCRIPTION_free(ad);
            GENERAL_NAME_free(gn);
            goto out;
        }
        ASN1_OBJECT_free(ad->method);
        ad->method = OBJ_nid2obj(methods[i]);
        GENERAL_NAME_free(ad->location);
        ad->location = gn;
    }
    err = MC_ERR_CRYPTO;
    if (X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) == 1)
        err = MC_OK;
out:
    AUTHORITY_INFO_ACCESS_free(aia);
    return err;
}

/* CRL distribution point (RFC 5280 section 4.2.1.13): one fullName URI. */
static enum mc_err add_crl_dp(X509 *x, const char *url)
{
    CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
    DIST_POINT *dp = DIST_POINT_new();
    DIST_POINT_NAME *dpn = DIST_POINT_NAME_new();
    GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
    GENERAL_NAME *gn = uri_name(url);
    enum mc_err err = MC_ERR_NOMEM;

    if (dps == NULL || dp == NULL || dpn == NULL || gens == NULL || gn == NULL)
        goto out;
    if (sk_GENERAL_NAME_push(gens, gn) <= 0)
        goto out;
    gn = NULL;
    dpn->type = 0; /* fullName */
    dpn->name.fullname = gens;
    gens = NULL;
    dp->distpoint = dpn;
    dpn = NULL;
    if (sk_DIST_POINT_push(dps, dp) <= 0)
        goto out;
    dp = NULL;
    err = MC_ERR_CRYPTO;
    if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT) == 1)
        err = MC_OK;
out:
    GENERAL_NAME_free(gn);
    GENERAL_NAMES_free(gens);
    DIST_POINT_NAME_free(dpn);
    DIST_POINT_free(dp);
    CRL_DIST_POINTS_free(dps);
    return err;
}

/* keep_key: the X509 keeps a decoded copy of the subject key (X509_set_pubkey), as a
 * caller that verifies or inspects it needs; else only its encoding, which is enough to
 * sign and write it and saves OpenSSL 3.0's encoder and decoder runs. */
static enum mc_err build_leaf(const struct ca *ca, const struct ca_issue_request *req,
                              const char *cn, int64_t not_before, int64_t not_after,
                              const uint8_t serial[CA_SERIAL_BYTES], bool keep_key, X509 **out)
{
    const struct ca_issuer *is = issuing(ca);
    X509 *x = NULL;
    X509_NAME *name = NULL;
    X509V3_CTX ctx;
    bool rsa = EVP_PKEY_get_base_id(req->public_key) == EVP_PKEY_RSA;
    enum mc_err err = MC_ERR_NOMEM;

    *out = NULL;
    x = X509_new();
    name = cn_name(cn);
    if (x == NULL || name == NULL)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, X509_get_subject_name(is->cert)) != 1)
        goto out;
    if (keep_key)
        err = X509_set_pubkey(x, req->public_key) == 1 ? MC_OK : MC_ERR_CRYPTO;
    else
        err = x509_pubkey_encode(X509_get_X509_PUBKEY(x), req->public_key);
    if (err == MC_OK)
        err = set_serial(x, serial);
    if (err == MC_OK)
        err = set_validity(x, not_before, not_after);
    if (err != MC_OK)
        goto out;
    X509V3_set_ctx(&ctx, is->cert, x, NULL, NULL, 0);
    err = add_conf_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
    /* keyEncipherment only means something for RSA key transport (RFC 5480 section 3 bars
     * it for EC keys). */
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_key_usage,
                           rsa ? "critical,digitalSignature,keyEncipherment"
                               : "critical,digitalSignature");
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_subject_key_identifier, "hash");
    if (err == MC_OK)
        err = add_conf_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
    /* With an empty subject the SAN must be critical (RFC 5280 section 4.2.1.6). */
    if (err == MC_OK)
        err = add_sans(x, req->sans, cn == NULL);
    if (err == MC_OK && (ca->ocsp_url != NULL || ca->issuer_url != NULL))
        err = add_aia(x, ca->ocsp_url, ca->issuer_url);
    if (err == MC_OK && ca->crl_url != NULL)
        err = add_crl_dp(x, ca->crl_url);
    /* RFC 7633 must-staple: the TLS Feature extension with status_request (5). */
    if (err == MC_OK && req->must_staple)
        err = add_conf_ext(x, &ctx, NID_tlsfeature, "status_request");
    if (err != MC_OK)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_sign(x, is->key, sign_md(is->key)) <= 0)
        goto out;
    *out = x;
    x = NULL;
    err = MC_OK;
out:
    X509_free(x);
    X509_NAME_free(name);
    return err;
}

/* The subject CN: the one asked for, else (promote_cn) the first DNS SAN that fits. */
static enum mc_err pick_cn(const struct ca_issue_request *req, const char **cn)
{
    *cn = NULL;
    if (req->common_name != NULL) {
        size_t len = strnlen(req->common_name, CA_CN_MAX + 1);

        if (len == 0 || len > CA_CN_MAX)
            return MC_ERR_INVALID;
        *cn = req->common_name;
        return MC_OK;
    }
    if (!req->promote_cn)
        return MC_OK;
    for (size_t i = 0; i < req->sans->n; i++) {
        const struct ident *id = &req->sans->v[i];

        if (id->type == IDENT_DNS && id->value != NULL &&
            strnlen(id->value, CA_CN_MAX + 1) <= CA_CN_MAX) {
            *cn = id->value;
            break;
        }
    }
    return MC_OK;
}

/* ca_issue and ca_issue_pem; keep_key as for build_leaf. */
static enum mc_err issue(struct ca *ca, const struct ca_issue_request *req, bool keep_key,
                         X509 **leaf, char **serial_hex)
{
    X509 *x = NULL;
    const char *cn = NULL;
    uint8_t serial[CA_SERIAL_BYTES];
    int64_t now, nb, na, validity;
    enum mc_err err;

    if (leaf != NULL)
        *leaf = NULL;
    if (serial_hex != NULL)
        *serial_hex = NULL;
    if (ca == NULL || req == NULL || leaf == NULL || serial_hex == NULL ||
        req->public_key == NULL || req->sans == NULL || req->sans->n == 0 ||
        req->sans->n > IDENT_MAX_COUNT)
        return MC_ERR_INVALID;
    now = clock_now(ca->clock);
    /* A defaulted notBefore is backdated, as Let's Encrypt does (and as our intermediates
     * are): a verifier whose clock is a little behind ours, even time() on this machine,
     * which reads a coarser clock than clock_gettime, would otherwise see a fresh
     * certificate as not yet valid. The validity then still counts from now, not from
     * the backdated instant; from a notBefore the client asked for, it counts from that. */
    nb = req->not_before != 0 ? req->not_before : now - CA_BACKDATE_S;
    validity = req->validity != 0 ? req->validity : CA_DEFAULT_VALIDITY_S;
    if (nb < 0 || nb > CA_TIME_MAX || validity < 0)
        return MC_ERR_INVALID;
    if (req->not_after != 0)
        na = req->not_after;
    else {
        int64_t from = req->not_before != 0 ? nb : now;
        na = validity > CA_TIME_MAX - from ? CA_TIME_MAX : from + validity;
    }
    /* A certificate already expired when issued is a request error. */
    if (na <= nb || na <= now || na > CA_TIME_MAX)
        return MC_ERR_INVALID;
    err = pick_cn(req, &cn);
    if (err != MC_OK)
        return err;

    /* Distinct sequence numbers make distinct serials (a permutation), so no collision
     * check. A sequence number whose walk failed (about 1e-32) is skipped. A leaf that
     * then fails to build leaves its serial decodable, but nobody ever saw it. */
    pthread_mutex_lock(&ca->lock);
    err = ca->count >= CA_MAX_CERTS ? MC_ERR_LIMIT : MC_ERR_CRYPTO;
    for (int attempt = 0; err == MC_ERR_CRYPTO && attempt < 3; attempt++) {
        if (ca->next_seq > CA_SEQ_MAX) {
            err = MC_ERR_LIMIT;
            break;
        }
        if (serial_encode(ca, ca->next_seq++, na, serial))
            err = MC_OK;
    }
    pthread_mutex_unlock(&ca->lock);
    if (err != MC_OK)
        goto out;
    err = build_leaf(ca, req, cn, nb, na, serial, keep_key, &x);
    if (err == MC_OK)
        err = x509_serial_hex(x, serial_hex);
    if (err != MC_OK)
        goto out;
    pthread_mutex_lock(&ca->lock);
    err = exp_add(ca, na);
    pthread_mutex_unlock(&ca->lock);
    if (err != MC_OK) {
        free(*serial_hex);
        *serial_hex = NULL;
        goto out;
    }
    log_msg(LOGL_INFO, "ca.issue", "serial=%s names=%zu not_before=%lld not_after=%lld",
            *serial_hex, req->sans->n, (long long)nb, (long long)na);
    *leaf = x;
    x = NULL;
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "ca.issue");
    X509_free(x);
    return err;
}

enum mc_err ca_issue(struct ca *ca, const struct ca_issue_request *req, X509 **leaf,
                     char **serial_hex)
{
    return issue(ca, req, true, leaf, serial_hex);
}

enum mc_err ca_issue_pem(struct ca *ca, const struct ca_issue_request *req, char **leaf_pem,
                         char **serial_hex)
{
    X509 *x = NULL;
    enum mc_err err;

    if (leaf_pem == NULL)
        return MC_ERR_INVALID;
    *leaf_pem = NULL;
    err = issue(ca, req, false, &x, serial_hex);
    if (err == MC_OK)
        err = pem_write_cert(x, leaf_pem);
    if (err != MC_OK && serial_hex != NULL) {
        free(*serial_hex);
        *serial_hex = NULL;
    }
    X509_free(x);
    return err;
}

enum mc_err ca_chain_pem(const struct ca *ca, X509 *leaf, size_t chain, char **pem)
{
    char *leaf_pem = NULL;
    enum mc_err err;

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    if (ca == NULL || leaf == NULL)
        return MC_ERR_INVALID;
    if (chain >= ca->nchains)
        return MC_ERR_NOT_FOUND;
    err = pem_write_cert(leaf, &leaf_pem);
    if (err == MC_OK)
        err = ca_chain_pem_text(ca, leaf_pem, chain, pem);
    free(leaf_pem);
    return err;
}

enum mc_err ca_chain_pem_text(const struct ca *ca, const char *leaf_pem, size_t chain, char **pem)
{
    const struct ca_chain *ch;
    size_t len;
    char *buf;

    if (pem == NULL)
        return MC_ERR_INVALID;
    *pem = NULL;
    if (ca == NULL || leaf_pem == NULL)
        return MC_ERR_INVALID;
    if (chain >= ca->nchains)
        return MC_ERR_NOT_FOUND;
    ch = &ca->chains[chain];
    len = strlen(leaf_pem);
    /* PEM blocks are concatenated line by line: a leaf without its final newline would
     * glue its END line to the next BEGIN. */
    if (len == 0 || leaf_pem[len - 1] != '\n')
        return MC_ERR_INVALID;
    buf = malloc(len + ch->inter_pem_len + 1);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    memcpy(buf, leaf_pem, len);
    memcpy(buf + len, ch->inter_pem, ch->inter_pem_len + 1);
    *pem = buf;
    return MC_OK;
}

/* ---- revocation ---------------------------------------------------------------------- */

static bool reason_valid(int reason)
{
    return reason >= CA_REASON_UNSPECIFIED && reason <= CA_REASON_AA_COMPROMISE && reason != 7;
}

enum mc_err ca_revoke(struct ca *ca, const char *serial_hex, int reason)
{
    uint8_t serial[CA_SERIAL_BYTES];
    struct ca_entry *e = NULL;
    int64_t na;
    enum mc_err err;

    if (ca == NULL || !reason_valid(reason))
        return MC_ERR_INVALID;
    err = parse_serial_hex(serial_hex, serial);
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&ca->lock);
    if (!serial_live(ca, serial, &na))
        err = MC_ERR_NOT_FOUND;
    else
        err = reg_insert(ca, serial, na, &e); /* MC_ERR_EXISTS: revoked already */
    if (err == MC_OK) {
        e->revoked = true;
        e->reason = (int8_t)reason;
        e->revoked_at = clock_now(ca->clock);
        e->rprev = NULL;
        e->rnext = ca->revoked;
        if (ca->revoked != NULL)
            ca->revoked->rprev = e;
        ca->revoked = e;
        ca->crl_number++;
    }
    pthread_mutex_unlock(&ca->lock);
    if (err == MC_OK)
        log_msg(LOGL_INFO, "ca.revoke", "serial=%s reason=%d", serial_hex, reason);
    return err;
}

enum mc_err ca_status(struct ca *ca, const char *serial_hex, enum ca_status *status, int *reason,
                      int64_t *revoked_at)
{
    uint8_t serial[CA_SERIAL_BYTES];
    const struct ca_entry *e = NULL;
    int64_t na;
    enum mc_err err;

    if (ca == NULL || status == NULL)
        return MC_ERR_INVALID;
    *status = CA_STATUS_UNKNOWN;
    err = parse_serial_hex(serial_hex, serial);
    if (err == MC_ERR_NOT_FOUND)
        return MC_OK; /* too long to be ours: unknown */
    if (err != MC_OK)
        return err;
    pthread_mutex_lock(&ca->lock);
    if (serial_live(ca, serial, &na)) {
        e = reg_find(ca, serial);
        *status = e != NULL ? CA_STATUS_REVOKED : CA_STATUS_GOOD;
        if (e != NULL && reason != NULL)
            *reason = e->reason;
        if (e != NULL && revoked_at != NULL)
            *revoked_at = e->revoked_at;
    }
    pthread_mutex_unlock(&ca->lock);
    return MC_OK;
}

enum mc_err ca_not_after(struct ca *ca, const char *serial_hex, int64_t *not_after)
{
    uint8_t serial[CA_SERIAL_BYTES];
    int64_t na = 0;
    bool live;
    enum mc_err err;

    if (ca == NULL || not_after == NULL)
        return MC_ERR_INVALID;
    err = parse_serial_hex(serial_hex, serial);
    if (err != MC_OK)
        return err == MC_ERR_INVALID ? err : MC_ERR_NOT_FOUND;
    pthread_mutex_lock(&ca->lock);
    live = serial_live(ca, serial, &na);
    pthread_mutex_unlock(&ca->lock);
    if (live)
        *not_after = na;
    return live ? MC_OK : MC_ERR_NOT_FOUND;
}

size_t ca_prune(struct ca *ca)
{
    int64_t cutoff;
    size_t dropped = 0;
    bool crl_changed = false;

    if (ca == NULL)
        return 0;
    cutoff = clock_now(ca->clock) - CA_PRUNE_GRACE_S;
    pthread_mutex_lock(&ca->lock);
    dropped = exp_prune(ca, cutoff);
    /* The revoked entries of the certificates just counted out (already in dropped). */
    for (size_t b = 0; b < ca->nbuckets; b++) {
        struct ca_entry **pp = &ca->buckets[b];

        while (*pp != NULL) {
            struct ca_entry *e = *pp;

            if (e->not_after >= cutoff) {
                pp = &e->next;
                continue;
            }
            *pp = e->next;
            if (e->revoked) {
                reg_unlink_revoked(ca, e);
                crl_changed = true;
            }
            reg_release(ca, e);
            ca->nrev--;
        }
    }
    if (crl_changed)
        ca->crl_number++;
    pthread_mutex_unlock(&ca->lock);
    if (dropped > 0)
        log_msg(LOGL_INFO, "ca.prune", "dropped=%zu", dropped);
    return dropped;
}

/* ---- OCSP and CRL -------------------------------------------------------------------- */

/* Copies an i2d encoding into a malloc()ed buffer, so callers free it like every other
 * buffer of ours rather than with OPENSSL_free. */
static enum mc_err der_out(unsigned char *der, int len, uint8_t **out, size_t *n)
{
    if (der == NULL || len <= 0)
        return MC_ERR_CRYPTO;
    *out = malloc((size_t)len);
    if (*out == NULL)
        return MC_ERR_NOMEM;
    memcpy(*out, der, (size_t)len);
    *n = (size_t)len;
    return MC_OK;
}

/* True if cid names our issuing intermediate (issuerNameHash and issuerKeyHash under the
 * hash algorithm the client chose, SHA-1 in practice). */
static bool ocsp_our_issuer(const struct ca *ca, OCSP_CERTID *cid)
{
    ASN1_OBJECT *md_obj = NULL;
    const EVP_MD *md;
    OCSP_CERTID *ours;
    bool match;

    if (OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, cid) != 1 || md_obj == NULL)
        return false;
    md = EVP_get_digestbyobj(md_obj);
    if (md == NULL)
        return false;
    ours = OCSP_cert_to_id(md, NULL, issuing(ca)->cert);
    if (ours == NULL)
        return false;
    match = OCSP_id_issuer_cmp(ours, cid) == 0;
    OCSP_CERTID_free(ours);
    return match;
}

/* Signs a response for the parsed request; NULL with the reason in *err on failure. */
static OCSP_RESPONSE *ocsp_answer(struct ca *ca, OCSP_REQUEST *oreq, enum mc_err *err)
{
    const struct ca_issuer *is = issuing(ca);
    OCSP_BASICRESP *bs = NULL;
    OCSP_RESPONSE *ors = NULL;
    ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
    int count = OCSP_request_onereq_count(oreq);
    int64_t now = clock_now(ca->clock);

    *err = MC_ERR_NOMEM;
    bs = OCSP_BASICRESP_new();
    thisupd = ASN1_TIME_set(NULL, (time_t)now);
    nextupd = ASN1_TIME_set(NULL, (time_t)(now + CA_STATUS_LIFETIME_S));
    if (bs == NULL || thisupd == NULL || nextupd == NULL)
        goto out;
    *err = MC_ERR_CRYPTO;
    for (int i = 0; i < count; i++) {
        OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(oreq, i));
        ASN1_INTEGER *ai = NULL;
        uint8_t serial[CA_SERIAL_BYTES];
        const struct ca_entry *e = NULL;
        int st = V_OCSP_CERTSTATUS_UNKNOWN, reason = OCSP_REVOKED_STATUS_NOSTATUS;
        int64_t rev_at = 0;

        if (cid == NULL || OCSP_id_get0_info(NULL, NULL, NULL, &ai, cid) != 1)
            goto out;
        if (ocsp_our_issuer(ca, cid) && serial_from_asn1(ai, serial)) {
            int64_t na;

            pthread_mutex_lock(&ca->lock);
            if (serial_live(ca, serial, &na)) {
                e = reg_find(ca, serial);
                st = e != NULL ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
                /* RFC 5280 section 5.3.1: omit unspecified rather than send 0. */
                if (e != NULL && e->reason != CA_REASON_UNSPECIFIED)
                    reason = e->reason;
                if (e != NULL)
                    rev_at = e->revoked_at;
            }
            pthread_mutex_unlock(&ca->lock);
        }
        ASN1_TIME_free(revtime);
        revtime = NULL;
        if (st == V_OCSP_CERTSTATUS_REVOKED) {
            revtime = ASN1_TIME_set(NULL, (time_t)rev_at);
            if (revtime == NULL)
                goto out;
        }
        if (OCSP_basic_add1_status(bs, cid, st, reason, revtime, thisupd, nextupd) == NULL)
            goto out;
    }
    if (OCSP_copy_nonce(bs, oreq) <= 0)
        goto out;
    /* The signer certificate goes in, so `openssl ocsp` and clients that do not know the
     * issuer yet can find it; the ResponderID is by key, which is the same in every chain. */
    if (OCSP_basic_sign(bs, is->cert, is->key, sign_md(is->key), NULL, OCSP_RESPID_KEY) != 1)
        goto out;
    ors = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    if (ors != NULL)
        *err = MC_OK;
out:
    OCSP_BASICRESP_free(bs);
    ASN1_TIME_free(thisupd);
    ASN1_TIME_free(nextupd);
    ASN1_TIME_free(revtime);
    return ors;
}

enum mc_err ca_ocsp_respond(struct ca *ca, const uint8_t *req, size_t n, uint8_t **resp,
                            size_t *resp_len)
{
    OCSP_REQUEST *oreq = NULL;
    OCSP_RESPONSE *ors = NULL;
    unsigned char *der = NULL;
    int derlen;
    enum mc_err err = MC_OK;

    if (resp != NULL)
        *resp = NULL;
    if (resp_len != NULL)
        *resp_len = 0;
    if (ca == NULL || resp == NULL || resp_len == NULL || (req == NULL && n > 0))
        return MC_ERR_INVALID;
    if (n > 0 && n <= CA_OCSP_REQ_MAX) {
        const unsigned char *p = req;

        oreq = d2i_OCSP_REQUEST(NULL, &p, (long)n);
        /* Trailing bytes after the request make it malformed too. */
        if (oreq != NULL && p != req + n) {
            OCSP_REQUEST_free(oreq);
            oreq = NULL;
        }
    }
    if (oreq != NULL && OCSP_request_onereq_count(oreq) > 0 &&
        OCSP_request_onereq_count(oreq) <= CA_OCSP_IDS_MAX) {
        ors = ocsp_answer(ca, oreq, &err);
        if (err != MC_OK)
            goto out;
    } else {
        ERR_clear_error(); /* the parse failure is the client's, not ours to log */
        log_msg(LOGL_INFO, "ca.ocsp", "status=malformedRequest len=%zu", n);
        ors = OCSP_response_create(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, NULL);
    }
    err = MC_ERR_CRYPTO;
    if (ors == NULL)
        goto out;
    derlen = i2d_OCSP_RESPONSE(ors, &der);
    err = der_out(der, derlen, resp, resp_len);
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "ca.ocsp");
    OPENSSL_free(der);
    OCSP_RESPONSE_free(ors);
    OCSP_REQUEST_free(oreq);
    return err;
}

static X509_REVOKED *crl_entry(const struct ca_entry *e)
{
    X509_REVOKED *rev = X509_REVOKED_new();
    BIGNUM *bn = BN_bin2bn(e->serial, CA_SERIAL_BYTES, NULL);
    ASN1_INTEGER *ai = NULL;
    ASN1_TIME *when = ASN1_TIME_set(NULL, (time_t)e->revoked_at);
    ASN1_ENUMERATED *code = NULL;
    bool ok = false;

    if (rev == NULL || bn == NULL || when == NULL)
        goto out;
    ai = BN_to_ASN1_INTEGER(bn, NULL);
    if (ai == NULL || X509_REVOKED_set_serialNumber(rev, ai) != 1 ||
        X509_REVOKED_set_revocationDate(rev, when) != 1)
        goto out;
    /* RFC 5280 section 5.3.1: the reason code is absent rather than unspecified (0). */
    if (e->reason != CA_REASON_UNSPECIFIED) {
        code = ASN1_ENUMERATED_new();
        if (code == NULL || ASN1_ENUMERATED_set(code, e->reason) != 1 ||
            X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, code, 0, X509V3_ADD_DEFAULT) != 1)
            goto out;
    }
    ok = true;
out:
    BN_free(bn);
    ASN1_INTEGER_free(ai);
    ASN1_TIME_free(when);
    ASN1_ENUMERATED_free(code);
    if (!ok) {
        X509_REVOKED_free(rev);
        rev = NULL;
    }
    return rev;
}

enum mc_err ca_crl_der(struct ca *ca, uint8_t **der, size_t *n)
{
    const struct ca_issuer *is;
    X509_CRL *crl = NULL;
    ASN1_TIME *last = NULL, *next = NULL;
    ASN1_INTEGER *number = NULL;
    X509_EXTENSION *aki = NULL;
    X509V3_CTX ctx;
    unsigned char *enc = NULL;
    int enclen;
    uint64_t crl_number;
    int64_t now;
    enum mc_err err = MC_ERR_NOMEM;

    if (der != NULL)
        *der = NULL;
    if (n != NULL)
        *n = 0;
    if (ca == NULL || der == NULL || n == NULL)
        return MC_ERR_INVALID;
    is = issuing(ca);
    now = clock_now(ca->clock);
    crl = X509_CRL_new();
    last = ASN1_TIME_set(NULL, (time_t)now);
    next = ASN1_TIME_set(NULL, (time_t)(now + CA_STATUS_LIFETIME_S));
    number = ASN1_INTEGER_new();
    if (crl == NULL || last == NULL || next == NULL || number == NULL)
        goto out;
    err = MC_ERR_CRYPTO;
    if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
        X509_CRL_set_issuer_name(crl, X509_get_subject_name(is->cert)) != 1 ||
        X509_CRL_set1_lastUpdate(crl, last) != 1 || X509_CRL_set1_nextUpdate(crl, next) != 1)
        goto out;

    /* The entries and the number are read in one critical section, so the number always
     * names exactly this list. */
    pthread_mutex_lock(&ca->lock);
    crl_number = ca->crl_number;
    for (const struct ca_entry *e = ca->revoked; e != NULL; e = e->rnext) {
        X509_REVOKED *rev = crl_entry(e);

        if (rev == NULL || X509_CRL_add0_revoked(crl, rev) != 1) {
            X509_REVOKED_free(rev);
            pthread_mutex_unlock(&ca->lock);
            goto out;
        }
    }
    pthread_mutex_unlock(&ca->lock);

    if (X509_CRL_sort(crl) != 1 || ASN1_INTEGER_set_uint64(number, crl_number) != 1 ||
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, X509V3_ADD_DEFAULT) != 1)
        goto out;
    X509V3_set_ctx(&ctx, is->cert, NULL, NULL, crl, 0);
    aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
    if (aki == NULL || X509_CRL_add_ext(crl, aki, -1) != 1)
        goto out;
    if (X509_CRL_sign(crl, is->key, sign_md(is->key)) <= 0)
        goto out;
    enclen = i2d_X509_CRL(crl, &enc);
    err = der_out(enc, enclen, der, n);
out:
    if (err == MC_ERR_CRYPTO)
        log_openssl_errors(LOGL_ERROR, "ca.crl");
    OPENSSL_free(enc);
    X509_EXTENSION_free(aki);
    ASN1_INTEGER_free(number);
    ASN1_TIME_free(last);
    ASN1_TIME_free(next);
    X509_CRL_free(crl);
    return err;
}

size_t ca_registry_count(struct ca *ca)
{
    size_t n;

    if (ca == NULL)
        return 0;
    pthread_mutex_lock(&ca->lock);
    n = ca->count;
    pthread_mutex_unlock(&ca->lock);
    return n;
}
