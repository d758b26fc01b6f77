/* run.c: the scenario runner (run.h). */
#include "mockca/run.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "common/clock.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "common/prng.h"
#include "common/report.h"
#include "dnsmock/dnsmock.h"
#include "mockca/acme/render.h"
#include "mockca/fetch.h"
#include "mockca/mockca.h"
#include "mockca/scenario.h"
#include "mockca/transcript.h"

extern char **environ;

#define RUN_MAX_IDS 10000      /* orders and accounts remembered per run */
#define RUN_MAX_ENV 512        /* variables handed to the command */
#define RUN_MAX_ARG 8192       /* one argument after substitution */
#define RUN_KILL_GRACE_MS 3000 /* SIGTERM to SIGKILL */
#define RUN_POLL_MS 20
#define RUN_PATH 4096
#define RUN_MAX_WAITS 64       /* 429/503 answers with Retry-After awaiting their retry */
#define RUN_WAIT_KEY 512       /* "listener METHOD path" of one */
#define RUN_WAIT_TOLERANCE_MS 250 /* plus a tenth of the wait, as the conformance grader */

/* ---- what the observer sees ------------------------------------------------------------ */

struct run_ids {
    char **v;
    size_t n;
};

struct run_ctx {
    pthread_mutex_t mu;
    struct mockca *m;
    const struct scenario *s;
    struct run_ids orders, accounts;
    int64_t events[SCN_EV_REVOKED + 1];
    bool *step_done;
    size_t *xcount; /* per expect.exchanges entry */
    /* expect.retry_after_respected: the 429/503 answers with Retry-After whose retry has
     * not come yet (times on the real clock, which an HTTP-date is read against), and
     * what the retries that came did. */
    struct run_wait {
        char key[RUN_WAIT_KEY];
        int64_t answered_ms, deadline_ms;
        int status;
    } waits[RUN_MAX_WAITS];
    size_t n_waits, retries, early;
    char early_detail[256];
};

static void run_ids_add(struct run_ids *ids, const char *id)
{
    char *c;

    if (ids->n >= RUN_MAX_IDS)
        return;
    for (size_t i = 0; i < ids->n; i++)
        if (strcmp(ids->v[i], id) == 0)
            return;
    if (ids->v == NULL) {
        ids->v = calloc(RUN_MAX_IDS, sizeof(*ids->v));
        if (ids->v == NULL)
            return;
    }
    c = strdup(id);
    if (c != NULL)
        ids->v[ids->n++] = c;
}

static void run_ids_free(struct run_ids *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        free(ids->v[i]);
    free(ids->v);
    ids->v = NULL;
    ids->n = 0;
}

static const char *run_jstr(const cJSON *o, const char *name)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(c) ? c->valuestring : NULL;
}

/* The id after prefix in a URL ("https://h:p/my-order/ID" -> "ID"), or NULL. */
static const char *run_id_after(const char *url, const char *prefix)
{
    const char *p = url != NULL ? strstr(url, prefix) : NULL;

    if (p == NULL)
        return NULL;
    p += strlen(prefix);
    return *p != '\0' && strchr(p, '/') == NULL ? p : NULL;
}

/* Applies the clock steps due after event ev (under ctx->mu). */
static void run_clock_steps(struct run_ctx *c, enum scn_event ev)
{
    for (size_t i = 0; i < c->s->n_clock; i++) {
        const struct scn_clock_step *st = &c->s->clock[i];
        if (c->step_done[i] || st->after != ev || c->events[ev] < st->count)
            continue;
        c->step_done[i] = true;
        if (st->freeze)
            clock_freeze(mockca_clock(c->m));
        if (st->advance_ms != 0)
            clock_advance(mockca_clock(c->m), st->advance_ms);
        log_msg(LOGL_INFO, "run.clock", "after=%s count=%" PRId64 " advance_ms=%" PRId64
                " freeze=%d", scn_event_name(ev), st->count, st->advance_ms, st->freeze ? 1 : 0);
    }
}

static bool run_problem_matches(const cJSON *body, const char *want)
{
    const char *type = run_jstr(body, "type");
    const cJSON *errs = cJSON_GetObjectItemCaseSensitive(body, "errors");
    const cJSON *e;
    size_t n = strlen(want);

    if (type != NULL && strlen(type) >= n && strcmp(type + strlen(type) - n, want) == 0)
        return true;
    cJSON_ArrayForEach(e, errs)
    {
        const char *code = run_jstr(e, "code");
        if (code != NULL && strcmp(code, want) == 0)
            return true;
    }
    return false;
}

/* A Retry-After value (delta-seconds or an IMF-fixdate, RFC 9110 section 10.2.3) as the
 * real time in ms it allows a retry from, answered at now_ms; false when it is neither. */
static bool run_retry_deadline(const char *v, int64_t now_ms, int64_t *deadline_ms)
{
    size_t n = strlen(v);

    if (n > 0 && n <= 9 && strspn(v, "0123456789") == n) {
        *deadline_ms = now_ms + strtoll(v, NULL, 10) * 1000;
        return true;
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != '\0')
        return false;
    *deadline_ms = (int64_t)timegm(&tm) * 1000;
    return true;
}

/* The retry_after_respected bookkeeping for one exchange (under c->mu): a request that
 * repeats a waiting 429/503 is graded against its deadline; a 429/503 with Retry-After
 * starts a wait. */
static void run_retry_watch(struct run_ctx *c, const char *listener, const char *method,
                            const char *path, int status, const char *retry_after)
{
    char key[RUN_WAIT_KEY];
    int64_t now = clock_now_ms(NULL), deadline = 0;
    int w = snprintf(key, sizeof(key), "%s %s %s", listener, method, path);

    if (w < 0 || (size_t)w >= sizeof(key))
        return;
    for (size_t i = 0; i < c->n_waits; i++) {
        struct run_wait *rw = &c->waits[i];
        if (strcmp(rw->key, key) != 0)
            continue;
        int64_t wait = rw->deadline_ms - rw->answered_ms;
        int64_t tol = RUN_WAIT_TOLERANCE_MS + (wait > 0 ? wait / 10 : 0);
        c->retries++;
        if (now < rw->deadline_ms - tol) {
            if (c->early++ == 0)
                snprintf(c->early_detail, sizeof(c->early_detail),
                         "%.160s again %" PRId64 " ms after a %d whose Retry-After asked %" PRId64
                         " ms",
                         key, now - rw->answered_ms, rw->status, wait);
        }
        c->waits[i] = c->waits[--c->n_waits];
        break;
    }
    if ((status != 429 && status != 503) || retry_after == NULL ||
        !run_retry_deadline(retry_after, now, &deadline) || c->n_waits >= RUN_MAX_WAITS)
        return;
    struct run_wait *nw = &c->waits[c->n_waits++];
    snprintf(nw->key, sizeof(nw->key), "%s", key);
    nw->answered_ms = now;
    nw->deadline_ms = deadline;
    nw->status = status;
}

