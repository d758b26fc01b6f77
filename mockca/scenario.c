/* scenario.c: the scenario file, parsed strictly (scenario.h). */
#include "mockca/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fault.h"
#include "common/file.h"
#include "common/json.h"

#define SCN_DEPTH 24
#define SCN_MAX_TIMEOUT 3600
#define SCN_MAX_ADVANCE_MS (3650LL * 86400 * 1000) /* ten years */

/* Writes "path: message" into err and returns MC_ERR_INVALID. */
static enum mc_err scn_fail(char *err, size_t errn, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum mc_err scn_fail(char *err, size_t errn, const char *path, const char *fmt, ...)
{
    char msg[384];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err != NULL && errn > 0)
        snprintf(err, errn, "%s: %s", path, msg);
    return MC_ERR_INVALID;
}

/* Every member of obj must be one of names. */
static enum mc_err scn_members(const cJSON *obj, const char *path, const char *const *names,
                               char *err, size_t errn)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, obj)
    {
        bool known = false;
        for (size_t i = 0; names[i] != NULL; i++)
            if (strcmp(c->string, names[i]) == 0)
                known = true;
        if (!known)
            return scn_fail(err, errn, path, "unknown member \"%s\"", c->string);
    }
    return MC_OK;
}

static enum mc_err scn_strdup(const char *s, char **out)
{
    *out = strdup(s);
    return *out == NULL ? MC_ERR_NOMEM : MC_OK;
}

/* A string member (optional unless required): non-empty, at most SCN_MAX_STRING. */
static enum mc_err scn_string(const cJSON *obj, const char *key, const char *path, bool required,
                              char **out, char *err, size_t errn)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    char p[128];

    snprintf(p, sizeof(p), "%s%s%s", path, path[0] != '\0' ? "." : "", key);
    if (c == NULL || cJSON_IsNull(c))
        return required ? scn_fail(err, errn, p, "required") : MC_OK;
    if (!cJSON_IsString(c))
        return scn_fail(err, errn, p, "want a string");
    if (c->valuestring[0] == '\0' || strlen(c->valuestring) > SCN_MAX_STRING)
        return scn_fail(err, errn, p, "want 1 to %d characters", SCN_MAX_STRING);
    return scn_strdup(c->valuestring, out);
}

static bool scn_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > SCN_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

bool scn_count_ok(const struct scn_count *c, int64_t v)
{
    switch (c->op) {
    case SCN_EQ:
        return v == c->n;
    case SCN_GE:
        return v >= c->n;
    case SCN_LE:
        return v <= c->n;
    case SCN_GT:
        return v > c->n;
    case SCN_LT:
        return v < c->n;
    }
    return false;
}

const char *scn_count_str(const struct scn_count *c, char *buf, size_t n)
{
    static const char *const ops[] = {"", "==", ">=", "<=", ">", "<"};

    snprintf(buf, n, "%s%" PRId64, c->op >= SCN_EQ && c->op <= SCN_LT ? ops[c->op] : "?", c->n);
    return buf;
}

static enum mc_err scn_count(const cJSON *c, const char *path, struct scn_count *out, char *err,
                             size_t errn)
{
    const char *s;
    char *end = NULL;
    long long v;

    if (cJSON_IsNumber(c)) {
        if (c->valuedouble < 0 || c->valuedouble > 1e9 || c->valuedouble != (double)(int64_t)c->valuedouble)
            return scn_fail(err, errn, path, "want a whole count from 0 to 1e9");
        out->op = SCN_EQ;
        out->n = (int64_t)c->valuedouble;
        return MC_OK;
    }
    if (!cJSON_IsString(c))
        return scn_fail(err, errn, path, "want a count: N or \"==N\", \">=N\", \"<=N\", \">N\", \"<N\"");
    s = c->valuestring;
    out->op = SCN_EQ;
    if (strncmp(s, ">=", 2) == 0) {
        out->op = SCN_GE;
        s += 2;
    } else if (strncmp(s, "<=", 2) == 0) {
        out->op = SCN_LE;
        s += 2;
    } else if (strncmp(s, "==", 2) == 0) {
        s += 2;
    } else if (s[0] == '>') {
        out->op = SCN_GT;
        s++;
    } else if (s[0] == '<') {
        out->op = SCN_LT;
        s++;
    }
    if (!isdigit((unsigned char)s[0]))
        return scn_fail(err, errn, path, "\"%s\" is not a count", c->valuestring);
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > 1000000000LL)
        return scn_fail(err, errn, path, "\"%s\" is not a count", c->valuestring);
    out->n = v;
    return MC_OK;
}

