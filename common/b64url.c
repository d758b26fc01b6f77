/* b64url.c: strict base64url without padding (RFC 4648 section 5). */
#include "common/b64url.h"

#include <stdlib.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* -1 for a byte outside the alphabet. */
static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

size_t b64url_encoded_len(size_t n)
{
    return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

enum mc_err b64url_encode(const uint8_t *in, size_t n, char **out)
{
    size_t len = b64url_encoded_len(n);
    char *s = malloc(len + 1);
    size_t i = 0, o = 0;

    *out = NULL;
    if (s == NULL)
        return MC_ERR_NOMEM;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        s[o++] = b64url_alphabet[v >> 18];
        s[o++] = b64url_alphabet[(v >> 12) & 63];
        s[o++] = b64url_alphabet[(v >> 6) & 63];
        s[o++] = b64url_alphabet[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        s[o++] = b64url_alphabet[v >> 18];
        s[o++] = b64url_alphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        s[o++] = b64url_alphabet[v >> 18];
        s[o++] = b64url_alphabet[(v >> 12) & 63];
        s[o++] = b64url_alphabet[(v >> 6) & 63];
    }
    s[o] = '\0';
    *out = s;
    return MC_OK;
}

enum mc_err b64url_decode(const char *in, size_t n, uint8_t **out, size_t *outlen)
{
    uint8_t *buf = NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;

    *out = NULL;
    *outlen = 0;
    /* One leftover character carries only 6 bits: never a whole byte. */
    if (n % 4 == 1)
        return MC_ERR_INVALID;
    buf = malloc(n / 4 * 3 + 3);
    if (buf == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) {
            free(buf);
            return MC_ERR_INVALID;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* Leftover bits must be zero, so every byte string has one encoding only. */
    if (acc != 0) {
        free(buf);
        return MC_ERR_INVALID;
    }
    buf[o] = '\0';
    *out = buf;
    *outlen = o;
    return MC_OK;
}

int b64url_is_alphabet(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b64url_value((unsigned char)s[i]) < 0)
            return 0;
    }
    return 1;
}