static void run_observe(void *arg, const cJSON *rec)
{
    struct run_ctx *c = arg;
    const char *listener = run_jstr(rec, "listener"), *method = run_jstr(rec, "method");
    const char *path = run_jstr(rec, "path");
    const cJSON *resp = cJSON_GetObjectItemCaseSensitive(rec, "response");
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(resp, "headers");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(resp, "body");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
    const char *location = run_jstr(hdrs, "Location");
    int status = cJSON_IsNumber(st) ? st->valueint : 0;
    enum scn_event ev = 0;

    if (listener == NULL || method == NULL || path == NULL)
        return;
    pthread_mutex_lock(&c->mu);
    if (strcmp(listener, "acme") == 0 && strcmp(method, "POST") == 0) {
        const char *id;
        if (strcmp(path, ACME_PATH_NEW_ACCOUNT) == 0 && status == 201) {
            id = run_id_after(location, ACME_PATH_ACCOUNT);
            if (id != NULL)
                run_ids_add(&c->accounts, id);
            ev = SCN_EV_ACCOUNT;
        } else if (strcmp(path, ACME_PATH_NEW_ORDER) == 0 && status == 201) {
            id = run_id_after(location, ACME_PATH_ORDER);
            if (id != NULL)
                run_ids_add(&c->orders, id);
            ev = SCN_EV_ORDER;
        } else if (strncmp(path, ACME_PATH_CERT, strlen(ACME_PATH_CERT)) == 0 && status == 200 &&
                   strstr(path, "/alternate/") == NULL) {
            ev = SCN_EV_ISSUED;
        } else if (strcmp(path, ACME_PATH_REVOKE) == 0 && status == 200) {
            ev = SCN_EV_REVOKED;
        }
    }
    if (ev != 0) {
        c->events[ev]++;
        run_clock_steps(c, ev);
    }
    if (c->s->expect.retry_after_respected)
        run_retry_watch(c, listener, method, path, status, run_jstr(hdrs, "Retry-After"));
    for (size_t i = 0; i < c->s->expect.n_exchanges; i++) {
        const struct scn_exchange *q = &c->s->expect.exchanges[i];
        if (q->listener != NULL && strcmp(q->listener, listener) != 0)
            continue;
        if (q->method != NULL && strcasecmp(q->method, method) != 0)
            continue;
        if (q->path != NULL && fnmatch(q->path, path, 0) != 0)
            continue;
        if (q->status != 0 && q->status != status)
            continue;
        if (q->problem != NULL && !run_problem_matches(body, q->problem))
            continue;
        c->xcount[i]++;
    }
    pthread_mutex_unlock(&c->mu);
}

/* ---- environment and substitution ------------------------------------------------------ */

struct run_env {
    char *names[RUN_MAX_ENV];
    char *values[RUN_MAX_ENV];
    size_t n;
};

static enum mc_err run_env_set(struct run_env *env, const char *name, const char *value)
{
    char *v;

    for (size_t i = 0; i < env->n; i++) {
        if (strcmp(env->names[i], name) == 0) {
            v = strdup(value);
            if (v == NULL)
                return MC_ERR_NOMEM;
            free(env->values[i]);
            env->values[i] = v;
            return MC_OK;
        }
    }
    if (env->n >= RUN_MAX_ENV)
        return MC_ERR_LIMIT;
    env->names[env->n] = strdup(name);
    env->values[env->n] = strdup(value);
    env->n++;
    return env->names[env->n - 1] == NULL || env->values[env->n - 1] == NULL ? MC_ERR_NOMEM : MC_OK;
}

static const char *run_env_get(const struct run_env *env, const char *name)
{
    for (size_t i = 0; i < env->n; i++)
        if (strcmp(env->names[i], name) == 0)
            return env->values[i];
    return NULL;
}

static void run_env_free(struct run_env *env)
{
    for (size_t i = 0; i < env->n; i++) {
        free(env->names[i]);
        free(env->values[i]);
    }
    env->n = 0;
}

/* mockca_config_apply_env reads variables through a plain function; the scenario's env is
 * handed to it through this pointer, set only while the runner builds the config (runs do
 * not overlap within a process: run_cfg_mu). */
static pthread_mutex_t run_cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static const struct scenario *run_cfg_scn;

static const char *run_scn_getenv(const char *name)
{
    for (size_t i = 0; run_cfg_scn != NULL && i < run_cfg_scn->n_env; i++)
        if (strcmp(run_cfg_scn->env_names[i], name) == 0)
            return run_cfg_scn->env_values[i];
    return NULL;
}

static bool run_is_identifier(const char *s)
{
    if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return false;
    return true;
}

/* Replaces ${NAME} in in by env's value, else the process environment's. */
static enum mc_err run_subst(const char *in, const struct run_env *env, char **out, char *err,
                             size_t errn)
{
    char *buf = malloc(RUN_MAX_ARG);
    size_t n = 0;

    *out = NULL;
    if (buf == NULL)
        return MC_ERR_NOMEM;
    for (const char *p = in; *p != '\0';) {
        const char *v;
        size_t vl;
        if (p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            char name[128];
            if (end == NULL || end - p - 2 <= 0 || (size_t)(end - p - 2) >= sizeof(name)) {
                snprintf(err, errn, "unterminated or empty ${...} in \"%.80s\"", in);
                free(buf);
                return MC_ERR_INVALID;
            }
            snprintf(name, sizeof(name), "%.*s", (int)(end - p - 2), p + 2);
            if (!run_is_identifier(name)) {
                /* A shell's own form (${X:-default}): left for the shell. */
                v = p;
                p++;
                if (n + 1 >= RUN_MAX_ARG)
                    goto big;
                buf[n++] = *v;
                continue;
            }
            v = run_env_get(env, name);
            if (v == NULL)
                v = getenv(name);
            if (v == NULL) {
                snprintf(err, errn, "unknown placeholder ${%s}", name);
                free(buf);
                return MC_ERR_NOT_FOUND;
            }
            p = end + 1;
        } else {
            v = p;
            vl = 1;
            p++;
            if (n + vl >= RUN_MAX_ARG)
                goto big;
            buf[n++] = *v;
            continue;
        }
        vl = strlen(v);
        if (n + vl >= RUN_MAX_ARG)
            goto big;
        memcpy(buf + n, v, vl);
        n += vl;
    }
    buf[n] = '\0';
    *out = buf;
    return MC_OK;
big:
    snprintf(err, errn, "an argument is over %d bytes after substitution", RUN_MAX_ARG);
    free(buf);
    return MC_ERR_TOO_BIG;
}

/* "NAME=value" for every variable of the process environment not in env, then env's. */
static char **run_envp(const struct run_env *env)
{
    size_t total = 0, k = 0;
    char **envp;

    for (char **e = environ; *e != NULL; e++)
        total++;
    envp = calloc(total + env->n + 1, sizeof(*envp));
    if (envp == NULL)
        return NULL;
    for (char **e = environ; *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        bool over = false;
        for (size_t i = 0; eq != NULL && i < env->n; i++)
            if (strlen(env->names[i]) == (size_t)(eq - *e) &&
                strncmp(env->names[i], *e, (size_t)(eq - *e)) == 0)
                over = true;
        if (!over)
            envp[k++] = strdup(*e);
        if (k > 0 && envp[k - 1] == NULL)
            goto fail;
    }
    for (size_t i = 0; i < env->n; i++) {
        size_t len = strlen(env->names[i]) + strlen(env->values[i]) + 2;
        envp[k] = malloc(len);
        if (envp[k] == NULL)
            goto fail;
        snprintf(envp[k], len, "%s=%s", env->names[i], env->values[i]);
        k++;
    }
    return envp;
fail:
    for (size_t i = 0; i < k; i++)
        free(envp[i]);
    free(envp);
    return NULL;
}