bool scn_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
                 {"w", 604800000}};
    char *end = NULL;
    long long v;

    if (!isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || v < 0)
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > SCN_MAX_ADVANCE_MS / units[i].ms)
                return false;
            *ms = v * units[i].ms;
            return true;
        }
    }
    return false;
}

static const char *const scn_event_names[] = {NULL, "start", "account", "order", "issued",
                                              "revoked"};

const char *scn_event_name(enum scn_event e)
{
    return e >= SCN_EV_START && e <= SCN_EV_REVOKED ? scn_event_names[e] : "?";
}

/* An array member of at most SCN_MAX_ITEMS entries; NULL (MC_OK) when absent. */
static enum mc_err scn_array(const cJSON *obj, const char *key, const char *path,
                             const cJSON **out, char *err, size_t errn)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (c == NULL)
        return MC_OK;
    if (!cJSON_IsArray(c))
        return scn_fail(err, errn, path, "want an array");
    if (cJSON_GetArraySize(c) > SCN_MAX_ITEMS)
        return scn_fail(err, errn, path, "more than %d entries", SCN_MAX_ITEMS);
    *out = c;
    return MC_OK;
}

static enum mc_err scn_object(const cJSON *obj, const char *key, const char *path,
                              const cJSON **out, char *err, size_t errn)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (c == NULL)
        return MC_OK;
    if (!cJSON_IsObject(c))
        return scn_fail(err, errn, path, "want an object");
    if (cJSON_GetArraySize(c) > SCN_MAX_ITEMS)
        return scn_fail(err, errn, path, "more than %d members", SCN_MAX_ITEMS);
    *out = c;
    return MC_OK;
}

static enum mc_err scn_faults(const cJSON *root, struct scenario *s, char *err, size_t errn)
{
    static const char *const keys[] = {"name", "server", "match", "action", NULL};
    const cJSON *arr, *f;
    enum mc_err e;
    char path[64];
    size_t i = 0;

