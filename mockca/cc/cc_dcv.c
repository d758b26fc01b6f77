/* cc_dcv.c: domain control validation (A4), checked for real: DNS TXT and CNAME lookups
 * through the configured DNS server only, and fileauth.txt fetched over HTTP from the
 * configured port, the name resolved through the same DNS server. Email DCV is simulated:
 * the emails are recorded and the management API approves them. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <ldns/ldns.h>

#include "common/json.h"
#include "common/log.h"
#include "mockca/cc/cc_int.h"
#include "mockca/fetch.h"
#include "mockca/va.h"

#define CC_HTTP_MAX 4096 /* fileauth.txt holds one value or a few tokens */
#define CC_TXT_MAX 32    /* TXT strings kept per name */

bool cc_method_valid(const char *m)
{
    return strcmp(m, "email") == 0 || cc_method_token(m);
}

bool cc_method_token(const char *m)
{
    return strcmp(m, "dns-txt-token") == 0 || strcmp(m, "dns-cname-token") == 0 ||
           strcmp(m, "http-token") == 0 || strcmp(m, "http-token-dynamic") == 0;
}

static const char *cc_base(const char *name)
{
    return strncmp(name, "*.", 2) == 0 ? name + 2 : name;
}

/* ---- DNS ---------------------------------------------------------------------------- */

/* One query for name/type to cc->dns_server, TCP fallback on truncation. NULL on any
 * failure (a DCV check then simply does not find the value). */
static ldns_pkt *cc_dns_query(const struct cc_server *cc, const char *name, ldns_rr_type type)
{
    ldns_resolver *res = NULL;
    ldns_rdf *ns = NULL, *qname = NULL;
    ldns_pkt *p = NULL;
    char host[64];
    uint16_t port = 53;
    struct in6_addr a6;
    struct timeval tv;

    if (http_split_hostport(cc->dns_server, host, sizeof(host), &port) != MC_OK) {
        snprintf(host, sizeof(host), "%s", cc->dns_server);
        port = 53;
    }
    res = ldns_resolver_new();
    if (res == NULL)
        goto out;
    ns = ldns_rdf_new_frm_str(inet_pton(AF_INET6, host, &a6) == 1 ? LDNS_RDF_TYPE_AAAA
                                                                  : LDNS_RDF_TYPE_A,
                              host);
    if (ns == NULL || ldns_resolver_push_nameserver(res, ns) != LDNS_STATUS_OK)
        goto out;
    ldns_resolver_set_port(res, port);
    ldns_resolver_set_recursive(res, false);
    ldns_resolver_set_retry(res, 1);
    ldns_resolver_set_fallback(res, true);
    ldns_resolver_set_random(res, false);
    tv.tv_sec = (time_t)(cc->dcv_timeout_ms / 1000);
    tv.tv_usec = (suseconds_t)((cc->dcv_timeout_ms % 1000) * 1000);
    ldns_resolver_set_timeout(res, tv);
    qname = ldns_dname_new_frm_str(name);
    if (qname == NULL)
        goto out;
    if (ldns_resolver_send(&p, res, qname, type, LDNS_RR_CLASS_IN, 0) != LDNS_STATUS_OK) {
        ldns_pkt_free(p);
        p = NULL;
    }
out:
    ldns_rdf_deep_free(qname);
    ldns_rdf_deep_free(ns);
    ldns_resolver_deep_free(res);
    return p;
}

/* Appends the TXT strings at name (each RR's strings joined) to v. */
static void cc_dns_txt(const struct cc_server *cc, const char *name, char **v, size_t *n)
{
    ldns_pkt *p = cc_dns_query(cc, name, LDNS_RR_TYPE_TXT);
    ldns_rr_list *ans = p != NULL ? ldns_pkt_answer(p) : NULL;
    for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans) && *n < CC_TXT_MAX; i++) {
        ldns_rr *rr = ldns_rr_list_rr(ans, i);
        char buf[1024];
        size_t len = 0;
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
            continue;
        for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
            const ldns_rdf *rd = ldns_rr_rdf(rr, k);
            const uint8_t *d = ldns_rdf_data(rd);
            size_t sl = ldns_rdf_size(rd) > 0 ? d[0] : 0;
            if (sl + 1 > ldns_rdf_size(rd) || len + sl >= sizeof(buf))
                break;
            memcpy(buf + len, d + 1, sl);
            len += sl;
        }
        buf[len] = '\0';
        v[*n] = strdup(buf);
        if (v[*n] != NULL)
            (*n)++;
    }
    ldns_pkt_free(p);
}

/* The CNAME target at name (no trailing dot, lowercase) into out, or "". */
static void cc_dns_cname(const struct cc_server *cc, const char *name, char *out, size_t n)
{
    ldns_pkt *p = cc_dns_query(cc, name, LDNS_RR_TYPE_CNAME);
    ldns_rr_list *ans = p != NULL ? ldns_pkt_answer(p) : NULL;
    out[0] = '\0';
    for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans); i++) {
        ldns_rr *rr = ldns_rr_list_rr(ans, i);
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) != 1)
            continue;
        char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        if (s != NULL) {
            size_t l = strlen(s);
            if (l > 0 && s[l - 1] == '.')
                s[--l] = '\0';
            for (char *q = s; *q != '\0'; q++)
                *q = (char)tolower((unsigned char)*q);
            snprintf(out, n, "%s", s);
        }
        free(s);
    }
    ldns_pkt_free(p);
}