static void run_strv_free(char **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

/* ---- helpers -------------------------------------------------------------------------- */

/* A TCP port on 127.0.0.1 picked by the kernel, its socket kept bound (not listening) in
 * *held until the caller closes it: while it is held, mockca's own port-0 listeners cannot
 * be given the same number (they once were, and the client's responder then found its
 * port taken). 0 on failure. */
static uint16_t run_hold_port(int *held)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    *held = -1;
    if (fd < 0)
        return 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (port != 0)
        *held = fd;
    else
        close(fd);
    return port;
}

/* POSTs body (JSON text) to the embedded dnsmock's management API (plain HTTP on
 * loopback, an IP literal in base, so nothing is resolved); the answer's JSON in *out (may
 * be NULL). */
static enum mc_err run_dns_post(const char *base, const char *path, const char *body, cJSON **out,
                                char *err, size_t errn)
{
    struct fetch_request req;
    struct fetch_response resp;
    char url[256];
    enum mc_err e = MC_ERR_IO, fe;

    if (out != NULL)
        *out = NULL;
    memset(&resp, 0, sizeof(resp));
    if ((size_t)snprintf(url, sizeof(url), "%s%s", base, path) >= sizeof(url)) {
        snprintf(err, errn, "dnsmock %s: URL too long", path);
        return MC_ERR_TOO_BIG;
    }
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.body = body;
    req.body_len = strlen(body);
    req.body_max = 1024 * 1024;
    req.timeout_ms = 10000;
    fe = fetch_do(&req, &resp);
    if (fe != MC_OK || resp.status != 200) {
        snprintf(err, errn, "dnsmock %s: %s%.200s", path, fe != MC_OK ? resp.err : "refused: ",
                 fe == MC_OK && resp.body != NULL ? resp.body : "");
        goto out;
    }
    e = MC_OK;
    if (out != NULL && json_parse(resp.body, resp.body_len, 1024 * 1024, 32, out) != MC_OK)
        *out = NULL;
out:
    fetch_response_free(&resp);
    return e;
}

