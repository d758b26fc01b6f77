/* challenge.c: the names of the challenge types (solver.h). */
#include <string.h>

#include "client/solver.h"

static const struct {
    enum ch_type type;
    const char *name;
} ch_names[] = {
    {CH_HTTP01, "http-01"},
    {CH_DNS01, "dns-01"},
    {CH_TLSALPN01, "tls-alpn-01"},
    {CH_DNSACCOUNT01, "dns-account-01"},
};

const char *ch_type_name(enum ch_type t)
{
    for (size_t i = 0; i < sizeof ch_names / sizeof ch_names[0]; i++)
        if (ch_names[i].type == t)
            return ch_names[i].name;
    return "unknown";
}

enum mc_err ch_type_parse(const char *name, enum ch_type *out)
{
    if (name == NULL)
        return MC_ERR_INVALID;
    /* Exact names: the wire spelling (RFC 8555 section 9.7.8) is case-sensitive. */
    for (size_t i = 0; i < sizeof ch_names / sizeof ch_names[0]; i++) {
        if (strcmp(ch_names[i].name, name) == 0) {
            *out = ch_names[i].type;
            return MC_OK;
        }
    }
    return MC_ERR_UNSUPPORTED;
}