/* The first A (else AAAA) address of name, or "" when none. */
static void cc_dns_addr(const struct cc_server *cc, const char *name, char *out, size_t n)
{
    out[0] = '\0';
    for (int t = 0; t < 2 && out[0] == '\0'; t++) {
        ldns_rr_type type = t == 0 ? LDNS_RR_TYPE_A : LDNS_RR_TYPE_AAAA;
        ldns_pkt *p = cc_dns_query(cc, name, type);
        ldns_rr_list *ans = p != NULL ? ldns_pkt_answer(p) : NULL;
        for (size_t i = 0; ans != NULL && i < ldns_rr_list_rr_count(ans) && out[0] == '\0'; i++) {
            ldns_rr *rr = ldns_rr_list_rr(ans, i);
            if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) != 1)
                continue;
            const ldns_rdf *rd = ldns_rr_rdf(rr, 0);
            int af = t == 0 ? AF_INET : AF_INET6;
            if (ldns_rdf_size(rd) == (t == 0 ? 4u : 16u) &&
                inet_ntop(af, ldns_rdf_data(rd), out, (socklen_t)n) == NULL)
                out[0] = '\0';
        }
        ldns_pkt_free(p);
    }
}

/* ---- HTTP --------------------------------------------------------------------------- */

/* GET http://name:<http_port>path, name resolved through the DNS server. New body or NULL
 * (no address, no 200 answer, or a body over CC_HTTP_MAX). */
static char *cc_http_get(const struct cc_server *cc, const char *name, const char *path)
{
    struct fetch_request req;
    struct fetch_response resp;
    char addr[64], url[600];
    char *out = NULL;
    enum mc_err e;

    cc_dns_addr(cc, name, addr, sizeof(addr));
    if (addr[0] == '\0')
        return NULL;
    if ((size_t)snprintf(url, sizeof(url), "http://%s:%u%s", name, (unsigned)cc->http_port, path) >=
        sizeof(url))
        return NULL;
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.addr = addr;
    req.user_agent = "mockca-dcv";
    req.body_max = CC_HTTP_MAX;
    req.timeout_ms = cc->dcv_timeout_ms;
    /* Redirects are not followed: the file must be at the exact FQDN (A4). */
    e = fetch_do(&req, &resp);
    if (e == MC_OK && resp.status == 200) {
        out = resp.body;
        resp.body = NULL;
    } else if (e != MC_OK) {
        log_msg(LOGL_DEBUG, "cc.dcv.http", "url=%s err=%s", url, mc_strerror(e));
    }
    fetch_response_free(&resp);
    return out;
}

/* ---- checks ------------------------------------------------------------------------- */

void cc_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool cc_text_has(const char *text, const char *value)
{
    /* A TXT or file holding the value, maybe among other lines or with whitespace. */
    size_t vl = strlen(value);
    const char *p = text;
    if (vl == 0)
        return false;
    while ((p = strstr(p, value)) != NULL) {
        bool left = p == text || isspace((unsigned char)p[-1]);
        bool right = p[vl] == '\0' || isspace((unsigned char)p[vl]);
        if (left && right)
            return true;
        p++;
    }
    return false;
}

void cc_collect_texts(const struct cc_server *cc, const char *name, const char *method,
                      char ***out, size_t *n)
{
    char **v = calloc(CC_TXT_MAX, sizeof(*v));
    char q[300];
    const char *base = cc_base(name);
    *out = v;
    *n = 0;
    if (v == NULL)
        return;
    if (strncmp(method, "http-token", 10) == 0) {
        char *body = cc_http_get(cc, base, "/.well-known/pki-validation/fileauth.txt");
        if (body != NULL)
            v[(*n)++] = body;
        return;
    }
    cc_dns_txt(cc, base, v, n);
    snprintf(q, sizeof(q), "_dnsauth.%s", base);
    cc_dns_txt(cc, q, v, n);
}

bool cc_dcv_check(const struct cc_server *cc, const char *name, const char *method,
                  const char *const *values, size_t nvalues)
{
    const char *base = cc_base(name);
    char q[300], target[300], want[300];
    bool ok = false;

    if (strcmp(method, "dns-cname-token") == 0) {
        /* A4: _dnsauth.<domain> CNAME <value>.dcv.digicert.com; the seed's docs also
         * describe <value>.<domain> CNAME dcv.digicert.com: both are taken. */
        snprintf(q, sizeof(q), "_dnsauth.%s", base);
        cc_dns_cname(cc, q, target, sizeof(target));
        for (size_t i = 0; i < nvalues && !ok; i++) {
            snprintf(want, sizeof(want), "%s.dcv.digicert.com", values[i]);
            ok = strcasecmp(target, want) == 0;
        }
        for (size_t i = 0; i < nvalues && !ok; i++) {
            snprintf(q, sizeof(q), "%s.%s", values[i], base);
            cc_dns_cname(cc, q, target, sizeof(target));
            ok = strcasecmp(target, "dcv.digicert.com") == 0;
        }
        return ok;
    }
    if (strcmp(method, "http-token-dynamic") == 0) {
        for (size_t i = 0; i < nvalues && !ok; i++) {
            char path[200];
            snprintf(path, sizeof(path), "/.well-known/pki-validation/%s.txt", values[i]);
            char *body = cc_http_get(cc, base, path);
            ok = body != NULL && cc_text_has(body, values[i]);
            free(body);
        }
        return ok;
    }
    char **t = NULL;
    size_t nt = 0;
    cc_collect_texts(cc, name, method, &t, &nt);
    for (size_t i = 0; i < nt && !ok; i++)
        for (size_t k = 0; k < nvalues && !ok; k++)
            ok = cc_text_has(t[i], values[k]);
    cc_strv_free(t, nt);
    return ok;
}