static int run_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* mkdir -p: 0 or -1 with errno. */
static int run_mkdir_p(const char *path)
{
    char buf[RUN_PATH];

    if (strlen(path) >= sizeof(buf)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

static int64_t run_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the command ------------------------------------------------------------------------ */

/* Runs argv with envp in workdir, in its own process group, output to log_fd (-1:
 * inherited). *code: the exit status, or -1 when signalled or timed out. */
static enum mc_err run_command(char *const *argv, char **envp, const char *workdir, int log_fd,
                               int64_t timeout_s, int *code, bool *timed_out)
{
    int64_t deadline = run_mono_ms() + timeout_s * 1000;
    int st = 0;
    pid_t pid, w;

    *code = -1;
    *timed_out = false;
    pid = fork();
    if (pid < 0)
        return MC_ERR_IO;
    if (pid == 0) {
        /* Child: only async-signal-safe calls until exec. */
        int nul = open("/dev/null", O_RDONLY);
        setpgid(0, 0);
        if (nul >= 0)
            dup2(nul, 0);
        if (log_fd >= 0) {
            dup2(log_fd, 1);
            dup2(log_fd, 2);
        }
        if (chdir(workdir) != 0)
            _exit(126);
        execvpe(argv[0], argv, envp);
        _exit(127);
    }
    setpgid(pid, pid); /* also here: no race with the kill below */
    for (;;) {
        struct timespec ts = {0, RUN_POLL_MS * 1000000L};
        w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return MC_ERR_IO;
        if (run_mono_ms() >= deadline) {
            *timed_out = true;
            kill(-pid, SIGTERM);
            int64_t grace = run_mono_ms() + RUN_KILL_GRACE_MS;
            while (run_mono_ms() < grace) {
                w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                    break;
                nanosleep(&ts, NULL);
            }
            if (w != pid) {
                kill(-pid, SIGKILL);
                waitpid(pid, &st, 0);
            }
            break;
        }
        nanosleep(&ts, NULL);
    }
    /* Anything the command left behind in its group (a standalone responder, a shell's
     * background job) goes with it. */
    kill(-pid, SIGKILL);
    if (!*timed_out && WIFEXITED(st))
        *code = WEXITSTATUS(st);
    return MC_OK;
}

/* ---- judging and reports --------------------------------------------------------------- */

#define RUN_MAX_REQS 512

struct run_req {
    char id[96];
    char text[512];
    bool skip;   /* not exercised */
    bool ok;
    char detail[768];
};

struct run_judge {
    struct run_req reqs[RUN_MAX_REQS];
    size_t n;
};

static struct run_req *run_req_add(struct run_judge *j, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static struct run_req *run_req_add(struct run_judge *j, const char *name, const char *fmt, ...)
{
    struct run_req *r;
    va_list ap;

    if (j->n >= RUN_MAX_REQS)
        return NULL;
    r = &j->reqs[j->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "SCN-%s-%zu", name, j->n);
    va_start(ap, fmt);
    vsnprintf(r->text, sizeof(r->text), fmt, ap);
    va_end(ap);
    return r;
}

static bool run_same_names(const struct scn_names *want, const struct mockca_order_info *o)
{
    if (o->n_names == 0)
        return false;
    for (size_t i = 0; i < want->n; i++) {
        bool found = false;
        for (size_t k = 0; k < o->n_names; k++)
            if (strcasecmp(want->v[i], o->names[k]) == 0)
                found = true;
        if (!found)
            return false;
    }
    for (size_t k = 0; k < o->n_names; k++) {
        bool found = false;
        for (size_t i = 0; i < want->n; i++)
            if (strcasecmp(want->v[i], o->names[k]) == 0)
                found = true;
        if (!found)
            return false;
    }
    return true;
}

/* How often a fault rule fired: ACME/CertCentral from mockca's engine, DNS from the
 * embedded dnsmock's list. */
static int64_t run_fired(struct mockca *m, const cJSON *dns_rules, const char *server, uint64_t id)
{
    uint64_t fired = 0;
    const cJSON *r;

    if (strcmp(server, "dns") != 0)
        return mockca_fault_fired(m, id, &fired) == MC_OK ? (int64_t)fired : 0;
    cJSON_ArrayForEach(r, dns_rules)
    {
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(r, "id");
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(r, "fired");
        if (cJSON_IsNumber(rid) && (uint64_t)rid->valuedouble == id && cJSON_IsNumber(f))
            return (int64_t)f->valuedouble;
    }
    return 0;
}

static void run_judge(struct run_ctx *c, const uint64_t *rule_ids, const cJSON *dns_rules,
                      int code, bool timed_out, struct run_judge *j)
{
    const struct scenario *s = c->s;
    const struct scn_expect *x = &s->expect;
    struct mockca_order_info *infos = NULL;
    int64_t valid = 0, revoked = 0, renewed = 0;
    char cb[32];
    struct run_req *r;

    infos = calloc(c->orders.n + 1, sizeof(*infos));
    for (size_t i = 0; infos != NULL && i < c->orders.n; i++) {
        if (mockca_order_info(c->m, c->orders.v[i], &infos[i]) != MC_OK)
            continue;
        if (strcmp(infos[i].status, "valid") == 0) {
            valid++;
            if (infos[i].replaces != NULL)
                renewed++;
        }
        if (infos[i].revoked)
            revoked++;
    }
    for (size_t i = 0; i < x->n_issued; i++) {
        char names[400] = "";
        for (size_t k = 0; k < x->issued[i].n; k++) {
            size_t l = strlen(names);
            snprintf(names + l, sizeof(names) - l, "%s%s", k > 0 ? " " : "", x->issued[i].v[k]);
        }
        r = run_req_add(j, s->name, "a certificate is issued for exactly [%s]", names);
        if (r == NULL)
            break;
        for (size_t k = 0; infos != NULL && k < c->orders.n; k++)
            if (strcmp(infos[k].status, "valid") == 0 && run_same_names(&x->issued[i], &infos[k]))
                r->ok = true;
        if (!r->ok)
            snprintf(r->detail, sizeof(r->detail),
                     "no valid order for exactly these identifiers (%zu orders, %" PRId64 " valid)",
                     c->orders.n, valid);
    }
    if (x->has_revoked && (r = run_req_add(j, s->name, "certificates revoked: %s",
                                           scn_count_str(&x->revoked, cb, sizeof(cb)))) != NULL) {
        r->ok = scn_count_ok(&x->revoked, revoked);
        snprintf(r->detail, sizeof(r->detail), "%" PRId64 " revoked", revoked);
    }
    if (x->has_renewed && (r = run_req_add(j, s->name, "renewals (orders with \"replaces\" issued): %s",
                                           scn_count_str(&x->renewed, cb, sizeof(cb)))) != NULL) {
        r->ok = scn_count_ok(&x->renewed, renewed);
        snprintf(r->detail, sizeof(r->detail), "%" PRId64 " renewed", renewed);
    }
    if (x->has_accounts && (r = run_req_add(j, s->name, "accounts created: %s",
                                            scn_count_str(&x->accounts, cb, sizeof(cb)))) != NULL) {
        r->ok = scn_count_ok(&x->accounts, (int64_t)c->accounts.n);
        snprintf(r->detail, sizeof(r->detail), "%zu created", c->accounts.n);
    }
    if (x->has_orders && (r = run_req_add(j, s->name, "orders created: %s",
                                          scn_count_str(&x->orders, cb, sizeof(cb)))) != NULL) {
        r->ok = scn_count_ok(&x->orders, (int64_t)c->orders.n);
        snprintf(r->detail, sizeof(r->detail), "%zu created", c->orders.n);
    }
    if (x->has_exit_code &&
        (r = run_req_add(j, s->name, "the command exits with %d", x->exit_code)) != NULL) {
        r->ok = !timed_out && code == x->exit_code;
        if (timed_out)
            snprintf(r->detail, sizeof(r->detail), "timed out after %" PRId64 " s", s->timeout_s);
        else
            snprintf(r->detail, sizeof(r->detail), "exit status %d", code);
    }
    if (x->has_no_must &&
        (r = run_req_add(j, s->name, "no MUST of the client conformance catalog violated")) != NULL) {
        size_t nfail = 0;
        /* mockca's grader (cconf.h) has watched every request of the run; its report
         * (conformance.html next to report.html) names each violation. */
        r->skip = mockca_conformance_must_failures(c->m, &nfail) != MC_OK;
        r->ok = !r->skip && nfail == 0;
        if (r->skip)
            snprintf(r->detail, sizeof(r->detail), "not judged: no client-conformance grader");
        else if (nfail > 0)
            snprintf(r->detail, sizeof(r->detail),
                     "%zu MUST requirement(s) failed; see conformance.html", nfail);
    }
    if (x->retry_after_respected &&
        (r = run_req_add(j, s->name, "every retry of a 429 or 503 waits for its Retry-After")) !=
            NULL) {
        r->ok = c->early == 0;
        if (c->early > 0)
            snprintf(r->detail, sizeof(r->detail), "%zu of %zu retries early; first: %s",
                     c->early, c->retries, c->early_detail);
        else if (c->retries == 0)
            snprintf(r->detail, sizeof(r->detail), "no retry of such an answer was seen");
        else
            snprintf(r->detail, sizeof(r->detail), "%zu retries, none early", c->retries);
    }
    for (size_t i = 0; i < x->n_fired; i++) {
        const struct scn_fired *f = &x->fired[i];
        size_t k;
        for (k = 0; k < s->n_faults; k++)
            if (strcmp(s->faults[k].name, f->rule) == 0)
                break;
        r = run_req_add(j, s->name, "fault rule %s fires %s", f->rule,
                        scn_count_str(&f->count, cb, sizeof(cb)));
        if (r == NULL || k == s->n_faults)
            continue;
        int64_t fired = run_fired(c->m, dns_rules, s->faults[k].server, rule_ids[k]);
        r->ok = scn_count_ok(&f->count, fired);
        snprintf(r->detail, sizeof(r->detail), "fired %" PRId64 " times", fired);
    }
    for (size_t i = 0; i < x->n_exchanges; i++) {
        const struct scn_exchange *q = &x->exchanges[i];
        char st[16] = "any";
        if (q->status != 0)
            snprintf(st, sizeof(st), "%d", q->status);
        r = run_req_add(j, s->name, "exchanges %s %s %s status %s%s%s: %s",
                        q->listener != NULL ? q->listener : "*", q->method != NULL ? q->method : "*",
                        q->path != NULL ? q->path : "*", st, q->problem != NULL ? " problem " : "",
                        q->problem != NULL ? q->problem : "", scn_count_str(&q->count, cb, sizeof(cb)));
        if (r == NULL)
            continue;
        r->ok = scn_count_ok(&q->count, (int64_t)c->xcount[i]);
        snprintf(r->detail, sizeof(r->detail), "%zu matching exchanges", c->xcount[i]);
    }
    if ((r = run_req_add(j, s->name, "the command finishes within %" PRId64 " s", s->timeout_s)) != NULL) {
        r->ok = !timed_out;
        if (timed_out)
            snprintf(r->detail, sizeof(r->detail), "killed after %" PRId64 " s", s->timeout_s);
    }
    for (size_t i = 0; infos != NULL && i < c->orders.n; i++)
        mockca_order_info_clear(&infos[i]);
    free(infos);
}

/* "Name: value" lines of a transcript side's headers (caller frees). */
static char *run_header_lines(const cJSON *hdrs)
{
    size_t cap = 1, n = 0;
    const cJSON *h;
    char *out;

    cJSON_ArrayForEach(h, hdrs)
        if (cJSON_IsString(h))
            cap += strlen(h->string) + strlen(h->valuestring) + 3;
    out = malloc(cap);
    if (out == NULL)
        return NULL;
    out[0] = '\0';
    cJSON_ArrayForEach(h, hdrs)
    {
        if (!cJSON_IsString(h))
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%s%s: %s", n > 0 ? "\n" : "", h->string,
                              h->valuestring);
    }
    return out;
}

static char *run_body_text(const cJSON *side)
{
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(side, "body");

    if (b == NULL)
        return NULL;
    if (cJSON_IsString(b))
        return strdup(b->valuestring);
    return cJSON_Print(b);
}

static void run_report_exchanges(struct report *rep, const char *transcript)
{
    cJSON *recs = NULL, *rec;
    char err[256];

    if (tr_load(transcript, 0, &recs, err, sizeof(err)) != MC_OK) {
        log_msg(LOGL_WARN, "run.report", "err=%s", err);
        return;
    }
    cJSON_ArrayForEach(rec, recs)
    {
        const cJSON *rq = cJSON_GetObjectItemCaseSensitive(rec, "request");
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(rec, "response");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "time");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
        struct report_exchange x;
        char *rqh = run_header_lines(cJSON_GetObjectItemCaseSensitive(rq, "headers"));
        char *rsh = run_header_lines(cJSON_GetObjectItemCaseSensitive(rs, "headers"));
        char *rqb = run_body_text(rq), *rsb = run_body_text(rs);
        memset(&x, 0, sizeof(x));
        x.at_ms = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0;
        x.actor = run_jstr(rec, "account");
        x.user_agent = run_jstr(rec, "user_agent");
        x.method = run_jstr(rec, "method");
        x.url = run_jstr(rec, "path");
        x.req_headers = rqh;
        x.req_body = rqb;
        x.status = cJSON_IsNumber(st) ? st->valueint : 0;
        x.resp_headers = rsh;
        x.resp_body = rsb;
        (void)report_add_exchange(rep, &x);
        free(rqh);
        free(rsh);
        free(rqb);
        free(rsb);
    }
    cJSON_Delete(recs);
}

static enum mc_err run_reports(const struct run_judge *j, const struct scenario *s,
                               const char *target, uint64_t seed, const char *dir,
                               const char *transcript, int64_t started, int64_t finished)
{
    struct report_req *cat = calloc(j->n + 1, sizeof(*cat));
    struct report *rep = NULL;
    char path[RUN_PATH + 32];
    enum mc_err e = MC_ERR_NOMEM;

    if (cat == NULL)
        return MC_ERR_NOMEM;
    for (size_t i = 0; i < j->n; i++) {
        cat[i].id = j->reqs[i].id;
        cat[i].rfc = s->name;
        cat[i].level = REPORT_MUST;
        cat[i].text = j->reqs[i].text;
    }
    rep = report_new("scenario", target, seed, cat, j->n);
    if (rep == NULL)
        goto out;
    report_set_times(rep, started, finished);
    for (size_t i = 0; i < j->n; i++) {
        if (j->reqs[i].skip)
            continue;
        e = report_exercised(rep, j->reqs[i].id);
        if (e == MC_OK && !j->reqs[i].ok)
            e = report_violation(rep, j->reqs[i].id, NULL, -1, j->reqs[i].detail);
        if (e != MC_OK)
            goto out;
    }
    if (transcript != NULL)
        run_report_exchanges(rep, transcript);
    snprintf(path, sizeof(path), "%s/report.json", dir);
    e = report_write_json(rep, path);
    snprintf(path, sizeof(path), "%s/report.junit.xml", dir);
    if (e == MC_OK)
        e = report_write_junit(rep, path);
    snprintf(path, sizeof(path), "%s/report.html", dir);
    if (e == MC_OK)
        e = report_write_html(rep, path);
out:
    report_free(rep); /* before the catalog it borrows */
    free(cat);
    return e;
}

/* ---- the run ----------------------------------------------------------------------------- */

static enum mc_err run_write(const char *dir, const char *name, const char *data, char *path,
                             size_t pathn)
{
    snprintf(path, pathn, "%s/%s", dir, name);
    return file_write_atomic(path, data, strlen(data), 0644);
}

static bool run_config_sets(const struct scenario *s, const char *key)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(s->config, "pebble");

    return cJSON_GetObjectItemCaseSensitive(p, key) != NULL;
}

