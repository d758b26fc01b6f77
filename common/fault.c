/* common/fault.c: the protocol-free fault rule engine (see fault.h for the contract). */
#include "common/fault.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/json.h"
#include "common/prng.h"

/* A DNS name in presentation form with every octet escaped is under 1024 characters;
 * nothing a rule needs to match is longer. */
#define FAULT_MATCH_STR_MAX 1024

struct fault_rule {
    uint64_t id;
    struct fault_match match;
    struct fault_action action;
    cJSON *spec; /* our copy, or NULL */
    uint64_t matched;
    uint64_t fired;
};

struct fault_engine {
    pthread_mutex_t mu;
    uint64_t seed;
    struct prng prng;
    const struct mc_clock *clock; /* borrowed */
    struct fault_rule *rules[FAULT_MAX_RULES];
    size_t nrules;
    uint64_t next_id;
};

static void fault_rule_free(struct fault_rule *r)
{
    if (r == NULL)
        return;
    fault_match_clear(&r->match);
    cJSON_Delete(r->spec);
    free(r);
}

struct fault_engine *fault_engine_new(uint64_t seed, const struct mc_clock *clock)
{
    struct fault_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    if (pthread_mutex_init(&e->mu, NULL) != 0) {
        free(e);
        return NULL;
    }
    if (seed == 0)
        seed = prng_seed_from_os();
    e->seed = seed;
    prng_seed(&e->prng, seed);
    e->clock = clock;
    e->next_id = 1;
    return e;
}