bool cc_name_covered(struct cc_server *cc, const struct cc_order *o, const struct cc_name *n)
{
    struct cc_domain *d;
    if (n->approved)
        return true;
    d = cc_domain_get(cc, n->domain_id, 0);
    /* OV/EV domain validation is reused for 397 days (prevalidation). */
    return d != NULL && d->approved && d->approved_at + 397 * CC_DAY > clock_now(cc->clock) &&
           o->product->vt != CC_VT_DV;
}

void cc_send_emails(struct cc_server *cc, struct cc_order *o, int64_t domain_id,
                    const char *name, const char *only)
{
    static const char *const locals[] = {"admin", "administrator", "webmaster", "hostmaster",
                                         "postmaster"};
    const char *base = cc_base(name);
    size_t count = only != NULL ? 1 : 5;
    for (size_t i = 0; i < count; i++) {
        struct cc_email *m;
        char to[320];
        if (only != NULL)
            snprintf(to, sizeof(to), "%s", only);
        else
            snprintf(to, sizeof(to), "%s@%s", locals[i], base);
        if (cc->emails.n >= CC_MAX_EMAILS) {
            struct cc_email *old = cc->emails.v[0];
            free(old->name);
            free(old->to);
            free(old);
            cc_vec_remove(&cc->emails, 0);
        }
        m = calloc(1, sizeof(*m));
        if (m == NULL)
            return;
        m->id = cc->next_email++;
        m->order_id = o != NULL ? o->id : 0;
        m->domain_id = domain_id;
        m->at = clock_now(cc->clock);
        m->name = strdup(name);
        m->to = strdup(to);
        if (m->name == NULL || m->to == NULL || cc_vec_push(&cc->emails, m) != MC_OK) {
            free(m->name);
            free(m->to);
            free(m);
            return;
        }
        log_msg(LOGL_INFO, "cc.dcv.email", "order=%lld name=%s to=%s",
                (long long)m->order_id, name, to);
    }
}

/* ---- order-level DCV (A4 a-e) ------------------------------------------------------- */

static struct cc_order *cc_dcv_order(struct cc_ctx *c)
{
    int64_t id;
    struct cc_order *o = NULL;
    if (cc_parse_id(c->arg[0], &id))
        o = cc_order_get(c->cc, id, c->key->account_id);
    if (o == NULL)
        cc_err(c, 404, "not_found|order", "The specified order was not found.");
    return o;
}

struct cc_job {
    char *name;
    int64_t domain_id;
    char *values[3];
    size_t nvalues;
    bool ok;
};

static void cc_jobs_free(struct cc_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(jobs[i].name);
        for (size_t k = 0; k < jobs[i].nvalues; k++)
            free(jobs[i].values[k]);
    }
    free(jobs);
}

/* The values that prove name: the order's random value and the domain's token, while
 * valid (A4 g: either value satisfies either check). */
static void cc_job_values(struct cc_server *cc, const struct cc_order *o, struct cc_job *j,
                          int64_t now)
{
    struct cc_domain *d = cc_domain_get(cc, j->domain_id, 0);
    if (o != NULL && o->rv[0] != '\0' && o->rv_exp > now)
        j->values[j->nvalues++] = strdup(o->rv);
    if (d != NULL && d->token[0] != '\0' && d->token_exp > now)
        j->values[j->nvalues++] = strdup(d->token);
    for (size_t i = 0; i < j->nvalues;) {
        if (j->values[i] == NULL) {
            j->values[i] = j->values[--j->nvalues];
        } else {
            i++;
        }
    }
}

/* Runs the jobs without the lock (the network may take dcv_timeout_ms per lookup). */
static void cc_run_jobs(struct cc_ctx *c, struct cc_job *jobs, size_t n, const char *method)
{
    pthread_mutex_unlock(&c->cc->mu);
    for (size_t i = 0; i < n; i++)
        jobs[i].ok = jobs[i].nvalues > 0 &&
                     cc_dcv_check(c->cc, jobs[i].name, method, (const char *const *)jobs[i].values,
                                  jobs[i].nvalues);
    pthread_mutex_lock(&c->cc->mu);
}

static bool cc_subset_has(const cJSON *subset, const char *name)
{
    const cJSON *v;
    if (subset == NULL)
        return true;
    cJSON_ArrayForEach(v, subset)
    {
        const char *dn = NULL;
        if (cJSON_IsObject(v) && json_get_string(v, "dns_name", &dn) == MC_OK &&
            strcasecmp(dn, name) == 0)
            return true;
        if (cJSON_IsString(v) && strcasecmp(v->valuestring, name) == 0)
            return true;
    }
    return false;
}

static const char *cc_fail_code(const char *method)
{
    return strncmp(method, "http-token", 10) == 0 ? "file_random_value_not_found"
                                                  : "invalid_dns_txt";
}

static const char *cc_fail_msg(const char *method)
{
    return strncmp(method, "http-token", 10) == 0
               ? "Could not find the random value at the expected file location for one or "
                 "more domains."
               : "Could not find a valid TXT record for one or more domains.";
}

