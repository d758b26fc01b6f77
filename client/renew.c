/* renew.c: when to renew (renew.h), and fetching ACME Renewal Information (RFC 9773). */
#include "client/renew.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/wire.h"
#include "common/ari.h"
#include "common/json.h"
#include "common/log.h"

#define DAY_S 86400
#define SHORT_LIFETIME_S (10 * DAY_S)  /* certbot and lego: half, not a third, at or below */
#define ARI_DEFAULT_RETRY_S (6 * 3600) /* RFC 9773 section 4.3: a client picks, we take 6 h */
#define ARI_MIN_RETRY_S 60
#define ARI_MAX_RETRY_S (7 * DAY_S)

void ari_window_free(struct ari_window *w)
{
    if (w == NULL)
        return;
    free(w->explanation_url);
    memset(w, 0, sizeof *w);
}

const char *renew_reason_name(enum renew_reason r)
{
    switch (r) {
    case RENEW_NOT_DUE:
        return "not-due";
    case RENEW_LIFETIME:
        return "lifetime";
    case RENEW_DAYS:
        return "days";
    case RENEW_ARI:
        return "ari";
    case RENEW_EXPIRED:
        return "expired";
    }
    return "unknown";
}

enum renew_reason renew_due(int64_t not_before, int64_t not_after, int64_t now, int days,
                            const struct ari_window *w, int64_t *due_at)
{
    int64_t lifetime = not_after - not_before;
    int64_t point;
    enum renew_reason why;

    if (days > 0) {
        point = not_after - (int64_t)days * DAY_S;
        why = RENEW_DAYS;
    } else {
        if (lifetime <= 0)
            point = not_after; /* a nonsense validity: renew no later than expiry */
        else if (lifetime <= SHORT_LIFETIME_S)
            point = not_after - lifetime / 2;
        else
            point = not_after - lifetime / 3;
        why = RENEW_LIFETIME;
    }
    /* ARI only brings renewal forward: a later window keeps the local rule, so a CA that
     * stops answering (or suggests something odd) cannot postpone past it. */
    if (w != NULL && w->start > 0 && w->start < point) {
        point = w->start;
        why = RENEW_ARI;
    }
    if (due_at != NULL)
        *due_at = point;
    if (now >= not_after)
        return RENEW_EXPIRED;
    if (now >= point)
        return why;
    return RENEW_NOT_DUE;
}

const char *renew_format_rfc3339(int64_t t, char *buf, size_t n)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (n == 0)
        return buf;
    if (gmtime_r(&tt, &tm) == NULL || strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = '\0';
    return buf;
}

enum mc_err renew_fetch_ari(struct sess *s, X509 *cert, int64_t now, struct ari_window *out)
{
    const struct sess_dir *dir = sess_directory(s);
    char *id = NULL, *url = NULL;
    struct sess_resp r = {0};
    const cJSON *win = NULL;
    const char *st = NULL, *en = NULL, *ex = NULL;
    struct ari_window w = {0};
    enum mc_err err;

    if (out == NULL || cert == NULL)
        return MC_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (dir == NULL || dir->renewal_info == NULL)
        return MC_ERR_UNSUPPORTED;
    err = ari_cert_id(cert, &id);
    if (err != MC_OK)
        goto out;
    size_t base = strlen(dir->renewal_info);
    bool slash = base > 0 && dir->renewal_info[base - 1] == '/';
    size_t len = base + 1 + strlen(id) + 1;
    url = malloc(len);
    if (url == NULL) {
        err = MC_ERR_NOMEM;
        goto out;
    }
    /* RFC 9773 section 4.2: the identifier is appended as a path segment. */
    snprintf(url, len, "%s%s%s", dir->renewal_info, slash ? "" : "/", id);
    err = sess_get(s, url, &r);
    if (err != MC_OK)
        goto out;
    if (r.json == NULL || !cJSON_IsObject(r.json) ||
        json_get_object(r.json, "suggestedWindow", &win) != MC_OK ||
        json_get_string(win, "start", &st) != MC_OK || json_get_string(win, "end", &en) != MC_OK ||
        wire_rfc3339(st, &w.start) != MC_OK || wire_rfc3339(en, &w.end) != MC_OK ||
        w.start >= w.end) {
        log_msg(LOGL_WARN, "ari.invalid", "url=%s", url);
        err = MC_ERR_INVALID;
        goto out;
    }
    err = json_get_string(r.json, "explanationURL", &ex);
    if (err == MC_OK) {
        if (wire_check_url(ex) != MC_OK) {
            err = MC_ERR_INVALID;
            goto out;
        }
        w.explanation_url = strdup(ex);
        if (w.explanation_url == NULL) {
            err = MC_ERR_NOMEM;
            goto out;
        }
    } else if (err != MC_ERR_NOT_FOUND) {
        goto out;
    }
    long ra = r.retry_after_s >= 0 ? r.retry_after_s : ARI_DEFAULT_RETRY_S;
    if (ra < ARI_MIN_RETRY_S)
        ra = ARI_MIN_RETRY_S;
    if (ra > ARI_MAX_RETRY_S)
        ra = ARI_MAX_RETRY_S;
    w.next_check = now + ra;
    *out = w;
    memset(&w, 0, sizeof w);
    err = MC_OK;
out:
    ari_window_free(&w);
    sess_resp_free(&r);
    free(url);
    free(id);
    return err;
}