    e = scn_array(root, "faults", "faults", &arr, err, errn);
    if (e != MC_OK || arr == NULL)
        return e;
    s->faults = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*s->faults));
    if (s->faults == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(f, arr)
    {
        struct scn_fault *r = &s->faults[s->n_faults];
        const cJSON *match, *action;
        snprintf(path, sizeof(path), "faults[%zu]", i++);
        if (!cJSON_IsObject(f))
            return scn_fail(err, errn, path, "want an object");
        e = scn_members(f, path, keys, err, errn);
        if (e == MC_OK)
            e = scn_string(f, "name", path, true, &r->name, err, errn);
        if (e == MC_OK)
            e = scn_string(f, "server", path, true, &r->server, err, errn);
        if (e != MC_OK) {
            s->n_faults++;
            return e;
        }
        s->n_faults++;
        if (!scn_name_ok(r->name))
            return scn_fail(err, errn, path, "name \"%s\": want [A-Za-z0-9._-], at most %d", r->name,
                            SCN_MAX_NAME);
        for (size_t k = 0; k + 1 < s->n_faults; k++)
            if (strcmp(s->faults[k].name, r->name) == 0)
                return scn_fail(err, errn, path, "name \"%s\" used twice", r->name);
        if (strcmp(r->server, "acme") != 0 && strcmp(r->server, "certcentral") != 0 &&
            strcmp(r->server, "dns") != 0)
            return scn_fail(err, errn, path, "server: want \"acme\", \"certcentral\" or \"dns\"");
        match = cJSON_GetObjectItemCaseSensitive(f, "match");
        if (match != NULL) {
            struct fault_match m;
            char ferr[256] = "";
            char mp[80];
            memset(&m, 0, sizeof(m));
            snprintf(mp, sizeof(mp), "%s.match", path);
            if (!cJSON_IsObject(match))
                return scn_fail(err, errn, mp, "want an object");
            /* The engine's own parser: the scenario carries exactly what it accepts. */
            if (fault_match_parse(match, &m, ferr, sizeof(ferr)) != MC_OK)
                return scn_fail(err, errn, mp, "%s", ferr[0] != '\0' ? ferr : "invalid");
            fault_match_clear(&m);
            r->match = cJSON_Duplicate(match, 1);
            if (r->match == NULL)
                return MC_ERR_NOMEM;
        }
        action = cJSON_GetObjectItemCaseSensitive(f, "action");
        if (!cJSON_IsObject(action))
            return scn_fail(err, errn, path, "action: want an object (the %s fault action)",
                            r->server);
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(action, "action")))
            return scn_fail(err, errn, path, "action.action: want a string naming the action");
        r->action = cJSON_Duplicate(action, 1);
        if (r->action == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static enum mc_err scn_clock(const cJSON *root, struct scenario *s, char *err, size_t errn)
{
    static const char *const keys[] = {"after", "count", "advance", "freeze", NULL};
    const cJSON *arr, *c;
    enum mc_err e;
    char path[64];
    size_t i = 0;

    e = scn_array(root, "clock", "clock", &arr, err, errn);
    if (e != MC_OK || arr == NULL)
        return e;
    s->clock = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*s->clock));
    if (s->clock == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(c, arr)
    {
        struct scn_clock_step *st = &s->clock[s->n_clock++];
        const char *after = NULL, *adv = NULL;
        int64_t count = 1;
        snprintf(path, sizeof(path), "clock[%zu]", i++);
        if (!cJSON_IsObject(c))
            return scn_fail(err, errn, path, "want an object");
        e = scn_members(c, path, keys, err, errn);
        if (e != MC_OK)
            return e;
        if (json_get_string(c, "after", &after) != MC_OK)
            return scn_fail(err, errn, path, "after: want one of start, account, order, issued, revoked");
        for (int k = SCN_EV_START; k <= SCN_EV_REVOKED; k++)
            if (strcmp(after, scn_event_names[k]) == 0)
                st->after = (enum scn_event)k;
        if (st->after == 0)
            return scn_fail(err, errn, path, "after: \"%s\" is not start, account, order, issued or revoked",
                            after);
        e = json_get_int(c, "count", 1, 1000, &count);
        if (e != MC_OK && e != MC_ERR_NOT_FOUND)
            return scn_fail(err, errn, path, "count: want 1 to 1000");
        st->count = count;
        e = json_get_string(c, "advance", &adv);
        if (e == MC_OK) {
            if (!scn_parse_duration(adv, &st->advance_ms))
                return scn_fail(err, errn, path, "advance: \"%s\" is not a duration like 60d, 90m, 30s, 500ms",
                                adv);
        } else if (e != MC_ERR_NOT_FOUND) {
            return scn_fail(err, errn, path, "advance: want a string such as \"60d\"");
        }
        e = json_get_bool(c, "freeze", &st->freeze);
        if (e != MC_OK && e != MC_ERR_NOT_FOUND)
            return scn_fail(err, errn, path, "freeze: want a boolean");
        if (st->advance_ms == 0 && !st->freeze)
            return scn_fail(err, errn, path, "a step wants \"advance\" or \"freeze\"");
    }
    return MC_OK;
}

static enum mc_err scn_string_list(const cJSON *arr, const char *path, char ***out, size_t *n,
                                   char *err, size_t errn)
{
    const cJSON *c;
    size_t i = 0;

    *out = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(**out));
    if (*out == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(c, arr)
    {
        char p[96];
        snprintf(p, sizeof(p), "%s[%zu]", path, i++);
        if (!cJSON_IsString(c) || c->valuestring[0] == '\0' || strlen(c->valuestring) > 255)
            return scn_fail(err, errn, p, "want a non-empty string of at most 255 characters");
        (*out)[*n] = strdup(c->valuestring);
        if ((*out)[*n] == NULL)
            return MC_ERR_NOMEM;
        (*n)++;
    }
    return MC_OK;
}