/* Defaults, the scenario's config and env, then the runner's ports and seed. */
static enum mc_err run_config(const struct scenario *s, uint64_t seed, struct mockca_config *cfg,
                              int held[2], char *err, size_t errn)
{
    char inner[256] = "";
    char *text = NULL;
    enum mc_err e;

    e = mockca_config_init(cfg);
    if (e != MC_OK)
        return e;
    cfg->va_nosleep = true; /* quick by default; a scenario asks for Pebble's sleeps in env */
    if (s->config != NULL) {
        /* config.c wants the "pebble" object even when a scenario sets only CertCentral. */
        cJSON *copy = cJSON_Duplicate(s->config, 1);
        if (copy == NULL ||
            (cJSON_GetObjectItemCaseSensitive(copy, "pebble") == NULL &&
             cJSON_AddObjectToObject(copy, "pebble") == NULL)) {
            cJSON_Delete(copy);
            e = MC_ERR_NOMEM;
            goto fail;
        }
        e = json_print(copy, &text);
        cJSON_Delete(copy);
        if (e == MC_OK)
            e = mockca_config_apply_json(cfg, text, strlen(text), inner, sizeof(inner));
        free(text);
        if (e != MC_OK) {
            snprintf(err, errn, "config: %s", inner[0] != '\0' ? inner : mc_strerror(e));
            goto fail;
        }
    }
    pthread_mutex_lock(&run_cfg_mu);
    run_cfg_scn = s;
    e = mockca_config_apply_env(cfg, run_scn_getenv, inner, sizeof(inner));
    run_cfg_scn = NULL;
    pthread_mutex_unlock(&run_cfg_mu);
    if (e != MC_OK) {
        snprintf(err, errn, "env: %s", inner[0] != '\0' ? inner : mc_strerror(e));
        goto fail;
    }
    e = MC_ERR_NOMEM;
    free(cfg->listen_addr);
    free(cfg->mgmt_addr);
    free(cfg->dns_listen_addr);
    free(cfg->dns_mgmt_addr);
    free(cfg->dns_server);
    cfg->dns_server = NULL;
    cfg->listen_addr = strdup("127.0.0.1:0");
    cfg->mgmt_addr = strdup("127.0.0.1:0");
    cfg->dns_listen_addr = strdup("127.0.0.1:0");
    cfg->dns_mgmt_addr = strdup("127.0.0.1:0");
    if (cfg->listen_addr == NULL || cfg->mgmt_addr == NULL || cfg->dns_listen_addr == NULL ||
        cfg->dns_mgmt_addr == NULL)
        goto fail;
    if (!run_config_sets(s, "httpPort"))
        cfg->http_port = run_hold_port(&held[0]);
    if (!run_config_sets(s, "tlsPort"))
        cfg->tls_port = run_hold_port(&held[1]);
    if (cfg->http_port == 0 || cfg->tls_port == 0) {
        snprintf(err, errn, "no free port for the validation responders");
        e = MC_ERR_IO;
        goto fail;
    }
    cfg->fault_seed = seed;
    return MC_OK;
fail:
    mockca_config_free(cfg);
    return e;
}