/* PUT /order/certificate/{id}/check-dcv */
void cc_h_check_dcv(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o = NULL;
    const cJSON *subset = NULL;
    struct cc_job *jobs = NULL;
    size_t nj = 0;
    int64_t oid;
    char method[24];
    bool failed = false;
    cJSON *j, *a;

    if (c->body != NULL) {
        /* A4 a: the docs spell it both ways. */
        if (json_get_array(c->body, "dns_name_validations", &subset) == MC_ERR_INVALID ||
            (subset == NULL &&
             json_get_array(c->body, "dns_names_validations", &subset) == MC_ERR_INVALID)) {
            cc_err(c, 400, "invalid_value:dns_name_validations",
                   "dns_name_validations contains an invalid value.");
            return;
        }
    }
    o = cc_dcv_order(c);
    if (o == NULL)
        return;
    if (!cc_method_token(o->method)) {
        cc_err(c, 400, "invalid_dns_method", "An error occurred while processing your request.");
        return;
    }
    if (strcmp(o->status, "pending") != 0 && strcmp(o->status, "needs_approval") != 0 &&
        strcmp(o->status, "reissue_pending") != 0 && strcmp(o->status, "issued") != 0) {
        cc_err(c, 400, "invalid_status|order", "The order is not awaiting validation.");
        return;
    }
    oid = o->id;
    snprintf(method, sizeof(method), "%s", o->method);
    jobs = calloc(o->names.n + 1, sizeof(*jobs));
    if (jobs == NULL) {
        cc_nomem(c);
        return;
    }
    for (size_t i = 0; i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        if (cc_name_covered(cc, o, n) || !cc_subset_has(subset, n->name))
            continue;
        jobs[nj].name = strdup(n->name);
        jobs[nj].domain_id = n->domain_id;
        cc_job_values(cc, o, &jobs[nj], c->now);
        nj++;
    }
    cc_run_jobs(c, jobs, nj, method);
    o = cc_order_get(cc, oid, 0);
    if (o == NULL) {
        cc_err(c, 404, "not_found|order", "The specified order was not found.");
        goto out;
    }
    for (size_t i = 0; i < nj; i++) {
        if (!jobs[i].ok) {
            failed = true;
            continue;
        }
        for (size_t k = 0; k < o->names.n; k++) {
            struct cc_name *n = o->names.v[k];
            if (jobs[i].name != NULL && strcmp(n->name, jobs[i].name) == 0) {
                n->approved = true;
                n->approved_at = c->now;
            }
        }
        struct cc_domain *d = cc_domain_get(cc, jobs[i].domain_id, 0);
        if (d != NULL) {
            d->approved = true;
            d->approved_at = c->now;
        }
    }
    (void)cc_order_try_issue(cc, o);
    if (failed) {
        cc_err(c, 400, cc_fail_code(method), cc_fail_msg(method));
        goto out;
    }
    j = cJSON_CreateObject();
    cc_add_str(j, "order_status", strcmp(o->status, "issued") == 0 ? "issued" : "pending");
    cc_add_num(j, "certificate_id", (double)o->cert_id);
    cc_add_str(j, "dcv_status", cc_order_dcv_done(cc, o) ? "valid" : "pending");
    a = cJSON_AddArrayToObject(j, "dns_name_validations");
    for (size_t i = 0; a != NULL && i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(a, v);
        cc_add_str(v, "dns_name", n->name);
        cc_add_str(v, "status", cc_name_covered(cc, o, n) ? "approved" : "pending");
    }
    cc_send(c, 200, j);
out:
    cc_jobs_free(jobs, nj);
}

static void cc_rv_json(cJSON *j, const struct cc_order *o)
{
    char ts[40];
    cc_add_str(j, "dcv_random_value", o->rv);
    cc_add_str(j, "expiration_date", cc_iso(o->rv_exp, ts, sizeof(ts)));
}

static bool cc_fresh_rv(struct cc_order *o, int64_t now)
{
    if (o->rv[0] != '\0' && o->rv_exp > now)
        return true;
    if (cc_random_value(o->rv, 32) != MC_OK)
        return false;
    o->rv_exp = now + CC_RV_TTL;
    return true;
}

/* PUT /order/certificate/{id}/dcv-random-value: the value while valid, a new one after
 * its 30 days. */
void cc_h_order_rv(struct cc_ctx *c)
{
    struct cc_order *o = cc_dcv_order(c);
    cJSON *j;
    if (o == NULL)
        return;
    if (!cc_fresh_rv(o, c->now)) {
        cc_nomem(c);
        return;
    }
    j = cJSON_CreateObject();
    cc_rv_json(j, o);
    cc_send(c, 200, j);
}

/* PUT /order/certificate/{id}/dcv-method */
void cc_h_order_method(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o;
    const char *m = NULL;
    cJSON *j;
    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "dcv_method", &m) != MC_OK || !cc_method_valid(m)) {
        cc_err(c, 400, "invalid_dcv_method", "The DCV method is not valid.");
        return;
    }
    o = cc_dcv_order(c);
    if (o == NULL)
        return;
    if (o->product->vt == CC_VT_DV && strcmp(m, "http-token-dynamic") == 0) {
        cc_err(c, 400, "invalid_dcv_method", "The DCV method is not valid.");
        return;
    }
    if (strncmp(m, "http-token", 10) == 0) {
        for (size_t i = 0; i < o->names.n; i++) {
            const char *nm = ((struct cc_name *)o->names.v[i])->name;
            bool base = false;
            if (strncmp(nm, "*.", 2) != 0)
                continue;
            for (size_t k = 0; k < o->names.n; k++)
                base = base || strcmp(((struct cc_name *)o->names.v[k])->name, nm + 2) == 0;
            if (!base) {
                cc_err(c, 400, "invalid_wildcard_dcv_method",
                       "The DCV method is not allowed for wildcard domains.");
                return;
            }
        }
    }
    snprintf(o->method, sizeof(o->method), "%s", m);
    for (size_t i = 0; i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        struct cc_domain *d = cc_domain_get(cc, n->domain_id, 0);
        if (d != NULL && !d->approved)
            snprintf(d->method, sizeof(d->method), "%s", m);
    }
    if (strcmp(m, "email") == 0) {
        for (size_t i = 0; i < o->names.n; i++) {
            struct cc_name *n = o->names.v[i];
            if (!cc_name_covered(cc, o, n))
                cc_send_emails(cc, o, n->domain_id, n->name, NULL);
        }
        cc_no_content(c);
        return;
    }
    if (!cc_fresh_rv(o, c->now)) {
        cc_nomem(c);
        return;
    }
    j = cJSON_CreateObject();
    cc_rv_json(j, o);
    cc_send(c, 200, j);
}