static enum mc_err scn_exchanges(const cJSON *arr, struct scn_expect *x, char *err, size_t errn)
{
    static const char *const keys[] = {"listener", "method", "path", "status", "problem", "count",
                                       NULL};
    const cJSON *c;
    size_t i = 0;
    enum mc_err e;

    x->exchanges = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*x->exchanges));
    if (x->exchanges == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(c, arr)
    {
        struct scn_exchange *q = &x->exchanges[x->n_exchanges++];
        const cJSON *cnt;
        int64_t status = 0;
        char path[64];
        snprintf(path, sizeof(path), "expect.exchanges[%zu]", i++);
        if (!cJSON_IsObject(c))
            return scn_fail(err, errn, path, "want an object");
        e = scn_members(c, path, keys, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "listener", path, false, &q->listener, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "method", path, false, &q->method, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "path", path, false, &q->path, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "problem", path, false, &q->problem, err, errn);
        if (e != MC_OK)
            return e;
        if (q->listener != NULL && strcmp(q->listener, "acme") != 0 &&
            strcmp(q->listener, "certcentral") != 0 && strcmp(q->listener, "mgmt") != 0)
            return scn_fail(err, errn, path, "listener: want acme, certcentral or mgmt");
        e = json_get_int(c, "status", 100, 599, &status);
        if (e != MC_OK && e != MC_ERR_NOT_FOUND)
            return scn_fail(err, errn, path, "status: want an HTTP status (100 to 599)");
        q->status = (int)status;
        cnt = cJSON_GetObjectItemCaseSensitive(c, "count");
        if (cnt == NULL) {
            q->count.op = SCN_GE;
            q->count.n = 1;
        } else {
            char p[96];
            snprintf(p, sizeof(p), "%s.count", path);
            e = scn_count(cnt, p, &q->count, err, errn);
            if (e != MC_OK)
                return e;
        }
    }
    return MC_OK;
}

static enum mc_err scn_expect(const cJSON *root, struct scenario *s, char *err, size_t errn)
{
    static const char *const keys[] = {"issued", "revoked", "renewed", "accounts", "orders",
                                       "exit_code", "no_must_violations", "faults_fired",
                                       "exchanges", "retry_after_respected", NULL};
    static const struct {
        const char *key;
        size_t has_off, count_off;
    } counts[] = {
        {"revoked", offsetof(struct scn_expect, has_revoked), offsetof(struct scn_expect, revoked)},
        {"renewed", offsetof(struct scn_expect, has_renewed), offsetof(struct scn_expect, renewed)},
        {"accounts", offsetof(struct scn_expect, has_accounts), offsetof(struct scn_expect, accounts)},
        {"orders", offsetof(struct scn_expect, has_orders), offsetof(struct scn_expect, orders)},
    };
    struct scn_expect *x = &s->expect;
    const cJSON *ex, *arr, *c, *obj;
    enum mc_err e;
    size_t i = 0;