/* Loads the scenario's fault rules; ids[i] gets rule i's id in its engine. */
static enum mc_err run_faults(struct mockca *m, const struct scenario *s, uint64_t *ids, char *err,
                              size_t errn)
{
    struct dnsmock *d = mockca_dnsmock(m);

    for (size_t i = 0; i < s->n_faults; i++) {
        const struct scn_fault *f = &s->faults[i];
        char inner[256] = "";
        enum mc_err e;
        if (strcmp(f->server, "dns") == 0) {
            cJSON *req = cJSON_CreateObject(), *resp = NULL;
            char *text = NULL;
            if (req == NULL || d == NULL)
                e = d == NULL ? MC_ERR_UNSUPPORTED : MC_ERR_NOMEM;
            else if ((f->match != NULL &&
                      !cJSON_AddItemToObject(req, "match", cJSON_Duplicate(f->match, 1))) ||
                     !cJSON_AddItemToObject(req, "action", cJSON_Duplicate(f->action, 1)))
                e = MC_ERR_NOMEM;
            else
                e = json_print(req, &text);
            if (e == MC_OK)
                e = run_dns_post(dnsmock_mgmt_url(d), "/add-dns-fault", text, &resp, inner,
                                 sizeof(inner));
            if (e == MC_OK) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp, "id");
                ids[i] = cJSON_IsNumber(id) ? (uint64_t)id->valuedouble : 0;
            }
            free(text);
            cJSON_Delete(req);
            cJSON_Delete(resp);
        } else {
            e = mockca_fault_add(m, f->server, f->match, f->action, &ids[i], inner, sizeof(inner));
        }
        if (e != MC_OK) {
            snprintf(err, errn, "faults[%zu] (%s): %s", i, f->name,
                     inner[0] != '\0' ? inner : mc_strerror(e));
            return e;
        }
    }
    return MC_OK;
}

/* The DNS fault rules' counters, for faults_fired. */
static cJSON *run_dns_rules(struct mockca *m)
{
    struct dnsmock *d = mockca_dnsmock(m);
    cJSON *resp = NULL, *rules;
    char err[256];

    if (d == NULL || run_dns_post(dnsmock_mgmt_url(d), "/dns-faults", "{}", &resp, err,
                                  sizeof(err)) != MC_OK)
        return NULL;
    rules = cJSON_DetachItemFromObjectCaseSensitive(resp, "rules");
    cJSON_Delete(resp);
    return rules;
}

/* Makes the embedded DNS answer loopback clients (run.h says why). */
static enum mc_err run_prepare_dns(struct mockca *m, char *err, size_t errn)
{
    struct dnsmock *d = mockca_dnsmock(m);
    enum mc_err e;

    if (d == NULL)
        return MC_OK;
    e = run_dns_post(dnsmock_mgmt_url(d), "/set-default-ipv6", "{\"ip\":\"\"}", NULL, err, errn);
    if (e == MC_OK)
        e = run_dns_post(dnsmock_mgmt_url(d), "/add-zone",
                         "{\"zone\":\"example.com.\",\"ns\":\"ns1.example.com.\"}", NULL, err,
                         errn);
    return e;
}

static enum mc_err run_exports(struct mockca *m, const struct scenario *s, const char *workdir,
                               const char *tls_root, const char *issuing_root, uint64_t seed,
                               struct run_env *env)
{
    struct dnsmock *d = mockca_dnsmock(m);
    const char *dns = mockca_dns_addr(m), *colon = strrchr(dns, ':');
    const char *key = mockca_cc_api_key(m);
    char buf[RUN_PATH + 64];
    enum mc_err e = MC_OK;

#define SET(n, v)                                                                                  \
    do {                                                                                           \
        if (e == MC_OK)                                                                            \
            e = run_env_set(env, n, v);                                                            \
    } while (0)
    SET("ACME_DIRECTORY_URL", mockca_directory_url(m));
    SET("MOCKCA_DIRECTORY", mockca_directory_url(m));
    SET("CERTCLI_SERVER", mockca_directory_url(m));
    SET("MOCKCA_MGMT", mockca_mgmt_url(m));
    SET("MOCKCA_DNS", dns);
    SET("MOCKCA_DNS_PORT", colon != NULL ? colon + 1 : "");
    SET("MOCKCA_DNS_MGMT", d != NULL ? dnsmock_mgmt_url(d) : "");
    SET("MOCKCA_TLS_ROOT", tls_root);
    SET("MOCKCA_ISSUING_ROOT", issuing_root);
    SET("SSL_CERT_FILE", tls_root);
    SET("REQUESTS_CA_BUNDLE", tls_root);
    SET("LEGO_CA_CERTIFICATES", tls_root);
    SET("CURL_CA_BUNDLE", tls_root);
    SET("CERTCENTRAL_BASE_URL", mockca_cc_url(m));
    SET("DIGICERT_BASE_URL", mockca_cc_url(m));
    if (key != NULL) {
        SET("DIGICERT_API_KEY", key);
        SET("MOCKCA_CC_API_KEY", key);
    }
    SET("MOCKCA_WORKDIR", workdir);
    snprintf(buf, sizeof(buf), "%s/certcli", workdir);
    SET("CERTCLI_DIR", buf);
    snprintf(buf, sizeof(buf), "%" PRIu64, seed);
    SET("MOCKCA_SEED", buf);
    for (size_t i = 0; i < s->n_env; i++)
        SET(s->env_names[i], s->env_values[i]);
#undef SET
    return e;
}

/* The ports the CA validates on, exported after the config is built. */
static enum mc_err run_export_ports(uint16_t http, uint16_t tls, struct run_env *env)
{
    char buf[16];
    enum mc_err e;

    snprintf(buf, sizeof(buf), "%u", (unsigned)http);
    e = run_env_set(env, "MOCKCA_HTTP_PORT", buf);
    snprintf(buf, sizeof(buf), "%u", (unsigned)tls);
    if (e == MC_OK)
        e = run_env_set(env, "MOCKCA_TLS_PORT", buf);
    return e;
}

static bool run_requirements_met(const struct scenario *s, char *why, size_t n)
{
    for (size_t i = 0; i < s->n_requires; i++) {
        if (!mockca_has_capability(s->requires[i])) {
            snprintf(why, n, "needs capability \"%s\", which this mockca does not have",
                     s->requires[i]);
            return false;
        }
    }
    return true;
}

enum mc_err run_scenario(const struct run_options *o, struct run_result *res)
{
    struct scenario s;
    struct mockca_config cfg;
    struct mockca *m = NULL;
    struct run_ctx ctx;
    struct run_env env;
    struct run_judge *judge = NULL;
    char workdir[RUN_PATH] = "", tls_root[RUN_PATH + 64], issuing_root[RUN_PATH + 64];
    char transcript[RUN_PATH + 64] = "", logpath[RUN_PATH + 64], target[1024] = "";
    char **argv = NULL, **envp = NULL, *root = NULL;
    uint64_t *rule_ids = NULL;
    cJSON *dns_rules = NULL;
    uint16_t http_port, tls_port;
    int64_t started = 0, finished = 0, timeout;
    int log_fd = -1, held[2] = {-1, -1};
    bool have_scn = false;
    enum mc_err e;