/* PUT /order/certificate/{id}/resend-emails; [I] 204. */
void cc_h_order_resend(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_order *o;
    const cJSON *list = NULL, *v;
    if (c->body != NULL &&
        json_get_array(c->body, "domain_approval_emails", &list) == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:domain_approval_emails",
               "domain_approval_emails contains an invalid value.");
        return;
    }
    cJSON_ArrayForEach(v, list)
    {
        const char *dom = NULL, *em = NULL;
        if (!cJSON_IsObject(v) || json_get_string(v, "domain", &dom) != MC_OK ||
            json_get_string(v, "email", &em) != MC_OK || strchr(em, '@') == NULL ||
            strlen(em) > 254) {
            cc_err(c, 400, "invalid_value:domain_approval_emails",
                   "domain_approval_emails contains an invalid value.");
            return;
        }
    }
    o = cc_dcv_order(c);
    if (o == NULL)
        return;
    if (strcmp(o->method, "email") != 0) {
        cc_err(c, 400, "invalid_dcv_method", "The order does not use email DCV.");
        return;
    }
    for (size_t i = 0; i < o->names.n; i++) {
        struct cc_name *n = o->names.v[i];
        const char *only = NULL;
        if (cc_name_covered(cc, o, n))
            continue;
        if (list != NULL) {
            bool named = false;
            cJSON_ArrayForEach(v, list)
            {
                const char *dom = NULL, *em = NULL;
                if (json_get_string(v, "domain", &dom) == MC_OK &&
                    json_get_string(v, "email", &em) == MC_OK && strcasecmp(dom, n->name) == 0) {
                    only = em;
                    named = true;
                }
            }
            if (!named)
                continue;
        }
        cc_send_emails(cc, o, n->domain_id, n->name, only);
    }
    cc_no_content(c);
}

/* PUT /order/certificate/{id}/order-approval/resend-emails -> 204 */
void cc_h_order_approval_resend(struct cc_ctx *c)
{
    if (cc_dcv_order(c) != NULL)
        cc_no_content(c);
}

/* ---- domain-level DCV (A4 f-j) ------------------------------------------------------ */

static struct cc_domain *cc_domain_or_404(struct cc_ctx *c)
{
    int64_t id;
    struct cc_domain *d = NULL;
    if (cc_parse_id(c->arg[0], &id))
        d = cc_domain_get(c->cc, id, c->key->account_id);
    if (d == NULL)
        cc_err(c, 404, "not_found|domain", "The specified domain was not found.");
    return d;
}

static void cc_domain_token_json(cJSON *j, const struct cc_domain *d, bool cname)
{
    char ts[40];
    cJSON *t = cJSON_AddObjectToObject(j, "dcv_token");
    cc_add_str(t, "token", d->token);
    cc_add_str(t, "status", d->approved ? "active" : "pending");
    cc_add_str(t, "expiration_date", cc_iso(d->token_exp, ts, sizeof(ts)));
    if (cname)
        cc_add_str(t, "verification_value", "dcv.digicert.com");
}

void cc_h_domain_info(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_domain *d = cc_domain_or_404(c);
    const char *inc_dcv = http_request_query(c->req, "include_dcv");
    const char *inc_val = http_request_query(c->req, "include_validation");
    char ts[40];
    bool ok;
    cJSON *j;
    if (d == NULL)
        return;
    ok = d->approved && d->approved_at + 397 * CC_DAY > c->now;
    j = cJSON_CreateObject();
    cc_add_num(j, "id", (double)d->id);
    cJSON_AddBoolToObject(j, "is_active", true);
    cc_add_str(j, "status", ok ? "approved" : "pending");
    cJSON_AddBoolToObject(j, "is_pending_validation", !ok);
    cc_add_str(j, "name", d->name);
    cc_add_str(j, "date_created", cc_iso(d->created, ts, sizeof(ts)));
    if (ok) {
        cc_add_str(j, "dcv_approval_datetime", cc_iso(d->approved_at, ts, sizeof(ts)));
        cc_add_str(j, "dcv_expiration_datetime",
                   cc_iso(d->approved_at + 397 * CC_DAY, ts, sizeof(ts)));
    }
    struct cc_org *g = cc_org_get(cc, d->org_id, 0);
    if (g != NULL) {
        cJSON *oj = cJSON_AddObjectToObject(j, "organization");
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(g->info, "name");
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(g->info, "assumed_name");
        cc_add_num(oj, "id", (double)g->id);
        cc_add_str(oj, "status", strcmp(g->ov, "active") == 0 ? "active" : "pending");
        cc_add_str(oj, "name", cJSON_IsString(nm) ? nm->valuestring : "");
        cc_add_str(oj, "assumed_name", cJSON_IsString(an) ? an->valuestring : "");
        cc_add_str(oj, "display_name", cJSON_IsString(nm) ? nm->valuestring : "");
        cJSON_AddBoolToObject(oj, "is_active", true);
    }
    if (inc_val != NULL && strcmp(inc_val, "true") == 0) {
        cJSON *a = cJSON_AddArrayToObject(j, "validations");
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(a, v);
        cc_add_str(v, "type", "ov");
        cc_add_str(v, "name", "OV");
        cc_add_str(v, "description", "Normal Organization Validation");
        cc_add_str(v, "date_created", cc_iso(d->created, ts, sizeof(ts)));
        if (ok)
            cc_add_str(v, "validated_until", cc_iso(d->approved_at + 397 * CC_DAY, ts, sizeof(ts)));
        cc_add_str(v, "status", ok ? "active" : "pending");
        cc_add_str(v, "dcv_status", ok ? "complete" : "pending");
    }
    cc_add_str(j, "dcv_method", d->method);
    if (inc_dcv != NULL && strcmp(inc_dcv, "true") == 0 && d->token[0] != '\0')
        cc_domain_token_json(j, d, false);
    cJSON *ct = cJSON_AddObjectToObject(j, "container");
    cc_add_num(ct, "id", 1);
    cc_add_str(ct, "name", "mockca");
    cc_send(c, 200, j);
}

