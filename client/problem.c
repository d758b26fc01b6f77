/* problem.c: problem documents into struct sess_problem (problem.h). */
#include <stdlib.h>
#include <string.h>

#include "client/problem.h"
#include "common/json.h"

#define PROB_MAX_IDENT_TYPE 64
#define PROB_MAX_IDENT_VALUE 256

void prob_clear(struct sess_problem *p)
{
    if (p == NULL)
        return;
    free(p->type);
    free(p->detail);
    for (size_t i = 0; i < p->n_sub; i++) {
        free(p->sub[i].type);
        free(p->sub[i].detail);
        free(p->sub[i].ident_type);
        free(p->sub[i].ident_value);
    }
    free(p->sub);
    memset(p, 0, sizeof *p);
    p->retry_after_s = -1;
}

/* type and detail of object j into *type and *detail (left NULL when absent). */
static enum mc_err type_detail(const cJSON *j, char **type, char **detail)
{
    const char *str;

    if (json_get_string(j, "type", &str) == MC_OK) {
        *type = strndup(str, PROB_MAX_TYPE);
        if (*type == NULL)
            return MC_ERR_NOMEM;
    }
    if (json_get_string(j, "detail", &str) == MC_OK) {
        *detail = strndup(str, PROB_MAX_DETAIL);
        if (*detail == NULL)
            return MC_ERR_NOMEM;
    }
    if (*type == NULL) {
        *type = strdup("about:blank");
        if (*type == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

static enum mc_err subproblem(const cJSON *it, struct sess_subproblem *sp)
{
    const cJSON *ident;
    const char *it_type, *it_value;

    if (type_detail(it, &sp->type, &sp->detail) != MC_OK)
        return MC_ERR_NOMEM;
    if (json_get_object(it, "identifier", &ident) == MC_OK &&
        json_get_string(ident, "type", &it_type) == MC_OK &&
        json_get_string(ident, "value", &it_value) == MC_OK) {
        sp->ident_type = strndup(it_type, PROB_MAX_IDENT_TYPE);
        sp->ident_value = strndup(it_value, PROB_MAX_IDENT_VALUE);
        if (sp->ident_type == NULL || sp->ident_value == NULL)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}

enum mc_err prob_from_json(const cJSON *j, size_t max_sub, struct sess_problem *p)
{
    const cJSON *subs = NULL, *it;

    if (j == NULL || !cJSON_IsObject(j))
        j = NULL;
    if (j == NULL) {
        p->type = strdup("about:blank");
        return p->type != NULL ? MC_OK : MC_ERR_NOMEM;
    }
    if (type_detail(j, &p->type, &p->detail) != MC_OK)
        return MC_ERR_NOMEM;
    if (json_get_array(j, "subproblems", &subs) != MC_OK)
        return MC_OK;
    size_t n = (size_t)cJSON_GetArraySize(subs);
    if (n > max_sub)
        n = max_sub;
    if (n == 0)
        return MC_OK;
    p->sub = calloc(n, sizeof *p->sub);
    if (p->sub == NULL)
        return MC_ERR_NOMEM;
    cJSON_ArrayForEach(it, subs)
    {
        if (p->n_sub >= n)
            break;
        if (!cJSON_IsObject(it))
            continue; /* RFC 8555 section 6.7.1: each is a problem object */
        /* Counted before it is filled, so prob_clear frees a half-filled one. */
        if (subproblem(it, &p->sub[p->n_sub++]) != MC_OK)
            return MC_ERR_NOMEM;
    }
    return MC_OK;
}