    memset(res, 0, sizeof(*res));
    memset(&ctx, 0, sizeof(ctx));
    memset(&env, 0, sizeof(env));
    pthread_mutex_init(&ctx.mu, NULL);
    res->verdict = RUN_ERROR;
    res->exit_code = -1;

    e = scn_load(o->scenario_path, &s, res->detail, sizeof(res->detail));
    have_scn = true;
    if (e != MC_OK)
        goto out;
    res->seed = o->seed != 0 ? o->seed : s.seed != 0 ? s.seed : prng_seed_from_os();
    if (res->seed == 0)
        res->seed = 1;
    timeout = o->timeout_s > 0 ? o->timeout_s : s.timeout_s;
    s.timeout_s = timeout;

    if (!run_requirements_met(&s, res->detail, sizeof(res->detail))) {
        res->verdict = RUN_SKIP;
        e = MC_OK;
        goto out;
    }
    /* The command: given, or the scenario's for the named client. */
    if (o->client != NULL) {
        const struct scn_client *cl = scn_client(&s, o->client);
        if (cl == NULL || cl->command == NULL) {
            snprintf(res->detail, sizeof(res->detail), "client %s: %s", o->client,
                     cl == NULL ? "not listed in client_support" : cl->skip);
            res->verdict = RUN_SKIP;
            e = MC_OK;
            goto out;
        }
    } else if (o->argv == NULL || o->argv[0] == NULL) {
        snprintf(res->detail, sizeof(res->detail), "no command (give -- COMMAND... or --client)");
        e = MC_ERR_INVALID;
        goto out;
    }

    e = run_config(&s, res->seed, &cfg, held, res->detail, sizeof(res->detail));
    if (e != MC_OK)
        goto out;
    http_port = cfg.http_port;
    tls_port = cfg.tls_port;
    e = mockca_start(&cfg, &m);
    /* mockca's listeners are bound: the responder ports can be let go for the client. */
    for (int i = 0; i < 2; i++) {
        if (held[i] >= 0)
            close(held[i]);
        held[i] = -1;
    }
    if (e != MC_OK) {
        snprintf(res->detail, sizeof(res->detail), "mockca did not start: %s", mc_strerror(e));
        goto out;
    }
    ctx.m = m;
    ctx.s = &s;
    ctx.step_done = calloc(s.n_clock + 1, sizeof(*ctx.step_done));
    ctx.xcount = calloc(s.expect.n_exchanges + 1, sizeof(*ctx.xcount));
    rule_ids = calloc(s.n_faults + 1, sizeof(*rule_ids));
    judge = calloc(1, sizeof(*judge));
    e = MC_ERR_NOMEM;
    if (ctx.step_done == NULL || ctx.xcount == NULL || rule_ids == NULL || judge == NULL)
        goto out;

    /* Work directory (the client's state, the trust files) and the report directory. */
    {
        const char *tmp = getenv("TMPDIR");
        snprintf(workdir, sizeof(workdir), "%s/mockca-run-XXXXXX",
                 tmp != NULL && tmp[0] != '\0' && strlen(tmp) < RUN_PATH / 2 ? tmp : "/tmp");
        if (mkdtemp(workdir) == NULL) {
            snprintf(res->detail, sizeof(res->detail), "cannot create a work directory: %s",
                     strerror(errno));
            workdir[0] = '\0';
            e = MC_ERR_IO;
            goto out;
        }
    }
    if (o->report_dir != NULL) {
        if (run_mkdir_p(o->report_dir) != 0) {
            snprintf(res->detail, sizeof(res->detail), "cannot create %s: %s", o->report_dir,
                     strerror(errno));
            e = MC_ERR_IO;
            goto out;
        }
        snprintf(transcript, sizeof(transcript), "%s/transcript.jsonl", o->report_dir);
        snprintf(logpath, sizeof(logpath), "%s/client.log", o->report_dir);
        log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd < 0) {
            snprintf(res->detail, sizeof(res->detail), "cannot write %.300s", logpath);
            e = MC_ERR_IO;
            goto out;
        }
    } else {
        snprintf(transcript, sizeof(transcript), "%s/transcript.jsonl", workdir);
    }
    e = mockca_root_pem(m, 0, &root);
    if (e == MC_OK)
        e = run_write(workdir, "issuing-root.pem", root, issuing_root, sizeof(issuing_root));
    if (e == MC_OK)
        e = run_write(workdir, "tls-root.pem",
                      mockca_tls_root_pem(m) != NULL ? mockca_tls_root_pem(m) : "", tls_root,
                      sizeof(tls_root));
    if (e == MC_OK) {
        char certcli_dir[RUN_PATH + 16];
        snprintf(certcli_dir, sizeof(certcli_dir), "%s/certcli", workdir);
        if (mkdir(certcli_dir, 0700) != 0)
            e = MC_ERR_IO;
    }
    if (e != MC_OK) {
        snprintf(res->detail, sizeof(res->detail), "cannot write the trust files: %s",
                 mc_strerror(e));
        goto out;
    }
    e = run_exports(m, &s, workdir, tls_root, issuing_root, res->seed, &env);
    if (e == MC_OK)
        e = run_export_ports(http_port, tls_port, &env);
    if (e != MC_OK)
        goto out;

    /* The command line, substituted. */
    {
        size_t argc = 0;
        char *const *src = o->argv;
        const char *shell[4] = {"/bin/sh", "-c", NULL, NULL};
        if (o->client != NULL) {
            shell[2] = scn_client(&s, o->client)->command;
            src = (char *const *)shell;
        }
        while (src[argc] != NULL)
            argc++;
        argv = calloc(argc + 1, sizeof(*argv));
        e = argv == NULL ? MC_ERR_NOMEM : MC_OK;
        for (size_t i = 0; e == MC_OK && i < argc; i++) {
            e = run_subst(src[i], &env, &argv[i], res->detail, sizeof(res->detail));
            if (e == MC_OK) {
                size_t l = strlen(target);
                snprintf(target + l, sizeof(target) - l, "%s%s", i > 0 ? " " : "", argv[i]);
            }
        }
        if (e != MC_OK)
            goto out;
    }
    envp = run_envp(&env);
    if (envp == NULL) {
        e = MC_ERR_NOMEM;
        goto out;
    }

    e = run_prepare_dns(m, res->detail, sizeof(res->detail));
    if (e == MC_OK)
        e = run_faults(m, &s, rule_ids, res->detail, sizeof(res->detail));
    if (e != MC_OK)
        goto out;
    e = mockca_transcript_open(m, transcript, o->transcript_max);
    if (e != MC_OK) {
        snprintf(res->detail, sizeof(res->detail), "cannot write %.300s", transcript);
        goto out;
    }
    mockca_set_observer(m, run_observe, &ctx);
    pthread_mutex_lock(&ctx.mu);
    ctx.events[SCN_EV_START] = 1;
    run_clock_steps(&ctx, SCN_EV_START);
    pthread_mutex_unlock(&ctx.mu);

    if (!o->quiet) {
        printf("scenario %s seed %" PRIu64 "\n", s.name, res->seed);
        fflush(stdout);
    }
    started = clock_now_ms(mockca_clock(m));
    e = run_command(argv, envp, workdir, log_fd, timeout, &res->exit_code, &res->timed_out);
    finished = clock_now_ms(mockca_clock(m));
    if (e != MC_OK) {
        snprintf(res->detail, sizeof(res->detail), "cannot run %s: %s", argv[0], strerror(errno));
        goto out;
    }
    mockca_set_observer(m, NULL, NULL);
    mockca_transcript_close(m, &res->exchanges, NULL);
    dns_rules = run_dns_rules(m);

    run_judge(&ctx, rule_ids, dns_rules, res->exit_code, res->timed_out, judge);
    res->requirements = judge->n;
    for (size_t i = 0; i < judge->n; i++) {
        const struct run_req *r = &judge->reqs[i];
        if (!r->skip && !r->ok)
            res->failed++;
        if (!o->quiet)
            printf("%s %s %s%s%s\n", r->skip ? "SKIP" : r->ok ? "PASS" : "FAIL", r->id, r->text,
                   r->detail[0] != '\0' ? " -- " : "", r->detail);
    }
    if (o->report_dir != NULL) {
        e = run_reports(judge, &s, target, res->seed, o->report_dir, transcript, started, finished);
        if (e == MC_OK)
            e = mockca_conformance_write(ctx.m, o->report_dir);
        if (e != MC_OK) {
            snprintf(res->detail, sizeof(res->detail), "cannot write the reports: %s",
                     mc_strerror(e));
            goto out;
        }
    }
    res->verdict = res->failed == 0 ? RUN_PASS : RUN_FAIL;
    e = MC_OK;