/* PUT /domain/{id}/dcv/validate-token */
void cc_h_domain_validate(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_domain *d = cc_domain_or_404(c);
    struct cc_job job;
    char method[24];
    int64_t did;
    cJSON *j;
    if (d == NULL)
        return;
    if (!cc_method_token(d->method)) {
        cc_err(c, 400, "invalid_dns_method", "An error occurred while processing your request.");
        return;
    }
    memset(&job, 0, sizeof(job));
    did = d->id;
    snprintf(method, sizeof(method), "%s", d->method);
    job.name = strdup(d->name);
    job.domain_id = d->id;
    cc_job_values(cc, NULL, &job, c->now);
    /* every order random value on a name of this domain counts too (A4 g) */
    for (size_t i = 0; i < cc->orders.n && job.nvalues < 3; i++) {
        struct cc_order *o = cc->orders.v[i];
        for (size_t k = 0; k < o->names.n && job.nvalues < 3; k++) {
            struct cc_name *n = o->names.v[k];
            if (n->domain_id == did && o->rv[0] != '\0' && o->rv_exp > c->now) {
                char *v = strdup(o->rv);
                if (v != NULL)
                    job.values[job.nvalues++] = v;
                break;
            }
        }
    }
    if (job.name == NULL) {
        cc_nomem(c);
        goto out;
    }
    cc_run_jobs(c, &job, 1, method);
    d = cc_domain_get(cc, did, 0);
    if (d == NULL || !job.ok) {
        cc_err(c, 400, cc_fail_code(method), cc_fail_msg(method));
        goto out;
    }
    d->approved = true;
    d->approved_at = c->now;
    for (size_t i = 0; i < cc->orders.n; i++)
        (void)cc_order_try_issue(cc, cc->orders.v[i]);
    j = cJSON_CreateObject();
    if (d->token[0] != '\0')
        cc_add_str(j, "token", d->token);
    cc_add_str(j, "status", "active");
    cc_send(c, 200, j);
out:
    free(job.name);
    for (size_t k = 0; k < job.nvalues; k++)
        free(job.values[k]);
}

static bool cc_domain_new_token(struct cc_domain *d, int64_t now)
{
    if (cc_random_value(d->token, 32) != MC_OK)
        return false;
    d->token_exp = now + CC_RV_TTL;
    return true;
}

/* POST /domain/{id}/dcv/token: a new domain value; the previous domain value is void,
 * order values stay valid (A4 g). */
void cc_h_domain_token(struct cc_ctx *c)
{
    struct cc_domain *d = cc_domain_or_404(c);
    char ts[40], url[400];
    cJSON *j;
    if (d == NULL)
        return;
    if (!cc_method_token(d->method)) {
        cc_err(c, 400, "invalid_dcv_method", "The domain does not use a token DCV method.");
        return;
    }
    if (!cc_domain_new_token(d, c->now)) {
        cc_nomem(c);
        return;
    }
    j = cJSON_CreateObject();
    cc_add_str(j, "token", d->token);
    cc_add_str(j, "expiration_date", cc_iso(d->token_exp, ts, sizeof(ts)));
    if (strncmp(d->method, "http-token", 10) == 0) {
        snprintf(url, sizeof(url), "http://%s/.well-known/pki-validation/fileauth.txt", d->name);
        cc_add_str(j, "http_token_url", url);
    }
    cc_send(c, 200, j);
}