    e = scn_object(root, "expect", "expect", &ex, err, errn);
    if (e != MC_OK)
        return e;
    if (ex == NULL)
        return scn_fail(err, errn, "expect", "required (what makes the run pass)");
    e = scn_members(ex, "expect", keys, err, errn);
    if (e != MC_OK)
        return e;
    e = scn_array(ex, "issued", "expect.issued", &arr, err, errn);
    if (e != MC_OK)
        return e;
    if (arr != NULL) {
        x->issued = calloc((size_t)cJSON_GetArraySize(arr) + 1, sizeof(*x->issued));
        if (x->issued == NULL)
            return MC_ERR_NOMEM;
        cJSON_ArrayForEach(c, arr)
        {
            char path[64];
            snprintf(path, sizeof(path), "expect.issued[%zu]", i++);
            if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0 || cJSON_GetArraySize(c) > SCN_MAX_ITEMS)
                return scn_fail(err, errn, path, "want a non-empty array of identifiers");
            e = scn_string_list(c, path, &x->issued[x->n_issued].v, &x->issued[x->n_issued].n, err,
                                errn);
            x->n_issued++;
            if (e != MC_OK)
                return e;
        }
    }
    for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
        char path[64];
        c = cJSON_GetObjectItemCaseSensitive(ex, counts[k].key);
        if (c == NULL)
            continue;
        snprintf(path, sizeof(path), "expect.%s", counts[k].key);
        e = scn_count(c, path, (struct scn_count *)((char *)x + counts[k].count_off), err, errn);
        if (e != MC_OK)
            return e;
        *(bool *)((char *)x + counts[k].has_off) = true;
    }
    if (cJSON_GetObjectItemCaseSensitive(ex, "exit_code") != NULL) {
        int64_t v = 0;
        if (json_get_int(ex, "exit_code", 0, 255, &v) != MC_OK)
            return scn_fail(err, errn, "expect.exit_code", "want 0 to 255");
        x->exit_code = (int)v;
        x->has_exit_code = true;
    }
    if (cJSON_GetObjectItemCaseSensitive(ex, "no_must_violations") != NULL) {
        if (json_get_bool(ex, "no_must_violations", &x->no_must_violations) != MC_OK)
            return scn_fail(err, errn, "expect.no_must_violations", "want a boolean");
        x->has_no_must = true;
    }
    if (cJSON_GetObjectItemCaseSensitive(ex, "retry_after_respected") != NULL &&
        json_get_bool(ex, "retry_after_respected", &x->retry_after_respected) != MC_OK)
        return scn_fail(err, errn, "expect.retry_after_respected", "want a boolean");
    e = scn_object(ex, "faults_fired", "expect.faults_fired", &obj, err, errn);
    if (e != MC_OK)
        return e;
    if (obj != NULL) {
        x->fired = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*x->fired));
        if (x->fired == NULL)
            return MC_ERR_NOMEM;
        cJSON_ArrayForEach(c, obj)
        {
            struct scn_fired *f = &x->fired[x->n_fired];
            char path[128];
            bool known = false;
            snprintf(path, sizeof(path), "expect.faults_fired.%.64s", c->string);
            f->rule = strdup(c->string);
            if (f->rule == NULL)
                return MC_ERR_NOMEM;
            x->n_fired++;
            for (size_t k = 0; k < s->n_faults; k++)
                if (strcmp(s->faults[k].name, c->string) == 0)
                    known = true;
            if (!known)
                return scn_fail(err, errn, path, "no fault rule of that name");
            e = scn_count(c, path, &f->count, err, errn);
            if (e != MC_OK)
                return e;
        }
    }
    e = scn_array(ex, "exchanges", "expect.exchanges", &arr, err, errn);
    if (e != MC_OK)
        return e;
    if (arr != NULL) {
        e = scn_exchanges(arr, x, err, errn);
        if (e != MC_OK)
            return e;
    }
    return MC_OK;
}

static enum mc_err scn_clients(const cJSON *root, struct scenario *s, char *err, size_t errn)
{
    static const char *const keys[] = {"command", "skip", NULL};
    const cJSON *obj, *c;
    enum mc_err e;

    e = scn_object(root, "client_support", "client_support", &obj, err, errn);
    if (e != MC_OK || obj == NULL)
        return e;
    s->clients = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*s->clients));
    if (s->clients == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(c, obj)
    {
        struct scn_client *cl = &s->clients[s->n_clients++];
        char path[96];
        snprintf(path, sizeof(path), "client_support.%.64s", c->string);
        e = scn_strdup(c->string, &cl->name);
        if (e != MC_OK)
            return e;
        if (!scn_name_ok(c->string))
            return scn_fail(err, errn, path, "client names are [A-Za-z0-9._-]");
        if (!cJSON_IsObject(c))
            return scn_fail(err, errn, path, "want {\"command\": \"...\"} or {\"skip\": \"why\"}");
        e = scn_members(c, path, keys, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "command", path, false, &cl->command, err, errn);
        if (e == MC_OK)
            e = scn_string(c, "skip", path, false, &cl->skip, err, errn);
        if (e != MC_OK)
            return e;
        if ((cl->command == NULL) == (cl->skip == NULL))
            return scn_fail(err, errn, path, "want exactly one of \"command\" and \"skip\"");
    }
    return MC_OK;
}

