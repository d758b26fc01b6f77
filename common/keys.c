/* common/keys.c: key types, generation, classification, PEM load and save (OpenSSL 3 EVP). */
#include "common/keys.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "common/file.h"
#include "common/log.h"
#include "common/pem.h"

struct key_name {
    const char *name;
    enum key_type type;
};

/* The first spelling of each type is its canonical name (key_type_name). */
static const struct key_name key_names[] = {
    {"rsa2048", KEY_RSA2048}, {"rsa3072", KEY_RSA3072}, {"rsa4096", KEY_RSA4096},
    {"rsa8192", KEY_RSA8192}, {"ec256", KEY_EC_P256},   {"ec384", KEY_EC_P384},
    {"ec521", KEY_EC_P521},   {"ed25519", KEY_ED25519}, {"p256", KEY_EC_P256},
    {"p384", KEY_EC_P384},    {"p521", KEY_EC_P521},
};

enum mc_err key_type_parse(const char *name, enum key_type *out)
{
    if (name == NULL || out == NULL)
        return MC_ERR_INVALID;
    for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
        if (strcasecmp(name, key_names[i].name) == 0) {
            *out = key_names[i].type;
            return MC_OK;
        }
    }
    return MC_ERR_UNSUPPORTED;
}

const char *key_type_name(enum key_type t)
{
    for (size_t i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
        if (key_names[i].type == t)
            return key_names[i].name;
    }
    return "unknown";
}

enum mc_err key_generate(enum key_type t, EVP_PKEY **out)
{
    EVP_PKEY *k = NULL;

    if (out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    switch (t) {
    case KEY_RSA2048:
        k = EVP_RSA_gen(2048);
        break;
    case KEY_RSA3072:
        k = EVP_RSA_gen(3072);
        break;
    case KEY_RSA4096:
        k = EVP_RSA_gen(4096);
        break;
    case KEY_RSA8192:
        k = EVP_RSA_gen(8192);
        break;
    case KEY_EC_P256:
        k = EVP_EC_gen("P-256");
        break;
    case KEY_EC_P384:
        k = EVP_EC_gen("P-384");
        break;
    case KEY_EC_P521:
        k = EVP_EC_gen("P-521");
        break;
    case KEY_ED25519:
        k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    default:
        return MC_ERR_UNSUPPORTED;
    }
    if (k == NULL) {
        log_openssl_errors(LOGL_ERROR, "keys.generate");
        return MC_ERR_CRYPTO;
    }
    *out = k;
    return MC_OK;
}

/* The curve of an EC key as a key_type; the group name is what OpenSSL 3 reports for
 * the named curves (SN "prime256v1", "secp384r1", "secp521r1"). */
static enum mc_err classify_ec(EVP_PKEY *key, enum key_type *out)
{
    char group[64];
    size_t glen = 0;

    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                       &glen) != 1) {
        log_openssl_errors(LOGL_DEBUG, "keys.classify");
        return MC_ERR_UNSUPPORTED;
    }
    if (strcmp(group, SN_X9_62_prime256v1) == 0 || strcmp(group, "P-256") == 0)
        *out = KEY_EC_P256;
    else if (strcmp(group, SN_secp384r1) == 0 || strcmp(group, "P-384") == 0)
        *out = KEY_EC_P384;
    else if (strcmp(group, SN_secp521r1) == 0 || strcmp(group, "P-521") == 0)
        *out = KEY_EC_P521;
    else
        return MC_ERR_UNSUPPORTED;
    return MC_OK;
}

/* key_classify's answers, kept on the key itself as ex_data: asking OpenSSL for an EC key's
 * curve by name cost about 2 us per call in load profiles, and the CA and the client
 * classify the same account key on every request (alg checks before signing and
 * verifying). The value is the type + 1, so 0 (never set) means "not known yet". A key's
 * type cannot change, so the answer never goes stale. OpenSSL does not lock ex_data, hence
 * the mutex: the same account key is used by several server threads at once. */