/* PUT /domain/{id}/dcv/method */
void cc_h_domain_method(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    struct cc_domain *d;
    const char *m = NULL;
    bool send = true;
    cJSON *j;
    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "dcv_method", &m) != MC_OK || !cc_method_valid(m)) {
        cc_err(c, 400, "invalid_dcv_method", "The DCV method is not valid.");
        return;
    }
    if (json_get_bool(c->body, "send_dcv_email_flag", &send) == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:send_dcv_email_flag",
               "send_dcv_email_flag contains an invalid value.");
        return;
    }
    d = cc_domain_or_404(c);
    if (d == NULL)
        return;
    j = cJSON_CreateObject();
    if (strcmp(d->method, m) == 0 && (strcmp(m, "email") == 0 || d->token[0] != '\0')) {
        cc_send(c, 200, j); /* the same method again: {} */
        return;
    }
    snprintf(d->method, sizeof(d->method), "%s", m);
    if (strcmp(m, "email") == 0) {
        static const char *const locals[] = {"admin", "administrator", "webmaster",
                                             "hostmaster", "postmaster"};
        cJSON *ve = cJSON_AddObjectToObject(j, "validation_emails");
        cJSON *be;
        cc_add_str(ve, "name_scope", d->name);
        be = cJSON_AddArrayToObject(ve, "base_emails");
        for (size_t i = 0; be != NULL && i < 5; i++) {
            char to[320];
            snprintf(to, sizeof(to), "%s@%s", locals[i], d->name);
            cJSON_AddItemToArray(be, cJSON_CreateString(to));
        }
        if (send)
            cc_send_emails(cc, NULL, d->id, d->name, NULL);
    } else {
        if (!cc_domain_new_token(d, c->now)) {
            cJSON_Delete(j);
            cc_nomem(c);
            return;
        }
        cc_domain_token_json(j, d, strcmp(m, "dns-cname-token") == 0);
    }
    cc_send(c, 200, j);
}

/* PUT /domain/{id}/dcv/emails -> 204 */
void cc_h_domain_emails(struct cc_ctx *c)
{
    struct cc_domain *d = cc_domain_or_404(c);
    if (d == NULL)
        return;
    if (strcmp(d->method, "email") != 0) {
        cc_err(c, 400, "invalid_dcv_method", "The domain does not use email DCV.");
        return;
    }
    cc_send_emails(c->cc, NULL, d->id, d->name, NULL);
    cc_no_content(c);
}

/* ---- domains: list and create ------------------------------------------------------- */

/* True if s is a DNS name CertCentral would take as a domain: LDH labels of 1..63, at
 * least two labels, at most 253 characters, no wildcard (a domain is a base name). */
static bool cc_domain_name_ok(const char *s)
{
    size_t n = strlen(s), label = 0, labels = 1;
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-')
                return false;
            label = 0;
            labels++;
            continue;
        }
        if (!isalnum(ch) && ch != '-')
            return false;
        if (++label > 63)
            return false;
    }
    return labels >= 2;
}

/* GET /domain: {"domains":[{id,is_active,name,date_created,organization{id,status,name,
 * display_name,is_active},validations[...],dcv_method,container{id,name}}],"page"}.
 * [I] filters[organization_id] and filters[search] (a substring of the name). */
void cc_h_domain_list(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *forg = http_request_query(c->req, "filters[organization_id]");
    const char *fsearch = http_request_query(c->req, "filters[search]");
    int64_t limit, offset, org = 0;
    size_t total = 0;
    char ts[40];
    cJSON *j, *a;

    if (!cc_paging(c, &limit, &offset))
        return;
    if (forg != NULL && !cc_parse_id(forg, &org)) {
        cc_err(c, 400, "invalid_value:filters[organization_id]",
               "filters[organization_id] contains an invalid value.");
        return;
    }
    if (fsearch != NULL && strlen(fsearch) > 253) {
        cc_err(c, 400, "invalid_value:filters[search]", "filters[search] contains an invalid value.");
        return;
    }
    j = cJSON_CreateObject();
    a = cJSON_AddArrayToObject(j, "domains");
    for (size_t i = 0; a != NULL && i < cc->domains.n; i++) {
        const struct cc_domain *d = cc->domains.v[i];
        bool ok = d->approved && d->approved_at + 397 * CC_DAY > c->now;
        const struct cc_org *g;
        if (d->account_id != c->key->account_id || (org != 0 && d->org_id != org) ||
            (fsearch != NULL && strcasestr(d->name, fsearch) == NULL))
            continue;
        if (total++ < (size_t)offset || total > (size_t)(offset + limit))
            continue;
        cJSON *dj = cJSON_CreateObject();
        cJSON_AddItemToArray(a, dj);
        cc_add_num(dj, "id", (double)d->id);
        cJSON_AddBoolToObject(dj, "is_active", true);
        cc_add_str(dj, "name", d->name);
        cc_add_str(dj, "date_created", cc_iso(d->created, ts, sizeof(ts)));
        g = cc_org_get(cc, d->org_id, 0);
        if (g != NULL) {
            cJSON *oj = cJSON_AddObjectToObject(dj, "organization");
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(g->info, "name");
            cc_add_num(oj, "id", (double)g->id);
            cc_add_str(oj, "status", strcmp(g->ov, "active") == 0 ? "active" : "pending");
            cc_add_str(oj, "name", cJSON_IsString(nm) ? nm->valuestring : "");
            cc_add_str(oj, "display_name", cJSON_IsString(nm) ? nm->valuestring : "");
            cJSON_AddBoolToObject(oj, "is_active", true);
        }
        cJSON *va = cJSON_AddArrayToObject(dj, "validations");
        cJSON *v = cJSON_CreateObject();
        cJSON_AddItemToArray(va, v);
        cc_add_str(v, "type", "ov");
        cc_add_str(v, "name", "OV");
        cc_add_str(v, "description", "Normal Organization Validation");
        if (ok)
            cc_add_str(v, "validated_until", cc_iso(d->approved_at + 397 * CC_DAY, ts, sizeof(ts)));
        cc_add_str(v, "status", ok ? "active" : "pending");
        cc_add_str(v, "dcv_status", ok ? "complete" : "pending");
        cc_add_str(dj, "dcv_method", d->method);
        cJSON *ct = cJSON_AddObjectToObject(dj, "container");
        cc_add_num(ct, "id", 1);
        cc_add_str(ct, "name", "mockca");
    }
    cc_page_json(j, total, limit, offset);
    cc_send(c, 200, j);
}