static enum mc_err scn_env(const cJSON *root, struct scenario *s, char *err, size_t errn)
{
    const cJSON *obj, *c;
    enum mc_err e;

    e = scn_object(root, "env", "env", &obj, err, errn);
    if (e != MC_OK || obj == NULL)
        return e;
    s->env_names = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(char *));
    s->env_values = calloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(char *));
    if (s->env_names == NULL || s->env_values == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(c, obj)
    {
        char path[96];
        const char *n = c->string;
        snprintf(path, sizeof(path), "env.%.64s", n);
        if (n[0] == '\0' || strlen(n) > 64 || isdigit((unsigned char)n[0]))
            return scn_fail(err, errn, path, "not a variable name");
        for (const char *p = n; *p != '\0'; p++)
            if (!isalnum((unsigned char)*p) && *p != '_')
                return scn_fail(err, errn, path, "not a variable name");
        if (!cJSON_IsString(c) || strlen(c->valuestring) > SCN_MAX_STRING)
            return scn_fail(err, errn, path, "want a string");
        s->env_names[s->n_env] = strdup(n);
        s->env_values[s->n_env] = strdup(c->valuestring);
        s->n_env++;
        if (s->env_names[s->n_env - 1] == NULL || s->env_values[s->n_env - 1] == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

enum mc_err scn_parse(const char *text, size_t len, struct scenario *out, char *err, size_t errn)
{
    static const char *const keys[] = {"name", "description", "requires", "config", "env",
                                       "faults", "clock", "timeout", "seed", "expect",
                                       "client_support", NULL};
    cJSON *root = NULL;
    const cJSON *c;
    enum mc_err e;

    memset(out, 0, sizeof(*out));
    out->timeout_s = 60;
    if (err != NULL && errn > 0)
        err[0] = '\0';
    if (len > SCN_MAX_FILE) {
        scn_fail(err, errn, "(file)", "over %d bytes", SCN_MAX_FILE);
        return MC_ERR_TOO_BIG;
    }
    e = json_parse(text, len, SCN_MAX_FILE, SCN_DEPTH, &root);
    if (e != MC_OK) {
        scn_fail(err, errn, "(file)", "not valid JSON (%s)", mc_strerror(e));
        return MC_ERR_INVALID;
    }
    if (!cJSON_IsObject(root)) {
        e = scn_fail(err, errn, "(file)", "want a JSON object");
        goto out;
    }
    e = scn_members(root, "(top)", keys, err, errn);
    if (e == MC_OK)
        e = scn_string(root, "name", "", true, &out->name, err, errn);
    if (e == MC_OK && !scn_name_ok(out->name))
        e = scn_fail(err, errn, "name", "want [A-Za-z0-9._-], at most %d characters", SCN_MAX_NAME);
    if (e == MC_OK)
        e = scn_string(root, "description", "", false, &out->description, err, errn);
    if (e != MC_OK)
        goto out;
    e = scn_array(root, "requires", "requires", &c, err, errn);
    if (e == MC_OK && c != NULL)
        e = scn_string_list(c, "requires", &out->requires, &out->n_requires, err, errn);
    if (e != MC_OK)
        goto out;
    c = cJSON_GetObjectItemCaseSensitive(root, "config");
    if (c != NULL) {
        if (!cJSON_IsObject(c)) {
            e = scn_fail(err, errn, "config", "want an object ({\"pebble\": {...}, \"certcentral\": {...}})");
            goto out;
        }
        const cJSON *cfg = c;
        cJSON_ArrayForEach(c, cfg)
        {
            if (strcmp(c->string, "pebble") != 0 && strcmp(c->string, "certcentral") != 0) {
                e = scn_fail(err, errn, "config", "unknown member \"%s\" (want pebble, certcentral)",
                             c->string);
                goto out;
            }
            if (!cJSON_IsObject(c)) {
                e = scn_fail(err, errn, "config", "%s: want an object", c->string);
                goto out;
            }
        }
        out->config = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(root, "config"), 1);
        if (out->config == NULL) {
            e = MC_ERR_NOMEM;
            goto out;
        }
    }
    e = scn_env(root, out, err, errn);
    if (e == MC_OK)
        e = scn_faults(root, out, err, errn);
    if (e == MC_OK)
        e = scn_clock(root, out, err, errn);
    if (e != MC_OK)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(root, "timeout") != NULL &&
        json_get_int(root, "timeout", 1, SCN_MAX_TIMEOUT, &out->timeout_s) != MC_OK) {
        e = scn_fail(err, errn, "timeout", "want whole seconds from 1 to %d", SCN_MAX_TIMEOUT);
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "seed") != NULL) {
        int64_t seed = 0;
        if (json_get_int(root, "seed", 1, INT64_C(9007199254740991), &seed) != MC_OK) {
            e = scn_fail(err, errn, "seed", "want a positive whole number");
            goto out;
        }
        out->seed = (uint64_t)seed;
    }
    e = scn_expect(root, out, err, errn);
    if (e == MC_OK)
        e = scn_clients(root, out, err, errn);
out:
    cJSON_Delete(root);
    return e;
}