void fault_engine_free(struct fault_engine *e)
{
    if (e == NULL)
        return;
    for (size_t i = 0; i < e->nrules; i++)
        fault_rule_free(e->rules[i]);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

uint64_t fault_engine_seed(const struct fault_engine *e)
{
    if (e == NULL)
        return 0;
    struct fault_engine *m = (struct fault_engine *)e;
    pthread_mutex_lock(&m->mu);
    uint64_t s = m->seed;
    pthread_mutex_unlock(&m->mu);
    return s;
}

void fault_engine_reseed(struct fault_engine *e, uint64_t seed)
{
    if (e == NULL)
        return;
    if (seed == 0)
        seed = prng_seed_from_os();
    pthread_mutex_lock(&e->mu);
    e->seed = seed;
    prng_seed(&e->prng, seed);
    for (size_t i = 0; i < e->nrules; i++) {
        e->rules[i]->matched = 0;
        e->rules[i]->fired = 0;
    }
    pthread_mutex_unlock(&e->mu);
}

void fault_match_clear(struct fault_match *m)
{
    if (m == NULL)
        return;
    free(m->target);
    free(m->kind);
    free(m->subject);
    memset(m, 0, sizeof(*m));
}

__attribute__((format(printf, 3, 4))) static void fault_seterr(char *err, size_t errn,
                                                               const char *fmt, ...)
{
    if (err == NULL || errn == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errn, fmt, ap);
    va_end(ap);
}

/* Copies the optional string member name into *out. */
static enum mc_err fault_parse_str(const cJSON *j, const char *name, char **out, char *err,
                                   size_t errn)
{
    const char *s = NULL;
    enum mc_err rc = json_get_string(j, name, &s);
    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK) {
        fault_seterr(err, errn, "%s must be a string", name);
        return MC_ERR_INVALID;
    }
    size_t len = strlen(s);
    if (len > FAULT_MATCH_STR_MAX) {
        fault_seterr(err, errn, "%s is too long", name);
        return MC_ERR_TOO_BIG;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return MC_ERR_NOMEM;
    memcpy(copy, s, len + 1);
    *out = copy;
    return MC_OK;
}

static enum mc_err fault_parse_int(const cJSON *j, const char *name, int64_t min, int64_t *out,
                                   char *err, size_t errn)
{
    enum mc_err rc = json_get_int(j, name, min, INT64_MAX, out);
    if (rc == MC_ERR_NOT_FOUND)
        return MC_OK;
    if (rc != MC_OK) {
        fault_seterr(err, errn, "%s must be %s", name,
                     min == 0 ? "a non-negative integer" : "an integer");
        return MC_ERR_INVALID;
    }
    return MC_OK;
}

enum mc_err fault_match_parse(const cJSON *j, struct fault_match *out, char *err, size_t errn)
{
    static const char *const known[] = {"target",      "kind",  "subject", "nth",     "every",
                                        "probability", "times", "from_ms", "until_ms"};
    struct fault_match m;
    enum mc_err rc = MC_ERR_INVALID;
    int64_t nth = 0, every = 0, times = 0, from_ms = 0, until_ms = 0;

    memset(&m, 0, sizeof(m));
    if (err != NULL && errn > 0)
        err[0] = '\0';
    if (out == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsObject(j)) {
        fault_seterr(err, errn, "%s", "a match must be a JSON object");
        goto out;
    }
    for (const cJSON *c = j->child; c != NULL; c = c->next) {
        bool ok = false;
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if (c->string != NULL && strcmp(c->string, known[i]) == 0)
                ok = true;
        }
        if (!ok) {
            /* A misspelled member would otherwise silently widen the rule. */
            fault_seterr(err, errn, "unknown member \"%.64s\"", c->string != NULL ? c->string : "");
            goto out;
        }
    }
    rc = fault_parse_str(j, "target", &m.target, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_str(j, "kind", &m.kind, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_str(j, "subject", &m.subject, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_int(j, "nth", 0, &nth, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_int(j, "every", 0, &every, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_int(j, "times", 0, &times, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_int(j, "from_ms", INT64_MIN, &from_ms, err, errn);
    if (rc == MC_OK)
        rc = fault_parse_int(j, "until_ms", INT64_MIN, &until_ms, err, errn);
    if (rc != MC_OK)
        goto out;
    rc = MC_ERR_INVALID;
    if (nth != 0 && every != 0) {
        fault_seterr(err, errn, "%s", "nth and every cannot be combined");
        goto out;
    }
    if (from_ms != 0 && until_ms != 0 && until_ms <= from_ms) {
        fault_seterr(err, errn, "%s", "until_ms must be after from_ms");
        goto out;
    }
    m.probability = 1.0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "probability");
    if (p != NULL && !cJSON_IsNull(p)) {
        if (!cJSON_IsNumber(p) || !isfinite(p->valuedouble) || !(p->valuedouble > 0.0) ||
            p->valuedouble > 1.0) {
            fault_seterr(err, errn, "%s", "probability must be a number in (0, 1]");
            goto out;
        }
        m.probability = p->valuedouble;
    }
    m.nth = (uint64_t)nth;
    m.every = (uint64_t)every;
    m.times = (uint64_t)times;
    m.from_ms = from_ms;
    m.until_ms = until_ms;
    *out = m;
    memset(&m, 0, sizeof(m));
    rc = MC_OK;
out:
    fault_match_clear(&m);
    return rc;
}

enum mc_err fault_engine_add(struct fault_engine *e, struct fault_match *m,
                             const struct fault_action *a, const cJSON *spec, uint64_t *id)
{
    enum mc_err rc = MC_OK;
    struct fault_rule *r = NULL;

    if (e == NULL || m == NULL) {
        fault_match_clear(m);
        return MC_ERR_INVALID;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        rc = MC_ERR_NOMEM;
        goto out;
    }
    if (spec != NULL) {
        r->spec = cJSON_Duplicate(spec, 1);
        if (r->spec == NULL) {
            rc = MC_ERR_NOMEM;
            goto out;
        }
    }
    if (a != NULL)
        r->action = *a;
    /* Ownership of the strings moves now, success or not, so that no caller leaks them
     * on an error path; fault_match_clear on the zeroed *m stays harmless. */
    r->match = *m;
    memset(m, 0, sizeof(*m));

    pthread_mutex_lock(&e->mu);
    if (e->nrules >= FAULT_MAX_RULES) {
        rc = MC_ERR_LIMIT;
    } else {
        r->id = e->next_id++;
        e->rules[e->nrules++] = r;
        if (id != NULL)
            *id = r->id;
        r = NULL;
    }
    pthread_mutex_unlock(&e->mu);
out:
    fault_match_clear(m);
    fault_rule_free(r);
    return rc;
}

enum mc_err fault_engine_remove(struct fault_engine *e, uint64_t id)
{
    enum mc_err rc = MC_ERR_NOT_FOUND;
    struct fault_rule *gone = NULL;

    if (e == NULL)
        return MC_ERR_INVALID;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nrules; i++) {
        if (e->rules[i]->id == id) {
            gone = e->rules[i];
            memmove(&e->rules[i], &e->rules[i + 1], (e->nrules - i - 1) * sizeof(e->rules[0]));
            e->nrules--;
            rc = MC_OK;
            break;
        }
    }
    pthread_mutex_unlock(&e->mu);
    fault_rule_free(gone);
    return rc;
}

void fault_engine_clear(struct fault_engine *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nrules; i++) {
        fault_rule_free(e->rules[i]);
        e->rules[i] = NULL;
    }
    e->nrules = 0;
    pthread_mutex_unlock(&e->mu);
}

bool fault_glob_match(const char *pattern, const char *s)
{
    if (pattern == NULL || strcmp(pattern, "*") == 0)
        return true;
    if (s == NULL)
        return false;
    size_t plen = strlen(pattern);
    size_t slen = strlen(s);
    if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* "*.suffix": at least one byte before ".suffix", so "suffix" and ".suffix" do
         * not match, as a DNS wildcard would not cover its own owner name. */
        const char *suffix = pattern + 1;
        size_t sufl = plen - 1;
        return slen > sufl && strcasecmp(s + slen - sufl, suffix) == 0;
    }
    if (pattern[plen - 1] == '*') {
        size_t prel = plen - 1;
        return slen >= prel && strncasecmp(s, pattern, prel) == 0;
    }
    return strcasecmp(pattern, s) == 0;
}

/* Does the event meet the rule's non-counting conditions? */
static bool fault_rule_selects(const struct fault_rule *r, const char *target, const char *kind,
                               const char *subject, int64_t now_ms)
{
    const struct fault_match *m = &r->match;
    if (!fault_glob_match(m->target, target))
        return false;
    if (m->kind != NULL && (kind == NULL || strcasecmp(m->kind, kind) != 0))
        return false;
    if (m->subject != NULL && (subject == NULL || strcmp(m->subject, subject) != 0))
        return false;
    if (m->from_ms != 0 && now_ms < m->from_ms)
        return false;
    if (m->until_ms != 0 && now_ms >= m->until_ms)
        return false;
    return true;
}

bool fault_engine_empty(struct fault_engine *e)
{
    size_t n;

    if (e == NULL)
        return true;
    pthread_mutex_lock(&e->mu);
    n = e->nrules;
    pthread_mutex_unlock(&e->mu);
    return n == 0;
}

bool fault_engine_check(struct fault_engine *e, const char *target, const char *kind,
                        const char *subject, struct fault_action *out, uint64_t *rule_id)
{
    bool fired = false;

    if (e == NULL)
        return false;
    pthread_mutex_lock(&e->mu);
    if (e->nrules == 0)
        goto out;
    int64_t now_ms = clock_now_ms(e->clock);
    for (size_t i = 0; i < e->nrules; i++) {
        struct fault_rule *r = e->rules[i];
        const struct fault_match *m = &r->match;
        if (!fault_rule_selects(r, target, kind, subject, now_ms))
            continue;
        r->matched++;
        if (m->times != 0 && r->fired >= m->times)
            continue;
        if (m->nth != 0 && r->matched != m->nth)
            continue;
        if (m->every != 0 && r->matched % m->every != 0)
            continue;
        /* Draw only now, after every deterministic condition passed, so a rule that does
         * not apply never shifts another rule's random sequence. A probability of 0 (a
         * zeroed struct from a server that did not set it) means "unset", like the other
         * 0 = off fields; fault_match_parse never yields it. */
        if (m->probability > 0.0 && m->probability < 1.0 && !(prng_unit(&e->prng) < m->probability))
            continue;
        r->fired++;
        if (out != NULL)
            *out = r->action;
        if (rule_id != NULL)
            *rule_id = r->id;
        fired = true;
        break;
    }
out:
    pthread_mutex_unlock(&e->mu);
    return fired;
}

cJSON *fault_engine_list(struct fault_engine *e)
{
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL || e == NULL)
        return arr;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < e->nrules; i++) {
        const struct fault_rule *r = e->rules[i];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            goto fail;
        cJSON_AddItemToArray(arr, o);
        cJSON *spec = r->spec != NULL ? cJSON_Duplicate(r->spec, 1) : cJSON_CreateNull();
        if (spec == NULL)
            goto fail;
        /* Counters are exact as doubles up to 2^53, far beyond any run. */
        if (cJSON_AddNumberToObject(o, "id", (double)r->id) == NULL)
            goto fail_spec;
        cJSON_AddItemToObject(o, "spec", spec);
        if (cJSON_AddNumberToObject(o, "matched", (double)r->matched) == NULL ||
            cJSON_AddNumberToObject(o, "fired", (double)r->fired) == NULL)
            goto fail;
        continue;
    fail_spec:
        cJSON_Delete(spec);
        goto fail;
    }
    pthread_mutex_unlock(&e->mu);
    return arr;
fail:
    pthread_mutex_unlock(&e->mu);
    cJSON_Delete(arr);
    return NULL;
}