static pthread_once_t kc_once = PTHREAD_ONCE_INIT;
static int kc_index = -1;
static pthread_mutex_t kc_mu = PTHREAD_MUTEX_INITIALIZER;

static void kc_init(void)
{
    kc_index = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static bool kc_get(EVP_PKEY *key, enum key_type *out)
{
    uintptr_t v;

    pthread_once(&kc_once, kc_init);
    if (kc_index < 0)
        return false;
    pthread_mutex_lock(&kc_mu);
    v = (uintptr_t)EVP_PKEY_get_ex_data(key, kc_index);
    pthread_mutex_unlock(&kc_mu);
    if (v == 0)
        return false;
    *out = (enum key_type)(v - 1);
    return true;
}

/* Best effort: a key that cannot hold the note is classified again next time. */
static void kc_put(EVP_PKEY *key, enum key_type t)
{
    if (kc_index < 0)
        return;
    pthread_mutex_lock(&kc_mu);
    if (EVP_PKEY_set_ex_data(key, kc_index, (void *)(uintptr_t)((unsigned)t + 1)) != 1)
        ERR_clear_error();
    pthread_mutex_unlock(&kc_mu);
}

static enum mc_err key_classify_uncached(EVP_PKEY *key, enum key_type *out)
{
    int bits;

    /* get_base_id, not get_id: RSA-PSS keys have their own id and are not taken. */
    switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
        bits = EVP_PKEY_get_bits(key);
        if (bits < 2048 || bits > 8192 || bits % 8 != 0)
            return MC_ERR_UNSUPPORTED;
        if (bits >= 8192)
            *out = KEY_RSA8192;
        else if (bits >= 4096)
            *out = KEY_RSA4096;
        else if (bits >= 3072)
            *out = KEY_RSA3072;
        else
            *out = KEY_RSA2048;
        return MC_OK;
    case EVP_PKEY_EC:
        return classify_ec(key, out);
    case EVP_PKEY_ED25519:
        *out = KEY_ED25519;
        return MC_OK;
    default:
        return MC_ERR_UNSUPPORTED;
    }
}

enum mc_err key_classify(EVP_PKEY *key, enum key_type *out)
{
    enum key_type t;
    enum mc_err err;

    if (key == NULL || out == NULL)
        return MC_ERR_INVALID;
    if (kc_get(key, out))
        return MC_OK;
    err = key_classify_uncached(key, &t);
    if (err != MC_OK)
        return err;
    kc_put(key, t);
    *out = t;
    return MC_OK;
}

int key_bits(EVP_PKEY *key)
{
    if (key == NULL)
        return 0;
    /* OpenSSL reports 253 "security-relevant" bits for Ed25519; callers want the
     * curve size, which is 256 (a 32-byte key). */
    if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
        return 256;
    return EVP_PKEY_get_bits(key);
}

enum mc_err key_load(const char *path, EVP_PKEY **out)
{
    char *pem = NULL;
    size_t len = 0;
    enum mc_err err;

    if (path == NULL || out == NULL)
        return MC_ERR_INVALID;
    *out = NULL;
    err = file_read_all(path, PEM_MAX_LEN, &pem, &len);
    if (err != MC_OK)
        goto out;
    err = pem_read_private_key(pem, len, out);
out:
    if (pem != NULL) {
        OPENSSL_cleanse(pem, len);
        free(pem);
    }
    return err;
}

enum mc_err key_save(const char *path, EVP_PKEY *key)
{
    char *pem = NULL;
    enum mc_err err;

    if (path == NULL || key == NULL)
        return MC_ERR_INVALID;
    err = pem_write_private_key(key, &pem);
    if (err != MC_OK)
        goto out;
    err = file_write_atomic(path, pem, strlen(pem), 0600);
out:
    if (pem != NULL) {
        /* The PEM is the private key: wipe it before the memory goes back. */
        OPENSSL_cleanse(pem, strlen(pem));
        free(pem);
    }
    return err;
}
