/* dnsmock/dnsfault.c: the DNS meaning of a fault rule's action. */
#include "dnsmock/dnsfault.h"

#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>

static const struct {
    const char *name;
    int kind;
    int rcode;
} dnsfault_kinds[] = {
    {"drop", DNS_FAULT_DROP, 0},
    {"delay", DNS_FAULT_DELAY, 0},
    {"truncate", DNS_FAULT_TRUNCATE, 0},
    {"servfail", DNS_FAULT_SERVFAIL, LDNS_RCODE_SERVFAIL},
    {"refused", DNS_FAULT_REFUSED, LDNS_RCODE_REFUSED},
    {"nxdomain", DNS_FAULT_NXDOMAIN, LDNS_RCODE_NXDOMAIN},
};

#define DNSFAULT_NKINDS (sizeof(dnsfault_kinds) / sizeof(dnsfault_kinds[0]))

static enum mc_err dnsfault_fail(char *err, size_t errn, const char *msg)
{
    if (err != NULL && errn > 0)
        snprintf(err, errn, "%s", msg);
    return MC_ERR_INVALID;
}

enum mc_err dnsfault_action_parse(const cJSON *j, struct fault_action *out, char *err, size_t errn)
{
    if (j == NULL || out == NULL || !cJSON_IsObject(j))
        return dnsfault_fail(err, errn, "action must be an object");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(j, "action");
    if (!cJSON_IsString(act) || act->valuestring == NULL)
        return dnsfault_fail(err, errn, "action: a string is required");
    int idx = -1;
    for (size_t i = 0; i < DNSFAULT_NKINDS; i++)
        if (strcmp(act->valuestring, dnsfault_kinds[i].name) == 0)
            idx = (int)i;
    if (idx < 0)
        return dnsfault_fail(err, errn,
                             "action: one of drop, delay, truncate, servfail, refused, nxdomain");
    struct fault_action a;
    memset(&a, 0, sizeof(a));
    a.kind = dnsfault_kinds[idx].kind;
    a.status = dnsfault_kinds[idx].rcode;
    const cJSON *item = NULL;
    cJSON_ArrayForEach(item, j)
    {
        if (item->string == NULL)
            return dnsfault_fail(err, errn, "action: member without a name");
        if (strcmp(item->string, "action") == 0)
            continue;
        if (strcmp(item->string, "delay_ms") == 0 && a.kind == DNS_FAULT_DELAY)
            continue;
        char msg[FAULT_TEXT_MAX];
        snprintf(msg, sizeof(msg), "action: unknown member \"%.64s\"", item->string);
        return dnsfault_fail(err, errn, msg);
    }
    if (a.kind == DNS_FAULT_DELAY) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delay_ms");
        /* The range test comes first so the cast below is defined (NaN fails it too). */
        if (!cJSON_IsNumber(d) ||
            !(d->valuedouble >= 0 && d->valuedouble <= DNS_FAULT_MAX_DELAY_MS) ||
            (double)(int64_t)d->valuedouble != d->valuedouble)
            return dnsfault_fail(err, errn, "delay_ms: an integer from 0 to 30000 is required");
        a.delay_ms = (int64_t)d->valuedouble;
    }
    *out = a;
    return MC_OK;
}

const char *dnsfault_kind_name(int kind)
{
    for (size_t i = 0; i < DNSFAULT_NKINDS; i++)
        if (dnsfault_kinds[i].kind == kind)
            return dnsfault_kinds[i].name;
    return "unknown";
}
