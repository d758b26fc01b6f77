/* libFuzzer target: any bytes as a flattened JWS body through jws_parse, the way an ACME
 * server receives every POST. When the parse succeeds it also imports protected["jwk"]
 * (the newAccount path), verifies with that key when it imported, and verifies as an
 * HMAC with a fixed key (the External Account Binding path). An imported key must also
 * export, thumbprint and re-import as the same key, or account lookup by key would break;
 * the target abort()s when it does not. Everything is freed on every path, so
 * LeakSanitizer reports any leak in jose.c. Seeds: corpus/jws/. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "common/jose.h"
#include "common/log.h"

/* The HMAC key the seed corpus's HS256 JWS was made with, so that the seed reaches a
 * successful compare and mutations of it reach the failing one. */
static const uint8_t fz_mac_key[] = "mockca-fuzz-eab-hmac-key-32bytes";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct jws *j = NULL;
    EVP_PKEY *key = NULL, *again = NULL;
    cJSON *exported = NULL;
    char *thumb = NULL;
    const cJSON *jwk;

    if (!ready) {
        log_set_stream(NULL); /* failures are the point; do not drown the fuzzer output */
        ready = 1;
    }
    ERR_clear_error(); /* each input starts clean, so a crash reproduces alone */

    if (jws_parse((const char *)data, size, &j) != MC_OK)
        goto out;
    jwk = cJSON_GetObjectItemCaseSensitive(j->protected, "jwk");
    if (jwk != NULL && jwk_from_json(jwk, &key) == MC_OK) {
        /* The result does not matter, only that every path is clean. */
        (void)!jws_verify(j, key);
        if (jwk_to_json(key, &exported) != MC_OK || jwk_from_json(exported, &again) != MC_OK ||
            !jwk_equal(key, again) || jwk_thumbprint(key, &thumb) != MC_OK)
            abort();
    }
    (void)!jws_verify_hmac(j, fz_mac_key, sizeof(fz_mac_key) - 1);
out:
    free(thumb);
    cJSON_Delete(exported);
    EVP_PKEY_free(again);
    EVP_PKEY_free(key);
    jws_free(j);
    return 0;
}
