/* npool.c: the bounded nonce pool (npool.h). */
#include <stdlib.h>
#include <string.h>

#include "client/npool.h"
#include "common/b64url.h"

void npool_init(struct npool *p)
{
    memset(p, 0, sizeof *p);
}

void npool_clear(struct npool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++)
        free(p->items[(p->head + i) % NPOOL_CAP]);
    npool_init(p);
}

enum mc_err npool_put(struct npool *p, const char *nonce, size_t len)
{
    char *copy = NULL;

    if (nonce == NULL || len == 0)
        return MC_ERR_INVALID;
    if (len > NPOOL_MAX_NONCE)
        return MC_ERR_TOO_BIG;
    if (!b64url_is_alphabet(nonce, len))
        return MC_ERR_INVALID;
    copy = malloc(len + 1);
    if (copy == NULL)
        return MC_ERR_NOMEM;
    memcpy(copy, nonce, len);
    copy[len] = '\0';
    if (p->n == NPOOL_CAP) {
        /* Full: drop the oldest, the one most likely to have expired already. */
        free(p->items[p->head]);
        p->items[p->head] = NULL;
        p->head = (p->head + 1) % NPOOL_CAP;
        p->n--;
    }
    p->items[(p->head + p->n) % NPOOL_CAP] = copy;
    p->n++;
    return MC_OK;
}

enum mc_err npool_take(struct npool *p, char **out)
{
    *out = NULL;
    if (p->n == 0)
        return MC_ERR_NOT_FOUND;
    *out = p->items[p->head];
    p->items[p->head] = NULL;
    p->head = (p->head + 1) % NPOOL_CAP;
    p->n--;
    return MC_OK;
}

size_t npool_count(const struct npool *p)
{
    return p->n;
}
