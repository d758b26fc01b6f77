/* json.h: parsing with caps, and typed getters over cJSON. Build every body with cJSON,
 * never with printf, so strings are always escaped. */
#ifndef MC_JSON_H
#define MC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

#define JSON_DEFAULT_MAX_LEN (64 * 1024)
#define JSON_DEFAULT_MAX_DEPTH 16

/* Parses text[0..len) (need not be NUL-terminated) into *out (caller frees with
 * cJSON_Delete). MC_ERR_TOO_BIG if len > max_len or nesting deeper than max_depth;
 * MC_ERR_INVALID for syntax errors, trailing non-space bytes, embedded NUL bytes, and
 * objects with duplicate member names (RFC 7515 section 4 lets us reject those, and we
 * do everywhere so that no two readers disagree on a value). */
MC_MUST_CHECK enum mc_err json_parse(const char *text, size_t len, size_t max_len, int max_depth,
                                     cJSON **out);

/* Typed getters. obj must be an object. Each returns MC_ERR_NOT_FOUND when key is absent
 * (or JSON null), MC_ERR_INVALID when present with the wrong type, else MC_OK with the
 * value in *out. Strings are borrowed from obj. Member names are case-sensitive. */
MC_MUST_CHECK enum mc_err json_get_string(const cJSON *obj, const char *key, const char **out);
MC_MUST_CHECK enum mc_err json_get_bool(const cJSON *obj, const char *key, bool *out);
/* An integral number in [min, max]; a fraction or an out-of-range value is MC_ERR_INVALID. */
MC_MUST_CHECK enum mc_err json_get_int(const cJSON *obj, const char *key, int64_t min, int64_t max,
                                       int64_t *out);
MC_MUST_CHECK enum mc_err json_get_object(const cJSON *obj, const char *key, const cJSON **out);
MC_MUST_CHECK enum mc_err json_get_array(const cJSON *obj, const char *key, const cJSON **out);

/* Prints j compactly into a new string in *out (caller frees with free()). */
MC_MUST_CHECK enum mc_err json_print(const cJSON *j, char **out);

#endif