/* POST /domain {"name","organization":{"id"},"validations":[{"type"}],"dcv_method"} ->
 * 201 {"id"} plus, for a token method, "dcv_token" (as change method answers). A domain
 * the account has already is 400 [I] duplicate_domain. Email sends the DCV emails. */
void cc_h_domain_create(struct cc_ctx *c)
{
    struct cc_server *cc = c->cc;
    const char *name = NULL, *m = "email";
    const cJSON *org = NULL, *vals = NULL, *v;
    int64_t org_id = 0;
    struct cc_domain *d = NULL;
    char lower[256];
    cJSON *j;

    if (!cc_need_body(c))
        return;
    if (json_get_string(c->body, "name", &name) != MC_OK || strlen(name) >= sizeof(lower)) {
        cc_err(c, 400, "invalid_value:name", "name contains an invalid value.");
        return;
    }
    for (size_t i = 0; i <= strlen(name); i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    if (!cc_domain_name_ok(lower)) {
        cc_err(c, 400, "invalid_value:name", "name contains an invalid value.");
        return;
    }
    if (json_get_object(c->body, "organization", &org) != MC_OK ||
        json_get_int(org, "id", 1, INT64_MAX, &org_id) != MC_OK) {
        cc_err(c, 400, "invalid_value:organization", "organization contains an invalid value.");
        return;
    }
    if (json_get_array(c->body, "validations", &vals) == MC_ERR_INVALID) {
        cc_err(c, 400, "invalid_value:validations", "validations contains an invalid value.");
        return;
    }
    cJSON_ArrayForEach(v, vals)
    {
        const char *t = NULL;
        if (!cJSON_IsObject(v) || json_get_string(v, "type", &t) != MC_OK ||
            (strcmp(t, "ov") != 0 && strcmp(t, "ev") != 0)) {
            cc_err(c, 400, "invalid_value:validations", "validations contains an invalid value.");
            return;
        }
    }
    if (json_get_string(c->body, "dcv_method", &m) == MC_ERR_INVALID || !cc_method_valid(m)) {
        cc_err(c, 400, "invalid_dcv_method", "The DCV method is not valid.");
        return;
    }
    if (cc_org_get(cc, org_id, c->key->account_id) == NULL) {
        cc_err(c, 404, "not_found|organization", "The specified organization was not found.");
        return;
    }
    for (size_t i = 0; i < cc->domains.n; i++) {
        const struct cc_domain *o = cc->domains.v[i];
        if (o->account_id == c->key->account_id && strcmp(o->name, lower) == 0) {
            cc_err(c, 400, "duplicate_domain", "The domain already exists in the account.");
            return;
        }
    }
    if (cc->domains.n >= CC_MAX_OBJS) {
        cc_err(c, 429, "request_limit_exceeded", "Service unavailable, please limit request volume");
        return;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL || (d->name = strdup(lower)) == NULL) {
        free(d);
        cc_nomem(c);
        return;
    }
    d->id = cc->next_dom++;
    d->account_id = c->key->account_id;
    d->org_id = org_id;
    d->created = c->now;
    snprintf(d->method, sizeof(d->method), "%s", m);
    if ((cc_method_token(m) && !cc_domain_new_token(d, c->now)) ||
        cc_vec_push(&cc->domains, d) != MC_OK) {
        free(d->name);
        free(d);
        cc_nomem(c);
        return;
    }
    j = cJSON_CreateObject();
    cc_add_num(j, "id", (double)d->id);
    if (cc_method_token(m))
        cc_domain_token_json(j, d, strcmp(m, "dns-cname-token") == 0);
    else
        cc_send_emails(cc, NULL, d->id, d->name, NULL);
    cc_send(c, 201, j);
}

/* ---- CAA ---------------------------------------------------------------------------- */

/* The issuer domain names DigiCert's CAA documentation lists for CertCentral's brands. */
static const char *const cc_caa_domains[] = {
    "digicert.com", "www.digicert.com", "digicert.ne.jp", "cybertrust.ne.jp", "symantec.com",
    "thawte.com",   "geotrust.com",     "rapidssl.com",   "digitalcertvalidation.com",
};

size_t cc_caa_check(const struct cc_server *cc, char *const *names, size_t n)
{
    struct va_config vc;
    if (cc->dns_server == NULL)
        return n; /* no DNS to ask: nothing can forbid it */
    memset(&vc, 0, sizeof(vc));
    vc.dns_server = cc->dns_server;
    vc.timeout_ms = cc->dcv_timeout_ms;
    for (size_t i = 0; i < n; i++) {
        struct ident id = {IDENT_DNS, NULL};
        struct va_result r;
        bool wild = strncmp(names[i], "*.", 2) == 0;
        memset(&r, 0, sizeof(r));
        id.value = (char *)(wild ? names[i] + 2 : names[i]);
        va_caa(&vc, &id, wild, cc_caa_domains, sizeof(cc_caa_domains) / sizeof(cc_caa_domains[0]),
               &r);
        if (!r.valid) {
            log_msg(LOGL_INFO, "cc.caa.forbids", "name=%s detail=\"%s\"", names[i], r.error.detail);
            return i;
        }
    }
    return n;
}