out:
    for (int i = 0; i < 2; i++)
        if (held[i] >= 0)
            close(held[i]);
    if (m != NULL) {
        mockca_set_observer(m, NULL, NULL);
        mockca_stop(m);
    }
    if (log_fd >= 0)
        close(log_fd);
    /* The work directory holds the client's state and keys; the reports are in
     * report_dir. Kept only when asked, so that runs do not pile up in TMPDIR. */
    if (workdir[0] != '\0' && !o->keep_workdir)
        nftw(workdir, run_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    else if (workdir[0] != '\0' && !o->quiet)
        printf("workdir %s\n", workdir);
    if (e != MC_OK)
        res->verdict = RUN_ERROR;
    if (!o->quiet) {
        printf("scenario %s: %s%s%s\n", have_scn && s.name != NULL ? s.name : o->scenario_path,
               res->verdict == RUN_PASS   ? "PASS"
               : res->verdict == RUN_FAIL ? "FAIL"
               : res->verdict == RUN_SKIP ? "SKIP"
                                          : "ERROR",
               res->detail[0] != '\0' ? ": " : "", res->detail);
        fflush(stdout);
    }
    cJSON_Delete(dns_rules);
    free(root);
    free(rule_ids);
    free(judge);
    run_strv_free(argv);
    run_strv_free(envp);
    run_env_free(&env);
    run_ids_free(&ctx.orders);
    run_ids_free(&ctx.accounts);
    free(ctx.step_done);
    free(ctx.xcount);
    pthread_mutex_destroy(&ctx.mu);
    scn_free(&s);
    return e;
}

/* ---- the command line ------------------------------------------------------------------- */

static void run_usage(FILE *f)
{
    fprintf(f,
            "Usage: mockca run --scenario FILE [--report-dir DIR] [--seed N] [--timeout S]\n"
            "                  [--transcript-max BYTES] [--quiet] [--keep-workdir]\n"
            "                  (--client NAME | -- COMMAND ARGS...)\n"
            "Starts mockca and its DNS on free loopback ports with the scenario's config, env,\n"
            "fault rules and clock steps, runs COMMAND (or the scenario's client_support\n"
            "command for NAME, through /bin/sh -c) with the CA's addresses and trust bundle in\n"
            "its environment (ACME_DIRECTORY_URL, SSL_CERT_FILE, ...; ${NAME} in arguments is\n"
            "replaced), judges the scenario's expectations and writes the reports (JSON, JUnit\n"
            "XML, HTML), the transcript and the command's output to DIR. The work directory\n"
            "(the client's state) is removed afterwards unless --keep-workdir.\n"
            "Exit status: 0 every expectation holds, 1 some do not, 2 usage or setup error,\n"
            "3 skipped (a capability the scenario requires is missing, or the client is marked\n"
            "skip).\n");
}

static bool run_parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

int run_main(int argc, char **argv)
{
    static const struct option lopts[] = {{"scenario", required_argument, NULL, 's'},
                                          {"report-dir", required_argument, NULL, 'r'},
                                          {"seed", required_argument, NULL, 'S'},
                                          {"client", required_argument, NULL, 'c'},
                                          {"timeout", required_argument, NULL, 't'},
                                          {"transcript-max", required_argument, NULL, 'm'},
                                          {"quiet", no_argument, NULL, 'q'},
                                          {"keep-workdir", no_argument, NULL, 'k'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    struct run_options o;
    struct run_result res;
    uint64_t v;
    int c;

    memset(&o, 0, sizeof(o));
    optind = 1;
    opterr = 1;
    /* "+": stop at the first non-option, so the command's own options are left alone. */
    while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.scenario_path = optarg;
            break;
        case 'r':
            o.report_dir = optarg;
            break;
        case 'S':
            if (!run_parse_u64(optarg, &o.seed) || o.seed == 0) {
                fprintf(stderr, "mockca run: --seed wants a positive integer\n");
                return RUN_ERROR;
            }
            break;
        case 'c':
            o.client = optarg;
            break;
        case 't':
            if (!run_parse_u64(optarg, &v) || v == 0 || v > 3600) {
                fprintf(stderr, "mockca run: --timeout wants 1 to 3600 seconds\n");
                return RUN_ERROR;
            }
            o.timeout_s = (int64_t)v;
            break;
        case 'm':
            if (!run_parse_u64(optarg, &v) || v < 4096) {
                fprintf(stderr, "mockca run: --transcript-max wants at least 4096 bytes\n");
                return RUN_ERROR;
            }
            o.transcript_max = (size_t)v;
            break;
        case 'q':
            o.quiet = true;
            break;
        case 'k':
            o.keep_workdir = true;
            break;
        case 'h':
            run_usage(stdout);
            return 0;
        default:
            run_usage(stderr);
            return RUN_ERROR;
        }
    }
    if (o.scenario_path == NULL) {
        fprintf(stderr, "mockca run: --scenario FILE is required\n");
        run_usage(stderr);
        return RUN_ERROR;
    }
    if (optind < argc)
        o.argv = argv + optind;
    if ((o.argv == NULL) == (o.client == NULL)) {
        fprintf(stderr, "mockca run: give either --client NAME or -- COMMAND ARGS...\n");
        return RUN_ERROR;
    }
    signal(SIGPIPE, SIG_IGN);
    if (run_scenario(&o, &res) != MC_OK) {
        fprintf(stderr, "mockca run: %s\n", res.detail);
        return RUN_ERROR;
    }
    return res.verdict;
}
