/* libFuzzer target: any bytes through json_parse with a small cap (4096 bytes, depth 8),
 * then every typed getter on every top-level member, fault_match_parse on the value, and
 * a print/parse round trip. The round trip is an invariant, not a smoke test: what we
 * print must parse again under the same depth cap and print to the same text, or two
 * readers of one body could disagree; the target abort()s when it does not.
 * Seeds: corpus/json/. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common/fault.h"
#include "common/json.h"
#include "common/log.h"

#define FZ_MAX_LEN 4096
#define FZ_MAX_DEPTH 8

static volatile size_t fz_sink;

/* Calls each getter on member key of obj with a few integer ranges, including the
 * extremes where the double-to-int64 conversion is delicate. */
static void fz_getters(const cJSON *obj, const char *key)
{
    const char *s = NULL;
    bool b = false;
    int64_t i = 0;
    const cJSON *sub = NULL;

    /* Read the borrowed string to its end, so ASan sees a bad pointer or terminator. */
    if (json_get_string(obj, key, &s) == MC_OK)
        fz_sink += strlen(s);
    (void)!json_get_bool(obj, key, &b);
    (void)!json_get_int(obj, key, INT64_MIN, INT64_MAX, &i);
    (void)!json_get_int(obj, key, 0, 100, &i);
    (void)!json_get_int(obj, key, -1, -1, &i);
    (void)!json_get_object(obj, key, &sub);
    (void)!json_get_array(obj, key, &sub);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    cJSON *root = NULL, *again = NULL;
    char *text = NULL, *text2 = NULL;
    struct fault_match m;
    char err[128];

    if (!ready) {
        log_set_stream(NULL);
        ready = 1;
    }
    memset(&m, 0, sizeof(m));
    if (json_parse((const char *)data, size, FZ_MAX_LEN, FZ_MAX_DEPTH, &root) != MC_OK)
        goto out;

    /* Getters on a non-object must refuse cleanly too, so run them on every root. */
    fz_getters(root, "");
    fz_getters(root, "absent");
    if (cJSON_IsObject(root)) {
        for (const cJSON *c = root->child; c != NULL; c = c->next) {
            if (c->string != NULL)
                fz_getters(root, c->string);
        }
    }

    if (fault_match_parse(root, &m, err, sizeof(err)) == MC_OK) {
        /* The parser promised these; a violation is a bug in fault.c. */
        if (!(m.probability > 0.0 && m.probability <= 1.0) || (m.nth != 0 && m.every != 0))
            abort();
    }
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort(); /* the error text must always be terminated */
    fault_match_clear(&m);

    if (json_print(root, &text) != MC_OK)
        abort(); /* only out of memory, which libFuzzer's -rss_limit turns into a report */
    /* Printing can grow the text ("1e9" prints as "1000000000"), so the length cap of the
     * second parse is the printed length; the depth cap stays, as printing keeps nesting. */
    size_t n = strlen(text);
    if (json_parse(text, n, n, FZ_MAX_DEPTH, &again) != MC_OK) {
        fprintf(stderr, "round trip: printed text does not parse: %s\n", text);
        abort();
    }
    if (json_print(again, &text2) != MC_OK)
        abort();
    if (strcmp(text, text2) != 0) {
        fprintf(stderr, "round trip: %s\nprinted again as: %s\n", text, text2);
        abort();
    }
out:
    fault_match_clear(&m);
    free(text);
    free(text2);
    cJSON_Delete(root);
    cJSON_Delete(again);
    return 0;
}
