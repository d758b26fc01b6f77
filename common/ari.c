/* common/ari.c: the ARI certificate identifier (RFC 9773 section 4.1). */
#include "common/ari.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>

#include "common/b64url.h"
#include "common/x509.h"

/* True if b[0..n) is the content octets of a positive DER INTEGER (X.690 section 8.3.2:
 * minimal two's complement). Zero is refused too: RFC 5280 section 4.1.2.2 wants a
 * positive serial, so no certificate of a conforming CA has it. */
static bool serial_octets_ok(const uint8_t *b, size_t n)
{
    if (n == 0)
        return false;
    if (b[0] & 0x80)
        return false; /* negative: a positive value with the high bit set needs a 0x00 */
    if (b[0] == 0x00) {
        if (n == 1)
            return false; /* zero */
        if ((b[1] & 0x80) == 0)
            return false; /* a leading 0x00 that DER forbids */
    }
    return true;
}

/* The serial's INTEGER content octets exactly as DER carries them (the 0x00 before a high
 * bit kept): the value part of i2d's encoding, since OpenSSL 3 no longer exports i2c. */
static enum mc_err serial_octets(X509 *cert, uint8_t **out, size_t *n)
{
    const ASN1_INTEGER *ai = X509_get0_serialNumber(cert);
    unsigned char *der = NULL;
    const unsigned char *p;
    long clen = 0;
    int len, tag = 0, xclass = 0, ret;
    enum mc_err err = MC_ERR_INVALID;

    *out = NULL;
    *n = 0;
    if (ai == NULL)
        return MC_ERR_INVALID;
    len = i2d_ASN1_INTEGER(ai, &der);
    if (len <= 0)
        goto out;
    p = der;
    ret = ASN1_get_object(&p, &clen, &tag, &xclass, len);
    /* 0: primitive, definite length, no error (0x80 error, 0x20 constructed). */
    if (ret != 0 || tag != V_ASN1_INTEGER || xclass != V_ASN1_UNIVERSAL || clen <= 0 ||
        p + clen != der + len)
        goto out;
    err = MC_ERR_NOMEM;
    *out = malloc((size_t)clen);
    if (*out == NULL)
        goto out;
    memcpy(*out, p, (size_t)clen);
    *n = (size_t)clen;
    err = MC_OK;
out:
    OPENSSL_free(der);
    return err;
}

enum mc_err ari_cert_id(X509 *cert, char **out)
{
    uint8_t *aki = NULL, *serial = NULL;
    size_t aki_len = 0, serial_len = 0, a, s;
    char *aki_b64 = NULL, *serial_b64 = NULL;
    enum mc_err err;

    if (cert == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    err = x509_aki(cert, &aki, &aki_len);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_NOT_FOUND; /* an AKI extension with only issuer and serial, no keyid */
    if (aki_len == 0)
        goto out;
    err = serial_octets(cert, &serial, &serial_len);
    if (err != MC_OK)
        goto out;
    /* A negative or zero serial would give an identifier that ari_parse_id refuses; such
     * a certificate breaks RFC 5280, so it has no identifier here. */
    err = MC_ERR_INVALID;
    if (!serial_octets_ok(serial, serial_len))
        goto out;
    err = b64url_encode(aki, aki_len, &aki_b64);
    if (err != MC_OK)
        goto out;
    err = b64url_encode(serial, serial_len, &serial_b64);
    if (err != MC_OK)
        goto out;
    a = strlen(aki_b64);
    s = strlen(serial_b64);
    err = MC_ERR_NOMEM;
    *out = malloc(a + 1 + s + 1);
    if (*out == NULL)
        goto out;
    memcpy(*out, aki_b64, a);
    (*out)[a] = '.';
    memcpy(*out + a + 1, serial_b64, s + 1);
    err = MC_OK;
out:
    free(aki);
    free(serial);
    free(aki_b64);
    free(serial_b64);
    return err;
}

enum mc_err ari_parse_id(const char *id, uint8_t **aki, size_t *aki_len, uint8_t **serial,
                         size_t *serial_len)
{
    uint8_t *a = NULL, *s = NULL;
    size_t an = 0, sn = 0, len;
    const char *dot;
    enum mc_err err;

    if (aki == NULL || aki_len == NULL || serial == NULL || serial_len == NULL)
        return MC_ERR_INVALID;
    *aki = NULL;
    *serial = NULL;
    *aki_len = 0;
    *serial_len = 0;
    if (id == NULL)
        return MC_ERR_INVALID;
    len = strnlen(id, ARI_ID_MAX + 1);
    if (len > ARI_ID_MAX)
        return MC_ERR_INVALID;
    dot = memchr(id, '.', len);
    /* Exactly one '.', with something on each side. b64url_decode would refuse a second
     * '.' anyway; checking here says why. */
    if (dot == NULL || dot == id || dot == id + len - 1 ||
        memchr(dot + 1, '.', len - (size_t)(dot + 1 - id)) != NULL)
        return MC_ERR_INVALID;
    err = b64url_decode(id, (size_t)(dot - id), &a, &an);
    if (err != MC_OK)
        goto out;
    err = b64url_decode(dot + 1, len - (size_t)(dot + 1 - id), &s, &sn);
    if (err != MC_OK)
        goto out;
    err = MC_ERR_INVALID;
    if (an == 0 || !serial_octets_ok(s, sn))
        goto out;
    *aki = a;
    *aki_len = an;
    *serial = s;
    *serial_len = sn;
    a = NULL;
    s = NULL;
    err = MC_OK;
out:
    free(a);
    free(s);
    return err;
}

enum mc_err ari_serial_hex(const uint8_t *serial, size_t n, char **hex)
{
    static const char digits[] = "0123456789abcdef";
    size_t i = 0, o = 0;
    char *h;

    if (hex == NULL)
        return MC_ERR_INVALID;
    *hex = NULL;
    if (serial == NULL || n == 0)
        return MC_ERR_INVALID;
    while (i + 1 < n && serial[i] == 0x00)
        i++;
    h = malloc(2 * (n - i) + 1);
    if (h == NULL)
        return MC_ERR_NOMEM;
    /* No leading zero digit, as x509_serial_hex writes it ("1" for 0x01, "0" for zero). */
    if (serial[i] >= 0x10)
        h[o++] = digits[serial[i] >> 4];
    h[o++] = digits[serial[i] & 0x0f];
    for (i++; i < n; i++) {
        h[o++] = digits[serial[i] >> 4];
        h[o++] = digits[serial[i] & 0x0f];
    }
    h[o] = '\0';
    *hex = h;
    return MC_OK;
}