enum mc_err scn_load(const char *path, struct scenario *out, char *err, size_t errn)
{
    char *text = NULL;
    char inner[512] = "";
    size_t len = 0;
    enum mc_err e;

    memset(out, 0, sizeof(*out));
    e = file_read_all(path, SCN_MAX_FILE, &text, &len);
    if (e != MC_OK) {
        if (err != NULL)
            snprintf(err, errn, "%s: cannot read: %s", path, mc_strerror(e));
        return e;
    }
    e = scn_parse(text, len, out, inner, sizeof(inner));
    if (e != MC_OK && err != NULL)
        snprintf(err, errn, "%s: %s", path, inner[0] != '\0' ? inner : mc_strerror(e));
    free(text);
    return e;
}

static void scn_free_list(char **v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++)
        free(v[i]);
    free(v);
}

void scn_free(struct scenario *s)
{
    if (s == NULL)
        return;
    free(s->name);
    free(s->description);
    scn_free_list(s->requires, s->n_requires);
    cJSON_Delete(s->config);
    scn_free_list(s->env_names, s->n_env);
    scn_free_list(s->env_values, s->n_env);
    for (size_t i = 0; s->faults != NULL && i < s->n_faults; i++) {
        free(s->faults[i].name);
        free(s->faults[i].server);
        cJSON_Delete(s->faults[i].match);
        cJSON_Delete(s->faults[i].action);
    }
    free(s->faults);
    free(s->clock);
    for (size_t i = 0; s->expect.issued != NULL && i < s->expect.n_issued; i++)
        scn_free_list(s->expect.issued[i].v, s->expect.issued[i].n);
    free(s->expect.issued);
    for (size_t i = 0; s->expect.fired != NULL && i < s->expect.n_fired; i++)
        free(s->expect.fired[i].rule);
    free(s->expect.fired);
    for (size_t i = 0; s->expect.exchanges != NULL && i < s->expect.n_exchanges; i++) {
        free(s->expect.exchanges[i].listener);
        free(s->expect.exchanges[i].method);
        free(s->expect.exchanges[i].path);
        free(s->expect.exchanges[i].problem);
    }
    free(s->expect.exchanges);
    for (size_t i = 0; s->clients != NULL && i < s->n_clients; i++) {
        free(s->clients[i].name);
        free(s->clients[i].command);
        free(s->clients[i].skip);
    }
    free(s->clients);
    memset(s, 0, sizeof(*s));
}

const struct scn_client *scn_client(const struct scenario *s, const char *name)
{
    for (size_t i = 0; i < s->n_clients; i++)
        if (strcmp(s->clients[i].name, name) == 0)
            return &s->clients[i];
    return NULL;
}
